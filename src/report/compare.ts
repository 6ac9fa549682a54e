/**
 * Baseline comparison. A snapshot keeps the figures a later run is judged against (per metric and
 * per endpoint: trends' percentiles, rates, counters' per-second rates, gauges' last and highest values);
 * comparing flags > failPct worse as fail, > warnPct worse as warn, and notes improvements. "Worse" has a
 * direction per metric (`worseDirection`): latency, errors, loss, lag and memory are worse when higher;
 * throughput (per second / per hour, MB/s, tokens/s), hit and success rates and completed counts are worse
 * when lower. Few samples: a figure backed by fewer than minSamples samples on either side is judged with
 * its band widened by √(minSamples / n) (the noise of a mean grows as 1/√n), e.g. 1 sample against 30:
 * fail beyond 10 % × 5.5 = 55 %; only a figure with no samples is "guarded". Relative changes are taken
 * against max(baseline, floor) (1 ms for times, 0.05 for rates) so tiny baselines do not turn noise into huge
 * percentages.
 */

import type { MetricType } from '../../engine/contracts.ts';
import type { RunModel, TrendStats } from './model.ts';

export interface BaselineEntry {
  kind: 'trend' | 'rate' | 'counter' | 'gauge';
  /** Samples behind the figure. */
  count: number;
  /** Trends: ms (or the metric's unit); rates: 0..1; counters: `rate` per second; gauges: `value` (last), `max`. */
  values: Record<string, number>;
  /** 'up' when a higher value is worse (latency, error rates), 'down' when lower is worse (throughput, hit rates). */
  worse: 'up' | 'down';
  unit: 'ms' | 'ratio' | 'value';
}

export interface BaselineSnapshot {
  kind: 'agentload-baseline';
  version: 1;
  scenario?: string;
  createdAt: string;
  /** Where it came from (a run dir or file). */
  source: string;
  entries: Record<string, BaselineEntry>;
}

export type ChangeStatus = 'fail' | 'warn' | 'ok' | 'improved' | 'guarded' | 'new' | 'missing';

export interface ComparisonRow {
  key: string;
  stat: string;
  baseline: number | null;
  current: number | null;
  /** Relative change in the worse direction (0.12 = 12 % worse; negative = better). */
  change: number | null;
  status: ChangeStatus;
  note?: string;
}

export interface Comparison {
  baselineSource: string;
  verdict: 'pass' | 'warn' | 'fail';
  rows: ComparisonRow[];
  failPct: number;
  warnPct: number;
  minSamples: number;
}

export interface CompareOptions {
  failPct?: number;
  warnPct?: number;
  minSamples?: number;
}

/** Names of figures that are worse when higher, whatever their type. */
const HIGHER_IS_WORSE = /fail|error|drop|timeout|lost|loss|dup|miss|unmatched|late|retr|rate_limited|reject|evict|waiting|lag|depth|leak|drift|degradation/i;
/** Names of figures that are worse when lower (throughput and success). */
const LOWER_IS_WORSE = /per_second|per_hour|throughput|mbps|tokens|hit|success|succeeded|completed|accepted|http_reqs|iterations|received|published|checks/i;
const TREND_STATS = ['p50', 'p95', 'p99', 'avg'] as const;

/** Which way a metric gets worse: by name first, else by type (trends and gauges up, rates and counters down). */
export function worseDirection(name: string, type: MetricType): BaselineEntry['worse'] {
  if (HIGHER_IS_WORSE.test(name)) return 'up';
  if (LOWER_IS_WORSE.test(name)) return 'down';
  return type === 'trend' || type === 'gauge' ? 'up' : 'down';
}

function trendEntry(s: TrendStats, unit: BaselineEntry['unit'], worse: BaselineEntry['worse'] = 'up'): BaselineEntry {
  return { kind: 'trend', count: s.count, values: { avg: s.avg, p50: s.p50, p90: s.p90, p95: s.p95, p99: s.p99, max: s.max }, worse, unit };
}

