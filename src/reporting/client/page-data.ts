/**
 * The data report.html inlines for its charts (a JSON <script>): written by src/reporting/html.ts (Node),
 * read by src/reporting/client/charts.ts (the page). Types only, no DOM and no Node, so both sides
 * type-check against the same shape.
 */

/** A value per time bucket; null where the bucket has no sample. */
export type Column = (number | null)[];

export interface ChartLine {
  label: string;
  value: number;
  kind: 'threshold' | 'baseline';
}

export interface PageData {
  series: {
    /** Bucket starts, seconds since the epoch. */
    t: number[];
    bucketSec: number;
    /** metric → field (p50, rate, value, ...) → a column. */
    metrics: Record<string, Record<string, Column>>;
  };
  panels: { id: string; metrics: string[] }[];
  soak: {
    fromSec: number;
    signals: { metric: string; field: string; unit: string; fit: { intercept: number; slopePerHour: number } | null }[];
  } | null;
  /** Threshold and baseline lines of the overall latency chart. */
  lines: ChartLine[];
  endpoints: {
    label: string;
    series: { p50: Column; p95: Column; p99: Column };
    dist: { p: number[]; ms: number[] } | null;
    lines: ChartLine[];
  }[];
  /** Fault injections: seconds since the epoch and a label. */
  faults: { t: number; label: string }[];
}
