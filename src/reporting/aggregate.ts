/** Mergeable aggregates of k6 samples: one `Agg` per metric × tag set, and per metric × time bucket. */

import type { MetricType } from '../../engine/contracts.ts';
import { QuantileSketch, REPORT_FOLD } from '../../shared/quantile-sketch.ts';

/**
 * The report's stated percentile bound: every percentile is within 0.5 % of k6's exact value. Its sketches
 * count in bins of REPORT_FOLD base bins of the shared sketch (α = 0.49975 %, under this bound); per-second
 * sketches per metric and endpoint at the engine's 0.05 % would take ~9× the memory.
 */
export const RELATIVE_ERROR = 0.005;

export interface Agg {
  /** Number of samples. */
  n: number;
  sum: number;
  min: number;
  max: number;
  /** Samples with a non-zero value (k6 Rate "passes"). */
  nonzero: number;
  /** Last value by sample time (gauges). */
  last: number;
  lastTime: number;
  /** Trends only. */
  sketch?: QuantileSketch;
}

export function newAgg(type: MetricType): Agg {
  const a: Agg = { n: 0, sum: 0, min: Infinity, max: -Infinity, nonzero: 0, last: 0, lastTime: -Infinity };
  if (type === 'trend') a.sketch = new QuantileSketch(REPORT_FOLD);
  return a;
}

export function addSample(a: Agg, value: number, time: number): void {
  addStats(a, value, time);
  a.sketch?.add(value);
}

/** addSample on two aggregates of one metric (totals and time bucket): the sketch bin is worked out once. */
export function addSampleTwice(a: Agg, b: Agg, value: number, time: number): void {
  addStats(a, value, time);
  addStats(b, value, time);
  if (a.sketch && b.sketch) a.sketch.addTwin(b.sketch, value);
  else {
    a.sketch?.add(value);
    b.sketch?.add(value);
  }
}

function addStats(a: Agg, value: number, time: number): void {
  a.n++;
  a.sum += value;
  if (value < a.min) a.min = value;
  if (value > a.max) a.max = value;
  if (value !== 0) a.nonzero++;
  if (time >= a.lastTime) {
    a.last = value;
    a.lastTime = time;
  }
}

export function mergeAgg(into: Agg, from: Agg): void {
  into.n += from.n;
  into.sum += from.sum;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  into.nonzero += from.nonzero;
  if (from.lastTime >= into.lastTime) {
    into.last = from.last;
    into.lastTime = from.lastTime;
  }
  if (from.sketch) {
    into.sketch ??= new QuantileSketch(REPORT_FOLD);
    into.sketch.merge(from.sketch);
  }
}

export function cloneAgg(a: Agg): Agg {
  const c: Agg = { ...a };
  delete c.sketch;
  if (a.sketch) c.sketch = a.sketch.clone();
  return c;
}
