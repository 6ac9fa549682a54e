/**
 * The synchronous VU mode and the mode choice: a k6-style script and its async-first twin give the
 * same metrics; VU ids, iterations and scenario info reach the VU threads; interruptions stop
 * sleeps and even code that never yields; lifecycle timeouts hold; the choice follows flags, env,
 * the script's export and the analysis.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyseModule } from '../../../engine/runtime/script-analysis.ts';
import { chooseVuMode } from '../../../engine/sync/mode.ts';
import { consoleText } from '../../../engine/runtime/console-text.ts';
import { startExamplesServer, type ExamplesServer } from '../../support/examples-server.ts';
import { runSource, tempDir } from '../conformance/run-helpers.ts';

let server: ExamplesServer;
before(async () => {
  server = await startExamplesServer();
});
after(async () => {
  await server.close();
});

type Metrics = Record<string, Record<string, number>>;
const exportOf = (file: string): Metrics => (JSON.parse(readFileSync(file, 'utf8')) as { metrics: Metrics }).metrics;

void describe('a k6-style script and its async-first twin', () => {
  const body = (aw: string, fn: string): string => `
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';
const seen = new Counter('seen');
export const options = { vus: 3, iterations: 12, thresholds: { checks: ['rate==1'] } };
export default ${fn}function () {
  const res = ${aw}http.get(\`\${__ENV.BASE_URL}/get?x=1\`);
  check(res, { 'status 200': (r) => r.status === 200, 'args echoed': (r) => r.json('args.x') === '1' });
  const p = ${aw}http.post(\`\${__ENV.BASE_URL}/post\`, JSON.stringify({ a: 1 }), { headers: { 'Content-Type': 'application/json' }, tags: { kind: 'post' } });
  check(p, { 'posted': (r) => r.json().json.a === 1 });
  seen.add(1);
  ${aw}sleep(0.01);
}`;
  let sync: { run: Awaited<ReturnType<typeof runSource>>; m: Metrics };
  let async: { run: Awaited<ReturnType<typeof runSource>>; m: Metrics };
  before(async () => {
    const d1 = tempDir();
    const d2 = tempDir();
    const r1 = await runSource(body('', ''), ['--summary-export', join(d1, 's.json')], { BASE_URL: server.url });
    const r2 = await runSource(body('await ', 'async '), ['--summary-export', join(d2, 's.json')], { BASE_URL: server.url });
    sync = { run: r1, m: exportOf(join(d1, 's.json')) };
    async = { run: r2, m: exportOf(join(d2, 's.json')) };
  });

  void test('the sync one runs in the sync VU mode, the twin in the async mode; both pass', () => {
    assert.equal(sync.run.code, 0, sync.run.stderr);
    assert.equal(async.run.code, 0, async.run.stderr);
    assert.match(sync.run.stdout, /vu mode: sync \(auto: http\.get\(\.\.\.\) not awaited at file:\/\/\/.*:8:\d+ \(and 2 more\)\)/);
    assert.doesNotMatch(async.run.stdout, /vu mode:/);
  });

  void test('the same metric set and the same counts', () => {
    // vus/vus_max are sampled once a second: they appear only when a run lasts past 1 s (thread start-up on a loaded machine).
    const measured = (m: Metrics): string[] =>
      Object.keys(m)
        .filter((k) => k !== 'vus' && k !== 'vus_max')
        .sort();
    assert.deepEqual(measured(sync.m), measured(async.m));
    for (const [name, field] of [
      ['http_reqs', 'count'],
      ['iterations', 'count'],
      ['seen', 'count'],
      ['checks', 'passes'],
      ['checks', 'fails'],
      ['http_req_failed', 'passes'],
      ['http_req_failed', 'fails'],
    ] as const) {
      assert.equal(sync.m[name]?.[field], async.m[name]?.[field], `${name}.${field}`);
    }
    assert.equal(sync.m.http_reqs?.count, 24);
    assert.equal(sync.m.checks?.passes, 36);
    // The same bytes go over the wire per request (same headers, same User-Agent).
    assert.equal(sync.m.data_sent?.count, async.m.data_sent?.count);
  });
});

void test('VU threads see their VU ids, iteration numbers, scenario and __ENV; exec.instance asks the engine', async () => {
  const dir = tempDir();
  const r = await runSource(
    `
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
const c = new Counter('ids');
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 3, iterations: 2, env: { WHO: 'scenario' }, tags: { t: 'x' } } } };
export default function () {
  http.get(\`\${__ENV.BASE_URL}/get\`);
  c.add(1, { vu: String(exec.vu.idInTest), vu2: String(__VU), iter: String(exec.vu.iterationInScenario), it: String(__ITER), sc: exec.scenario.name, who: __ENV.WHO, active: String(exec.instance.vusActive > 0) });
}`,
    ['--out', `json=${join(dir, 'o.json')}`, '-q'],
    { BASE_URL: server.url },
  );
  assert.equal(r.code, 0, r.stderr);
  const pts = readFileSync(join(dir, 'o.json'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"metric":"ids"') && l.includes('Point'))
    .map((l) => (JSON.parse(l) as { data: { tags: Record<string, string> } }).data.tags);
  assert.equal(pts.length, 6);
  assert.deepEqual([...new Set(pts.map((t) => t.vu))].sort(), ['1', '2', '3']);
  for (const t of pts) {
    assert.equal(t.vu, t.vu2);
    assert.equal(t.iter, t.it);
    assert.equal(t.sc, 's');
    assert.equal(t.who, 'scenario');
    assert.equal(t.t, 'x', 'scenario tags on custom metrics');
    assert.equal(t.active, 'true');
  }
  assert.deepEqual(pts.map((t) => t.iter).sort(), ['0', '0', '0', '1', '1', '1']);
});

void test('gracefulStop interrupts a sleeping VU thread at once, and stops a VU whose code never yields', async () => {
  const started = Date.now();
  const dir = tempDir();
  const r = await runSource(
    `
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';
export const options = { scenarios: {
  sleepy: { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '200ms', exec: 'sleepy' },
  spin: { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '200ms', exec: 'spin' },
} };
export function sleepy() { http.get(\`\${__ENV.BASE_URL}/get\`); sleep(30); }
export function spin() { http.get(\`\${__ENV.BASE_URL}/get\`); for (;;) { /* never yields */ } }
`,
    ['-q', '--summary-export', join(dir, 's.json')],
    { BASE_URL: server.url },
  );
  const took = Date.now() - started;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(took < 25_000, `took ${String(took)} ms: a 30 s sleep and an endless loop must not hold the run`);
  const m = exportOf(join(dir, 's.json'));
  assert.equal(m.http_reqs?.count, 2);
  assert.equal(m.iterations, undefined, 'both iterations were interrupted: not counted');
});

void test('setupTimeout holds in the sync mode: a setup() sleeping past it ends with 100', async () => {
  const r = await runSource(
    `
