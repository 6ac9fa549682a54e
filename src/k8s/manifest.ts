/**
 * k6-operator manifests for one scenario, as plain objects (pure): a ConfigMap holding the bundle and a
 * `TestRun` (k6.io/v1alpha1) that runs it on `parallelism` runner pods (k6-operator gives each its
 * `--execution-segment`), with the same k6 arguments as a local run, runner resources, `cleanup: post`,
 * and — with a results claim — each runner writing its JSON output, summary export and handleSummary data
 * to its own folder on a shared volume (`subPathExpr: $(POD_NAME)`), ready for `npm run report -- <dir>`.
 * Values of secret variables never appear: they come from a Kubernetes Secret by reference.
 * validateManifest() checks a manifest against testrun.schema.json (written from the CRD's fields).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { stringify } from 'yaml';

/** k6-operator's default and documented runner image; agentload pins the k6 release it was tried with. */
export const DEFAULT_RUNNER_IMAGE = 'grafana/k6:1.2.3';
/** A ConfigMap holds at most 1 MiB (Kubernetes' object size limit for ConfigMaps). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
/** Where a runner mounts the shared results volume. */
export const RESULTS_DIR = '/results';

export interface EnvEntry {
  readonly name: string;
  readonly value: string;
}

export interface ManifestInput {
  /** Scenario name (`api-latency`). */
  readonly scenario: string;
  /** The bundle as k6 should read it (no source-map comment). */
  readonly bundle: string;
  readonly parallelism: number;
  readonly namespace: string | undefined;
  readonly runnerImage: string;
  readonly runnerCpu: string;
  readonly runnerMemory: string;
  /** Spread runners over different nodes (k6-operator `separate`). */
  readonly separate: boolean;
  /** A ReadWriteMany PersistentVolumeClaim the runners write their outputs to. */
  readonly resultsClaim: string | undefined;
  /** The user's `k6 run` flags, in order. */
  readonly k6Args: readonly string[];
  /** Plain variables for the runners. */
  readonly env: readonly EnvEntry[];
  /** Variables read from the Secret `secretName(scenario)` (same key as name). */
  readonly secretEnv: readonly string[];
}

/** A DNS-1123 name from a scenario name: `agentload-<name>`. */
export function resourceName(scenario: string): string {
  const slug = scenario
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `agentload-${slug === '' ? 'test' : slug}`;
}

export function secretName(scenario: string): string {
  return `${resourceName(scenario)}-env`;
}

export function scriptFile(scenario: string): string {
  return `${resourceName(scenario).slice('agentload-'.length)}.js`;
}

/** The `arguments` line: the toolkit's outputs (with a results claim), then the user's flags. */
export function testRunArguments(input: Pick<ManifestInput, 'resultsClaim' | 'k6Args'>): string {
  const outputs =
    input.resultsClaim === undefined
      ? []
      : ['--out', `json=${RESULTS_DIR}/out.json.gz`, `--summary-export=${RESULTS_DIR}/summary-export.json`];
  return [...outputs, ...input.k6Args].join(' ');
}

export interface Manifests {
  readonly configMap: Record<string, unknown>;
  readonly testRun: Record<string, unknown>;
}

export function buildManifests(input: ManifestInput): Manifests {
  const name = resourceName(input.scenario);
  const metadata = (n: string): Record<string, unknown> => ({
    name: n,
    ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
    labels: { 'app.kubernetes.io/managed-by': 'agentload', 'agentload/scenario': resourceName(input.scenario).slice('agentload-'.length) },
  });
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(name), data: { [scriptFile(input.scenario)]: input.bundle } };
  const env: Record<string, unknown>[] = [
    ...input.env.map((e) => ({ name: e.name, value: e.value })),
    ...input.secretEnv.map((n) => ({ name: n, valueFrom: { secretKeyRef: { name: secretName(input.scenario), key: n } } })),
    { name: 'AGENTLOAD_SUMMARY_COLORS', value: '0' },
  ];
  const volumes: Record<string, unknown>[] = [];
  const volumeMounts: Record<string, unknown>[] = [];
  if (input.resultsClaim !== undefined) {
    // Each runner pod writes into a folder named after itself on the shared claim.
    env.push(
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'AGENTLOAD_HANDLE_SUMMARY_PATH', value: `${RESULTS_DIR}/handle-summary-data.json` },
    );
    volumes.push({ name: 'results', persistentVolumeClaim: { claimName: input.resultsClaim } });
    volumeMounts.push({ name: 'results', mountPath: RESULTS_DIR, subPathExpr: '$(POD_NAME)' });
  }
  const resources = { cpu: input.runnerCpu, memory: input.runnerMemory };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: metadata(name),
    spec: {
      parallelism: input.parallelism,
      ...(input.separate ? { separate: true } : {}),
      script: { configMap: { name, file: scriptFile(input.scenario) } },
      arguments: testRunArguments(input),
      cleanup: 'post',
      runner: {
        image: input.runnerImage,
        metadata: { labels: { 'app.kubernetes.io/managed-by': 'agentload' } },
        env,
        resources: { requests: { ...resources }, limits: { ...resources } },
        ...(volumes.length > 0 ? { volumes, volumeMounts } : {}),
      },
    },
  };
  return { configMap, testRun };
}

/** The manifests as one multi-document YAML file (ConfigMap first: the TestRun needs it). */
export function manifestsYaml(m: Manifests, header: string): string {
  const docs = [m.configMap, m.testRun].map((d) => stringify(d, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false }));
  return `${header
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n')}\n---\n${docs.join('---\n')}`;
}

const SCHEMA_ID = 'https://agentload.local/schemas/k6-operator-testrun.json';
let validators: Readonly<Record<string, ValidateFunction>> | undefined;

/** One validator per kind (the schema's TestRun and ConfigMap definitions). */
function schemaValidators(): Readonly<Record<string, ValidateFunction>> {
  if (validators === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addSchema(JSON.parse(readFileSync(new URL('./testrun.schema.json', import.meta.url), 'utf8')) as object);
    const get = (def: string): ValidateFunction => {
      const v = ajv.getSchema(`${SCHEMA_ID}#/definitions/${def}`);
      if (v === undefined) throw new Error(`testrun.schema.json has no definition ${def}`);
      return v;
    };
    validators = { TestRun: get('TestRun'), ConfigMap: get('ConfigMap') };
  }
  return validators;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  const params = e.params as { additionalProperty?: unknown; allowedValues?: unknown; allowedValue?: unknown };
  const extra =
    e.keyword === 'additionalProperties'
      ? `: "${String(params.additionalProperty)}"`
      : e.keyword === 'enum'
        ? ` ${JSON.stringify(params.allowedValues)}`
        : e.keyword === 'const'
          ? ` ${JSON.stringify(params.allowedValue)}`
          : '';
  return `${where} ${e.message ?? e.keyword}${extra}`;
}

/** Problems of one manifest against the TestRun/ConfigMap schema (none: valid). */
export function validateManifest(doc: unknown): string[] {
  const kind = (doc as { kind?: unknown } | null)?.kind;
  const validate = typeof kind === 'string' ? schemaValidators()[kind] : undefined;
  if (validate === undefined) return [`/kind must be TestRun or ConfigMap, got ${JSON.stringify(kind)}`];
  if (validate(doc)) return [];
  return [...new Set((validate.errors ?? []).map(describe))];
}
