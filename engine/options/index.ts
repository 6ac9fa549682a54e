/**
 * k6 options for the embedded engine: consolidation of the script's `export const options`,
 * K6_* environment variables and CLI flags (in that priority order), k6's shortcut → scenario
 * rules (lib/executor/execution_config_shortcuts.go), defaults, and validation that returns
 * every problem at once. The runtime exits 104 when `issues` is not empty.
 * Parts: `scenarios.ts` (tiers and shortcuts → scenarios), `execution-segment.ts`, `summary.ts`, `read.ts`
 * (reading a value from its tiers).
 */

import type { Options, Stage } from 'k6/options';
import type { Issue } from '../contracts.ts';
import type { ExecutionSegment, ExecutionSegmentSequence, ExecutionTuple } from '../units/segments.ts';
import type { ScenarioConfig } from '../executors/types.ts';
import { issue } from '../executors/common.ts';
import { resolveSegment } from './execution-segment.ts';
import { boolEnv, isRecord, present, timeoutOption } from './read.ts';
import { resolveScenarios } from './scenarios.ts';
import { resolveSummary, type SummaryMode, type SummaryTimeUnit } from './summary.ts';

export { formatDuration, parseDuration } from '../units/duration.ts';
export type { DurationResult } from '../units/duration.ts';
export { DEFAULT_SCENARIO_NAME, parseStagesFlag } from './scenarios.ts';
export { DEFAULT_SUMMARY_TREND_STATS, SUMMARY_MODES, validateTrendStats, type SummaryMode, type SummaryTimeUnit } from './summary.ts';

/** The CLI flags that change options (the runtime parses argv into this: engine/runtime/flags.ts; values already typed). */
export interface OptionOverrides {
  readonly vus?: number;
  readonly duration?: string;
  readonly iterations?: number;
  readonly stages?: readonly Stage[];
  /** `--tag k=v`: replaces the script's `tags` when given (k6's Apply). */
  readonly tags?: Readonly<Record<string, string>>;
  /** `-e K=V`: merged into __ENV by the runtime; kept here for completeness. */
  readonly env?: Readonly<Record<string, string>>;
  readonly executionSegment?: string;
  readonly executionSegmentSequence?: string;
  readonly noThresholds?: boolean;
  readonly noSummary?: boolean;
  readonly summaryTrendStats?: readonly string[];
  readonly summaryTimeUnit?: string;
  /** k6 v1's `--summary-mode`: compact, full or legacy. */
  readonly summaryMode?: string;
  readonly discardResponseBodies?: boolean;
  readonly insecureSkipTLSVerify?: boolean;
  readonly noConnectionReuse?: boolean;
  readonly noVUConnectionReuse?: boolean;
  readonly quiet?: boolean;
  readonly summaryExport?: string;
  readonly out?: readonly string[];
}

/** Where values like the exec function names come from, and K6_* variables. */
export interface ResolveEnv {
  /** Process environment (K6_VUS, K6_DURATION, K6_ITERATIONS, K6_STAGES, K6_EXECUTION_SEGMENT, ...). */
  readonly vars?: Readonly<Record<string, string | undefined>>;
  /** Exported function names of the script; when given, every scenario's exec is checked. */
  readonly exports?: ReadonlySet<string>;
}

export interface ResolvedOptions {
  /** Consolidated k6 options (scenarios in k6's JSON form, shortcuts removed), for `exec.test.options`. */
  readonly k6: Options;
  /** Normalised scenarios, sorted like k6 (startTime, then name). */
  readonly scenarios: readonly ScenarioConfig[];
  readonly tags: Readonly<Record<string, string>>;
  readonly thresholds: NonNullable<Options['thresholds']>;
  readonly noThresholds: boolean;
  readonly noSummary: boolean;
  readonly quiet: boolean;
  readonly discardResponseBodies: boolean;
  readonly summaryTrendStats: readonly string[];
  readonly summaryTimeUnit: SummaryTimeUnit | undefined;
  /** The default end-of-test summary's layout (`--summary-mode`, K6_SUMMARY_MODE); undefined: the pre-v1 (legacy) layout. */
  readonly summaryMode: SummaryMode | undefined;
  readonly summaryExport: string | undefined;
  readonly out: readonly string[];
  readonly executionSegment: ExecutionSegment;
  readonly executionSegmentSequence: ExecutionSegmentSequence;
  /** This instance's segment in its filled sequence: what every scaling uses. */
  readonly tuple: ExecutionTuple;
  /** ms; `setupTimeout` option or K6_SETUP_TIMEOUT, 60 s by default (exit 100 when exceeded). */
  readonly setupTimeout: number;
  /** ms; `teardownTimeout` option or K6_TEARDOWN_TIMEOUT, 60 s by default (exit 101 when exceeded). */
  readonly teardownTimeout: number;
  /** k6's `noSetup` / K6_NO_SETUP: setup() is not called, iterations get `undefined`. */
  readonly noSetup: boolean;
  /** k6's `noTeardown` / K6_NO_TEARDOWN: teardown() is not called. */
  readonly noTeardown: boolean;
  readonly handleSummaryTimeout: number;
  /** Non-fatal notes k6 logs as warnings (e.g. an ignored `vus`). */
  readonly warnings: readonly string[];
}

