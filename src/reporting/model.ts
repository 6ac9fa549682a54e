/**
 * The report model: everything the writers (HTML, JUnit, Markdown, verdict.json) show, computed
 * once from the accumulated data. Plain JSON, so it is inlined into report.html as is. This module holds
 * its types and `buildModel`; the parts are computed by model-tables.ts (endpoints, checks, errors,
 * panels), time-series.ts (series over time and the gate's windows) and threshold-rows.ts.
 */

import type { MetricType } from '../../engine/contracts.ts';
import { cloneAgg, RELATIVE_ERROR, type Agg } from './aggregate.ts';
import type { FaultRow } from './faults.ts';
import type { RunAccumulator } from './ingest.ts';
import { mergedAgg, trendStats } from './merged-aggregates.ts';
import { checkRows, endpointKeyOf, endpointRows, errorRows, panels } from './model-tables.ts';
import { evaluateThresholds } from './threshold-rows.ts';
import { endpointSeriesOf, seriesOf, windowsOf } from './time-series.ts';

export interface RunMeta {
  scenario?: string;
  engine?: { name?: string; version?: string };
  toolkitVersion?: string;
  gitSha?: string;
  /** The user's arguments to the run command (secrets masked), k6 flags among them. */
  args?: string[];
  /** The target's host (and port) only: never a path, query or credentials. */
  targetHost?: string;
  /** `bundled` when agentload started the platform, `external` for BASE_URL. */
  targetKind?: string;
  /** SIZE and PROFILE when the run set them (run.json `settings`). */
  settings?: Record<string, string>;
  startedAt?: string;
  endedAt?: string;
  exitCode?: number;
  /** How busy the machine was while the load ran (run.json `machine`, written by the run command). */
  machine?: { loadPerCore?: number; schedLagP99Ms?: number; stealPct?: number };
}

export interface ThresholdRow {
  /** Metric key as written: `http_req_duration` or `http_req_duration{endpoint:health}`. */
  metric: string;
  expression: string;
  ok: boolean;
  /** The aggregated value the expression was evaluated on (null when the metric has no data). */
  observed: number | null;
  aggregation: string;
  /** k6's own verdict, from summary-export/handleSummary data, when those exist. */
  k6Ok?: boolean;
  /** Set when k6 would refuse the threshold (bad syntax, a method the metric type does not offer). */
  problem?: string;
  /** The metric had no samples: k6 does not evaluate its thresholds, and they pass. */
  noData?: boolean;
}

