/**
 * Conformance corpus: scripts written as k6's own examples are (test/fixtures/k6-examples, see its
 * README for which example each follows), unchanged k6 style — synchronous calls, groups around
 * requests, k6/ws, top-level await, TypeScript — run on the embedded engine against a loopback
 * stand-in for the services the examples call. Each is compared with what k6 documents for it: exit
 * code, metric set, check counts, group structure, threshold verdicts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runEngine } from '../../../engine/index.ts';
import { startExamplesServer, type ExamplesServer } from '../../support/examples-server.ts';
import { Capture, ROOT, tempDir } from './run-helpers.ts';

const CORPUS = join(ROOT, 'test/fixtures/k6-examples');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  summary: Summary;
  points: Point[];
}
interface Group {
  name: string;
  groups: Group[];
  checks: { name: string; passes: number; fails: number }[];
}
interface Summary {
  metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  root_group: Group;
}
interface Point {
  type: string;
  metric: string;
  data: { tags?: Record<string, string>; value?: number; time?: string };
}

let server: ExamplesServer;
before(async () => {
  server = await startExamplesServer();
});
after(async () => {
  await server.close();
});

async function run(file: string, args: readonly string[] = []): Promise<Outcome> {
  const dir = tempDir();
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runEngine({
    script: join(CORPUS, file),
    args: ['--out', `json=${join(dir, 'out.json')}`, ...args],
    env: { BASE_URL: server.url, WS_URL: server.wsUrl },
    cwd: dir,
    stdout,
    stderr,
    handleSignals: false,
  });
  const points = readFileSync(join(dir, 'out.json'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Point);
  return { code, stdout: stdout.text, stderr: stderr.text, summary: summaryOf(points), points };
}

/** Counts from the JSON output (what k6's summary is computed from). */
function summaryOf(points: readonly Point[]): Summary {
  const metrics: Summary['metrics'] = {};
  const groups = new Map<string, Group>([['', { name: '', groups: [], checks: [] }]]);
  const groupOf = (path: string): Group => {
    let g = groups.get(path);
    if (g !== undefined) return g;
    const cut = path.lastIndexOf('::');
    g = { name: path.slice(cut + 2), groups: [], checks: [] };
    groups.set(path, g);
    groupOf(path.slice(0, cut)).groups.push(g);
    return g;
  };
  for (const p of points) {
    if (p.type !== 'Point') continue;
    const m = (metrics[p.metric] ??= { values: { count: 0, sum: 0, passes: 0, fails: 0 } }).values;
    m.count = (m.count ?? 0) + 1;
    m.sum = (m.sum ?? 0) + (p.data.value ?? 0);
    if (p.data.value === 0) m.fails = (m.fails ?? 0) + 1;
    else m.passes = (m.passes ?? 0) + 1;
    const gp = p.data.tags?.group;
    if (gp !== undefined && gp !== '' && !gp.startsWith('::setup') && !gp.startsWith('::teardown')) groupOf(gp);
    if (p.metric === 'checks') {
      const g = groupOf(gp ?? '');
      const name = p.data.tags?.check ?? '';
      let c = g.checks.find((x) => x.name === name);
      if (c === undefined) {
        c = { name, passes: 0, fails: 0 };
        g.checks.push(c);
      }
      if (p.data.value === 1) c.passes++;
      else c.fails++;
    }
  }
  return { metrics, root_group: groups.get('') ?? { name: '', groups: [], checks: [] } };
}

const count = (o: Outcome, metric: string): number => o.summary.metrics[metric]?.values.count ?? 0;
const sum = (o: Outcome, metric: string): number => o.summary.metrics[metric]?.values.sum ?? 0;
const checks = (o: Outcome): { passes: number; fails: number } => ({
  passes: o.summary.metrics.checks?.values.passes ?? 0,
  fails: o.summary.metrics.checks?.values.fails ?? 0,
});
const HTTP = [
  'http_reqs',
  'http_req_duration',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
  'http_req_failed',
];
const ITER = ['iterations', 'iteration_duration', 'data_sent', 'data_received'];
const hasMetrics = (o: Outcome, names: readonly string[]): void => {
  for (const n of names) assert.ok(n in o.summary.metrics, `${n} missing; has ${Object.keys(o.summary.metrics).join(', ')}`);
};

