/**
 * The run command's checks and preparation, before anything is sent: where the load goes
 * (allowlist, fault plan, --cloud limits), types and engine side by side, the run folder and the bundle,
 * the engine's arguments and environment, and (embedded engine) the script's options and thresholds.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { AgentloadError, EXIT_CODES, typeErrors } from '../errors.ts';
import type { ParsedRun } from './flags.ts';
import { say, type CliIO } from './io.ts';
import { fmtMs } from './phases.ts';
import { checkpoint, setEnv, type Engine, type RunContext } from './run-context.ts';
import { bundleScenario, DEFAULT_BUNDLE_TARGET, type BundleResult } from '../bundle/bundle.ts';
import { ENV_READ_PATH_ENV, HANDLE_SUMMARY_PATH_ENV, SUMMARY_COLORS_ENV, SUMMARY_MODE_ENV } from '../bundle/entry.ts';
import { variablesReadFrom } from '../run/init-reads.ts';
import { unusedVariableLines } from '../run/unused-env.ts';
import { typecheckCached, type CheckOutcome } from '../bundle/typecheck-cache.ts';
import { findK6, k6Version } from '../k6/binary.ts';
import { checkExtensions, checkK6Floor, moduleAliasesFor } from '../k6/compat.ts';
import { k6Args, k6Terminal } from '../k6/run.ts';
import { ALLOWED_HOSTS_VAR, checkTargets, parseAllowedHosts } from '../run/allowlist.ts';
import { loadEngine, type EngineModule } from '../run/adapters.ts';
import { readableLogLine } from '../run/log-lines.ts';
import { createRunDir, RUN_FILES } from '../run/run-dir.ts';
import { soakBudgetFor } from '../run/soak-budget.ts';
import type { LabPlan } from '../faults/lab.ts';
import { checkAmqpUrl, faultLabFor } from '../faults/preflight.ts';

/** What the first check found besides the target hosts (recorded in the run): the soak budget and the fault plan. */
export interface Preflight {
  readonly soakBudget: ReturnType<typeof soakBudgetFor>;
  /** A fault scenario's (or a cluster's) plan: the failure lab the run starts. */
  readonly lab: LabPlan | undefined;
}

/** The bundled script in its run folder. */
export interface Bundled {
  readonly dir: string;
  readonly built: BundleResult;
}

/** What the run starts beside the engine. */
export interface RunNeeds {
  /** No BASE_URL: the run starts the bundled platform. */
  readonly bundledPlatform: boolean;
  /** A Slack scenario without SLACK_SINK_URL: the run starts the Slack reply sink. */
  readonly slackSink: boolean;
}

/**
 * Step 1. Where the load goes, wherever each target variable comes from: refused before anything else
 * happens. Fault scenarios (and clusters): the plan fits and every fault in it can be applied here.
 */
export function checkWhereLoadGoes(run: RunContext): Preflight {
  const { name, env, view, cloud } = run;
  run.record.targets = checkTargets(view);
  const soakBudget = soakBudgetFor(name, env);
  const lab = faultLabFor(name, { ...env, ...view.values });
  if (lab !== undefined && cloud) {
    throw new AgentloadError(
      'fault-unavailable',
      EXIT_CODES.invalidConfig,
      `--cloud cannot run ${name}: its faults are applied by a fault controller on this machine, which Grafana Cloud cannot reach: run it locally (drop --cloud)`,
    );
  }
  if (cloud && (view.values.BASE_URL ?? '') === '') {
    throw new AgentloadError(
      'cloud-needs-target',
      EXIT_CODES.invalidConfig,
      '--cloud runs in Grafana Cloud, which cannot reach a platform started on this machine: set BASE_URL to a public system (and list its host in AGENTLOAD_ALLOWED_HOSTS)',
    );
  }
  run.phases.mark('arguments, environment and target hosts checked');
  return { soakBudget, lab };
}

