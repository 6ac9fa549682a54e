// Executors run on a fake clock with scripted iteration times: iteration counts, interrupted
// iterations, dropped_iterations, VU counts over time, gauges. No real waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixed, runTest } from './harness.ts';

void test('shared-iterations: all iterations run, shared by the VUs, then the VUs go back', async () => {
  const h = await runTest({ scenarios: { s: { executor: 'shared-iterations', vus: 3, iterations: 10 } } }, fixed(100));
  assert.equal(h.result.completed, 10, 'completed');
  assert.equal(h.result.interrupted, 0);
  assert.equal(h.result.duration, 400, '4 rounds of 100 ms');
  assert.deepEqual(
    h.pool.log.map((r) => r.iterationInTest).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(new Set(h.pool.log.map((r) => r.vu)).size, 3);
  assert.equal(h.pool.released, h.pool.acquired, 'every VU released');
  assert.equal(h.samples.of('dropped_iterations').length, 0);
});

void test('shared-iterations: maxDuration ends the run and the rest is dropped', async () => {
  const h = await runTest(
    { scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 10, maxDuration: '1s', gracefulStop: '500ms' } } },
    fixed(300),
  );
  assert.equal(h.result.completed, 8, 'starts at 0, 300, 600, 900 on both VUs');
  assert.equal(h.result.interrupted, 0);
  assert.deepEqual(
    h.samples.of('dropped_iterations').map((s) => [s.value, s.tags]),
    [[2, { scenario: 's' }]],
  );
});

void test('shared-iterations: iterations still running after gracefulStop are interrupted and not counted', async () => {
  const h = await runTest(
    { scenarios: { s: { executor: 'shared-iterations', vus: 2, iterations: 10, maxDuration: '1s', gracefulStop: '500ms' } } },
    fixed(2000),
  );
  assert.equal(h.result.completed, 0);
  assert.equal(h.result.interrupted, 2);
  assert.equal(h.result.duration, 1500, 'maxDuration + gracefulStop');
  assert.deepEqual(
    h.pool.log.map((r) => [r.result, r.end]),
    [
      ['interrupted', 1500],
      ['interrupted', 1500],
    ],
  );
  assert.equal(h.samples.sum('dropped_iterations'), 8);
  assert.equal(h.pool.released, h.pool.acquired);
});

void test('per-vu-iterations: each VU runs its own iterations; leftovers are dropped per VU', async () => {
  const all = await runTest({ scenarios: { p: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } } }, fixed(100));
  assert.equal(all.result.completed, 6);
  assert.deepEqual([...all.pool.log].filter((r) => r.vu === 1).length, 3);
  const cut = await runTest(
    { scenarios: { p: { executor: 'per-vu-iterations', vus: 2, iterations: 5, maxDuration: '1s', gracefulStop: '0s' } } },
    (vu) => (vu === 1 ? 400 : 100),
  );
  // VU 1: starts 0, 400, 800 -> the one at 800 is interrupted at 1000; VU 2: 10 x 100 ms fit.
  assert.equal(cut.result.completed, 2 + 5);
  assert.equal(cut.result.interrupted, 1);
  assert.deepEqual(
    cut.samples.of('dropped_iterations').map((s) => s.value),
    [2],
  );
});

void test('constant-vus: VUs loop for the duration; gracefulStop 0 interrupts the last iterations', async () => {
  const h = await runTest({ scenarios: { c: { executor: 'constant-vus', vus: 2, duration: '1s' } } }, fixed(300));
  assert.equal(h.result.completed, 8, 'starts at 0, 300, 600, 900 per VU, last ones end in gracefulStop');
  assert.equal(h.result.duration, 1200);
  const hard = await runTest({ scenarios: { c: { executor: 'constant-vus', vus: 2, duration: '1s', gracefulStop: '0s' } } }, fixed(700));
  assert.equal(hard.result.completed, 2);
  assert.equal(hard.result.interrupted, 2);
  assert.equal(hard.result.duration, 1000);
});

void test('--vus/--duration shortcut runs a constant-vus scenario named default', async () => {
  const h = await runTest({}, fixed(250), { overrides: { vus: 3, duration: '1s' } });
  assert.equal(h.result.completed, 12);
  assert.deepEqual([...new Set(h.pool.log.map((r) => r.scenario))], ['default']);
});

void test('ramping-vus: VUs follow the stages over time (fixture ramp, 0 -> 3 -> 0)', async () => {
  const h = await runTest(
    {
      scenarios: {
        ramp: {
          executor: 'ramping-vus',
          startVUs: 0,
          stages: [
            { duration: '2s', target: 3 },
            { duration: '2s', target: 0 },
          ],
          gracefulRampDown: '1s',
        },
      },
    },
    fixed(300),
    { probeAt: [500, 1000, 1500, 2500, 3100, 3500] },
  );
  assert.deepEqual(Object.fromEntries(h.probes), { 500: 0, 1000: 1, 1500: 2, 2500: 3, 3100: 2, 3500: 1 });
  // As k6: the scenario ends when its last VU finished its last iteration (4 s + at most one 300 ms iteration),
  // not at the end of the last gracefulRampDown step (5 s).
  assert.ok(h.result.duration > 4000 && h.result.duration <= 4300, `ended at ${String(h.result.duration)} ms`);
  assert.equal(h.result.interrupted, 0);
  assert.ok(h.result.completed > 10);
  assert.equal(h.pool.released, h.pool.acquired);
});

