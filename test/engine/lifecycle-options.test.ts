/**
 * Lifecycle options k6 reads beside the script (lib/options.go envconfig): K6_SETUP_TIMEOUT and
 * K6_TEARDOWN_TIMEOUT override the script's limits, `noSetup`/`noTeardown` (and K6_NO_SETUP /
 * K6_NO_TEARDOWN) skip those functions; and k6's warning after a run without one full iteration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runEngine } from '../../engine/index.ts';
import { EXIT_CODES } from '../../engine/runtime/errors.ts';
import { Capture, runSource, type RunOutcome } from './conformance/run-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-lifecycle-opts-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const run = (source: string, env: Record<string, string> = {}): Promise<RunOutcome> => runSource(source, ['--quiet', '--no-summary'], env);

const SLOW = (options: string): string => `import { sleep } from 'k6';
export const options = { vus: 1, iterations: 1, ${options} };
export async function setup() { console.log('setup ran'); await sleep(Number(__ENV.SETUP_S || 0)); return { from: 'setup' }; }
export default function (data) { console.log('iteration got ' + JSON.stringify(data)); }
export async function teardown() { console.log('teardown ran'); await sleep(Number(__ENV.TEARDOWN_S || 0)); }
`;

void test("K6_SETUP_TIMEOUT overrides the script's setupTimeout (exit 100); without it the script's limit holds", async () => {
  const src = SLOW("setupTimeout: '30s'");
  const r = await run(src, { SETUP_S: '2', K6_SETUP_TIMEOUT: '200ms' });
  assert.equal(r.code, EXIT_CODES.setupTimeout, r.stderr);
  assert.match(r.stderr, /setup\(\) execution timed out after 0 seconds/);
  const twin = await run(src, { SETUP_S: '0.05' });
  assert.equal(twin.code, 0, twin.stderr);
});

void test("K6_TEARDOWN_TIMEOUT overrides the script's teardownTimeout (exit 101)", async () => {
  const r = await run(SLOW("teardownTimeout: '30s'"), { TEARDOWN_S: '2', K6_TEARDOWN_TIMEOUT: '200ms' });
  assert.equal(r.code, EXIT_CODES.teardownTimeout, r.stderr);
  assert.match(r.stderr, /teardown\(\) execution timed out after 0 seconds/);
});

void test('an invalid K6_SETUP_TIMEOUT is a config error (104) naming the variable', async () => {
  const r = await run(SLOW(''), { K6_SETUP_TIMEOUT: 'soon' });
  assert.equal(r.code, EXIT_CODES.invalidConfig, r.stderr);
  assert.match(r.stderr, /K6_SETUP_TIMEOUT must be a duration like \\"60s\\", got \\"soon\\"/);
  assert.doesNotMatch(r.stderr, /setup ran/);
});

void test('noSetup skips setup() (iterations get undefined), K6_NO_TEARDOWN skips teardown()', async () => {
  const r = await run(SLOW('noSetup: true'), { K6_NO_TEARDOWN: 'true' });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /setup ran|teardown ran/);
  assert.match(r.stderr, /iteration got undefined/);
  const twin = await run(SLOW(''));
  assert.match(twin.stderr, /setup ran/);
  assert.match(twin.stderr, /iteration got \{\\"from\\":\\"setup\\"\}/);
  assert.match(twin.stderr, /teardown ran/);
});

void test("a run without one full iteration ends with k6's warning; a run with one does not", async () => {
  const none = await run(`import { sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '0s' } } };
export default async function () { await sleep(5); }
`);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stderr, /level=warning msg="No script iterations fully finished, consider making the test duration longer"/);
  const one = await run(SLOW(''));
  assert.equal(one.code, 0, one.stderr);
  assert.doesNotMatch(one.stderr, /No script iterations/);
});

void test("samples from setup() and teardown() carry k6's group tags ::setup / ::teardown; iterations stay in the root group", async () => {
  const { createServer } = await import('node:http');
  const { readFileSync } = await import('node:fs');
  const server = createServer((_req, res) => {
    res.end('ok');
  });
  await new Promise<void>((r) => {
    server.listen(0, '127.0.0.1', r);
  });
  const addr = server.address();
  const url = `http://127.0.0.1:${String(typeof addr === 'object' && addr !== null ? addr.port : 0)}/`;
  try {
    const out = join(dir, 'groups.json');
    const script = join(dir, 'groups.js');
    writeFileSync(
      script,
      `import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: 1, iterations: 1 };
export async function setup() { check(await http.get(__ENV.URL + 'setup'), { 'setup ok': (r) => r.status === 200 }); }
export default async function () { await http.get(__ENV.URL + 'iteration'); }
export async function teardown() { await http.get(__ENV.URL + 'teardown'); }
`,
    );
    const code = await runEngine({
      script,
      args: ['--quiet', '--no-summary', '--out', `json=${out}`],
      env: { URL: url },
      cwd: dir,
      stdout: new Capture(),
      stderr: new Capture(),
      handleSignals: false,
    });
    assert.equal(code, 0);
    const points = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; metric: string; data: { tags?: Record<string, string> } })
      .filter((p) => p.type === 'Point');
    const groupOf = (metric: string, urlEnd: string): string | undefined =>
      points.find((p) => p.metric === metric && (p.data.tags?.url ?? '').endsWith(urlEnd))?.data.tags?.group;
    assert.equal(groupOf('http_req_duration', '/setup'), '::setup');
    assert.equal(groupOf('http_req_duration', '/teardown'), '::teardown');
    assert.equal(groupOf('http_req_duration', '/iteration'), '');
    assert.equal(points.find((p) => p.metric === 'checks')?.data.tags?.group, '::setup');
    assert.equal(points.find((p) => p.metric === 'data_sent' && p.data.tags?.group === '::setup') !== undefined, true);
  } finally {
    await new Promise<void>((r) => {
      server.close(() => {
        r();
      });
    });
  }
});
