import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('agent-scaling passes at smoke size: 5 and 10 agents healthy within the objective', async () => {
  assertPassed(await runHealthy('agent-scaling'));
});

void test('agent-scaling fails (99) on the 5-agent objective when agents take 6 s to start', async () => {
  const r = await runScenario('agent-scaling', { env: { AGENT_COUNTS: '5', HEALTH_TIMEOUT: '10' }, targetEnv: { AGENT_START_DELAY_MS: '6000' } });
  assertCrossed(r, 'agents_all_healthy_time{agents:5}');
});
