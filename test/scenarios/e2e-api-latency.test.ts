import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

const short = { DURATION: '6s', RATE: '10' };

void test('api-latency passes at smoke size against the healthy platform', async () => {
  assertPassed(await runHealthy('api-latency', { env: { ...short, DURATION: '8s' } }));
});

void test('api-latency fails (99) on the health endpoint objective when /health gets 300 ms slower', async () => {
  const r = await runScenario('api-latency', { env: short, targetEnv: { FAULT_ROUTE_LATENCY: '/health=300' } });
  assertCrossed(r, 'http_req_duration{endpoint:health}');
});

void test('api-latency fails (99) on http_req_failed when 30 % of requests error', async () => {
  const r = await runScenario('api-latency', {
    env: { ...short, ENDPOINTS: 'health,agents_list' },
    targetEnv: { FAULT_ERROR_RATE: '0.3' },
  });
  assertCrossed(r, 'http_req_failed');
});
