import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('llm passes at smoke size: TTFT, tokens/s, total time and no degradation with 3 streams', async () => {
  const r = await runHealthy('llm', { env: { DURATION: '5s' } });
  assertPassed(r);
  assert.ok(r.summary?.metrics.llm_degradation !== undefined, 'degradation against the one-stream baseline recorded');
});

void test('llm fails (99) on tokens/s when the LLM slows down 40x', async () => {
  const r = await runScenario('llm', {
    env: { DURATION: '3s', LLM_MAX_TOKENS: '8', LLM_BASELINE: '0' },
    targetEnv: { FAULT_LLM_SLOWDOWN: '40' },
  });
  assertCrossed(r, 'llm_tokens_per_second');
});

void test('llm with 20 % rate limits (429 + Retry-After): retries keep llm_failed at 0 and their cost is recorded', async () => {
  const r = await runHealthy('llm', {
    env: { DURATION: '5s', LLM_BASELINE: '0', LLM_MAX_RETRIES: '6' },
    targetEnv: { FAULT_LLM_RATE_LIMIT_RATE: '0.2', LLM_RETRY_AFTER_MS: '200' },
  });
  assertPassed(r);
  const m = r.summary?.metrics ?? {};
  assert.ok(((m.llm_rate_limited as { count?: number } | undefined)?.count ?? 0) > 0, '429s were seen');
  assert.ok(((m.llm_retries as { count?: number } | undefined)?.count ?? 0) > 0, 'and retried');
  assert.ok(((m.llm_retry_overhead as { max?: number } | undefined)?.max ?? 0) >= 200, 'the Retry-After wait counts as overhead');
});

void test('llm fails (99) on llm_failed when every request is rate limited past the retries', async () => {
  const r = await runScenario('llm', {
    env: { DURATION: '3s', LLM_BASELINE: '0', LLM_MAX_RETRIES: '1' },
    targetEnv: { FAULT_LLM_RATE_LIMIT_RATE: '1', LLM_RETRY_AFTER_MS: '100' },
  });
  assertCrossed(r, 'llm_failed');
});

void test('llm fails (99) on llm_degradation when each extra stream slows every stream by 50 %', async () => {
  const r = await runScenario('llm', {
    env: { DURATION: '4s', LLM_CONCURRENCY: '5', LLM_MAX_TOKENS: '16', LATENCY_SCALE: '3' },
    targetEnv: { FAULT_LLM_CONCURRENCY_SLOWDOWN: '0.5' },
  });
  assertCrossed(r, 'llm_degradation');
});

void test('llm local profile (Ollama API): model load time from a cold start, TTFT under the local objective', async () => {
  const r = await runHealthy('llm', { env: { DURATION: '4s', LLM_PROVIDER: 'local' }, targetEnv: { LLM_MODEL_LOAD_MS: '300' } });
  assertPassed(r);
  const load = r.summary?.metrics.llm_model_load_time as { max?: number } | undefined;
  assert.ok((load?.max ?? 0) >= 290, `model load timed (${String(load?.max)} ms)`);
});

void test('llm local profile fails (99) on llm_model_load_time when loading takes longer than the profile allows', async () => {
  const r = await runScenario('llm', {
    env: { DURATION: '2s', LLM_PROVIDER: 'local', LLM_BASELINE: '0', PROFILE: 'production' },
    targetEnv: { LLM_MODEL_LOAD_MS: '11000' },
  });
  assertCrossed(r, 'llm_model_load_time');
});
