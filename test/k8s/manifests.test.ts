/**
 * `agentload k8s`: the ConfigMap + TestRun (k6.io/v1alpha1) it writes validate against the schema written
 * from k6-operator's CRD fields (and the schema rejects what the CRD rejects), the manifest carries the
 * bundle built for the runner image's k6, the local run's arguments, resources, `cleanup: post`, the results
 * claim mounted per pod, secrets only by reference; `--apply` runs a stand-in kubectl on PATH, or prints the
 * command when there is none; refusals are one line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { buildManifests, validateManifest, type ManifestInput } from '../../src/k8s/manifest.ts';
import { collect, errorLines, makeProject, ROOT, scenarioSource, type CliResult } from '../cli/helpers.ts';

const project = makeProject();
after(() => {
  project.cleanup();
});

const INPUT: ManifestInput = {
  scenario: 'api-latency',
  bundle: 'export default function () {}\n',
  parallelism: 4,
  namespace: 'load-tests',
  runnerImage: 'grafana/k6:1.2.3',
  runnerCpu: '500m',
  runnerMemory: '1Gi',
  separate: true,
  resultsClaim: 'k6-results',
  k6Args: ['--vus', '20', '--tag', 'testid=x'],
  env: [{ name: 'BASE_URL', value: 'https://staging.example.com' }],
  secretEnv: ['LLM_API_KEY'],
};

void test("the manifests match the TestRun/ConfigMap schema; the schema rejects what k6-operator's CRD rejects", () => {
  const m = buildManifests(INPUT);
  assert.deepEqual(validateManifest(m.configMap), []);
  assert.deepEqual(validateManifest(m.testRun), []);
  const broken = (edit: (spec: Record<string, unknown>, doc: Record<string, unknown>) => void): string[] => {
    const doc = structuredClone(m.testRun);
    edit(doc.spec as Record<string, unknown>, doc);
    return validateManifest(doc);
  };
  assert.deepEqual(
    broken((s) => {
      s.cleanup = 'pre';
    }),
    ['/spec/cleanup must be equal to one of the allowed values ["post"]'],
  );
  assert.deepEqual(
    broken((s) => {
      s.parallelizm = 2;
    }),
    ['/spec must NOT have additional properties: "parallelizm"'],
  );
  assert.deepEqual(
    broken((s) => {
      delete s.parallelism;
    }),
    ["/spec must have required property 'parallelism'"],
  );
  assert.deepEqual(
    broken((s) => {
      s.parallelism = 0;
    }),
    ['/spec/parallelism must be >= 1'],
  );
  assert.deepEqual(
    broken((s) => {
      s.script = {};
    }),
    ['/spec/script must NOT have fewer than 1 properties'],
  );
  assert.deepEqual(
    broken((_s, d) => {
      d.apiVersion = 'k6.io/v1';
    }),
    ['/apiVersion must be equal to constant "k6.io/v1alpha1"'],
  );
  assert.deepEqual(
    broken((_s, d) => {
      (d.metadata as Record<string, unknown>).namespace = 'Load_Tests';
    }),
    ['/metadata/namespace must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"'],
  );
  assert.deepEqual(
    broken((s) => {
      ((s.runner as Record<string, unknown>).resources as { limits: Record<string, string> }).limits.cpu = 'two';
    }),
    ['/spec/runner/resources/limits/cpu must match pattern "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"'],
  );
  assert.deepEqual(
    broken((s) => {
      ((s.runner as Record<string, unknown>).env as Record<string, unknown>[]).push({
        name: 'X',
        value: 'a',
        valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
      });
    }),
    ['/spec/runner/env/5 must NOT be valid'],
  );
  assert.deepEqual(validateManifest({ ...m.configMap, data: {} }), ['/data must NOT have fewer than 1 properties']);
  assert.deepEqual(validateManifest({ kind: 'Job' }), ['/kind must be TestRun or ConfigMap, got "Job"']);
});

function fakeKubectl(): { dir: string; log: string } {
  const dir = join(project.dir, 'fake-kubectl');
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'calls.jsonl');
  writeFileSync(
    join(dir, 'kubectl'),
    `#!${process.execPath}
const fs = require('fs');
const args = process.argv.slice(2);
const file = args[args.indexOf('-f') + 1];
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, applied: fs.readFileSync(file, 'utf8').length }) + '\\n');
console.log('configmap/agentload-apply created\\ntestrun.k6.io/agentload-apply created');
`,
  );
  chmodSync(join(dir, 'kubectl'), 0o755);
  return { dir, log };
}

async function k8s(args: string[], env: Record<string, string>): Promise<CliResult> {
  return collect(
    spawn(process.execPath, [join(ROOT, 'bin/agentload.mjs'), 'k8s', ...args], {
      cwd: project.dir,
      env: {
        HOME: process.env.HOME ?? '/tmp',
        PATH: join(project.dir, 'empty-path'),
        AGENTLOAD_BUILD_DIR: project.build,
        BASE_URL: 'https://staging.example.com',
        AGENTLOAD_ALLOWED_HOSTS: 'staging.example.com',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

const WS_SCENARIO = scenarioSource(
  "import { WebSocket } from 'k6/websockets';\nexport function ws(): void { new WebSocket('wss://staging.example.com/ws').close(); }",
);

void test("writes a valid ConfigMap + TestRun: bundle for the runner image's k6, arguments, resources, cleanup, results claim per pod, secrets by reference", async () => {
  const scenario = project.write('api.ts', WS_SCENARIO);
  const r = await k8s(
    [
      scenario,
      '--parallelism',
      '3',
      '--namespace',
      'load-tests',
      '--runner-image',
      'registry.example/k6:0.49.0',
      '--runner-cpu',
      '2',
      '--runner-memory',
      '2Gi',
      '--results-claim',
      'k6-results',
      '--vus',
      '30',
      '--duration',
      '2m',
      '--tag',
      'testid=rel-42',
      '--summary-mode',
      'full',
    ],
    { LLM_API_KEY: 'sk-live-do-not-leak', SIZE: 'full' },
  );
  assert.equal(r.code, 0, r.stderr);
  const file = join(project.build, 'k8s', 'api.yaml');
  const text = readFileSync(file, 'utf8');
  assert.ok(
    !text.includes('sk-live-do-not-leak') && !r.stdout.includes('sk-live-do-not-leak') && !r.stderr.includes('sk-live-do-not-leak'),
    'the secret value is nowhere',
  );
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
  assert.deepEqual(
    docs.map((d) => d.kind),
    ['ConfigMap', 'TestRun'],
  );
  for (const d of docs) assert.deepEqual(validateManifest(d), [], `${String(d.kind)} is valid`);
  const [cm, tr] = docs as [
    { data: Record<string, string> },
    { metadata: { name: string; namespace: string }; spec: Record<string, unknown> & { runner: Record<string, unknown> } },
  ];
  const bundle = cm.data['api.js'] ?? '';
  assert.match(bundle, /from "k6\/experimental\/websockets"/, 'k6 v0.49 runners get the experimental module name');
  assert.match(bundle, /export \{[^}]*handleSummary/s, 'the toolkit entry (handleSummary data) is in the bundle');
  assert.doesNotMatch(bundle, /sourceMappingURL/);
  assert.equal(tr.metadata.name, 'agentload-api');
  assert.equal(tr.metadata.namespace, 'load-tests');
  assert.equal(tr.spec.parallelism, 3);
  assert.deepEqual(tr.spec.script, { configMap: { name: 'agentload-api', file: 'api.js' } });
  assert.equal(
    tr.spec.arguments,
    '--out json=/results/out.json.gz --summary-export=/results/summary-export.json --vus 30 --duration 2m --tag testid=rel-42',
  );
  assert.equal(tr.spec.cleanup, 'post');
  assert.equal(tr.spec.runner.image, 'registry.example/k6:0.49.0');
  assert.deepEqual(tr.spec.runner.resources, { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } });
  assert.deepEqual(tr.spec.runner.volumeMounts, [{ name: 'results', mountPath: '/results', subPathExpr: '$(POD_NAME)' }]);
  assert.deepEqual(tr.spec.runner.volumes, [{ name: 'results', persistentVolumeClaim: { claimName: 'k6-results' } }]);
  const env = tr.spec.runner.env as { name: string; value?: string; valueFrom?: unknown }[];
  assert.deepEqual(
    env.find((e) => e.name === 'BASE_URL'),
    { name: 'BASE_URL', value: 'https://staging.example.com' },
  );
  assert.deepEqual(
    env.find((e) => e.name === 'SIZE'),
    { name: 'SIZE', value: 'full' },
  );
  assert.deepEqual(
    env.find((e) => e.name === 'LLM_API_KEY'),
    { name: 'LLM_API_KEY', valueFrom: { secretKeyRef: { name: 'agentload-api-env', key: 'LLM_API_KEY' } } },
  );
  assert.deepEqual(
    env.find((e) => e.name === 'AGENTLOAD_HANDLE_SUMMARY_PATH'),
    { name: 'AGENTLOAD_HANDLE_SUMMARY_PATH', value: '/results/handle-summary-data.json' },
  );
  assert.deepEqual(
    env.find((e) => e.name === 'AGENTLOAD_SUMMARY_MODE'),
    { name: 'AGENTLOAD_SUMMARY_MODE', value: 'full' },
    "--summary-mode reaches the runners' end-of-test summary (the bundle's handleSummary reads it)",
  );
  assert.ok(!env.some((e) => e.name === 'AGENTLOAD_ALLOWED_HOSTS' || e.name === 'AGENTLOAD_BUILD_DIR'), 'toolkit settings stay local');
  assert.match(r.stderr, /kubectl create secret generic agentload-api-env -n load-tests --from-literal=LLM_API_KEY="\$LLM_API_KEY"/);
  assert.match(r.stdout, /^apply with: kubectl apply -f .*api\.yaml$/m);
});

void test('--apply: runs kubectl apply -f <manifest> when kubectl is on PATH; without kubectl it prints the command (exit 0)', async () => {
  const scenario = project.write('apply.ts', scenarioSource());
  const kubectl = fakeKubectl();
  const applied = await k8s([scenario, '--parallelism', '2', '--apply'], { PATH: kubectl.dir });
  assert.equal(applied.code, 0, applied.stderr);
  const calls = readFileSync(kubectl.log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { args: string[]; applied: number });
  assert.equal(calls.length, 1);
  const [call] = calls;
  assert.ok(call !== undefined);
  assert.deepEqual(call.args, ['apply', '-f', join(project.build, 'k8s', 'apply.yaml')]);
  assert.ok(call.applied > 1000, 'the manifest was written before kubectl ran');
  assert.match(applied.stdout, /testrun\.k6\.io\/agentload-apply created/);
  assert.match(applied.stderr, /outputs stay in their pods: pass --results-claim/);

  const none = await k8s([scenario, '--parallelism', '2', '--apply'], {});
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^kubectl is not on PATH: apply the manifest where it is: kubectl apply -f .*apply\.yaml$/m);
});

void test("the runners' summaries stay in the cluster: a variable set but never read is named here, from the init code run once locally", async () => {
  const config = JSON.stringify(join(ROOT, 'lib/config.ts'));
  const scenario = project.write(
    'sized-k8s.ts',
    `import http from 'k6/http';
import { duration, target } from ${config};
const { baseUrl } = target(__ENV);
export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: duration(__ENV, 'DURATION', '1s') } } };
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${baseUrl}/health\`);
}
`,
  );
  const r = await k8s([scenario, '--parallelism', '2', '-e', 'DURATON=5m'], { RATE: '3' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    errorLines(r.stderr).filter((l) => l.includes('warning:')),
    [
      'agentload: warning: DURATON (-e flag) is set but sized-k8s.ts never reads it: did you mean DURATION?',
      'agentload: warning: RATE (environment) is set but sized-k8s.ts never reads it: its size variables are DURATION (docs/scenarios.md#size-overrides)',
    ],
  );
  const plain = await k8s([project.write('plain-k8s.ts', scenarioSource()), '--parallelism', '2', '-e', 'FOO=1'], {});
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stderr, /warning:/, 'a script without lib/config is not checked');
});

void test('refusals are one line: no BASE_URL (104), no --parallelism, a bad namespace, a secret in -e, the SQL extension on the stock image (2)', async () => {
  const scenario = project.write('refused.ts', scenarioSource());
  const noTarget = await k8s([scenario, '--parallelism', '2'], { BASE_URL: '' });
  assert.equal(noTarget.code, 104);
  assert.deepEqual(errorLines(noTarget.stderr), [
    'agentload: k6-operator runners run in the cluster, which cannot reach a platform started on this machine: set BASE_URL to a system they can reach (and list its host in AGENTLOAD_ALLOWED_HOSTS)',
  ]);
  const notAllowed = await k8s([scenario, '--parallelism', '2'], { AGENTLOAD_ALLOWED_HOSTS: '' });
  assert.equal(notAllowed.code, 104);
  assert.equal(errorLines(notAllowed.stderr).length, 1);
  const noN = await k8s([scenario], {});
  assert.equal(noN.code, 2);
  assert.deepEqual(errorLines(noN.stderr), [
    'agentload: --parallelism is required: agentload k8s <scenario> --parallelism N (the number of runner pods)',
  ]);
  const badNs = await k8s([scenario, '--parallelism', '2', '--namespace', 'Load_Tests'], {});
  assert.equal(badNs.code, 2);
  assert.deepEqual(errorLines(badNs.stderr), [
    "agentload: --namespace Load_Tests is not a Kubernetes namespace name: lower-case letters, digits and '-', e.g. load-tests",
  ]);
  const secretE = await k8s([scenario, '--parallelism', '2', '-e', 'API_TOKEN=abc123'], {});
  assert.equal(secretE.code, 2);
  assert.match(secretE.stderr, /^agentload: -e API_TOKEN=\.\.\. would put a secret into the TestRun's arguments/);
  assert.doesNotMatch(secretE.stderr, /abc123/);
  const sql = project.write(
    'sqlk8s.js',
    "import sql from 'k6/x/sql';\nimport driver from 'k6/x/sql/driver/postgres';\nexport default function () { sql.open(driver, __ENV.DB_DSN); }\n",
  );
  const ext = await k8s([sql, '--parallelism', '2'], {});
  assert.equal(ext.code, 2);
  assert.deepEqual(errorLines(ext.stderr), [
    `agentload: ${sql} imports k6/x/sql, k6/x/sql/driver/postgres, which the stock grafana/k6:1.2.3 image lacks: build an image with \`xk6 build v1.2.3 --with github.com/grafana/xk6-sql --with github.com/grafana/xk6-sql-driver-postgres\` and pass it with --runner-image`,
  ]);
});
