/**
 * `agentload k8s scenarios/<name>.ts --parallelism N [flags] [k6 run flags]` (also `npm run k8s -- ...`):
 * beyond one machine on k6's own distributed path, k6-operator. Checks where the load goes, type-checks and
 * bundles the scenario for the runner image's k6 version, writes a ConfigMap + TestRun manifest (validated
 * against testrun.schema.json) and, with --apply, runs `kubectl apply -f` when kubectl is on PATH (else it
 * prints what to run). The runners' outputs come back through a shared claim (--results-claim) for
 * `npm run report -- <dir>`, which merges them and evaluates the thresholds on the merged data.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { bundleScenario, DEFAULT_BUNDLE_TARGET, scenarioName, shownPath } from '../bundle/bundle.ts';
import { SUMMARY_MODE_ENV } from '../bundle/entry.ts';
import { typecheckCached } from '../bundle/typecheck-cache.ts';
import { AgentloadError, EXIT_CODES, typeErrors } from '../errors.ts';
import { flagHelpRows, parseFlagTable, type FlagSpec } from './flag-table.ts';
import { SUMMARY_MODE_CHOICES, type SummaryModeChoice } from './flags.ts';
import type { CliIO } from './io.ts';
import { findOnPath, parseK6Version } from '../k6/binary.ts';
import { extensionImports, moduleAliasesFor, xk6BuildCommand } from '../k6/compat.ts';
import { checkTargets } from '../run/allowlist.ts';
import { variablesReadAtInit } from '../run/init-reads.ts';
import { unusedVariableLines } from '../run/unused-env.ts';
import { documentedNames, envFlagNames, envView, loadEnv, looksSecret } from '../run/env.ts';
import {
  buildManifests,
  CONFIGMAP_MAX_BYTES,
  DEFAULT_RUNNER_IMAGE,
  manifestsYaml,
  resourceName,
  secretName,
  validateManifest,
  type EnvEntry,
} from '../k8s/manifest.ts';

export interface K8sOptions {
  parallelism: number | undefined;
  namespace: string | undefined;
  runnerImage: string;
  runnerCpu: string;
  runnerMemory: string;
  resultsClaim: string | undefined;
  separate: boolean;
  manifest: string | undefined;
  bundleTarget: string | undefined;
  typecheck: boolean;
  summaryMode: SummaryModeChoice;
  apply: boolean;
  help: boolean;
}

export const K8S_FLAGS = [
  {
    name: '--parallelism',
    key: 'parallelism',
    kind: 'integer',
    placeholder: 'N',
    description: 'runner pods; k6-operator gives each an equal --execution-segment (required)',
  },
  {
    name: '--namespace',
    key: 'namespace',
    kind: 'string',
    placeholder: 'ns',
    description: "namespace of the ConfigMap and TestRun (default: kubectl's current one)",
  },
  {
    name: '--runner-image',
    key: 'runnerImage',
    kind: 'string',
    placeholder: 'image',
    env: 'AGENTLOAD_K8S_RUNNER_IMAGE',
    description: `k6 image of the runners (default ${DEFAULT_RUNNER_IMAGE}; an xk6 build for k6/x/* extensions)`,
  },
  {
    name: '--runner-cpu',
    key: 'runnerCpu',
    kind: 'string',
    placeholder: 'cpu',
    description: 'CPU request and limit per runner (default 1)',
  },
  {
    name: '--runner-memory',
    key: 'runnerMemory',
    kind: 'string',
    placeholder: 'memory',
    description: 'memory request and limit per runner (default 1Gi)',
  },
  {
    name: '--results-claim',
    key: 'resultsClaim',
    kind: 'string',
    placeholder: 'pvc',
    description: 'a ReadWriteMany PersistentVolumeClaim; each runner writes its outputs to <pod name>/ on it',
  },
  { name: '--separate', key: 'separate', kind: 'boolean', sets: true, description: 'one runner per node (k6-operator separate: true)' },
  {
    name: '--manifest',
    key: 'manifest',
    kind: 'string',
    placeholder: 'file',
    description: 'where the YAML goes (default build/k8s/<name>.yaml, or $AGENTLOAD_BUILD_DIR/k8s/)',
  },
  {
    name: '--bundle-target',
    key: 'bundleTarget',
    kind: 'string',
    placeholder: 'es2017',
    env: 'AGENTLOAD_BUNDLE_TARGET',
    description: 'JavaScript syntax level of the bundle',
  },
  {
    name: '--typecheck',
    key: 'typecheck',
    kind: 'boolean',
    sets: true,
    description: 'type-check a JavaScript script too (TypeScript always is)',
  },
  {
    name: '--summary-mode',
    key: 'summaryMode',
    kind: 'enum',
    values: SUMMARY_MODE_CHOICES,
    env: 'K6_SUMMARY_MODE',
    description: "each runner's end-of-test summary (in its log), as k6 v1 prints it: compact, full or legacy",
  },
  {
    name: '--apply',
    key: 'apply',
    kind: 'boolean',
    sets: true,
    description: 'kubectl apply -f the manifest (when kubectl is on PATH; else the command is printed)',
  },
  { name: '--help', short: '-h', key: 'help', kind: 'boolean', sets: true, description: 'show this help' },
] as const satisfies readonly FlagSpec<keyof K8sOptions>[];

const DEFAULTS: K8sOptions = {
  parallelism: undefined,
  namespace: undefined,
  runnerImage: DEFAULT_RUNNER_IMAGE,
  runnerCpu: '1',
  runnerMemory: '1Gi',
  resultsClaim: undefined,
  separate: false,
  manifest: undefined,
  bundleTarget: undefined,
  typecheck: false,
  summaryMode: 'compact',
  apply: false,
  help: false,
};

export function k8sHelp(): string {
  return [
    'Usage: agentload k8s scenarios/<name>.ts --parallelism N [flags] [k6 run flags]',
    '',
    'Writes a ConfigMap (the bundle) and a k6-operator TestRun (k6.io/v1alpha1) that runs it on N runner pods,',
    'with the same k6 arguments as a local run. The runners must reach BASE_URL (allowlisted as for any run).',
    "Collect the runners' outputs from the results claim into one folder, then: npm run report -- <folder>",
    '(thresholds are evaluated on the merged data; k6-operator only evaluates them per runner).',
    '',
    'Flags:',
    ...flagHelpRows(K8S_FLAGS),
    '',
    "Every other flag goes to k6 run in the TestRun's arguments (no spaces inside a value: k6-operator splits on them).",
  ].join('\n');
}

/** Toolkit and local-only variables that do not go to the runners. */
const LOCAL_ONLY = /^(AGENTLOAD_|K6_BIN$|TARGET_|FAULT_|SQLITE_PATH$)/;

