/**
 * Soak analysis: ordinary least squares on the steady part of a run (warm-up left out) for the
 * target's memory gauges (MB/h), latency drift (ms/h) and error-rate drift (per hour), each with a
 * 95 % confidence interval. A budget is breached when the fitted slope exceeds it AND the growth is
 * significant (the interval's lower bound is above zero), so noise on a flat series stays quiet.
 * MB here is 2^20 bytes.
 */

import type { SoakBudget } from './types.ts';
import type { SeriesSet } from './model.ts';

export const DEFAULT_SOAK_GAUGES = {
  memory: ['target_rss_bytes', 'target_heap_used_bytes'],
  eventLoopLag: 'target_event_loop_lag_ms',
  queueDepth: 'target_queue_depth',
} as const;

export const MIN_FIT_POINTS = 8;

export interface Fit {
  /** Units per hour. */
  slopePerHour: number;
  /** 95 % confidence interval of the slope, units per hour. */
  ciLow: number;
  ciHigh: number;
  intercept: number;
  r2: number;
  points: number;
}

export interface SoakSignal {
  id: 'memory' | 'latency' | 'errors' | 'eventLoopLag' | 'queueDepth';
  metric: string;
  field: string;
  unit: string;
  fit: Fit | null;
  budget?: number;
  breached: boolean;
  /**
   * breached: over the budget and significant; within: under it over a fit long enough to say so;
   * not significant: over the budget but the interval includes no growth; too short: the fit spans less
   * than MIN_JUDGE_SEC (a short run can prove a leak, never its absence); no budget: shown only.
   */
  verdict: 'breached' | 'within' | 'not significant' | 'too short' | 'no budget';
  note: string;
}

/** A soak signal is called "within" its budget only from a fit this long (seconds after warm-up). */
export const MIN_JUDGE_SEC = 600;

export interface SoakResult {
  warmupSec: number;
  fromSec: number;
  toSec: number;
  signals: SoakSignal[];
  breached: boolean;
}

// Two-sided 97.5 % t quantiles for small degrees of freedom; 1.96 beyond.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

function tQuantile(df: number): number {
  return df >= 1 && df <= T975.length ? (T975[df - 1] ?? 1.96) : 1.96;
}

/** OLS fit of y on x (x in seconds); slope reported per hour. */
export function linearFit(xs: readonly number[], ys: readonly number[]): Fit | null {
  const n = xs.length;
  if (n < 3) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] ?? 0;
    my += ys[i] ?? 0;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    const dy = (ys[i] ?? 0) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const sse = Math.max(0, syy - slope * sxy);
  const se = Math.sqrt(sse / (n - 2) / sxx);
  const half = tQuantile(n - 2) * se;
  return {
    slopePerHour: slope * 3600,
    ciLow: (slope - half) * 3600,
    ciHigh: (slope + half) * 3600,
    intercept,
    r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy),
    points: n,
  };
}

function points(series: SeriesSet, metric: string, field: string, from: number, scale: number): { xs: number[]; ys: number[] } {
  const vals = series.metrics[metric]?.[field];
  const xs: number[] = [];
  const ys: number[] = [];
  if (!vals) return { xs, ys };
  series.t.forEach((t, i) => {
    const v = vals[i];
    if (t >= from && v !== null && v !== undefined) {
      xs.push(t - from);
      ys.push(v * scale);
    }
  });
  return { xs, ys };
}

