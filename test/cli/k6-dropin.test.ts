/**
 * `agentload k6 ...`, the drop-in for the k6 command on the embedded engine, through the real binary
 * (bin/agentload.mjs): plain k6 scripts in the style of k6's documentation run unchanged against a real
 * loopback server and give k6's metric set (a synchronous k6-style script in the engine's sync VU mode);
 * thresholds decide the exit code (99); local imports, `open()` next to the script and TypeScript work
 * through the engine's script loader (nothing is written beside the script); `version`, `inspect` and
 * the help; one-line refusals. Safety as for every run: a target given by `-e` is checked before the run, a
 * URL the script builds is refused by the engine's host policy where it connects, and Ctrl+C stops the run
 * gracefully (teardown, summary export, exit 105) instead of the toolkit's start-up stop.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseK6Extensions } from '../../src/k6/binary.ts';
import { k6ReferenceFile } from '../support/k6-reference.ts';
import { referenceServerPerFile } from '../support/reference-server.ts';
import { collect, errorLines, makeProject, ROOT, type CliResult } from './helpers.ts';

const DOCS = join(ROOT, 'test/fixtures/k6-docs');
const project = makeProject();
const server = referenceServerPerFile(() => {
  project.cleanup();
});

async function k6(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/agentload.mjs'), 'k6', ...args], {
    cwd: project.dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', BASE_URL: server.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child);
}

/**
 * The metric names the summary export lists, without submetrics and without the `vus`/`vus_max` gauges
 * (sampled once a second, as k6 does, so a sub-second run may have none).
 */
function exported(file: string): string[] {
  const names = Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { metrics: Record<string, unknown> }).metrics);
  return names.filter((n) => !n.includes('{') && n !== 'vus' && n !== 'vus_max').sort();
}

/** k6's built-in metrics of a plain HTTP test (no checks, groups or WebSockets), without the VU gauges. */
const HTTP_METRICS = [
  'data_received',
  'data_sent',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_duration',
  'http_req_failed',
  'http_req_receiving',
  'http_req_sending',
  'http_req_tls_handshaking',
  'http_req_waiting',
  'http_reqs',
  'iteration_duration',
  'iterations',
];

