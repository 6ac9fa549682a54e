/**
 * One threshold verdict for both sides: the engine's ThresholdSet (on its metric sinks, while and after a
 * run) and the report (src/reporting/model.ts, on the aggregates it streams out of a k6 JSON output) parse with
 * the same grammar (expression.ts), accept the same aggregation methods per metric type, compute each method
 * the same way from what their aggregates hold, skip a metric without samples as k6 does, and compare with
 * the same operators. Node-free: types and pure functions only.
 */
import type { MetricType } from '../contracts.ts';
import { compare, parseThresholdExpression, supportedMethods, supportedMethodsText, type ThresholdExpression } from './expression.ts';

/** What a metric's samples add up to, in the terms each aggregation method is computed from. */
export type MetricAggregate =
  | { readonly type: 'counter'; readonly count: number }
  | { readonly type: 'gauge'; readonly value: number }
  | { readonly type: 'rate'; readonly trues: number; readonly total: number }
  | {
      readonly type: 'trend';
      readonly avg: number;
      readonly min: number;
      readonly max: number;
      /** The p-th percentile, p in 0..100 (med = 50). */
      percentile(p: number): number;
    };

/** k6's message for a method the metric's type does not offer. */
export function unsupportedMethodMessage(key: string, source: string, method: string, type: MetricType): string {
  return (
    `invalid threshold ${JSON.stringify(source)} applied on metric ${key}; reason: unsupported aggregation method ${method} on metric of type ${type}. ` +
    `supported aggregation methods for this metric are: ${supportedMethodsText(type)}`
  );
}

/** Parses `source` and checks its method against the metric type: the expression, or k6's message why not. */
export function checkThreshold(
  key: string,
  source: string,
  type: MetricType,
): { readonly ok: true; readonly expr: ThresholdExpression } | { readonly ok: false; readonly message: string } {
  const parsed = parseThresholdExpression(source);
  if (!parsed.ok) return parsed;
  if (!supportedMethods(type).includes(parsed.expr.method))
    return { ok: false, message: unsupportedMethodMessage(key, source, parsed.expr.method, type) };
  return parsed;
}

/**
 * The value an expression's method takes on `agg`; `elapsedMs` is the time spent in the test (counter
 * `rate` = count per second of it). Undefined when the method does not apply to the metric's type.
 */
export function observedValue(expr: ThresholdExpression, agg: MetricAggregate, elapsedMs: number): number | undefined {
  switch (agg.type) {
    case 'counter':
      if (expr.method === 'count') return agg.count;
      return expr.method === 'rate' ? agg.count / (elapsedMs / 1000) : undefined;
    case 'gauge':
      return expr.method === 'value' ? agg.value : undefined;
    case 'rate':
      return expr.method === 'rate' ? agg.trues / agg.total : undefined;
    case 'trend':
      switch (expr.method) {
        case 'avg':
          return agg.avg;
        case 'min':
          return agg.min;
        case 'max':
          return agg.max;
        case 'med':
          return agg.percentile(50);
        case 'p':
          return agg.percentile(expr.percentile ?? 0);
        default:
          return undefined;
      }
  }
}

/**
 * k6's verdict on one threshold: a metric without samples (`agg` undefined) is not evaluated and passes;
 * otherwise the observed value must satisfy the comparison.
 */
export function judgeThreshold(
  expr: ThresholdExpression,
  agg: MetricAggregate | undefined,
  elapsedMs: number,
): { readonly ok: boolean; readonly observed: number | undefined } {
  if (agg === undefined) return { ok: true, observed: undefined };
  const observed = observedValue(expr, agg, elapsedMs);
  return { ok: observed !== undefined && compare(observed, expr.operator, expr.value), observed };
}
