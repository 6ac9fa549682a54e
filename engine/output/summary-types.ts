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
