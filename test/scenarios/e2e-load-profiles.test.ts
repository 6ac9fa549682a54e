import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('load-profiles (light) passes at smoke size', async () => {
  assertPassed(await runHealthy('load-profiles', { env: { LOAD: 'light', STAGE_DURATION: '3s' } }));
});

void test('load-profiles (medium) fails (99) on the agents-list objective when it gets 400 ms slower', async () => {
  const r = await runScenario('load-profiles', { env: { LOAD: 'medium', STAGE_DURATION: '3s' }, targetEnv: { FAULT_ROUTE_LATENCY: 'GET /api/agents=400' } });
  assertCrossed(r, 'http_req_duration{endpoint:agents_list}');
});
