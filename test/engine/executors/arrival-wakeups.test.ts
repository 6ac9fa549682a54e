/**
 * The arrival-rate loop: one wake-up starts every iteration due by then (never early, at most
 * ARRIVAL_WAKE_MS late), the most recently freed VU runs the next iteration, and a stop while the
 * loop sleeps ends the scenario at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARRIVAL_WAKE_MS } from '../../../engine/executors/arrival.ts';
import { fixed, runTest } from './harness.ts';

void test('4000/s: every start is on or after its planned time and under ARRIVAL_WAKE_MS late, one wake-up per ms', async () => {
  const h = await runTest(
    { scenarios: { a: { executor: 'constant-arrival-rate', rate: 4000, timeUnit: '1s', duration: '1s', preAllocatedVUs: 20 } } },
    fixed(3),
  );
  assert.equal(h.result.completed, 4001);
  assert.equal(h.result.dropped, 0);
  const starts = h.pool.log.map((r) => r.start);
  starts.forEach((t, i) => {
    const planned = i * 0.25;
    assert.ok(
      t >= planned - 1e-9 && t < planned + ARRIVAL_WAKE_MS + 1e-9,
      `iteration ${String(i)} planned at ${String(planned)} started at ${String(t)}`,
    );
  });
  const wakeUps = new Set(starts).size;
  assert.ok(wakeUps <= 1000 / ARRIVAL_WAKE_MS + 1, `${String(wakeUps)} wake-ups for 4001 starts`);
});

void test('low rates keep exact start times (no batching when starts are further apart than a wake-up)', async () => {
  const h = await runTest(
    { scenarios: { a: { executor: 'constant-arrival-rate', rate: 3, timeUnit: '1s', duration: '2s', preAllocatedVUs: 1 } } },
    fixed(10),
  );
  assert.deepEqual(
    h.pool.log.map((r) => r.start),
    [0, 333.333333, 666.666666, 999.999999, 1333.333332, 1666.666665, 1999.999998],
  );
});

void test('the most recently freed VU runs the next iteration (warm connections, few VUs busy)', async () => {
  const h = await runTest(
    { scenarios: { a: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 3 } } },
    fixed(50),
  );
  assert.equal(h.result.completed, 11);
  assert.equal(new Set(h.pool.log.map((r) => r.vu)).size, 1, `VUs used: ${h.pool.log.map((r) => r.vu).join(',')}`);
});

void test('a stop while the loop sleeps towards a far start ends the scenario at the stop', async () => {
  const h = await runTest(
    { scenarios: { a: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '10s', duration: '30s', preAllocatedVUs: 1 } } },
    fixed(100),
    { abortAt: 2500 },
  );
  assert.equal(h.result.aborted, true);
  assert.equal(h.result.duration, 2500);
  assert.equal(h.result.completed, 1);
  assert.equal(h.result.dropped, 0);
});
