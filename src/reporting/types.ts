/**
 * The report pipeline's types (src/reporting), in one module: what buildReport takes (BuildReportOptions,
 * SoakBudget) and gives (ReportResult), the full report the writers render (FullReport: the model plus
 * soak, comparison and verdict), and the exit codes it gives. Inputs are k6 formats only.
 */

import { EXIT_CODES } from '../../shared/exit-codes.ts';
import type { CompareOptions, Comparison } from './compare.ts';
import type { RunModel } from './model.ts';
import type { SoakResult } from './soak.ts';

/** Soak budget from a threshold profile: a breach gives the soak exit code. */
export interface SoakBudget {
  /** Allowed growth of the target's memory gauge, MB per hour (upper confidence bound is compared). */
  readonly memoryGrowthMBPerHour?: number;
  /** Allowed drift of http_req_duration p95 (or the configured latency metric), ms per hour. */
  readonly latencyDriftMsPerHour?: number;
  /** Allowed drift of the error rate (0..1) per hour. */
  readonly errorRateDriftPerHour?: number;
  /** Fraction of the run (0..1) treated as warm-up and left out of the fits. Default 0.1. */
  readonly warmupFraction?: number;
  /** Gauge names to fit; defaults are the soak scenario's `target_*` gauges. */
  readonly gauges?: {
    readonly memory?: readonly string[];
    readonly eventLoopLag?: string;
    readonly queueDepth?: string;
  };
}

export interface BuildReportOptions {
  /**
   * reports/<scenario>-<timestamp>/ containing out.json.gz or out.json (k6 --out json), summary-export.json,
   * optionally handle-summary-data.json and run.json. A single k6 JSON output file is accepted too
   * (outputs are then written beside it).
   */
  runDir: string;
  /** Baseline: a saved baseline's name (`main`), a run dir, a saved baseline JSON (reports/baselines/NAME.json) or a k6 JSON output. */
  baseline?: string;
  /** Where saved baselines live (default reports/baselines of this checkout, or AGENTLOAD_BASELINES_DIR). */
  baselinesDir?: string;
  /** The run was stopped early (Ctrl+C/SIGTERM): the report is marked interrupted. */
  interrupted?: boolean;
  /** Soak budget; when given, soak analysis gives a leak verdict against it. */
  profile?: SoakBudget;
  /** Explicit k6 JSON outputs (segments of one run) instead of the ones found in runDir. */
  inputs?: string[];
  /** Where to write the report files. Default: runDir (or the input file's folder). */
  outDir?: string;
  /** reports/ folder whose index.html lists runs; default: runDir's parent when it is named "reports". `false` skips history. */
  historyDir?: string | false;
  /** History retention in days (default 90, or AGENTLOAD_REPORT_RETENTION_DAYS). */
  retentionDays?: number;
  /** The regression gate's settings (percentages, significance level, absolute floors; src/reporting/compare.ts). */
  compare?: CompareOptions;
  /** Injected clock for generatedAt/retention (tests). */
  now?: () => Date;
}

/** `inconclusive`: only a baseline comparison that could not tell slower code from a busier machine (exit 6). */
export type Verdict = 'pass' | 'fail' | 'warn' | 'inconclusive';

export interface ReportResult {
  verdict: Verdict;
  /** Toolkit exit code (see docs/reports.md): 0 pass/warn, 99 thresholds, 4 soak budget, 3 regression, 6 inconclusive against the baseline. */
  exitCode: number;
  /** Absolute paths of the files written. */
  files: string[];
  /** Why the verdict is what it is, one line per reason, worst first (regressions with their figures). */
  reasons: string[];
}

/** The exit codes the report pipeline gives (docs/reports.md has the table), from the one table. */
export const EXIT = {
  ok: EXIT_CODES.ok,
  /** Bad input or usage: nothing to report on. */
  usage: EXIT_CODES.usage,
  /** Worse than the baseline by more than the fail percentage. */
  regression: EXIT_CODES.regression,
  /** Soak budget breached (memory growth, latency or error drift). */
  soak: EXIT_CODES.soak,
  /** The run measured nothing: no HTTP request got a response, or nothing at all was done (no iteration, no request, no message). */
  noData: EXIT_CODES.noData,
  /** The baseline comparison is inconclusive: a latency tail would have failed on a machine busier than during the baseline. */
  inconclusive: EXIT_CODES.inconclusive,
  /** k6's own code for crossed thresholds (ThresholdsHaveFailed). */
  thresholds: EXIT_CODES.thresholdsFailed,
} as const;

export interface VerdictInfo {
  verdict: Verdict;
  exitCode: number;
  /** One line per reason, worst first. */
  reasons: string[];
  thresholds: { total: number; failed: number };
}

export interface FullReport {
  model: RunModel;
  soak?: SoakResult;
  comparison?: Comparison;
  verdict: VerdictInfo;
  generatedAt: string;
}
