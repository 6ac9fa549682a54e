/**
 * Types of the handleSummary `data` object (k6 v0.49). No imports: shared by the Node-side
 * builder and the Node-free text summary (which is also bundled into k6 scripts).
 */

export type SummaryMetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type SummaryValueType = 'default' | 'time' | 'data';

export interface SummaryMetric {
  type: SummaryMetricType;
  contains: SummaryValueType;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryCheck {
  name: string;
  path: string;
  id: string;
  passes: number;
  fails: number;
}

export interface SummaryGroup {
  name: string;
  path: string;
  id: string;
  groups: SummaryGroup[];
  checks: SummaryCheck[];
}

export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  root_group: SummaryGroup;
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: { isStdOutTTY: boolean; isStdErrTTY: boolean; testRunDurationMs: number };
  /** What setup() returned (k6 adds it when setup() returned something). */
  setup_data?: unknown;
}

/** A check's counts in one group or scenario of the summary report. */
export interface SummaryReportCheck {
  name: string;
  passes: number;
  fails: number;
}

/** One group's or scenario's own aggregates (k6 v1's `--summary-mode full` sections). */
export interface SummaryReportGroup {
  metrics: Record<string, SummaryMetric>;
  checks: SummaryReportCheck[];
  groups: Record<string, SummaryReportGroup>;
}

/** The export by which a script asks for the summary report as handleSummary's second argument. */
export const SUMMARY_REPORT_EXPORT = '__agentloadSummaryReport';

/**
 * What k6 v1's end-of-test summary shows beyond the k6 v0.49 `data` object, kept apart from it so `data`
 * stays k6's shape (k6 v1 builds a report like it for its own summary, but handleSummary gets `data` only):
 * the value each threshold was judged on (also for statistics outside summaryTrendStats, grafana/k6#4698),
 * and in full mode the per-group and per-scenario aggregates. The embedded engine passes it to handleSummary
 * as a second argument only when the script exports `SUMMARY_REPORT_EXPORT` = true (the toolkit's bundles
 * do), so a plain k6 script's handleSummary is called as k6 calls it; a k6 binary never passes it, and the
 * summary then shows what `data` holds.
 */
export interface SummaryReport {
  /** Per metric name (canonical submetric name), per threshold expression: the value it was judged on. */
  thresholdValues: Record<string, Record<string, number>>;
  /** Groups of samples outside named scenarios (full mode only). */
  groups?: Record<string, SummaryReportGroup>;
  /** Named scenarios (full mode only). */
  scenarios?: Record<string, SummaryReportGroup>;
}