/** The variables the runners get: documented scenario variables and K6_* that are set; secrets by reference only. */
export function runnerEnv(env: Readonly<Record<string, string>>, documented: readonly string[]): { plain: EnvEntry[]; secret: string[] } {
  const names = new Set(documented.filter((n) => env[n] !== undefined));
  for (const n of Object.keys(env)) if (n.startsWith('K6_')) names.add(n);
  const plain: EnvEntry[] = [];
  const secret: string[] = [];
  for (const name of [...names].sort()) {
    if (LOCAL_ONLY.test(name)) continue;
    const value = env[name] ?? '';
    if (looksSecret(name) || /\w+:\/\/[^@/\s]+@/.test(value)) secret.push(name);
    else plain.push({ name, value });
  }
  return { plain, secret };
}

/** `-e NAME=value` pairs with a secret-looking name cannot go into a manifest's arguments line. */
function checkArgs(args: readonly string[], scenario: string): void {
  const secretFlag = envFlagNames(args).find(looksSecret);
  if (secretFlag !== undefined) {
    throw new AgentloadError(
      'invalid-flag-value',
      EXIT_CODES.usage,
      `-e ${secretFlag}=... would put a secret into the TestRun's arguments: set ${secretFlag} in the environment instead (it goes to the Kubernetes Secret ${secretName(scenario)} by reference)`,
    );
  }
  const spaced = args.find((a) => /\s/.test(a));
  if (spaced !== undefined) {
    throw new AgentloadError(
      'invalid-flag-value',
      EXIT_CODES.usage,
      `k6 argument "${spaced}" contains a space, which k6-operator's arguments line cannot carry (it splits on spaces): drop the space or set the value through an environment variable`,
    );
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

async function kubectlApply(kubectl: string, file: string, io: CliIO): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(kubectl, ['apply', '-f', file], { cwd: io.cwd, env: io.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => io.stdout.write(d));
    child.stderr.on('data', (d: Buffer) => io.stderr.write(d));
    child.on('error', (e) => {
      reject(new AgentloadError('usage', EXIT_CODES.usage, `cannot start ${kubectl}: ${e.message}`));
    });
    child.on('close', (code) => {
      resolvePromise(code ?? 1);
    });
  });
}

