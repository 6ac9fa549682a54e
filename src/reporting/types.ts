/** Public types of the report pipeline (src/reporting). Inputs are k6 formats only. */

import type { CompareOptions } from './compare.ts';

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

export type Verdict = 'pass' | 'fail' | 'warn';

export interface ReportResult {
  verdict: Verdict;
  /** Toolkit exit code (see docs/reports.md): 0 pass/warn, 99 thresholds, 4 soak budget, 3 regression. */
  exitCode: number;
  /** Absolute paths of the files written. */
  files: string[];
  /** Why the verdict is what it is, one line per reason, worst first (regressions with their figures). */
  reasons: string[];
}
