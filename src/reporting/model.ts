/**
 * The report model: everything the writers (HTML, JUnit, Markdown, verdict.json) show, computed
 * once from the accumulated data. Plain JSON, so it is inlined into report.html as is.
 */

import type { MetricType } from '../../engine/contracts.ts';
import { cloneAgg, mergeAgg, newAgg, RELATIVE_ERROR, type Agg } from './aggregate.ts';
import type { FaultRow } from './faults.ts';
import type { RunAccumulator } from './ingest.ts';
import { fmtValue, type ValueKind } from './format.ts';
import { MIN_WINDOW_SAMPLES } from './stats.ts';
import { parseMetricKey } from '../../engine/metrics/submetric.ts';
import { checkThreshold, judgeThreshold, type MetricAggregate } from '../../engine/thresholds/judge.ts';
import { parseThresholdExpression, sinkKey } from '../../engine/thresholds/expression.ts';

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

export interface PanelRule {
  id: string;
  title: string;
  /** A metric belongs to the first panel whose pattern matches its name. */
  pattern: RegExp;
}

/** Data-driven panel detection: a panel appears when any metric name matches its pattern. */
export const PANEL_RULES: readonly PanelRule[] = [
  { id: 'ws', title: 'WebSocket', pattern: /^ws_/ },
  { id: 'bus', title: 'Event bus', pattern: /^(bus|eventbus|event_bus)_/ },
  { id: 'slack', title: 'Slack', pattern: /^slack_/ },
  { id: 'llm', title: 'LLM', pattern: /^llm_/ },
  { id: 'db', title: 'Database', pattern: /^(db|sql|pg)_/ },
  { id: 'target', title: 'Target (scraped gauges)', pattern: /^target_/ },
];

export const BUILTIN_METRICS = new Set([
  'http_reqs',
  'http_req_duration',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
  'http_req_failed',
  'checks',
  'data_sent',
  'data_received',
  'iteration_duration',
  'iterations',
  'group_duration',
  'vus',
  'vus_max',
  'dropped_iterations',
]);

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

/**
 * Arguments as the report may show them: `-e NAME=value` / `--env NAME=value` keep the name only (values may be
 * secrets; the run command masks them in run.json already, this holds for any run.json), URL credentials dropped.
 */
export function maskArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let envNext = false;
  for (const a of args) {
    const m = /^(-e|--env=?)(.*)$/.exec(a);
    let v = a;
    if (envNext) v = a.replace(/=.*$/s, '=***');
    else if (m && (m[2] ?? '') !== '') v = `${m[1] ?? ''}${(m[2] ?? '').replace(/=.*$/s, '=***')}`;
    envNext = m !== null && (m[2] ?? '') === '';
    out.push(v.replace(/\/\/[^/@\s]*@/g, '//'));
  }
  return out;
}

/**
 * The run's header: where the load went (host only), size and profile, how much load (VUs, request and
 * iteration rates) and the flags given to the run. `[label, value]` pairs, in the order shown.
 */
export function runHeader(m: RunModel): [string, string][] {
  const value = (name: string, stat: string): number | undefined => m.metrics.find((x) => x.name === name)?.values[stat];
  const out: [string, string][] = [];
  const host = m.meta.targetHost;
  out.push(['target', host !== undefined ? `${host}${m.meta.targetKind === 'bundled' ? ' (bundled platform)' : ''}` : '–']);
  out.push(['size', m.meta.settings?.SIZE ?? 'default']);
  out.push(['profile', m.meta.settings?.PROFILE ?? 'default']);
  const vusMax = value('vus_max', 'max');
  const vus = value('vus', 'max');
  const reqRate = value('http_reqs', 'rate');
  const iterRate = value('iterations', 'rate');
  const load: string[] = [];
  if (vusMax !== undefined || vus !== undefined)
    load.push(
      `${fmtValue({ type: 'gauge', contains: 'default' }, 'max', vus ?? 0)} active / ${fmtValue({ type: 'gauge', contains: 'default' }, 'max', vusMax ?? vus ?? 0)} max VUs`,
    );
  if (reqRate !== undefined) load.push(fmtValue({ type: 'counter', contains: 'default' }, 'rate', reqRate).replace('/s', ' req/s'));
  if (iterRate !== undefined)
    load.push(fmtValue({ type: 'counter', contains: 'default' }, 'rate', iterRate).replace('/s', ' iterations/s'));
  out.push(['load', load.length > 0 ? load.join(', ') : '–']);
  const flags = maskArgs(m.meta.args ?? []).filter(
    (a, i, all) => !(i === all.findIndex((x) => !x.startsWith('-')) && /\.(ts|mts|js|mjs)$/.test(a)),
  );
  out.push(['flags', flags.length > 0 ? flags.join(' ') : 'none']);
  return out;
}