export interface TrendStats {
  count: number;
  avg: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface EndpointRow extends TrendStats {
  key: string;
  method: string;
  name: string;
  /** The user's `endpoint` tag when there is one. */
  endpoint?: string;
  /** Requests made in setup() or teardown(): a row of their own, apart from the load's. */
  phase?: 'setup' | 'teardown';
  rps: number;
  errors: number;
  errorRate: number;
}

export interface MetricRow {
  name: string;
  type: MetricType;
  contains: string;
  /** counter: count, rate; gauge: value, min, max; rate: rate, passes, fails; trend: TrendStats. */
  values: Record<string, number>;
  /** Samples behind the values (a counter's count is their sum). */
  samples?: number;
}

export interface CheckRow {
  name: string;
  group: string;
  passes: number;
  fails: number;
}

export interface ErrorRow {
  status: string;
  errorCode: string;
  endpoint: string;
  count: number;
}

export interface SeriesSet {
  /** Bucket starts, seconds since the epoch. */
  t: number[];
  bucketSec: number;
  /** metric → field → values per bucket (null where the bucket has no sample). */
  metrics: Record<string, Record<string, (number | null)[]>>;
}

/** Per-endpoint latency over time, aligned with SeriesSet.t (null where the endpoint had no request). */
export interface EndpointSeries {
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  count: (number | null)[];
}

/**
 * The run's time windows per figure, for the baseline gate's rank test: figure key (as in the
 * baseline snapshot: `metric NAME`, `endpoint KEY`) → stat → one value per window. Trend windows
 * merge consecutive buckets until they hold MIN_WINDOW_SAMPLES samples; counter windows are the
 * per-second rate of each whole bucket (the first and last, partly covered, are left out).
 */
export type WindowSet = Record<string, Record<string, number[]>>;

export interface Panel {
  id: string;
  title: string;
  metrics: string[];
}

export interface RunModel {
  meta: RunMeta & {
    files: { path: string; lines: number; points: number; badLines: number; truncated: boolean }[];
    truncated: boolean;
    interrupted: boolean;
    durationSec: number;
    firstTime: number;
    lastTime: number;
    cardinalityCapped: boolean;
    percentileRelativeError: number;
    /** What the run got done: HTTP requests sent and answered (status other than 0), iterations completed, WebSocket messages received. */
    work: RunWork;
  };
  thresholds: ThresholdRow[];
  endpoints: EndpointRow[];
  metrics: MetricRow[];
  checks: CheckRow[];
  errors: ErrorRow[];
  panels: Panel[];
  series: SeriesSet;
  /** Per-endpoint (EndpointRow.key) latency over time. */
  endpointSeries: Record<string, EndpointSeries>;
  /** Per-endpoint (EndpointRow.key) latency distribution: the percentile curve of the whole run. */
  distributions: Record<string, Distribution>;
  windows: WindowSet;
  /** Faults applied during the run (faults.jsonl), in time order; empty for runs without any. */
  faults: FaultRow[];
}

export interface SideInputs {
  /** Threshold keys → k6's verdict (true = ok), merged from summary exports / handleSummary data. */
  k6Thresholds: Map<string, Map<string, boolean>>;
  /** k6's test run duration (ms) when known (handleSummary state). */
  testRunDurationMs?: number;
  meta: RunMeta;
  interrupted: boolean;
  faults?: FaultRow[];
}

/** An endpoint's latency at DISTRIBUTION_POINTS (ms; the first is its min, the last its max). */
export interface Distribution {
  p: number[];
  ms: number[];
}

export interface RunWork {
  httpRequests: number;
  httpResponses: number;
  iterations: number;
  wsMessagesReceived: number;
}

function metricValues(type: MetricType, a: Agg, durationSec: number): Record<string, number> {
  switch (type) {
    case 'counter':
      return { count: a.sum, rate: durationSec > 0 ? a.sum / durationSec : 0 };
    case 'gauge':
      return { value: a.last, min: a.min, max: a.max };
    case 'rate':
      return { rate: a.n === 0 ? 0 : a.nonzero / a.n, passes: a.nonzero, fails: a.n - a.nonzero };
    case 'trend':
      return { ...trendStats(a) };
  }
}

function sumOf(acc: RunAccumulator, metric: string): number {
  let n = 0;
  for (const a of acc.totals.get(metric)?.values() ?? []) n += a.sum;
  return n;
}

/** Requests, answers (a response with a status), iterations and WebSocket messages in the output. */
function workOf(acc: RunAccumulator): RunWork {
  let httpResponses = 0;
  for (const [id, a] of acc.totals.get('http_reqs') ?? []) {
    const status = acc.tagsets[id]?.status;
    if (status !== undefined && status !== '' && status !== '0') httpResponses += a.sum;
  }
  return {
    httpRequests: sumOf(acc, 'http_reqs'),
    httpResponses,
    iterations: sumOf(acc, 'iterations'),
    wsMessagesReceived: sumOf(acc, 'ws_msgs_received'),
  };
}

export function buildModel(acc: RunAccumulator, side: SideInputs): RunModel {
  const hasData = acc.firstTime <= acc.lastTime;
  const sampleSpan = hasData ? (acc.lastTime - acc.firstTime) / 1000 : 0;
  const durationSec = side.testRunDurationMs !== undefined ? side.testRunDurationMs / 1000 : sampleSpan;
  const metrics: MetricRow[] = [];
  for (const def of acc.metrics.values()) {
    const a = mergedAgg(acc, def.name);
    if (!a) continue;
    metrics.push({
      name: def.name,
      type: def.type,
      contains: def.contains,
      values: metricValues(def.type, cloneAgg(a), durationSec),
      samples: a.n,
    });
  }
  const series = seriesOf(acc);
  const distributions: Record<string, Distribution> = {};
  const endpoints = endpointRows(acc, durationSec, distributions);
  return {
    meta: {
      ...side.meta,
      files: acc.files.map((f) => ({ path: f.path, lines: f.lines, points: f.points, badLines: f.badLines, truncated: f.truncated })),
      truncated: acc.files.some((f) => f.truncated),
      interrupted: side.interrupted,
      durationSec,
      firstTime: hasData ? acc.firstTime : 0,
      lastTime: hasData ? acc.lastTime : 0,
      cardinalityCapped: acc.cardinalityCapped,
      percentileRelativeError: RELATIVE_ERROR,
      work: workOf(acc),
    },
    thresholds: evaluateThresholds(acc, side, durationSec),
    endpoints,
    metrics,
    checks: checkRows(acc),
    errors: errorRows(acc),
    panels: panels(acc),
    series,
    endpointSeries: endpointSeriesOf(acc, series, endpointKeyOf),
    distributions,
    windows: windowsOf(acc, series, endpointKeyOf),
    faults: side.faults ?? [],
  };
}
