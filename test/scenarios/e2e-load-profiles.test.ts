import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('load-profiles (light) passes at smoke size with its agents and users, no dropped iterations', async () => {
  assertPassed(await runHealthy('load-profiles', { env: { LOAD: 'light', STAGE_DURATION: '3s' } }));
});

void test('load-profiles (medium) fails (99) on the agents-list objective when it gets 400 ms slower', async () => {
  const r = await runScenario('load-profiles', {
    env: { LOAD: 'medium', STAGE_DURATION: '3s' },
    targetEnv: { FAULT_ROUTE_LATENCY: 'GET /api/agents=400' },
  });
  assertCrossed(r, 'http_req_duration{endpoint:agents_list}');
});

void test('load-profiles (light) fails (99) on dropped_iterations when every request takes 3 s (users fall behind)', async () => {
  const r = await runScenario('load-profiles', { env: { LOAD: 'light', STAGE_DURATION: '4s' }, targetEnv: { FAULT_LATENCY_MS: '3000' } });
  assertCrossed(r, 'dropped_iterations');
});

void test('load-profiles (stress) names the breaking point: the first step whose P95 crossed the objective', async () => {
  // Every request takes 250 ms from the start: each step is past the normal P95 objective (200 ms: knee at
  // step 1) while within the graceful-degradation bar (5x), so the run passes and reports the knee.
  const r = await runScenario('load-profiles', {
    env: { LOAD: 'stress', STAGE_DURATION: '2s', RATE_SCALE: '0.2' },
    targetEnv: { FAULT_LATENCY_MS: '250' },
  });
  assertPassed(r);
  assert.match(r.stdout, /breaking point: step 1, \d+ users \(\d+ agents, \d+ req\/s\): P95 \d+ ms > 200 ms/);
  const healthy = await runHealthy('load-profiles', {
    env: { LOAD: 'stress', STAGE_DURATION: '2s', RATE_SCALE: '0.2', LATENCY_SCALE: '5' },
  });
  assert.match(healthy.stdout, /no breaking point up to \d+ users/);
});