/** The one scenario named (an existing file) and the flags the command cannot go without; a usage error otherwise. */
function checkedScenario(
  positionals: readonly string[],
  options: K8sOptions,
  cwd: string,
): { given: string; scenario: string; parallelism: number } {
  const given = positionals[0];
  if (given === undefined || positionals.length > 1) {
    throw new AgentloadError(
      'missing-scenario',
      EXIT_CODES.usage,
      `give one scenario: agentload k8s scenarios/<name>.ts --parallelism N${positionals.length > 1 ? ` (got ${positionals.join(' ')})` : ''}`,
    );
  }
  const scenario = resolve(cwd, given);
  if (!existsSync(scenario) || !statSync(scenario).isFile()) {
    throw new AgentloadError('scenario-not-found', EXIT_CODES.usage, `scenario file not found: ${given}: check the path`);
  }
  if (options.parallelism === undefined) {
    throw new AgentloadError(
      'missing-flag-value',
      EXIT_CODES.usage,
      '--parallelism is required: agentload k8s <scenario> --parallelism N (the number of runner pods)',
    );
  }
  if (options.namespace !== undefined && !DNS_LABEL.test(options.namespace)) {
    throw new AgentloadError(
      'invalid-flag-value',
      EXIT_CODES.usage,
      `--namespace ${options.namespace} is not a Kubernetes namespace name: lower-case letters, digits and '-', e.g. load-tests`,
    );
  }
  return { given, scenario, parallelism: options.parallelism };
}

/**
 * The scenario bundled for the runners' k6 (type-checked first, as the run command does): the script text the
 * ConfigMap holds and its size; an error when the stock image lacks an extension it imports or it is too big.
 */
