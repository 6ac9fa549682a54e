/** The end-of-test summary's options: trend stats (k6's ui.ValidateSummary), time unit and k6 v1's layouts. */
import type { Issue } from '../contracts.ts';
import { issue } from '../executors/common.ts';
import type { EnvVars } from './read.ts';

export type SummaryTimeUnit = 's' | 'ms' | 'us';

/** k6 v1's end-of-test summary layouts. */
export const SUMMARY_MODES = ['compact', 'full', 'legacy'] as const;
export type SummaryMode = (typeof SUMMARY_MODES)[number];

export const DEFAULT_SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'] as const;

const TREND_STAT = /^(avg|min|med|max|count|p\((\d+(\.\d+)?)\))$/;

/** k6's ui.ValidateSummary. */
export function validateTrendStats(stats: readonly string[], path = 'summaryTrendStats'): Issue[] {
  const out: Issue[] = [];
  for (const s of stats) {
    const m = TREND_STAT.exec(s);
    const pct = m?.[2] === undefined ? undefined : Number(m[2]);
    if (m === null || (pct !== undefined && pct > 100)) {
      out.push(
        issue(
          'invalid-trend-stat',
          path,
          `summary trend stat ${JSON.stringify(s)} is unknown; use avg, min, med, max, count or p(N) with 0 <= N <= 100`,
        ),
      );
    }
  }
  return out;
}

/** The summary's stats, time unit and layout: flag > K6_* variable > script option (the layout has no script option). */
export function resolveSummary(
  script: Record<string, unknown>,
  overrides: { readonly summaryTrendStats?: readonly string[]; readonly summaryTimeUnit?: string; readonly summaryMode?: string },
  vars: EnvVars,
  issues: Issue[],
): { summaryTrendStats: readonly string[]; summaryTimeUnit: SummaryTimeUnit | undefined; summaryMode: SummaryMode | undefined } {
  const trendFromEnv = vars.K6_SUMMARY_TREND_STATS?.split(',');
  const scriptTrend = Array.isArray(script.summaryTrendStats)
    ? script.summaryTrendStats.filter((s): s is string => typeof s === 'string')
    : undefined;
  const summaryTrendStats = overrides.summaryTrendStats ?? trendFromEnv ?? scriptTrend ?? DEFAULT_SUMMARY_TREND_STATS;
  issues.push(...validateTrendStats(summaryTrendStats));
  const unitRaw =
    overrides.summaryTimeUnit ??
    vars.K6_SUMMARY_TIME_UNIT ??
    (typeof script.summaryTimeUnit === 'string' ? script.summaryTimeUnit : undefined);
  let summaryTimeUnit: SummaryTimeUnit | undefined;
  if (unitRaw !== undefined && unitRaw !== '') {
    if (unitRaw === 's' || unitRaw === 'ms' || unitRaw === 'us') summaryTimeUnit = unitRaw;
    else
      issues.push(
        issue('invalid-time-unit', 'summaryTimeUnit', `summary time unit ${JSON.stringify(unitRaw)} is invalid; use s, ms or us`),
      );
  }
  const modeRaw = overrides.summaryMode ?? vars.K6_SUMMARY_MODE;
  let summaryMode: SummaryMode | undefined;
  if (modeRaw !== undefined && modeRaw !== '') {
    const found = SUMMARY_MODES.find((m) => m === modeRaw.toLowerCase());
    if (found !== undefined) summaryMode = found;
    else
      issues.push(
        issue('invalid-summary-mode', 'summaryMode', `summary mode ${JSON.stringify(modeRaw)} is invalid; use ${SUMMARY_MODES.join(', ')}`),
      );
  }
  return { summaryTrendStats, summaryTimeUnit, summaryMode };
}