/** Runs the soak fits; returns undefined when the run has none of the soak gauges and no budget was given. */
export function analyseSoak(series: SeriesSet, budget: SoakBudget | undefined): SoakResult | undefined {
  const memoryNames = budget?.gauges?.memory ?? DEFAULT_SOAK_GAUGES.memory;
  const lagName = budget?.gauges?.eventLoopLag ?? DEFAULT_SOAK_GAUGES.eventLoopLag;
  const queueName = budget?.gauges?.queueDepth ?? DEFAULT_SOAK_GAUGES.queueDepth;
  const present = [...memoryNames, lagName, queueName].some((m) => series.metrics[m] !== undefined);
  if (!present && budget === undefined) return undefined;
  const first = series.t[0] ?? 0;
  const last = series.t[series.t.length - 1] ?? first;
  const warmupFraction = budget?.warmupFraction ?? 0.1;
  const warmupSec = (last - first) * warmupFraction;
  const from = first + warmupSec;
  const signals: SoakSignal[] = [];
  const span = last - from;
  const judge = (s: Omit<SoakSignal, 'breached' | 'note' | 'verdict'>): void => {
    let breached = false;
    let note: string;
    let verdict: SoakSignal['verdict'] = s.budget === undefined ? 'no budget' : 'too short';
    if (!s.fit) note = `too few points after warm-up (need ${MIN_FIT_POINTS}): run too short to judge`;
    else {
      const f = s.fit;
      const sig = f.ciLow > 0;
      note = `${fmt(f.slopePerHour)} ${s.unit}/h (95 % CI ${fmt(f.ciLow)} … ${fmt(f.ciHigh)})`;
      if (s.budget !== undefined) {
        breached = f.slopePerHour > s.budget && sig;
        if (breached) {
          verdict = 'breached';
          note += ` exceeds the budget of ${fmt(s.budget)} ${s.unit}/h`;
        } else if (f.slopePerHour > s.budget) {
          verdict = 'not significant';
          note += ` over the budget of ${fmt(s.budget)} ${s.unit}/h but not significant (the interval includes no growth)`;
        } else if (span < MIN_JUDGE_SEC) {
          verdict = 'too short';
          note += `: run too short to judge (fit over ${fmt(span)} s; calling the budget met needs ${MIN_JUDGE_SEC} s after warm-up)`;
        } else {
          verdict = 'within';
          note += ` within the budget of ${fmt(s.budget)} ${s.unit}/h`;
        }
      }
    }
    signals.push({ ...s, breached, verdict, note });
  };
  const fitOf = (metric: string, field: string, scale: number): Fit | null => {
    const { xs, ys } = points(series, metric, field, from, scale);
    return xs.length >= MIN_FIT_POINTS ? linearFit(xs, ys) : null;
  };
  for (const m of memoryNames) {
    if (!series.metrics[m]) continue;
    const mb = m.endsWith('_bytes') ? 1 / 1048576 : 1;
    const s: Omit<SoakSignal, 'breached' | 'note' | 'verdict'> = {
      id: 'memory',
      metric: m,
      field: 'avg',
      unit: mb === 1 ? 'units' : 'MB',
      fit: fitOf(m, 'avg', mb),
    };
    if (budget?.memoryGrowthMBPerHour !== undefined) s.budget = budget.memoryGrowthMBPerHour;
    judge(s);
  }
  if (series.metrics.http_req_duration) {
    const s: Omit<SoakSignal, 'breached' | 'note' | 'verdict'> = {
      id: 'latency',
      metric: 'http_req_duration',
      field: 'p95',
      unit: 'ms',
      fit: fitOf('http_req_duration', 'p95', 1),
    };
    if (budget?.latencyDriftMsPerHour !== undefined) s.budget = budget.latencyDriftMsPerHour;
    judge(s);
  }
  if (series.metrics.http_req_failed) {
    const s: Omit<SoakSignal, 'breached' | 'note' | 'verdict'> = {
      id: 'errors',
      metric: 'http_req_failed',
      field: 'rate',
      unit: 'error rate',
      fit: fitOf('http_req_failed', 'rate', 1),
    };
    if (budget?.errorRateDriftPerHour !== undefined) s.budget = budget.errorRateDriftPerHour;
    judge(s);
  }
  if (series.metrics[lagName]) judge({ id: 'eventLoopLag', metric: lagName, field: 'avg', unit: 'ms', fit: fitOf(lagName, 'avg', 1) });
  if (series.metrics[queueName])
    judge({ id: 'queueDepth', metric: queueName, field: 'avg', unit: 'items', fit: fitOf(queueName, 'avg', 1) });
  return { warmupSec, fromSec: from, toSec: last, signals, breached: signals.some((s) => s.breached) };
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