/** A threshold's metric key (`http_req_duration{endpoint:x}`) → what its metric holds, for units (format.ts fmtValue). */
export function valueKindOf(metrics: readonly MetricRow[], key: string): ValueKind {
  const parent = key.split('{')[0] ?? key;
  const m = metrics.find((x) => x.name === parent);
  return m ? { type: m.type, contains: m.contains } : { type: 'gauge', contains: 'default' };
}

/** `name=value` pairs of a metric row, each with its unit. */
export function describeValues(x: MetricRow): string {
  return Object.entries(x.values)
    .map(([k, v]) => `${k}=${fmtValue(x, k, v)}`)
    .join('  ');
}

function matches(tags: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>>): boolean {
  for (const k in filter) if (tags[k] !== filter[k]) return false;
  return true;
}

/** Merges every tag set's aggregate of `metric` that matches `filter`. */
export function mergedAgg(acc: RunAccumulator, metric: string, filter: Readonly<Record<string, string>> = {}): Agg | undefined {
  const per = acc.totals.get(metric);
  const def = acc.metrics.get(metric);
  if (!per || !def) return undefined;
  let out: Agg | undefined;
  for (const [id, a] of per) {
    const tags = acc.tagsets[id] ?? {};
    if (!matches(tags, filter)) continue;
    if (!out) out = newAgg(def.type);
    mergeAgg(out, a);
  }
  return out;
}

