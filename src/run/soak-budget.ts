/**
 * The soak budget the run command hands to the report for soak scenarios: the threshold profile's
 * `soak` budget (`PROFILE`, objectives/targets.ts), with optional per-field overrides from the environment.
 * Other scenarios get none (their fits are shown, never judged: a minutes-long run says nothing per hour).
 */
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import { ConfigError } from '../../lib/config.ts';
import { selectProfile } from '../../objectives/index.ts';
import type { SoakBudget } from '../reporting/types.ts';

/** Override variables → budget field. A number replaces the profile's value; `none` leaves that signal unjudged. */
export const SOAK_BUDGET_ENV = {
  AGENTLOAD_SOAK_MEMORY_MB_PER_HOUR: 'memoryGrowthMBPerHour',
  AGENTLOAD_SOAK_LATENCY_MS_PER_HOUR: 'latencyDriftMsPerHour',
  AGENTLOAD_SOAK_ERROR_RATE_PER_HOUR: 'errorRateDriftPerHour',
} as const;

type BudgetField = (typeof SOAK_BUDGET_ENV)[keyof typeof SOAK_BUDGET_ENV];

/** Soak scenarios: `soak` and any scenario file named `soak-*` / `soak_*`. */
export function isSoakScenario(name: string): boolean {
  return name === 'soak' || /^soak[-_]/.test(name);
}

/** The budget for scenario `name`, or undefined when it is not a soak scenario. Throws AgentloadError (usage) on a bad value. */
export function soakBudgetFor(name: string, env: Readonly<Record<string, string | undefined>>): SoakBudget | undefined {
  if (!isSoakScenario(name)) return undefined;
  let profileBudget;
  try {
    profileBudget = selectProfile(env).soak;
  } catch (err: unknown) {
    if (err instanceof ConfigError) throw new AgentloadError('invalid-soak-budget', EXIT_CODES.usage, err.message);
    throw err;
  }
  const budget = new Map<BudgetField, number>([
    ['memoryGrowthMBPerHour', profileBudget.memoryGrowthMBPerHour],
    ['latencyDriftMsPerHour', profileBudget.latencyDriftMsPerHour],
    ['errorRateDriftPerHour', profileBudget.errorRateDriftPerHour],
  ]);
  for (const [variable, field] of Object.entries(SOAK_BUDGET_ENV)) {
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    if (raw === 'none') {
      budget.delete(field);
      continue;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) {
      throw new AgentloadError(
        'invalid-soak-budget',
        EXIT_CODES.usage,
        `${variable}=${raw} is not a soak budget: set a number ≥ 0 (per hour) or "none" to leave that signal unjudged`,
      );
    }
    budget.set(field, n);
  }
  const out: SoakBudget = Object.fromEntries(budget);
  return out;
}
