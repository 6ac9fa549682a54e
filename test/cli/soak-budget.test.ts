/** The soak budget the run command hands to the report: the profile's, per-field overrides, soak scenarios only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentloadError } from '../../src/errors.ts';
import { isSoakScenario, soakBudgetFor } from '../../src/run/soak-budget.ts';
import { mvp, production } from '../../objectives/index.ts';

void test("soak scenarios get the profile's soak budget (PROFILE picks it); other scenarios get none", () => {
  assert.deepEqual(soakBudgetFor('soak', {}), {
    memoryGrowthMBPerHour: mvp.soak.memoryGrowthMBPerHour,
    latencyDriftMsPerHour: mvp.soak.latencyDriftMsPerHour,
    errorRateDriftPerHour: mvp.soak.errorRateDriftPerHour,
  });
  assert.equal(soakBudgetFor('soak-nightly', { PROFILE: 'production' })?.memoryGrowthMBPerHour, production.soak.memoryGrowthMBPerHour);
  assert.equal(soakBudgetFor('api-latency', {}), undefined);
  assert.equal(soakBudgetFor('soaked', {}), undefined);
  assert.equal(isSoakScenario('soak_8h'), true);
});

void test('AGENTLOAD_SOAK_* override one field each; "none" leaves that signal unjudged', () => {
  const b = soakBudgetFor('soak', {
    AGENTLOAD_SOAK_MEMORY_MB_PER_HOUR: '2000',
    AGENTLOAD_SOAK_LATENCY_MS_PER_HOUR: 'none',
    AGENTLOAD_SOAK_ERROR_RATE_PER_HOUR: ' ',
  });
  assert.deepEqual(b, { memoryGrowthMBPerHour: 2000, errorRateDriftPerHour: mvp.soak.errorRateDriftPerHour });
});

void test('a bad budget value or profile: invalid-soak-budget (exit 2), the variable and value named', () => {
  for (const [env, re] of [
    [{ AGENTLOAD_SOAK_MEMORY_MB_PER_HOUR: 'lots' }, /^AGENTLOAD_SOAK_MEMORY_MB_PER_HOUR=lots is not a soak budget: set a number ≥ 0/],
    [{ AGENTLOAD_SOAK_ERROR_RATE_PER_HOUR: '-1' }, /^AGENTLOAD_SOAK_ERROR_RATE_PER_HOUR=-1 is not a soak budget/],
    [{ PROFILE: 'staging' }, /PROFILE/],
  ] as const) {
    assert.throws(
      () => soakBudgetFor('soak', env),
      (e: unknown) => e instanceof AgentloadError && e.code === 'invalid-soak-budget' && e.exitCode === 2 && re.test(e.message),
    );
  }
});