void test('ramping-vus: gracefulRampDown interrupts iterations of VUs ramped down', async () => {
  const h = await runTest(
    {
      scenarios: {
        r: {
          executor: 'ramping-vus',
          startVUs: 0,
          stages: [
            { duration: '1s', target: 2 },
            { duration: '1s', target: 0 },
          ],
          gracefulRampDown: '500ms',
        },
      },
    },
    fixed(5000),
  );
  assert.equal(h.result.completed, 0);
  assert.equal(h.result.interrupted, 2);
  assert.deepEqual(
    h.pool.log.map((r) => [r.start, r.end]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0)),
    [
      [500, 2500],
      [1000, 2000],
    ],
  );
  assert.equal(h.result.duration, 2500);
});

void test('constant-arrival-rate: one iteration per 1/rate, including one at the very end', async () => {
  const h = await runTest(
    { scenarios: { a: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '2s', preAllocatedVUs: 2 } } },
    fixed(50),
  );
  assert.equal(h.result.completed, 21);
  assert.deepEqual(
    h.pool.log.map((r) => r.start),
    Array.from({ length: 21 }, (_, i) => i * 100),
  );
  assert.deepEqual(
    h.pool.log.map((r) => r.iterationInTest),
    Array.from({ length: 21 }, (_, i) => i),
  );
  assert.equal(h.samples.of('dropped_iterations').length, 0);
});

void test('constant-arrival-rate: no free VU means dropped_iterations with the scenario tag', async () => {
  const h = await runTest(
    { tags: { env: 'ci' }, scenarios: { a: { executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 1 } } },
    fixed(250),
  );
  // The VU is free at 0, 300, 600, 900; the other 7 of the 11 starts are dropped.
  assert.equal(h.result.completed, 4);
  assert.equal(h.result.dropped, 7);
  const dropped = h.samples.of('dropped_iterations');
  assert.equal(dropped.length, 7);
  assert.deepEqual(dropped[0]?.tags, { env: 'ci', scenario: 'a' });
  assert.equal(dropped[0].time, h.clock.wallBase + 100);
  assert.ok(h.warnings.some((w) => w.includes('Insufficient VUs')));
});

void test('constant-arrival-rate: VUs grow from preAllocatedVUs up to maxVUs when iterations would drop', async () => {
  const h = await runTest(
    { scenarios: { a: { executor: 'constant-arrival-rate', rate: 10, duration: '2s', preAllocatedVUs: 1, maxVUs: 3 } } },
    fixed(250),
  );
  assert.equal(h.pool.initialized, 3, '1 planned + 2 grown');
  assert.equal(h.result.completed + h.result.dropped, 21);
  assert.ok(h.result.dropped >= 2 && h.result.dropped < 10, `dropped ${h.result.dropped}`);
  assert.equal(Math.max(...h.samples.of('vus_max').map((s) => s.value)), 3);
});

void test('ramping-arrival-rate: rate ramps linearly; starts follow the area under the curve', async () => {
  const h = await runTest(
    {
      scenarios: {
        r: {
          executor: 'ramping-arrival-rate',
          startRate: 0,
          timeUnit: '1s',
          preAllocatedVUs: 3,
          stages: [
            { duration: '2s', target: 10 },
            { duration: '1s', target: 10 },
          ],
        },
      },
    },
    fixed(10),
  );
  assert.equal(h.result.completed, 20, '10 while ramping 0 -> 10/s over 2 s, 10 at 10/s');
  const starts = h.pool.log.map((r) => r.start);
  assert.ok(Math.abs((starts[0] ?? 0) - Math.sqrt(0.4) * 1000) < 0.001, `first start ${starts[0]}`);
  assert.equal(starts.at(-1), 3000);
});

void test('startTime delays a scenario; the gauges tick every second with empty tags', async () => {
  const h = await runTest({ scenarios: { late: { executor: 'constant-vus', vus: 2, duration: '2s', startTime: '1s' } } }, fixed(400));
  assert.equal(h.started.get('late'), 1000);
  assert.equal(Math.min(...h.pool.log.map((r) => r.start)), 1000);
  const vus = h.samples.of('vus');
  assert.deepEqual(
    vus.slice(0, 2).map((s) => [s.time - h.clock.wallBase, s.value, s.tags]),
    [
      [1000, 0, {}],
      [2000, 2, {}],
    ],
  );
  assert.deepEqual(
    h.samples
      .of('vus_max')
      .slice(0, 2)
      .map((s) => s.value),
    [2, 2],
  );
});