/**
 * Steps 2 and 3. Types (TypeScript always; a JavaScript script only with --typecheck, its JSDoc checked):
 * cached per scenario content, else checked in a child process (its memory is gone before the load starts)
 * while the engine loads; a type error still comes before any engine problem. The two overlap, so --verbose
 * gives each one's own end as well as the phase's length. Then the engine, and the flags it accepts.
 */
export async function checkTypesAndLoadEngine(run: RunContext): Promise<Engine> {
  const { io, parsed, phases, scenarioPath, env, view } = run;
  const javascript = !isTypeScript(scenarioPath);
  const skipped = javascript && !parsed.options.typecheck;
  const checking = (
    skipped
      ? Promise.resolve<CheckOutcome | undefined>(undefined)
      : typecheckCached([scenarioPath], { root: io.root, cwd: io.cwd, javascript, env: io.env })
  ).then((r) => ({ outcome: r, at: phases.since() }));
  const choosing = chooseEngine(parsed, env, io).then((e) => ({ engine: e, at: phases.since() }));
  choosing.catch(() => undefined); // reported below, after the types
  const checked = await checking;
  const diagnostics = checked.outcome?.diagnostics ?? [];
  if (diagnostics.length > 0) throw typeErrors(diagnostics.map((d) => d.text));
  checkpoint(run);
  await checkAmqpUrl({ ...env, ...view.values });
  checkpoint(run);

  const loadedEngine = await choosing;
  const chosen = loadedEngine.engine;
  phases.mark(
    'type check and engine load, side by side',
    `type check ${checked.outcome === undefined ? 'skipped (a JavaScript script without --typecheck)' : checked.outcome.cached ? 'cached (the scenario and its imports are unchanged)' : 'run in a child process'}, done at +${fmtMs(checked.at)} ms; engine chosen and loaded at +${fmtMs(loadedEngine.at)} ms`,
  );
  run.record.engine = chosen;
  if (chosen.kind === 'embedded') checkEmbeddedFlags(parsed.k6Args, chosen.module);
  say(io, `engine ${engineLabel(chosen)}`);
  checkpoint(run);
  return chosen;
}

/**
 * Step 4. Run folder, then the bundle: by default it is written into the run folder, so concurrent runs
 * of one scenario never share a file and each run keeps the exact script it ran.
 */
export async function bundleIntoRunDir(run: RunContext, engine: Engine): Promise<Bundled> {
  const { io, parsed, env, scenarioPath, record } = run;
  const dir = createRunDir(run.reportsDir, run.name, run.startedAt);
  record.runDir = dir;
  const aliases = engine.kind === 'k6' ? moduleAliasesFor(engine.binary.version) : {};
  record.aliases = aliases;
  const built = await bundleScenario(scenarioPath, {
    root: io.root,
    cwd: io.cwd,
    outDir: (env.AGENTLOAD_BUILD_DIR ?? '') !== '' ? resolve(io.cwd, env.AGENTLOAD_BUILD_DIR ?? '') : dir,
    target: parsed.options.bundleTarget ?? DEFAULT_BUNDLE_TARGET,
    aliases,
    ...(parsed.options.bundleBudgetKb !== undefined ? { budgetKb: parsed.options.bundleBudgetKb } : {}),
  });
  record.bundle = built;
  run.phases.mark('scenario bundled');
  const aliased = Object.entries(aliases).filter(([, to]) => built.imports.includes(to));
  say(io, built.sizeLine + (aliased.length > 0 ? ` (${aliased.map(([from, to]) => `${from} → ${to}`).join(', ')})` : ''));
  // A k6 binary must have every k6/x/* extension the bundle imports (k6 v1 would try to download one).
  if (engine.kind === 'k6' && !run.cloud) {
    const fetched = checkExtensions(built.imports, engine.binary, relative(io.cwd, scenarioPath) || scenarioPath, env);
    if (fetched.length > 0)
      say(io, `k6 will fetch ${fetched.join(', ')} itself (K6_AUTO_EXTENSION_RESOLUTION=true): this needs network access`);
  }
  checkpoint(run);
  return { dir, built };
}