/**
 * Consolidates script options, K6_* variables and CLI overrides like k6 run does, derives the
 * scenarios, applies defaults and validates. Never throws: every problem is an issue.
 */
export function resolveOptions(
  scriptOptions: unknown,
  overrides: OptionOverrides = {},
  env: ResolveEnv = {},
): { options: ResolvedOptions; issues: Issue[] } {
  const issues: Issue[] = [];
  const warnings: string[] = [];
  const vars = env.vars ?? {};
  let script: Record<string, unknown> = {};
  if (isRecord(scriptOptions)) script = scriptOptions;
  else if (present(scriptOptions))
    issues.push(issue('invalid-type', 'options', `\`options\` must be an object, got ${JSON.stringify(scriptOptions)}`));

  const { raw: rawScenarios, scenarios } = resolveScenarios({ script, cli: overrides }, vars, env.exports, issues, warnings);
  const { segText, seqText, segment, sequence, tuple } = resolveSegment(script, overrides, vars, issues);
  const { summaryTrendStats, summaryTimeUnit, summaryMode } = resolveSummary(script, overrides, vars, issues);
  const scriptTags = isRecord(script.tags)
    ? Object.fromEntries(Object.entries(script.tags).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  const tags = overrides.tags ?? scriptTags;
  const thresholds = (isRecord(script.thresholds) ? script.thresholds : {}) as NonNullable<Options['thresholds']>;
  const noThresholds = overrides.noThresholds ?? boolEnv(vars, 'K6_NO_THRESHOLDS') ?? false;
  const noSummary = overrides.noSummary ?? boolEnv(vars, 'K6_NO_SUMMARY') ?? false;
  const discardResponseBodies =
    overrides.discardResponseBodies ?? boolEnv(vars, 'K6_DISCARD_RESPONSE_BODIES') ?? script.discardResponseBodies === true;
  // Connection options k6/http reads from exec's options (flag > K6_* > script).
  const insecureSkipTLSVerify =
    overrides.insecureSkipTLSVerify ?? boolEnv(vars, 'K6_INSECURE_SKIP_TLS_VERIFY') ?? script.insecureSkipTLSVerify === true;
  const noConnectionReuse = overrides.noConnectionReuse ?? boolEnv(vars, 'K6_NO_CONNECTION_REUSE') ?? script.noConnectionReuse === true;
  const noVUConnectionReuse =
    overrides.noVUConnectionReuse ?? boolEnv(vars, 'K6_NO_VU_CONNECTION_REUSE') ?? script.noVUConnectionReuse === true;

  const k6: Options = {
    ...(script as Options),
    scenarios: Object.fromEntries(Object.entries(rawScenarios).filter(([, v]) => isRecord(v))) as NonNullable<Options['scenarios']>,
    tags: { ...tags },
    summaryTrendStats: [...summaryTrendStats],
    discardResponseBodies,
    insecureSkipTLSVerify,
    noConnectionReuse,
    noVUConnectionReuse,
  };
  delete k6.vus;
  delete k6.duration;
  delete k6.iterations;
  delete k6.stages;
  if (segText !== undefined) k6.executionSegment = segText;
  if (seqText !== undefined) k6.executionSegmentSequence = seqText;

  const options: ResolvedOptions = {
    k6,
    scenarios,
    tags,
    thresholds,
    noThresholds,
    noSummary,
    quiet: overrides.quiet ?? false,
    discardResponseBodies,
    summaryTrendStats,
    summaryTimeUnit,
    summaryMode,
    summaryExport: overrides.summaryExport ?? vars.K6_SUMMARY_EXPORT,
    out: overrides.out ?? [],
    executionSegment: segment,
    executionSegmentSequence: sequence,
    tuple,
    setupTimeout: timeoutOption(script.setupTimeout, 'setupTimeout', 60_000, issues, 'K6_SETUP_TIMEOUT', vars.K6_SETUP_TIMEOUT),
    teardownTimeout: timeoutOption(
      script.teardownTimeout,
      'teardownTimeout',
      60_000,
      issues,
      'K6_TEARDOWN_TIMEOUT',
      vars.K6_TEARDOWN_TIMEOUT,
    ),
    noSetup: boolEnv(vars, 'K6_NO_SETUP') ?? script.noSetup === true,
    noTeardown: boolEnv(vars, 'K6_NO_TEARDOWN') ?? script.noTeardown === true,
    handleSummaryTimeout: timeoutOption(script.handleSummaryTimeout, 'handleSummaryTimeout', 120_000, issues),
    warnings,
  };
  return { options, issues };
}