export function trendStats(a: Agg): TrendStats {
  const s = a.sketch;
  const q = (p: number): number => s?.quantile(p) ?? 0;
  return {
    count: a.n,
    avg: a.n === 0 ? 0 : a.sum / a.n,
    min: a.n === 0 ? 0 : a.min,
    p50: q(0.5),
    p90: q(0.9),
    p95: q(0.95),
    p99: q(0.99),
    max: a.n === 0 ? 0 : a.max,
  };
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

function shortName(name: string): string {
  try {
    const u = new URL(name);
    return u.pathname + u.search;
  } catch {
    return name;
  }
}

function evaluateThresholds(acc: RunAccumulator, side: SideInputs, durationSec: number): ThresholdRow[] {
  const keys = new Map<string, Set<string>>();
  const add = (k: string, e: string): void => {
    let s = keys.get(k);
    if (!s) {
      s = new Set();
      keys.set(k, s);
    }
    s.add(e);
  };
  for (const def of acc.metrics.values()) for (const t of def.thresholds) add(def.name, t);
  for (const [k, m] of side.k6Thresholds) for (const e of m.keys()) add(k, e);
  const rows: ThresholdRow[] = [];
  for (const [key, exprs] of keys) {
    for (const source of exprs) {
      const row = evaluateThreshold(acc, key, source, durationSec);
      const k6 = side.k6Thresholds.get(key)?.get(source);
      if (k6 !== undefined) row.k6Ok = k6;
      rows.push(row);
    }
  }
  return rows;
}

/** A merged aggregate as the shared threshold judge sees it (engine/thresholds/judge.ts). */
function aggregateOf(type: MetricType, a: Agg): MetricAggregate {
  switch (type) {
    case 'counter':
      return { type, count: a.sum };
    case 'gauge':
      return { type, value: a.last };
    case 'rate':
      return { type, trues: a.nonzero, total: a.n };
    case 'trend':
      return { type, avg: a.sum / a.n, min: a.min, max: a.max, percentile: (p) => a.sketch?.quantile(p / 100) ?? 0 };
  }
}

/**
 * One threshold on the run's merged data, with k6's grammar and semantics (the engine's own, see
 * engine/thresholds/judge.ts): a metric without samples is not evaluated and passes (`noData`); an
 * expression k6 refuses, or a method the metric's type does not offer, fails with k6's reason.
 */
export function evaluateThreshold(acc: RunAccumulator, key: string, source: string, durationSec: number): ThresholdRow {
  const row: ThresholdRow = { metric: key, expression: source, ok: false, observed: null, aggregation: '' };
  const parsedKey = parseMetricKey(key);
  if (!parsedKey.ok) {
    row.problem = parsedKey.message;
    return row;
  }
  const parsed = parseThresholdExpression(source);
  if (!parsed.ok) {
    row.problem = parsed.message;
    return row;
  }
  row.aggregation = sinkKey(parsed.expr);
  const metric = parsedKey.key.parent;
  const def = acc.metrics.get(metric);
  if (!def) {
    // No line of this metric in the output: k6 had no samples of it, so it did not evaluate it either.
    row.ok = true;
    row.noData = true;
    return row;
  }
  const checked = checkThreshold(key, source, def.type);
  if (!checked.ok) {
    row.problem = checked.message;
    return row;
  }
  const a = mergedAgg(acc, metric, parsedKey.key.submetric?.tags ?? {});
  const verdict = judgeThreshold(checked.expr, a === undefined || a.n === 0 ? undefined : aggregateOf(def.type, a), durationSec * 1000);
  row.ok = verdict.ok;
  row.observed = verdict.observed ?? null;
  if (verdict.observed === undefined) row.noData = true;
  return row;
}

/** `setup`/`teardown` for requests k6 made in those lifecycle functions (their group tag is `::setup` / `::teardown`). */
export function phaseOf(tags: Record<string, string>): 'setup' | 'teardown' | undefined {
  return tags.group === '::setup' ? 'setup' : tags.group === '::teardown' ? 'teardown' : undefined;
}

/** The endpoint row a request's tags belong to: method and URL name, and ` [setup]`/` [teardown]` for those requests (rows apart). */
export function endpointKeyOf(tags: Record<string, string>): string {
  const phase = phaseOf(tags);
  return `${tags.method ?? ''} ${tags.name ?? ''}${phase !== undefined ? ` [${phase}]` : ''}`;
}

/** Percentiles (0..1) at which each endpoint's latency distribution is drawn: dense in the tail. */
export const DISTRIBUTION_POINTS = [
  0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995, 0.999, 1,
] as const;

/** An endpoint's latency at DISTRIBUTION_POINTS (ms; the first is its min, the last its max). */
export interface Distribution {
  p: number[];
  ms: number[];
}

function distributionOf(a: Agg): Distribution {
  const p = [...DISTRIBUTION_POINTS];
  const ms = p.map((q) => (q === 0 ? a.min : q === 1 ? a.max : (a.sketch?.quantile(q) ?? 0))).map((v) => Number(v.toPrecision(4)));
  return { p, ms };
}

function endpointRows(acc: RunAccumulator, durationSec: number, distributions: Record<string, Distribution> = {}): EndpointRow[] {
  const dur = acc.totals.get('http_req_duration');
  const failed = acc.totals.get('http_req_failed');
  if (!dur) return [];
  const groups = new Map<string, { method: string; name: string; endpoint?: string; phase?: 'setup' | 'teardown'; d: Agg; f: Agg }>();
  const keyOf = endpointKeyOf;
  for (const [id, a] of dur) {
    const tags = acc.tagsets[id] ?? {};
    const key = keyOf(tags);
    let g = groups.get(key);
    if (!g) {
      g = { method: tags.method ?? '', name: tags.name ?? '', d: newAgg('trend'), f: newAgg('rate') };
      if (tags.endpoint !== undefined) g.endpoint = tags.endpoint;
      const phase = phaseOf(tags);
      if (phase !== undefined) g.phase = phase;
      groups.set(key, g);
    }
    mergeAgg(g.d, a);
  }
  if (failed)
    for (const [id, a] of failed) {
      const g = groups.get(keyOf(acc.tagsets[id] ?? {}));
      if (g) mergeAgg(g.f, a);
    }
  const rows: EndpointRow[] = [];
  for (const [key, g] of groups) {
    const row: EndpointRow = {
      key,
      method: g.method,
      name: shortName(g.name),
      ...trendStats(g.d),
      rps: durationSec > 0 ? g.d.n / durationSec : 0,
      errors: g.f.nonzero,
      errorRate: g.f.n === 0 ? 0 : g.f.nonzero / g.f.n,
    };
    if (g.endpoint !== undefined) row.endpoint = g.endpoint;
    if (g.phase !== undefined) row.phase = g.phase;
    if (g.d.n > 0) distributions[key] = distributionOf(g.d);
    rows.push(row);
  }
  return rows.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

function checkRows(acc: RunAccumulator): CheckRow[] {
  const per = acc.totals.get('checks');
  if (!per) return [];
  const m = new Map<string, CheckRow>();
  for (const [id, a] of per) {
    const tags = acc.tagsets[id] ?? {};
    const name = tags.check ?? '';
    const group = tags.group ?? '';
    const k = `${group}\u0000${name}`;
    let r = m.get(k);
    if (!r) {
      r = { name, group, passes: 0, fails: 0 };
      m.set(k, r);
    }
    r.passes += a.nonzero;
    r.fails += a.n - a.nonzero;
  }
  return [...m.values()].sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
}

function errorRows(acc: RunAccumulator): ErrorRow[] {
  const per = acc.totals.get('http_reqs');
  if (!per) return [];
  const m = new Map<string, ErrorRow>();
  for (const [id, a] of per) {
    const tags = acc.tagsets[id] ?? {};
    const status = tags.status ?? '';
    const errorCode = tags.error_code ?? '';
    const failed = errorCode !== '' || status === '0' || Number(status) >= 400 || tags.expected_response === 'false';
    if (!failed) continue;
    const phase = phaseOf(tags);
    const endpoint = `${tags.method ?? ''} ${shortName(tags.name ?? '')}${phase !== undefined ? ` [${phase}]` : ''}`.trim();
    const k = `${status}\u0000${errorCode}\u0000${endpoint}`;
    const r = m.get(k) ?? { status, errorCode, endpoint, count: 0 };
    r.count += a.sum;
    m.set(k, r);
  }
  return [...m.values()].sort(
    (a, b) =>
      b.count - a.count ||
      a.endpoint.localeCompare(b.endpoint) ||
      a.status.localeCompare(b.status) ||
      a.errorCode.localeCompare(b.errorCode),
  );
}

function seriesOf(acc: RunAccumulator): SeriesSet {
  const starts = [...acc.buckets.keys()].sort((a, b) => a - b);
  const bucketSec = acc.bucketMs / 1000;
  // Fill gaps so charts show empty seconds as such.
  const t: number[] = [];
  if (starts.length > 0) {
    const first = starts[0] ?? 0;
    const last = starts[starts.length - 1] ?? 0;
    for (let s = first; s <= last; s += acc.bucketMs) t.push(s / 1000);
  }
  const metrics: SeriesSet['metrics'] = {};
  for (const def of acc.metrics.values()) {
    const fields: Record<string, (number | null)[]> = {};
    const put = (f: string, i: number, v: number | null): void => {
      let arr = fields[f];
      if (!arr) {
        arr = new Array<number | null>(t.length).fill(null);
        fields[f] = arr;
      }
      arr[i] = v === null || Number.isFinite(v) ? v : null;
    };
    let any = false;
    for (let i = 0; i < t.length; i++) {
      const a = acc.buckets.get((t[i] ?? 0) * 1000)?.get(def.name);
      if (!a) continue;
      any = true;
      switch (def.type) {
        case 'counter':
          put('rate', i, a.sum / bucketSec);
          put('count', i, a.sum);
          break;
        case 'gauge':
          put('value', i, a.last);
          put('avg', i, a.sum / a.n);
          break;
        case 'rate':
          put('rate', i, a.nonzero / a.n);
          put('passes', i, a.nonzero);
          put('fails', i, a.n - a.nonzero);
          break;
        case 'trend': {
          const s = trendStats(a);
          put('avg', i, s.avg);
          put('p50', i, s.p50);
          put('p90', i, s.p90);
          put('p95', i, s.p95);
          put('p99', i, s.p99);
          put('max', i, s.max);
          put('count', i, s.count);
          break;
        }
      }
    }
    if (any) metrics[def.name] = fields;
  }
  return { t, bucketSec, metrics };
}

/** Trend stats kept per window (the gate judges p95 and p99; the rest is shown). */
export const WINDOW_TREND_STATS = ['p50', 'p95', 'p99'] as const;

/** Rounds to 4 significant digits: window values are compared by rank, and baseline files stay small. */
function r4(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : 0;
}

/** Windows of consecutive bucket aggregates, each closed once it holds MIN_WINDOW_SAMPLES samples; a short tail joins the window before. */
export function trendWindows(aggs: readonly (Agg | undefined)[]): Record<string, number[]> {
  const wins: Agg[] = [];
  let cur: Agg | undefined;
  for (const a of aggs) {
    if (!a || a.n === 0) continue;
    cur ??= newAgg('trend');
    mergeAgg(cur, a);
    if (cur.n >= MIN_WINDOW_SAMPLES) {
      wins.push(cur);
      cur = undefined;
    }
  }
  if (cur) {
    const last = wins[wins.length - 1];
    if (last) mergeAgg(last, cur);
    else wins.push(cur);
  }
  const out: Record<string, number[]> = {};
  for (const stat of WINDOW_TREND_STATS) out[stat] = wins.map((w) => r4(trendStats(w)[stat]));
  return out;
}

function windowsOf(acc: RunAccumulator, series: SeriesSet, endpointKeyOf: (tags: Record<string, string>) => string): WindowSet {
  const out: WindowSet = {};
  const starts = series.t.map((t) => Math.round(t * 1000));
  for (const def of acc.metrics.values()) {
    if (def.type === 'trend') {
      const w = trendWindows(starts.map((s) => acc.buckets.get(s)?.get(def.name)));
      if ((w.p95?.length ?? 0) > 0) out[`metric ${def.name}`] = w;
    } else if (def.type === 'counter' && starts.length > 2) {
      const rates = starts.slice(1, -1).map((s) => r4((acc.buckets.get(s)?.get(def.name)?.sum ?? 0) / series.bucketSec));
      out[`metric ${def.name}`] = { rate: rates };
    }
  }
  const perEndpoint = new Map<string, (Agg | undefined)[]>();
  starts.forEach((s, i) => {
    const bucket = acc.tagBuckets.get(s);
    if (!bucket) return;
    for (const [id, a] of bucket) {
      const key = endpointKeyOf(acc.tagsets[id] ?? {});
      let list = perEndpoint.get(key);
      if (!list) {
        list = new Array<Agg | undefined>(starts.length).fill(undefined);
        perEndpoint.set(key, list);
      }
      const into = list[i] ?? newAgg('trend');
      mergeAgg(into, a);
      list[i] = into;
    }
  });
  for (const [key, list] of perEndpoint) out[`endpoint ${key}`] = trendWindows(list);
  return out;
}

/** Per-endpoint latency per bucket (p50, p95, p99, count), aligned with the series' buckets. */
function endpointSeriesOf(
  acc: RunAccumulator,
  series: SeriesSet,
  endpointKeyOf: (tags: Record<string, string>) => string,
): Record<string, EndpointSeries> {
  const out: Record<string, EndpointSeries> = {};
  series.t.forEach((t, i) => {
    const bucket = acc.tagBuckets.get(Math.round(t * 1000));
    if (!bucket) return;
    const merged = new Map<string, Agg>();
    for (const [id, a] of bucket) {
      const key = endpointKeyOf(acc.tagsets[id] ?? {});
      const into = merged.get(key) ?? newAgg('trend');
      mergeAgg(into, a);
      merged.set(key, into);
    }
    for (const [key, a] of merged) {
      let e = out[key];
      if (!e) {
        const empty = (): (number | null)[] => new Array<number | null>(series.t.length).fill(null);
        e = { p50: empty(), p95: empty(), p99: empty(), count: empty() };
        out[key] = e;
      }
      const st = trendStats(a);
      e.p50[i] = st.p50;
      e.p95[i] = st.p95;
      e.p99[i] = st.p99;
      e.count[i] = st.count;
    }
  });
  return out;
}

function panels(acc: RunAccumulator): Panel[] {
  const out = new Map<string, Panel>();
  const custom: string[] = [];
  for (const name of acc.metrics.keys()) {
    if (!acc.totals.has(name)) continue;
    const rule = PANEL_RULES.find((r) => r.pattern.test(name));
    if (rule) {
      const p = out.get(rule.id) ?? { id: rule.id, title: rule.title, metrics: [] };
      p.metrics.push(name);
      out.set(rule.id, p);
    } else if (!BUILTIN_METRICS.has(name)) custom.push(name);
  }
  const list = PANEL_RULES.flatMap((r) => {
    const p = out.get(r.id);
    return p ? [p] : [];
  });
  if (custom.length > 0) list.push({ id: 'custom', title: 'Custom metrics', metrics: custom });
  return list;
}

export interface RunWork {
  httpRequests: number;
  httpResponses: number;
  iterations: number;
  wsMessagesReceived: number;
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