import { sleep } from 'k6';
export const options = { setupTimeout: '1s', iterations: 1 };
export function setup() { sleep(20); }
export default function () {}
`,
    ['-q'],
    {},
  );
  assert.equal(r.code, 100, r.stderr);
  assert.match(r.stderr, /setup\(\) execution timed out after 1 seconds/);
});

void test("an exception in a VU thread's init code exits 107 with the original position", async () => {
  const r = await runSource(
    `
import http from 'k6/http';
export const options = { vus: 2, iterations: 2 };
if (__VU === 2) throw new Error('init failed on VU 2');
export default function () { http.get('http://127.0.0.1:1/'); }
`,
    ['-q'],
    {},
  );
  assert.equal(r.code, 107, r.stderr);
  assert.match(r.stderr, /init failed on VU 2/);
  assert.match(r.stderr, /s\d+\.js:4:\d+/);
});

void test('k6/ws in the async VU mode: await ws.connect() returns when the socket closes', async () => {
  const dir = tempDir();
  const r = await runSource(
    `
import ws from 'k6/ws';
import { check } from 'k6';
export const options = { iterations: 2 };
export default async function () {
  let got = 0;
  const res = await ws.connect(__ENV.WS_URL, {}, (socket) => {
    socket.on('open', () => { socket.send('a'); socket.send('b'); });
    socket.on('message', () => { got++; if (got === 2) socket.send('close'); });
    socket.on('close', (code) => { check(code, { 'closed by the server with 1000': (c) => c === 1000 }); });
  });
  check(res, { 'handshake 101': (x) => x.status === 101, 'both echoed': () => got === 2 });
}`,
    ['-q', '--summary-export', join(dir, 's.json')],
    { WS_URL: server.wsUrl },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /vu mode/);
  const m = exportOf(join(dir, 's.json'));
  assert.equal(m.checks?.passes, 6);
  assert.equal(m.checks.fails, 0);
  assert.equal(m.ws_sessions?.count, 2);
  assert.equal(m.ws_msgs_sent?.count, 6);
  assert.equal(m.ws_msgs_received?.count, 4);
});

void test('a failed k6/ws dial returns the error response, fires nothing, and still counts the session', async () => {
  const dir = tempDir();
  const r = await runSource(
    `
import ws from 'k6/ws';
import { check } from 'k6';
export default function () {
  const res = ws.connect('ws://127.0.0.1:1/none', {}, () => { throw new Error('never called'); });
  check(res, { 'status 0 with the dial error': (x) => x.status === 0 && /connection refused/.test(x.error) });
}`,
    ['-q', '--summary-export', join(dir, 's.json')],
    {},
  );
  assert.equal(r.code, 0, r.stderr);
  const m = exportOf(join(dir, 's.json'));
  assert.equal(m.checks?.passes, 1);
  assert.equal(m.ws_sessions?.count, 1);
});

void test('an empty iteration body under ramping VUs ends with its stages (it never yields to timers)', async () => {
  const started = Date.now();
  const r = await runSource(
    `export const options = { stages: [{ duration: '1s', target: 2 }] };