void describe("k6 examples run unchanged with k6's outcome", () => {
  void test("http_get.js: one GET, the default 1 VU × 1 iteration, exit 0, k6's User-Agent", async () => {
    const o = await run('http_get.js');
    assert.equal(o.code, 0, o.stderr);
    hasMetrics(o, [...HTTP, ...ITER]);
    assert.equal(count(o, 'http_reqs'), 1);
    assert.ok(server.userAgents.has('k6/1.2.3 (https://k6.io/)'), [...server.userAgents].join('; '));
  });

  void test('json.js: the response is used on the next line; both checks pass', async () => {
    const o = await run('json.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 2, fails: 0 });
    assert.doesNotMatch(o.stderr, /add await/);
  });

  void test('groups.js: requests in nested groups: group tags, group_duration per group, checks in their group', async () => {
    const o = await run('groups.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 4, fails: 0 });
    const tree = o.summary.root_group;
    assert.deepEqual(
      tree.groups.map((g) => g.name),
      ['front page'],
    );
    const frontGroup = tree.groups[0];
    assert.ok(frontGroup !== undefined);
    assert.deepEqual(
      frontGroup.groups.map((g) => g.name),
      ['assets'],
    );
    assert.deepEqual(
      frontGroup.checks.map((c) => [c.name, c.passes]),
      [['front page is 200', 4]],
    );
    const byGroup = (metric: string, group: string): Point[] =>
      o.points.filter((p) => p.type === 'Point' && p.metric === metric && p.data.tags?.group === group);
    assert.equal(byGroup('http_reqs', '::front page').length, 4);
    assert.equal(byGroup('http_reqs', '::front page::assets').length, 8);
    const front = byGroup('group_duration', '::front page');
    assert.equal(front.length, 4);
    for (const p of front)
      assert.ok((p.data.value ?? 0) >= 50, `front page group took ${String(p.data.value)} ms, its request alone 50 ms`);
    assert.equal(byGroup('group_duration', '::front page::assets').length, 4);
  });

  void test("thresholds_fail.js: a latency threshold the target misses fails the run with 99 and k6's line", async () => {
    const o = await run('thresholds_fail.js');
    assert.equal(o.code, 99, o.stderr);
    assert.match(o.stderr, /level=error msg="thresholds on metrics 'http_req_duration' have been crossed"/);
  });

  void test('custom_metrics.js: the four custom metrics get one sample per iteration; thresholds pass', async () => {
    const o = await run('custom_metrics.js');
    assert.equal(o.code, 0, o.stderr);
    for (const m of ['my_counter', 'my_gauge', 'my_rate', 'my_trend']) assert.equal(count(o, m), 5, m);
    assert.equal(sum(o, 'my_rate'), 5);
  });

  void test('cookies.js: server cookies, jar cookies and request cookies reach the server', async () => {
    const o = await run('cookies.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 6, fails: 0 });
  });

  void test("redirects.js: maxRedirects stops at 2 hops with k6's warning naming 2; a param overrides it", async () => {
    const o = await run('redirects.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 2, fails: 0 });
    assert.match(o.stderr, /Stopped after 2 redirects and returned the redirection/);
    assert.equal(count(o, 'http_reqs'), 3 + 4);
  });

  void test('batch.js: batched requests (array and object) give responses the script reads', async () => {
    const o = await run('batch.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 6, fails: 0 });
    assert.equal(count(o, 'http_reqs'), 10);
  });

  void test('gjson.js: res.json(selector) answers GJSON paths (#, #[query], #.path, #(query)#)', async () => {
    const o = await run('gjson.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 4, fails: 0 });
  });

  void test('compression.js: a gzip request body with Content-Encoding; gzip and zstd responses decoded', async () => {
    const o = await run('compression.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 3, fails: 0 });
  });

  void test('html_form.js: parseHTML on a synchronous response, form values posted back', async () => {
    const o = await run('html_form.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 3, fails: 0 });
  });

  void test('setup_teardown.js: setup() data reaches every iteration and teardown; handleSummary gets setup_data', async () => {
    const o = await run('setup_teardown.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 4, fails: 0 });
    assert.match(o.stderr, /teardown saw abc/);
    assert.match(o.stdout, /setup_data=\{"token":"abc"\}/);
    const setupReqs = o.points.filter((p) => p.type === 'Point' && p.metric === 'http_reqs' && p.data.tags?.group === '::setup');
    assert.equal(setupReqs.length, 1);
  });

  void test('abort.js: exec.test.abort() in the first iteration ends the run with 108; that iteration counts', async () => {
    const started = Date.now();
    const o = await run('abort.js');
    assert.equal(o.code, 108, o.stderr);
    assert.match(o.stderr, /test aborted: service returned 503/);
    assert.ok(Date.now() - started < 25_000, 'stops long before its 30 s duration');
    assert.equal(count(o, 'iterations'), 1);
    assert.equal(count(o, 'iteration_duration'), 1);
  });

  void test('shared_array.js: a SharedArray built once from open(), read by every VU (frozen elements)', async () => {
    const o = await run('shared_array.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 8, fails: 0 });
  });

  void test('stages.js: ramping VUs start no iteration after the last stage (2 s), not for another gracefulRampDown (30 s)', async () => {
    const o = await run('stages.js');
    assert.equal(o.code, 0, o.stderr);
    assert.ok(count(o, 'iterations') > 3);
    // When each iteration started: its end (the sample's time) minus its duration.
    const starts = o.points
      .filter((p) => p.type === 'Point' && p.metric === 'iteration_duration')
      .map((p) => Date.parse(p.data.time ?? '') - (p.data.value ?? 0));
    const first = Math.min(...starts);
    const last = Math.max(...starts);
    // 2 s of stages; the timer that ends them may fire late on a loaded machine, hence the second of slack.
    assert.ok(last - first <= 3000, `an iteration started ${String(last - first)} ms into a 2 s ramp`);
    // And the scenario ends with its last VU: the engine's samples (vus every second) stop soon after the
    // ramp, where the old engine went on for the whole gracefulRampDown (about 32 s).
    const times = o.points.filter((p) => p.type === 'Point').map((p) => Date.parse(p.data.time ?? ''));
    const span = Math.max(...times) - Math.min(...times);
    assert.ok(span < 15_000, `samples span ${String(span)} ms`);
  });

  void test('typescript.ts: a .ts script with a .ts import runs directly, types stripped', async () => {
    const o = await run('typescript.ts');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 2, fails: 0 });
    assert.match(o.stderr, /msg="\{\\"name\\":\\"John\\",\\"id\\":4\}" source=console/, 'console.log of an object prints its JSON, as k6');
  });

  void test('fs_csv.js: top-level await, k6/experimental/fs and k6/experimental/csv', async () => {
    const o = await run('fs_csv.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 9, fails: 0 });
  });

  void test('timers.js: a timer set in an iteration fires before the iteration ends', async () => {
    const o = await run('timers.js');
    assert.equal(o.code, 0, o.stderr);
    assert.equal(count(o, 'timer_fired'), 2);
  });

  void test('websocket.js: k6/ws connect with handlers and socket timers; ws_* metrics as k6 emits them', async () => {
    const o = await run('websocket.js');
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(checks(o), { passes: 1, fails: 0 });
    hasMetrics(o, ['ws_sessions', 'ws_connecting', 'ws_session_duration', 'ws_msgs_sent', 'ws_msgs_received', 'ws_ping']);
    assert.equal(count(o, 'ws_sessions'), 1);
    assert.ok(count(o, 'ws_msgs_sent') >= 3, `sent ${String(count(o, 'ws_msgs_sent'))}`);
    assert.ok(count(o, 'ws_msgs_received') >= 2);
    assert.ok(count(o, 'ws_ping') >= 2);
    const duration = sum(o, 'ws_session_duration');
    assert.ok(duration >= 950 && duration < 3000, `session lasted ${String(duration)} ms (closed by its 1 s timer)`);
    const tags = o.points.find((p) => p.type === 'Point' && p.metric === 'ws_sessions')?.data.tags ?? {};
    assert.equal(tags.my_tag, 'hello');
    assert.equal(tags.status, '101');
    assert.equal(tags.url, server.wsUrl);
    assert.match(o.stderr, /PONG!/);
    assert.match(o.stderr, /disconnected/);
  });
});