async function runnerBundle(
  scenario: string,
  given: string,
  options: K8sOptions,
  io: CliIO,
  /** Looks at the bundle file before it is removed (the unused-variable check runs its init code). */
  inspect: (outfile: string) => Promise<void>,
): Promise<{ bundleText: string; bundleBytes: number }> {
  const javascript = !/\.(ts|mts|cts|tsx)$/.test(scenario);
  // As the run command checks: cached per scenario content, else in a child process (TypeScript is not loaded here).
  const diagnostics =
    javascript && !options.typecheck
      ? []
      : (await typecheckCached([scenario], { root: io.root, cwd: io.cwd, javascript, env: io.env })).diagnostics;
  if (diagnostics.length > 0) throw typeErrors(diagnostics.map((d) => d.text));

  // Module names for the runner image's k6 version (`grafana/k6:1.2.3` → 1.2.3; `latest` is taken as current).
  const imageVersion = parseK6Version(options.runnerImage.split(':').pop() ?? '');
  const aliases = moduleAliasesFor(imageVersion);
  const scratch = mkdtempSync(join(tmpdir(), 'agentload-k8s-'));
  let bundleText: string;
  let imports: readonly string[];
  try {
    const bundle = await bundleScenario(scenario, {
      root: io.root,
      cwd: io.cwd,
      outDir: scratch,
      target: options.bundleTarget ?? DEFAULT_BUNDLE_TARGET,
      aliases,
    });
    // The ConfigMap holds the script alone: drop the pointer to a source map the runners will not have.
    bundleText = readFileSync(bundle.outfile, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    imports = bundle.imports;
    await inspect(bundle.outfile);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const extensions = extensionImports(imports);
  if (extensions.length > 0 && options.runnerImage === DEFAULT_RUNNER_IMAGE) {
    throw new AgentloadError(
      'k6-extension-missing',
      EXIT_CODES.usage,
      `${given} imports ${extensions.join(', ')}, which the stock ${DEFAULT_RUNNER_IMAGE} image lacks: build an image with \`${xk6BuildCommand(imageVersion, extensions)}\` and pass it with --runner-image`,
    );
  }
  const bundleBytes = Buffer.byteLength(bundleText);
  if (bundleBytes > CONFIGMAP_MAX_BYTES - 16 * 1024) {
    throw new AgentloadError(
      'bundle-over-budget',
      EXIT_CODES.bundleOverBudget,
      `the bundle of ${given} is ${(bundleBytes / 1024).toFixed(0)} KB, too big for a ConfigMap (1 MiB): drop unused imports (faker per locale), or put it on a volume and use script.volumeClaim`,
    );
  }
  return { bundleText, bundleBytes };
}

/** Both manifests against k6-operator's schema: a usage error naming the flags that shape them. */
function checkManifests(manifests: ReturnType<typeof buildManifests>): void {
  for (const doc of [manifests.configMap, manifests.testRun]) {
    const problems = validateManifest(doc);
    if (problems.length > 0) {
      throw new AgentloadError(
        'invalid-flag-value',
        EXIT_CODES.usage,
        `the ${String((doc as { kind?: unknown }).kind)} manifest does not match k6-operator's schema: ${problems.join('; ')}: check --runner-cpu/--runner-memory/--results-claim`,
      );
    }
  }
}

/** The runners' summaries stay in the cluster: the variables set but never read are named from the init code, run here once. */
async function unusedOnRunners(
  bundle: string,
  shown: string,
  env: Readonly<Record<string, string>>,
  view: ReturnType<typeof envView>,
  cwd: string,
): Promise<string[]> {
  const read = await variablesReadAtInit({ script: bundle, env, values: view.values, cwd });
  return unusedVariableLines({ read: read?.names, partial: read?.finished === false, view, setByToolkit: [], scenario: shown });
}

export async function k8sCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const { options, positionals, passThrough } = parseFlagTable<K8sOptions>(argv, K8S_FLAGS, DEFAULTS, io.env);
  if (options.help) {
    io.stdout.write(`${k8sHelp()}\n`);
    return EXIT_CODES.ok;
  }
  const say = (line: string): void => {
    io.stderr.write(`agentload: ${line}\n`);
  };
  const { given, scenario, parallelism } = checkedScenario(positionals, options, io.cwd);
  const name = scenarioName(scenario);
  checkArgs(passThrough, name);
  const loaded = loadEnv(io.cwd, io.env);
  const { env } = loaded;
  // The variables as the runners' script will see them: -e flags over the environment over .env.
  const view = envView(loaded, io.env, passThrough);

  // Where the load goes: the runners run in the cluster, so they need a BASE_URL they can reach.
  checkTargets(view);
  if ((view.values.BASE_URL ?? '') === '') {
    throw new AgentloadError(
      'cloud-needs-target',
      EXIT_CODES.invalidConfig,
      'k6-operator runners run in the cluster, which cannot reach a platform started on this machine: set BASE_URL to a system they can reach (and list its host in AGENTLOAD_ALLOWED_HOSTS)',
    );
  }

  const { bundleText, bundleBytes } = await runnerBundle(scenario, given, options, io, async (outfile) => {
    for (const line of await unusedOnRunners(outfile, relative(io.cwd, scenario) || scenario, env, view, io.cwd)) say(line);
  });

  const { plain, secret } = runnerEnv(env, documentedNames(io.root));
  const manifests = buildManifests({
    scenario: name,
    bundle: bundleText,
    parallelism,
    namespace: options.namespace,
    runnerImage: options.runnerImage,
    runnerCpu: options.runnerCpu,
    runnerMemory: options.runnerMemory,
    separate: options.separate,
    resultsClaim: options.resultsClaim,
    k6Args: passThrough,
    env: [...plain.filter((e) => e.name !== SUMMARY_MODE_ENV), { name: SUMMARY_MODE_ENV, value: options.summaryMode }],
    secretEnv: secret,
  });
  checkManifests(manifests);
  const buildDir = (env.AGENTLOAD_BUILD_DIR ?? '') !== '' ? resolve(io.cwd, env.AGENTLOAD_BUILD_DIR ?? '') : join(io.root, 'build');
  const file = options.manifest !== undefined ? resolve(io.cwd, options.manifest) : join(buildDir, 'k8s', `${name}.yaml`);
  mkdirSync(dirname(file), { recursive: true });
  const shown = shownPath(io.cwd, file);
  writeFileSync(
    file,
    manifestsYaml(
      manifests,
      `agentload k8s ${relative(io.cwd, scenario) || scenario}: k6-operator TestRun (k6.io/v1alpha1) and its script. Generated; do not edit.\nApply: kubectl apply -f ${shown}`,
    ),
  );
  say(
    `wrote ${shown}: ConfigMap ${resourceName(name)} (bundle ${(bundleBytes / 1024).toFixed(1)} KB), TestRun ${resourceName(name)} (parallelism ${String(parallelism)}, ${options.runnerImage})`,
  );
  const ns = options.namespace === undefined ? '' : ` -n ${options.namespace}`;
  if (secret.length > 0) {
    say(
      `secret variables go by reference: create them first: kubectl create secret generic ${secretName(name)}${ns} ${secret.map((s) => `--from-literal=${s}="$${s}"`).join(' ')}`,
    );
  }
  if (options.resultsClaim === undefined && !passThrough.some((a) => a === '--out' || a.startsWith('--out=') || a === '-o')) {
    say(
      "the runners' outputs stay in their pods: pass --results-claim <ReadWriteMany PVC> to collect them for npm run report, or send them with --out experimental-prometheus-rw",
    );
  }
  if (!options.apply) {
    io.stdout.write(`apply with: kubectl apply -f ${shown}\n`);
    return EXIT_CODES.ok;
  }
  const kubectl = findOnPath('kubectl', env.PATH);
  if (kubectl === undefined) {
    io.stdout.write(`kubectl is not on PATH: apply the manifest where it is: kubectl apply -f ${shown}\n`);
    return EXIT_CODES.ok;
  }
  const code = await kubectlApply(kubectl, file, io);
  if (code !== 0) say(`kubectl apply -f ${shown} failed (exit ${String(code)}): see kubectl's message above`);
  return code === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
}