/**
 * What the run starts beside the engine (step 1, so the children can start side by side with the checks):
 * against the bundled platform, also the defaults that make every scenario run out of the box.
 */
export function runNeeds(run: RunContext): RunNeeds {
  const { env, view, name } = run;
  const bundledPlatform = (view.values.BASE_URL ?? '') === '';
  const slackSink = name.startsWith('slack') && (view.values.SLACK_SINK_URL ?? '') === '';
  if (bundledPlatform) {
    if ((env.SLACK_SIGNING_SECRET ?? '') === '') setEnv(run, 'SLACK_SIGNING_SECRET', randomBytes(24).toString('hex'));
    if (name === 'db' && (view.values.DB_DSN ?? '') === '') {
      run.scratchDir = mkdtempSync(join(tmpdir(), 'agentload-db-'));
      setEnv(run, 'DB_DSN', join(run.scratchDir, 'db.sqlite'));
    }
  }
  return { bundledPlatform, slackSink };
}

/**
 * The engine's arguments (outputs into the run folder, except in Grafana Cloud) and the variables the
 * toolkit sets for the script (handleSummary's path, colours, summary mode).
 */
export function prepareEngineRun(run: RunContext, engine: Engine, { dir, built }: Bundled): void {
  const { io, parsed, env, cloud } = run;
  const outJson = join(dir, RUN_FILES.outJson);
  run.record.args = k6Args({
    bundle: built.outfile,
    outJson: cloud ? undefined : outJson,
    summaryExport: cloud ? undefined : join(dir, RUN_FILES.summaryExport),
    // k6's own --verbose (debug logs) still reaches a k6 binary.
    userArgs: engine.kind === 'k6' && parsed.options.verbose ? [...parsed.k6Args, '--verbose'] : parsed.k6Args,
    cloud,
  });
  if (!cloud) {
    setEnv(run, HANDLE_SUMMARY_PATH_ENV, join(dir, RUN_FILES.handleSummaryData));
    setEnv(run, ENV_READ_PATH_ENV, join(dir, RUN_FILES.envRead));
  }
  const { colors } = k6Terminal({ stdout: io.stdoutIsTTY, stderr: io.stderrIsTTY }, env, parsed.k6Args);
  setEnv(run, SUMMARY_COLORS_ENV, colors ? '1' : '0');
  setEnv(run, SUMMARY_MODE_ENV, parsed.options.summaryMode);
  // The embedded engine keeps the per-group and per-scenario aggregates the full summary shows only when told.
  if (engine.kind !== 'k6' && parsed.options.summaryMode === 'full') setEnv(run, 'K6_SUMMARY_MODE', 'full');
}

/** Placeholders for what the run sets once its children are up, so the options check sees a complete environment. */
const VALIDATION_URL = 'http://127.0.0.1:1';

/** A Writable that keeps what the options check printed (shown only when it failed). */
class Kept extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}

/**
 * Step 5 (embedded engine). The script's options and thresholds, before anything is sent (the k6 binary
 * checks its own once it runs): the engine's exit code, shown with its output, when they fail (the children
 * started side by side are stopped then, unannounced).
 */
