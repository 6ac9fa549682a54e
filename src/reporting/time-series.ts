/**
 * The run over time: each metric's figures per time bucket, each endpoint's latency per bucket, and the
 * time windows the baseline gate's rank test compares (see stats.ts).
 */

import { mergeAgg, newAgg, type Agg } from './aggregate.ts';
import type { RunAccumulator } from './ingest.ts';
import { trendStats } from './merged-aggregates.ts';
import type { EndpointSeries, SeriesSet, WindowSet } from './model.ts';
import { MIN_WINDOW_SAMPLES } from './stats.ts';

export function seriesOf(acc: RunAccumulator): SeriesSet {
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

export function windowsOf(acc: RunAccumulator, series: SeriesSet, endpointKeyOf: (tags: Record<string, string>) => string): WindowSet {
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
export function endpointSeriesOf(
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