/** The figures of a run that later runs are compared with. */
export function snapshotOf(model: RunModel, source: string, now: Date = new Date()): BaselineSnapshot {
  const entries: Record<string, BaselineEntry> = {};
  for (const m of model.metrics) {
    const type: MetricType = m.type;
    if (type === 'trend') {
      const v = m.values;
      entries[`metric ${m.name}`] = trendEntry(
        { count: v.count ?? 0, avg: v.avg ?? 0, min: v.min ?? 0, p50: v.p50 ?? 0, p90: v.p90 ?? 0, p95: v.p95 ?? 0, p99: v.p99 ?? 0, max: v.max ?? 0 },
        m.contains === 'time' ? 'ms' : 'value',
        worseDirection(m.name, type),
      );
    } else if (type === 'rate') {
      const passes = m.values.passes ?? 0;
      const fails = m.values.fails ?? 0;
      entries[`metric ${m.name}`] = {
        kind: 'rate',
        count: passes + fails,
        values: { rate: m.values.rate ?? 0 },
        worse: worseDirection(m.name, type),
        unit: 'ratio',
      };
    } else if (m.name === 'vus' || m.name === 'vus_max') {
      // The load's shape, not a result.
    } else if (type === 'counter') {
      entries[`metric ${m.name}`] = { kind: 'counter', count: m.samples ?? m.values.count ?? 0, values: { rate: m.values.rate ?? 0 }, worse: worseDirection(m.name, type), unit: 'value' };
    } else {
      entries[`metric ${m.name}`] = {
        kind: 'gauge', count: m.samples ?? 1, values: { value: m.values.value ?? 0, max: m.values.max ?? 0 }, worse: worseDirection(m.name, type),
        unit: m.contains === 'time' ? 'ms' : 'value',
      };
    }
  }
  for (const e of model.endpoints) {
    entries[`endpoint ${e.key}`] = trendEntry(e, 'ms');
    entries[`endpoint ${e.key} errors`] = { kind: 'rate', count: e.count, values: { rate: e.errorRate }, worse: 'up', unit: 'ratio' };
  }
  const snap: BaselineSnapshot = { kind: 'agentload-baseline', version: 1, createdAt: now.toISOString(), source, entries };
  if (model.meta.scenario !== undefined) snap.scenario = model.meta.scenario;
  return snap;
}

export function isSnapshot(x: unknown): x is BaselineSnapshot {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'agentload-baseline' && typeof (x as { entries?: unknown }).entries === 'object';
}

export function compareSnapshots(current: BaselineSnapshot, baseline: BaselineSnapshot, o: CompareOptions = {}): Comparison {
  const failPct = o.failPct ?? 10;
  const warnPct = o.warnPct ?? 5;
  const minSamples = o.minSamples ?? 30;
  const rows: ComparisonRow[] = [];
  const keys = new Set([...Object.keys(baseline.entries), ...Object.keys(current.entries)]);
  for (const key of [...keys].sort()) {
    const b = baseline.entries[key];
    const c = current.entries[key];
    if (!b || !c) {
      rows.push({ key, stat: '', baseline: null, current: null, change: null, status: b ? 'missing' : 'new', note: b ? 'not in this run' : 'not in the baseline' });
      continue;
    }
    const stats = c.kind === 'trend' ? TREND_STATS.filter((s) => s !== 'p99' || Math.min(b.count, c.count) >= 100) : c.kind === 'gauge' ? (['value', 'max'] as const) : (['rate'] as const);
    for (const stat of stats) {
      const bv = b.values[stat];
      const cv = c.values[stat];
      if (bv === undefined || cv === undefined) continue;
      const floor = c.unit === 'ratio' ? 0.05 : c.unit === 'ms' ? 1 : 0;
      const denom = Math.max(Math.abs(bv), floor);
      const raw = denom === 0 ? 0 : (cv - bv) / denom;
      const change = c.worse === 'up' ? raw : -raw;
      const row: ComparisonRow = { key, stat, baseline: bv, current: cv, change, status: 'ok' };
      const n = Math.min(b.count, c.count);
      // Few samples: the same rule with a band widened by √(minSamples / n); no samples: not judged.
      const widen = n >= minSamples ? 1 : n > 0 ? Math.sqrt(minSamples / n) : Number.POSITIVE_INFINITY;
      if (!Number.isFinite(widen)) {
        row.status = 'guarded';
        row.note = 'no samples: not judged';
      } else {
        if (widen > 1) row.note = `few samples (${n}): judged against ${Math.round(failPct * widen)} % (fail) / ${Math.round(warnPct * widen)} % (warn)`;
        if (change * 100 > failPct * widen) row.status = 'fail';
        else if (change * 100 > warnPct * widen) row.status = 'warn';
        else if (change * 100 < -warnPct * widen) row.status = 'improved';
      }
      rows.push(row);
    }
  }
  const verdict = rows.some((r) => r.status === 'fail') ? 'fail' : rows.some((r) => r.status === 'warn') ? 'warn' : 'pass';
  return { baselineSource: baseline.source, verdict, rows, failPct, warnPct, minSamples };
}