export async function checkScriptOptions(
  run: RunContext,
  module: EngineModule,
  built: BundleResult,
  needs: RunNeeds,
  lab: LabPlan | undefined,
): Promise<void> {
  const { io, env, view } = run;
  const kept = new Kept();
  const placeholders: Record<string, string> = {};
  if (needs.bundledPlatform) placeholders.BASE_URL = VALIDATION_URL;
  if (needs.slackSink) placeholders.SLACK_SINK_URL = VALIDATION_URL;
  if (lab !== undefined) placeholders.FAULTS_URL = VALIDATION_URL;
  let readAtInit: string[] | undefined;
  let initFinished = true;
  const code = await module.runEngine({
    script: built.outfile,
    args: run.record.args.slice(2),
    env: { ...env, ...placeholders },
    cwd: io.cwd,
    stdout: new Kept(),
    stderr: kept,
    handleSignals: false,
    validateOnly: true,
    onInit: (exports, finished) => {
      readAtInit = variablesReadFrom(exports);
      initFinished = finished;
    },
    signal: run.stop.signal,
    allowedHosts: parseAllowedHosts(view.values[ALLOWED_HOSTS_VAR]),
  });
  checkpoint(run);
  if (code !== EXIT_CODES.ok) {
    io.stderr.write(
      kept.text
        .split('\n')
        .map((l) => readableLogLine(l, Date.now()))
        .join('\n'),
    );
    run.record.engineExitCode = code;
    // The run stops before handleSummary, which would name the variables set but never read (also when the init
    // code threw: what it read until then): name them now.
    const scenario = relative(io.cwd, run.scenarioPath) || run.scenarioPath;
    for (const line of unusedVariableLines({
      read: readAtInit,
      partial: !initFinished,
      view,
      setByToolkit: run.record.setByToolkit,
      scenario,
    }))
      say(io, line);
    throw new AgentloadError(
      'invalid-options',
      code,
      `the scenario failed its check before the run (see above; exit code ${String(code)}): nothing was sent`,
    );
  }
  run.phases.mark('options and thresholds checked');
}

async function chooseEngine(parsed: ParsedRun, env: Readonly<Record<string, string>>, io: CliIO): Promise<Engine> {
  const { engine, cloud } = parsed.options;
  if (engine === 'node') {
    if (cloud) {
      throw new AgentloadError(
        'usage',
        EXIT_CODES.usage,
        '--cloud needs the k6 binary, not --engine node: install k6 (or set K6_BIN) and drop --engine node',
      );
    }
    return { kind: 'embedded', module: await loadEngine() };
  }
  const bin = findK6(env, io.cwd);
  if (bin === undefined) {
    if (engine === 'k6' || cloud) {
      throw new AgentloadError(
        'k6-not-found',
        EXIT_CODES.usage,
        `${cloud ? '--cloud' : '--engine k6'} needs a k6 binary: none on PATH and K6_BIN is not set (install k6, or set K6_BIN=/path/to/k6)`,
      );
    }
    return { kind: 'embedded', module: await loadEngine() };
  }
  const binary = await k6Version(bin, env);
  checkK6Floor(binary);
  return { kind: 'k6', binary };
}

/** TypeScript is always type-checked; JavaScript (a plain k6 script) only with --typecheck (JSDoc types). */
function isTypeScript(file: string): boolean {
  return /\.(ts|mts|cts|tsx)$/.test(file);
}

/** Refuses (104) the first flag the embedded engine does not support, naming it and listing the supported ones. */
function checkEmbeddedFlags(args: readonly string[], engine: EngineModule): void {
  const specs = engine.SUPPORTED_RUN_FLAGS;
  const supported = specs.map((f) => `--${f.name}`).join(', ');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') continue;
    const long = arg.startsWith('--');
    const name = long ? (arg.slice(2).split('=')[0] ?? '') : arg.slice(1, 2);
    const spec = specs.find((f) => (long ? f.name === name : f.short === name));
    if (spec === undefined) {
      throw new AgentloadError(
        'unsupported-flag',
        EXIT_CODES.invalidConfig,
        `flag ${long ? `--${name}` : `-${name}`} is not supported by the embedded engine (supported: ${supported}): run with a k6 binary (K6_BIN=/path/to/k6 or --engine k6), or drop the flag`,
      );
    }
    const inline = long ? arg.includes('=') : arg.length > 2;
    if (spec.kind !== 'boolean' && !inline) i++;
  }
}

function engineLabel(engine: Engine): string {
  return engine.kind === 'k6'
    ? `k6 ${engine.binary.version !== undefined ? `v${engine.binary.version}` : '(unknown version)'} (${engine.binary.path})`
    : `embedded (${engine.module.ENGINE_NAME} ${engine.module.ENGINE_VERSION})`;
}
