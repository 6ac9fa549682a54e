/** The report's threshold rows: every threshold of the run, judged on the merged data with the engine's k6 semantics. */

import type { MetricType } from '../../engine/contracts.ts';
import { parseMetricKey } from '../../engine/metrics/submetric.ts';
import { parseThresholdExpression, sinkKey } from '../../engine/thresholds/expression.ts';
import { checkThreshold, judgeThreshold, type MetricAggregate } from '../../engine/thresholds/judge.ts';
import type { Agg } from './aggregate.ts';
import type { RunAccumulator } from './ingest.ts';
import { mergedAgg } from './merged-aggregates.ts';
import type { SideInputs, ThresholdRow } from './model.ts';

export function evaluateThresholds(acc: RunAccumulator, side: SideInputs, durationSec: number): ThresholdRow[] {
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