void test("the expected metric set is k6's own: every name is declared in the output real k6 v0.49 recorded", () => {
  const declared = new Set(
    readFileSync(k6ReferenceFile('fixture.out.json'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"Metric"'))
      .map((l) => (JSON.parse(l) as { metric: string }).metric),
  );
  for (const m of [...HTTP_METRICS, 'checks', 'vus', 'vus_max']) assert.ok(declared.has(m), `k6 declares ${m}`);
});

void test('a k6-style synchronous script (http.get in a group, check, sleep) runs unchanged in the sync VU mode: k6 metric set, every request reached the server', async () => {
  const before = server.hits.get('/health') ?? 0;
  const r = await k6(['run', '--summary-export', 'sync.json', join(DOCS, 'http-get.js')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /vu mode: sync \(auto: http\.get\(\.\.\.\) not awaited at \S*http-get\.js:\d+:\d+/);
  assert.deepEqual(exported(join(project.dir, 'sync.json')), [...HTTP_METRICS, 'checks', 'group_duration'].sort());
  assert.equal((server.hits.get('/health') ?? 0) - before, 6, 'one request per iteration, 6 iterations');
  const data = JSON.parse(readFileSync(join(project.dir, 'sync.json'), 'utf8')) as {
    root_group: { groups: Record<string, { checks: Partial<Record<string, { passes: number; fails: number }>> }> };
  };
  const checkResult = data.root_group.groups.health?.checks['is status 200'];
  assert.deepEqual([checkResult?.passes, checkResult?.fails], [6, 0], 'every check passed');
});

void test('a docs-style http.asyncRequest script runs unchanged: k6 metric set, every request reached the server, exit 0', async () => {
  const before = server.hits.get('/health') ?? 0;
  const r = await k6([
    'run',
    '--iterations',
    '3',
    '--summary-export',
    'async.json',
    '--out',
    'json=async.out.json',
    join(DOCS, 'async-request.js'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(exported(join(project.dir, 'async.json')), HTTP_METRICS);
  assert.equal((server.hits.get('/health') ?? 0) - before, 6, 'two /health requests per iteration, 3 iterations');
  assert.match(r.stderr, /^INFO\[\d{4}\] status 200 {2}source=console$/m, 'console.log as a readable log line');
  assert.match(r.stdout, /http_reqs\.+: 9 /);
  const lines = readFileSync(join(project.dir, 'async.out.json'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"metric":"http_reqs","type":"Point"'));
  assert.equal(lines.length, 9, '--out json has one http_reqs point per request');
});

void test('checks and thresholds: pass (exit 0, checks in the metric set); a p(95) threshold a slow endpoint crosses fails with exit 99', async () => {
  const ok = await k6(['run', '-q', '--summary-export', 'pass.json', join(DOCS, 'checks-thresholds.js')], {
    TARGET_URL: `${server.url}/health`,
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(exported(join(project.dir, 'pass.json')), [...HTTP_METRICS, 'checks'].sort());
  const slow = await k6(['run', '-q', join(DOCS, 'checks-thresholds.js')], { TARGET_URL: `${server.url}/slow`, P95_MS: '50' });
  assert.equal(slow.code, 99, slow.stderr);
  assert.match(slow.stderr, /thresholds on metrics 'http_req_duration' have been crossed/);
});

void test('k6/timers in a docs-style script', async () => {
  const r = await k6(['run', '-q', '--summary-export', 'timers.json', join(DOCS, 'timers.js')]);
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(readFileSync(join(project.dir, 'timers.json'), 'utf8')) as {
    metrics: { iterations: { count: number }; iteration_duration: { min: number } };
  };
  assert.equal(data.metrics.iterations.count, 2);
  assert.ok(data.metrics.iteration_duration.min >= 10, 'each iteration waited its 10 ms timeout');
});

void test('a TypeScript script with a local import and open() beside it runs; nothing is written beside it', async () => {
  const dir = join(project.dir, 'tsproj');
  mkdirSync(dir);
  writeFileSync(join(dir, 'paths.ts'), "export const healthPath: string = '/health';\n");
  writeFileSync(join(dir, 'names.json'), '["a","b"]');
  writeFileSync(
    join(dir, 'main.ts'),
    [
      "import http from 'k6/http';",
      "import { SharedArray } from 'k6/data';",
      "import { healthPath } from './paths.ts';",
      "const names = new SharedArray('names', () => JSON.parse(open('./names.json')) as string[]);",
      'export const options = { iterations: 2 };',
      'export default async function (): Promise<void> {',
      "  const r = await http.asyncRequest('GET', `${__ENV.BASE_URL}${healthPath}?n=${names[1] ?? ''}`);",
      "  if (r.status !== 200) throw new Error('unexpected status ' + String(r.status));",
      '}',
      '',
    ].join('\n'),
  );
  const before = readdirSync(dir).sort();
  const r = await k6(['run', '-q', '--summary-export', 'ts.json', 'tsproj/main.ts']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /level=error|ERRO\[/);
  const data = JSON.parse(readFileSync(join(project.dir, 'ts.json'), 'utf8')) as {
    metrics: { http_reqs: { count: number }; iterations: { count: number } };
  };
  assert.equal(data.metrics.http_reqs.count, 2);
  assert.equal(data.metrics.iterations.count, 2, 'no iteration threw');
  assert.deepEqual(readdirSync(dir).sort(), before, 'nothing left beside the script');
});

void test("version: the engine and the k6/x modules it provides, in k6's Extensions format", async () => {
  const r = await k6(['version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^agentload-engine v\d+\.\d+\.\d+ \(k6-compatible embedded engine; node v\d+/);
  assert.deepEqual(
    parseK6Extensions(r.stdout).map((e) => e.name),
    ['k6/x/redis', 'k6/x/sql', 'k6/x/sql/driver/postgres', 'k6/x/sql/driver/sqlite3'],
  );
});

void test("inspect: the script's options as JSON; --execution-requirements adds totalDuration and maxVUs", async () => {
  cpSync(join(DOCS, 'checks-thresholds.js'), join(project.dir, 'inspected.js'));
  const plain = await k6(['inspect', 'inspected.js']);
  assert.equal(plain.code, 0, plain.stderr);
  const options = JSON.parse(plain.stdout) as { vus: number; iterations: number; thresholds: Record<string, string[]> };
  assert.equal(options.vus, 2);
  assert.equal(options.iterations, 10);
  assert.deepEqual(options.thresholds.http_req_duration, ['p(95)<2000']);
  const req = await k6(['inspect', '--execution-requirements', '--vus', '4', 'inspected.js']);
  assert.equal(req.code, 0, req.stderr);
  const full = JSON.parse(req.stdout) as {
    totalDuration: string;
    maxVUs: number;
    scenarios: Record<string, { executor: string; vus: number }>;
  };
  assert.equal(full.maxVUs, 4, 'the --vus flag is consolidated over the script');
  assert.equal(full.totalDuration, '10m30s', 'shared-iterations: maxDuration 10m + gracefulStop 30s');
  assert.equal(full.scenarios.default?.executor, 'shared-iterations');
});

void test("help: agentload k6 lists its commands; run --help lists the engine's flags under its own name", async () => {
  const h = await k6([]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^Usage: agentload k6 <command>/);
  assert.match(h.stdout, /agentload k6 run \[flags\] SCRIPT/);
  assert.match(h.stdout, /agentload k6 inspect/);
  const run = await k6(['run', '--help']);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: agentload k6 run \[flags\] SCRIPT/);
  assert.match(run.stdout, /--summary-export FILE/);
});

void test('refusals are one line: a k6 command the drop-in lacks (2), a missing script (2), a host not allowed (104)', async () => {
  const cloud = await k6(['cloud', 'run', 'x.js']);
  assert.equal(cloud.code, 2);
  assert.deepEqual(errorLines(cloud.stderr), [
    'agentload: agentload k6 runs run, inspect and version on the embedded engine, not "cloud": k6 cloud, archive and the other commands need the k6 binary',
  ]);
  const missing = await k6(['run', 'nothere.js']);
  assert.equal(missing.code, 2);
  assert.deepEqual(errorLines(missing.stderr), [
    'agentload: script not found: nothere.js: check the path (agentload k6 run [flags] SCRIPT)',
  ]);
  const far = await k6(['run', join(DOCS, 'async-request.js')], { BASE_URL: 'https://prod.example.com' });
  assert.equal(far.code, 104);
  assert.equal(errorLines(far.stderr).length, 1, far.stderr);
  assert.match(far.stderr, /^agentload: .*BASE_URL.*prod\.example\.com.*AGENTLOAD_ALLOWED_HOSTS/);
});

void test('allowlist: a target given by -e is refused before the run (104); a host the script builds is refused where it connects (1112), allowed when listed', async () => {
  const far = await k6(['run', '-e', 'BASE_URL=https://prod.example.com', join(DOCS, 'async-request.js')]);
  assert.equal(far.code, 104, far.stderr);
  assert.equal(errorLines(far.stderr).length, 1, far.stderr);
  assert.match(far.stderr, /^agentload: BASE_URL \(from -e flag\) host "prod\.example\.com" is not loopback/);
  // 0.0.0.0 reaches the loopback server when allowed, so only the engine's check can make the request fail.
  const script = join(project.dir, 'built-host.js');
  writeFileSync(
    script,
    `import http from 'k6/http';
export const options = { vus: 1, iterations: 1 };
export default function () {
  const r = http.get(\`http://0.0.0.0:\${new URL(__ENV.BASE_URL).port}/health\`);
  console.log(\`built host: \${r.status} \${r.error_code}\`);
}
`,
  );
  const refused = await k6(['run', '-q', '--no-summary', script]);
  assert.equal(refused.code, 0, refused.stderr);
  assert.match(refused.stderr, /built host: 0 1112/);
  const allowed = await k6(['run', '-q', '--no-summary', script], { AGENTLOAD_ALLOWED_HOSTS: '0.0.0.0' });
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /built host: 200 0/);
});

void test('Ctrl+C during a run stops it gracefully as k6 does: teardown runs, the summary export is written, exit 105', async () => {
  const script = join(project.dir, 'ctrlc.js');
  writeFileSync(
    script,
    `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 1, duration: '60s' };
export default function () {
  http.get(\`\${__ENV.BASE_URL}/health\`);
  console.log('iteration done');
  sleep(0.2);
}
export function teardown() { console.log('teardown ran'); }
`,
  );
  const summary = join(project.dir, 'ctrlc-summary.json');
  // A terminal sends Ctrl+C to its whole foreground process group: the run leads a group of its own here.
  const child = spawn(process.execPath, [join(ROOT, 'bin/agentload.mjs'), 'k6', 'run', '--summary-export', summary, script], {
    cwd: project.dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', BASE_URL: server.url },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = collect(child);
  const deadline = Date.now() + 120_000;
  while (!stderr.includes('iteration done')) {
    if (Date.now() > deadline || child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(-(child.pid ?? 0), 'SIGINT');
  const r = await done;
  assert.equal(r.code, 105, r.stderr);
  assert.match(r.stderr, /stopping the test gracefully/);
  assert.match(r.stderr, /teardown ran/);
  assert.ok(existsSync(summary), 'the summary export was written');
});

void test("run --summary-mode: k6 v1's compact and full layouts on the drop-in (legacy without it); a bad mode is one line, exit 104", async () => {
  cpSync(join(DOCS, 'checks-thresholds.js'), join(project.dir, 'summary-mode.js'));
  const env = { TARGET_URL: `${server.url}/health` };
  const legacy = await k6(['run', '--iterations', '2', 'summary-mode.js'], env);
  assert.doesNotMatch(legacy.stdout, /TOTAL RESULTS/, legacy.stderr);
  const full = await k6(['run', '--iterations', '2', '--summary-mode', 'full', 'summary-mode.js'], env);
  assert.match(full.stdout, /█ THRESHOLDS/, full.stderr);
  assert.match(full.stdout, /█ TOTAL RESULTS/);
  assert.match(full.stdout, /http_req_connecting/, 'full mode shows the HTTP sub-timings');
  const compact = await k6(['run', '--iterations', '2', 'summary-mode.js'], { ...env, K6_SUMMARY_MODE: 'compact' });
  assert.match(compact.stdout, /█ TOTAL RESULTS/, compact.stderr);
  assert.doesNotMatch(compact.stdout, /http_req_connecting/, 'compact mode leaves the sub-timings out');
  const bad = await k6(['run', '--summary-mode', 'verbose', 'summary-mode.js']);
  assert.equal(bad.code, 104, bad.stderr);
  assert.match(bad.stderr, /summary mode \\?"verbose\\?" is invalid; use compact, full, legacy/);
});

void test('run: the engine log lines are readable (ERRO[0000] message, stack frames on lines of their own), not logfmt', async () => {
  project.write(
    'throws.js',
    [
      'export const options = { iterations: 1 };',
      "function inner() { throw new Error('boom in the iteration'); }",
      'export default function () { inner(); }',
      '',
    ].join('\n'),
  );
  const r = await k6(['run', '-q', 'throws.js']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ERRO\[\d{4}\] [^\n]*boom in the iteration/m, r.stderr);
  assert.match(r.stderr, /^ {4}at inner \([^\n]*throws\.js/m, 'a stack frame on a line of its own');
  assert.doesNotMatch(r.stderr, /level=error|\\n\\tat/, 'no logfmt, no escaped frames');
});
