/**
 * k6 threshold expressions, evaluated on (merged) aggregated data.
 *
 * Grammar (k6 v0.49):  expression := aggregation operator value
 *   aggregation := "count" | "rate" | "value" | "min" | "max" | "avg" | "med" | "p(" number ")"
 *   operator    := ">" | ">=" | "<=" | "<" | "==" | "===" | "!="
 * Which aggregations a metric type offers: counter count, rate; gauge value, min, max; rate rate;
 * trend avg, min, med, max, p(N).
 */

import type { MetricType } from '../../engine/contracts.ts';
import { ReportError } from './errors.ts';

export type Operator = '>' | '>=' | '<=' | '<' | '==' | '===' | '!=';

export interface ThresholdExpr {
  readonly source: string;
  readonly aggregation: string;
  /** For p(N): N/100. */
  readonly quantile?: number;
  readonly op: Operator;
  readonly value: number;
}

const RE = /^\s*(count|rate|value|min|max|avg|med|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(>=|<=|===|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$/;

export function parseThreshold(source: string): ThresholdExpr {
  const m = RE.exec(source);
  if (!m) {
    throw new ReportError(
      'bad-threshold',
      `threshold "${source}" is not a k6 threshold expression; write it like "p(95)<500" or "rate<0.01"`,
    );
  }
  const agg = m[1] ?? '';
  const p = m[2];
  const base = { source, op: (m[3] ?? '<') as Operator, value: Number(m[4]) };
  if (p !== undefined) {
    const q = Number(p) / 100;
    if (q > 1) throw new ReportError('bad-threshold', `threshold "${source}" asks for a percentile over 100; use p(0)..p(100)`);
    return { ...base, aggregation: `p(${p})`, quantile: q };
  }
  return { ...base, aggregation: agg };
}

const ALLOWED: Record<MetricType, readonly string[]> = {
  counter: ['count', 'rate'],
  gauge: ['value', 'min', 'max'],
  rate: ['rate'],
  trend: ['avg', 'min', 'med', 'max', 'p'],
};

export function aggregationAllowed(type: MetricType, e: ThresholdExpr): boolean {
  const agg = e.quantile === undefined ? e.aggregation : 'p';
  return ALLOWED[type].includes(agg);
}

export function compare(observed: number, op: Operator, value: number): boolean {
  switch (op) {
    case '>':
      return observed > value;
    case '>=':
      return observed >= value;
    case '<':
      return observed < value;
    case '<=':
      return observed <= value;
    case '==':
    case '===':
      return observed === value;
    case '!=':
      return observed !== value;
  }
}

/** Splits `metric{tag:value,other:x}` into its parent name and tag filter (k6's submetric syntax). */
export function parseMetricKey(key: string): { metric: string; tags: Record<string, string> } {
  const open = key.indexOf('{');
  if (open < 0 || !key.endsWith('}')) return { metric: key.trim(), tags: {} };
  const tags: Record<string, string> = {};
  for (const part of key.slice(open + 1, -1).split(',')) {
    if (part.trim() === '') continue;
    const colon = part.indexOf(':');
    if (colon < 0) throw new ReportError('bad-threshold', `submetric "${key}" has a tag without a value; write it like "metric{tag:value}"`);
    const k = part.slice(0, colon).trim();
    let v = part.slice(colon + 1).trim();
    if (v.length >= 2 && (v.startsWith('"') || v.startsWith("'")) && v.endsWith(v.charAt(0))) v = v.slice(1, -1);
    tags[k] = v;
  }
  return { metric: key.slice(0, open).trim(), tags };
}