export default function () {}`,
    ['-q'],
    {},
  );
  const took = Date.now() - started;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(took < 20_000, `took ${String(took)} ms (the old engine never ended)`);
});

void test('an iteration that throws before any wait, with an abortOnFail threshold, stops early with 99', async () => {
  const started = Date.now();
  const r = await runSource(
    `import { check } from 'k6';
export const options = { vus: 2, duration: '40s', thresholds: { checks: [{ threshold: 'rate>0.9', abortOnFail: true }] } };
export default function () { check(null, { never: () => false }); throw new Error('fails at once'); }`,
    ['-q'],
    {},
  );
  assert.equal(r.code, 99, r.stderr.slice(-2000));
  assert.ok(Date.now() - started < 30_000, 'stopped by abortOnFail long before its 40 s duration');
  assert.match(r.stderr, /at least one has abortOnFail enabled/);
});

void describe('the VU mode choice', () => {
  const uses = (src: string): string[] => analyseModule(src).blockingUses.map((u) => u.call);

  void test('blocking calls not awaited where they are made are reasons for the sync mode', () => {
    assert.deepEqual(
      uses(`import http from 'k6/http'; import { sleep } from 'k6'; export default function () { const r = http.get('u'); sleep(1); }`),
      ['http.get(...)', 'sleep(...)'],
    );
    assert.deepEqual(
      uses(`import * as h from 'k6/http'; import k6 from 'k6'; export default async function () { await h.post('u'); await k6.sleep(1); }`),
      [],
    );
    assert.deepEqual(uses(`import { get as g } from 'k6/http'; const f = g; export default async function () { await f('u'); }`), [
      'get(...)',
    ]);
    assert.deepEqual(uses(`import ws from 'k6/ws'; export default function () { ws.connect('u', () => {}); }`), ['ws.connect(...)']);
    assert.deepEqual(
      uses(`import http from 'k6/http'; export default async function () { await http.asyncRequest('GET', 'u'); const x = { sleep: 1 }; }`),
      [],
    );
  });

  void test('top-level await is found and the exports stay live', () => {
    const a = analyseModule(
      `import http from 'k6/http'; const v = await Promise.resolve(1); export { v as value }; export default function () {}`,
    );
    assert.equal(a.topLevelAwait, true);
    assert.deepEqual(a.imports, ['k6/http']);
    assert.equal(analyseModule(`export default async function () { await 1; }`).topLevelAwait, false);
  });

  void test("flag, then AGENTLOAD_VU_MODE, then the script's export, then the analysis", () => {
    const reasons = [{ call: 'http.get(...)', site: 'file:///x.js:3:5' }];
    assert.equal(chooseVuMode({ flag: 'async', env: 'sync', reasons }).mode, 'async');
    assert.equal(chooseVuMode({ env: 'async', reasons }).mode, 'async');
    assert.equal(chooseVuMode({ exported: { vuMode: 'async' }, reasons }).mode, 'async');
    assert.equal(chooseVuMode({ exported: { vuMode: 'sync' }, reasons: [] }).mode, 'sync');
    assert.equal(chooseVuMode({ reasons }).mode, 'sync');
    assert.match(chooseVuMode({ reasons }).why, /http\.get\(\.\.\.\) not awaited at file:\/\/\/x\.js:3:5/);
    assert.equal(chooseVuMode({ reasons: [] }).mode, 'async');
    assert.match(chooseVuMode({ flag: 'threads', reasons }).issue ?? '', /--vu-mode must be auto, sync or async, got "threads"/);
  });

  void test('--vu-mode async runs a k6-style script the async way (its calls return promises); a bad value exits 104', async () => {
    const src = `import http from 'k6/http'; import { check } from 'k6';
export default function () { const r = http.get(\`\${__ENV.BASE_URL}/get\`); check(r, { ok: (x) => x.status === 200 }); }`;
    const forced = await runSource(src, ['-q', '--vu-mode', 'async'], { BASE_URL: server.url });
    assert.match(forced.stderr, /add await: `await http\.get\(\.\.\.\)`/);
    const bad = await runSource(src, ['-q', '--vu-mode', 'threads'], { BASE_URL: server.url });
    assert.equal(bad.code, 104);
    assert.match(bad.stderr, /--vu-mode must be auto, sync or async/);
  });
});

void test('console.log of values prints what k6 prints', () => {
  assert.equal(consoleText({ a: 1, b: [1, 'x'] }), '{"a":1,"b":[1,"x"]}');
  assert.equal(consoleText({ html: '<b>&' }), '{"html":"\\u003cb\\u003e\\u0026"}');
  assert.equal(
    consoleText(() => 1),
    '[object Function]',
  );
  assert.equal(consoleText(new Error('boom')), 'Error: boom');
  assert.equal(consoleText(null), 'null');
  assert.equal(consoleText(undefined), 'undefined');
  assert.equal(consoleText(3.5), '3.5');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(consoleText(cyclic), '[object Object]');
});
