/** Queries on the accumulated run: a metric's aggregates merged over matching tag sets, and a trend's stats. */

import { mergeAgg, newAgg, type Agg } from './aggregate.ts';
import type { RunAccumulator } from './ingest.ts';
import type { TrendStats } from './model.ts';

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
