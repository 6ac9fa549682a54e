/**
 * Baseline comparison. A snapshot keeps the figures a later run is judged against (per metric and
 * per endpoint); comparing flags > failPct worse as fail, > warnPct worse as warn, and notes
 * improvements. Noise guard: a figure backed by fewer than minSamples samples on either side is
 * reported as "guarded" and never fails; relative changes are taken against max(baseline, floor)
 * (1 ms for times, 0.05 for rates) so tiny baselines do not turn noise into huge percentages.
 */

import type { MetricType } from '../../engine/contracts.ts';
import type { RunModel, TrendStats } from './model.ts';

export interface BaselineEntry {
  kind: 'trend' | 'rate';
  /** Samples behind the figure. */
  count: number;
  /** Trends: ms (or the metric's unit); rates: 0..1. */
  values: Record<string, number>;
  /** 'up' when a higher value is worse (latency, error rates), 'down' when lower is worse (check pass rates). */
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

const HIGHER_IS_WORSE_RATE = /fail|error|drop|timeout|loss|dup/i;
const TREND_STATS = ['p50', 'p95', 'p99', 'avg'] as const;

function trendEntry(s: TrendStats, unit: BaselineEntry['unit']): BaselineEntry {
  return { kind: 'trend', count: s.count, values: { avg: s.avg, p50: s.p50, p90: s.p90, p95: s.p95, p99: s.p99, max: s.max }, worse: 'up', unit };
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
      );
    } else if (type === 'rate') {
      const passes = m.values.passes ?? 0;
      const fails = m.values.fails ?? 0;
      entries[`metric ${m.name}`] = {
        kind: 'rate',
        count: passes + fails,
        values: { rate: m.values.rate ?? 0 },
        worse: HIGHER_IS_WORSE_RATE.test(m.name) ? 'up' : 'down',
        unit: 'ratio',
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
    const stats = c.kind === 'trend' ? TREND_STATS.filter((s) => s !== 'p99' || Math.min(b.count, c.count) >= 100) : (['rate'] as const);
    for (const stat of stats) {
      const bv = b.values[stat];
      const cv = c.values[stat];
      if (bv === undefined || cv === undefined) continue;
      const floor = c.unit === 'ratio' ? 0.05 : c.unit === 'ms' ? 1 : 0;
      const denom = Math.max(Math.abs(bv), floor);
      const raw = denom === 0 ? 0 : (cv - bv) / denom;
      const change = c.worse === 'up' ? raw : -raw;
      const row: ComparisonRow = { key, stat, baseline: bv, current: cv, change, status: 'ok' };
      if (Math.min(b.count, c.count) < minSamples) {
        row.status = 'guarded';
        row.note = `fewer than ${minSamples} samples (${Math.min(b.count, c.count)}): not judged`;
      } else if (change * 100 > failPct) row.status = 'fail';
      else if (change * 100 > warnPct) row.status = 'warn';
      else if (change * 100 < -warnPct) row.status = 'improved';
      rows.push(row);
    }
  }
  const verdict = rows.some((r) => r.status === 'fail') ? 'fail' : rows.some((r) => r.status === 'warn') ? 'warn' : 'pass';
  return { baselineSource: baseline.source, verdict, rows, failPct, warnPct, minSamples };
}
