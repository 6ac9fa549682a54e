import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('llm passes at smoke size: TTFT, tokens/s and total time within the objectives', async () => {
  assertPassed(await runHealthy('llm', { env: { DURATION: '5s' } }));
});

void test('llm fails (99) on tokens/s when the LLM slows down 40x', async () => {
  const r = await runScenario('llm', { env: { DURATION: '3s', LLM_MAX_TOKENS: '8' }, targetEnv: { FAULT_LLM_SLOWDOWN: '40' } });
  assertCrossed(r, 'llm_tokens_per_second');
});
