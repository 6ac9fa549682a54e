import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('soak passes at smoke size and records the target_* gauges for the soak analysis', async () => {
  const r = await runHealthy('soak', { env: { SOAK_DURATION: '6s', MONITOR_PERIOD: '1' } });
  assertPassed(r);
  for (const g of ['target_rss_bytes', 'target_heap_used_bytes', 'target_event_loop_lag_ms', 'target_queue_depth']) {
    assert.ok(r.summary?.metrics[g] !== undefined, `gauge ${g} recorded`);
  }
});

void test('soak fails (99) on the traffic error rate when 20 % of requests error', async () => {
  const r = await runScenario('soak', { env: { SOAK_DURATION: '4s', MONITOR_PERIOD: '1' }, targetEnv: { FAULT_ERROR_RATE: '0.2' } });
  assertCrossed(r, 'http_req_failed{scenario:traffic}');
});
