import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('agent-scaling passes at smoke size: 5 and 10 agents healthy within the objective', async () => {
  assertPassed(await runHealthy('agent-scaling'));
});

void test('agent-scaling fails (99) on the 5-agent objective when agents take 6 s to start', async () => {
  const r = await runScenario('agent-scaling', {
    env: { AGENT_COUNTS: '5', HEALTH_TIMEOUT: '10' },
    targetEnv: { AGENT_START_DELAY_MS: '6000' },
  });
  assertCrossed(r, 'agents_all_healthy_time{agents:5}');
});

void test('agent-scaling fails (99) on agent_memory_linearity when each agent holds 2 MB per agent already running', async () => {
  const r = await runScenario('agent-scaling', {
    env: { AGENT_COUNTS: '5,15', LATENCY_SCALE: '3' },
    targetEnv: { FAULT_AGENT_MEMORY_GROWTH_BYTES: String(2 * 1024 * 1024), SEED_AGENTS: '0' },
  });
  assertCrossed(r, 'agent_memory_linearity');
});