void test('aborting the test interrupts running iterations at once and drops nothing', async () => {
  const h = await runTest(
    {
      scenarios: {
        c: { executor: 'constant-vus', vus: 2, duration: '10s' },
        s: { executor: 'shared-iterations', vus: 1, iterations: 100 },
      },
    },
    fixed(1000),
    { abortAt: 2500 },
  );
  assert.equal(h.result.aborted, true);
  assert.equal(h.result.duration, 2500);
  assert.equal(h.result.completed, 2 * 2 + 2);
  assert.equal(h.result.interrupted, 3);
  assert.equal(h.samples.of('dropped_iterations').length, 0);
  assert.deepEqual(
    h.run.progress().scenarios.map((s) => s.status),
    ['interrupted', 'interrupted'],
  );
});

void test("progress columns match k6's progress bars for the fixture scenarios", async () => {
  const fixture = {
    scenarios: {
      api: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '4s', preAllocatedVUs: 4, maxVUs: 8, exec: 'api' },
      ws: { executor: 'per-vu-iterations', vus: 2, iterations: 2, exec: 'ws', startTime: '1s', maxDuration: '10s' },
      ramp: {
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { duration: '2s', target: 3 },
          { duration: '2s', target: 0 },
        ],
        exec: 'slow',
        gracefulRampDown: '1s',
      },
    },
  };
  const h = await runTest(fixture, (_vu, _n, ctx) => (ctx.scenario.name === 'ramp' ? 300 : 5), { progressAt: [990] });
  const cols = (p: ReturnType<typeof h.run.progress> | undefined): Record<string, [string, number, readonly string[]]> =>
    Object.fromEntries((p?.scenarios ?? []).map((s) => [s.name, [s.status, Math.round(s.fraction * 100), s.right]]));
  // fixture.stdout.txt, first progress block: "api [ 25% ] 0/4 VUs 1.0s/4s 20.00 iters/s", "ramp [ 25% ] 1/3 VUs 1.0s/4.0s", "ws waiting".
  const early = cols(h.progress.get(990));
  assert.deepEqual(early.api, ['running', 25, ['0/4 VUs', '1.0s/4s', '20.00 iters/s']]);
  assert.deepEqual(early.ramp, ['running', 25, ['1/3 VUs', '1.0s/4.0s']]);
  assert.equal(early.ws?.[0], 'waiting');
  // Final block: "api ✓ [ 100% ] 0/4 VUs 4s 20.00 iters/s", "ramp ✓ [ 100% ] 0/3 VUs 4s", "ws ✓ [ 100% ] 2 VUs 00.0s/10s 4/4 iters, 2 per VU".
  const end = cols(h.run.progress());
  assert.deepEqual(end.api, ['done', 100, ['0/4 VUs', '4s', '20.00 iters/s']]);
  assert.deepEqual(end.ramp, ['done', 100, ['0/3 VUs', '4s']]);
  assert.deepEqual(end.ws, ['done', 100, ['2 VUs', '00.0s/10s', '4/4 iters, 2 per VU']]);
  const p = h.run.progress();
  assert.equal(p.completed, 81 + 4 + h.pool.log.filter((r) => r.scenario === 'ramp').length);
});

void test('iterations carry the scenario name, executor, exec, env, tags and a live progress', async () => {
  const seen: { name: string; executor: string; exec: string; env: unknown; tags: unknown; progress: number }[] = [];
  await runTest(
    { scenarios: { api: { executor: 'shared-iterations', vus: 1, iterations: 4, exec: 'hit', env: { A: '1' }, tags: { suite: 'api' } } } },
    (_vu, _n, ctx) => {
      seen.push({
        name: ctx.scenario.name,
        executor: ctx.scenario.executor,
        exec: ctx.scenario.exec,
        env: ctx.scenario.env,
        tags: ctx.scenario.tags,
        progress: ctx.scenario.progress(),
      });
      return 10;
    },
  );
  assert.deepEqual(
    seen.map((s) => s.progress),
    [0, 0.25, 0.5, 0.75],
  );
  assert.deepEqual(seen[0], {
    name: 'api',
    executor: 'shared-iterations',
    exec: 'hit',
    env: { A: '1' },
    tags: { suite: 'api' },
    progress: 0,
  });
});

void test('an iteration that ignores its abort signal is counted interrupted; its VU goes back only when it ends', async () => {
  const h = await runTest({ scenarios: { c: { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '0s' } } }, fixed(-5000));
  assert.equal(h.result.duration, 1000, 'the run does not wait for the deaf iteration');
  assert.equal(h.result.interrupted, 1);
  assert.equal(h.pool.released, 0, 'still running, not released');
  await h.clock.run(h.clock.sleep(5000));
  assert.equal(h.pool.released, 1, 'released once it ended');
});
