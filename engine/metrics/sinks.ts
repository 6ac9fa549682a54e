/**
 * Sinks: the per-metric aggregate state, one class per k6 metric type, with k6's semantics.
 *
 * - counter: count (sum of values), rate = count / test duration in seconds
 * - gauge:   value = last value (latest sample time wins when merging), min, max
 * - rate:    passes (non-zero values), fails, rate = passes / total
 * - trend:   count, avg, min, max exact; med and p(N) from a bounded-memory log-bucket sketch
 *
 * Trend error bound (see docs/engine-data.md): every sample is counted in a logarithmic bucket
 * of relative width ALPHA (0.05 %); the k-th smallest sample is estimated by its bucket's centre,
 * clamped to [min, max], so |estimate - x_k| <= ALPHA * |x_k| (the smallest and largest samples
 * are exact). A percentile interpolated between x_lo and x_hi (k6's linear interpolation) is then
 * off by at most ALPHA * max(|x_lo|, |x_hi|), i.e. at most ALPHA relative when both have the same
 * sign. Zero is exact (its own bucket); negative values use a mirrored bucket store.
 *
 * Every snapshot is plain JSON (structured-cloneable); merge(a, b) gives the same bucket counts,
 * min, max, count and therefore the same percentiles as recording every sample in one sink.
 * Sums use Neumaier compensated summation, so averages agree to ~1e-15 relative after merging.
 */

import type { MetricType } from '../contracts.ts';

/** Relative accuracy of trend quantiles (0.05 %). */
export const TREND_RELATIVE_ERROR = 0.0005;
const GAMMA = (1 + TREND_RELATIVE_ERROR) / (1 - TREND_RELATIVE_ERROR);
const LN_GAMMA = Math.log(GAMMA);
const INV_LN_GAMMA = 1 / LN_GAMMA;
const CENTRE = 2 / (GAMMA + 1);

/** Compensated (Neumaier) running sum: [sum, compensation]. */
function neumaier(state: { sum: number; comp: number }, x: number): void {
  const s = state.sum;
  const t = s + x;
  if (Math.abs(s) >= Math.abs(x)) state.comp += s - t + x;
  else state.comp += x - t + s;
  state.sum = t;
}

export interface CounterSnapshot {
  readonly type: 'counter';
  readonly sum: number;
  readonly comp: number;
  readonly n: number;
}
export interface GaugeSnapshot {
  readonly type: 'gauge';
  readonly value: number;
  readonly time: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}
export interface RateSnapshot {
  readonly type: 'rate';
  readonly trues: number;
  readonly total: number;
}
export interface TrendSnapshot {
  readonly type: 'trend';
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly comp: number;
  readonly zeros: number;
  /** Flat pairs [bucketIndex, count, ...] of positive values. */
  readonly pos: readonly number[];
  /** Flat pairs [bucketIndex, count, ...] of negative values (index of |v|). */
  readonly neg: readonly number[];
}
export type SinkSnapshot = CounterSnapshot | GaugeSnapshot | RateSnapshot | TrendSnapshot;

export class CounterSink {
  readonly type = 'counter' as const;
  #acc = { sum: 0, comp: 0 };
  #n = 0;

  add(value: number): void {
    neumaier(this.#acc, value);
    this.#n++;
  }
  isEmpty(): boolean {
    return this.#n === 0;
  }
  get count(): number {
    return this.#acc.sum + this.#acc.comp;
  }
  /** count / seconds; 0 when the duration is not positive. */
  rate(durationMs: number): number {
    return durationMs > 0 ? this.count / (durationMs / 1000) : 0;
  }
  values(durationMs: number): { count: number; rate: number } {
    return { count: this.count, rate: this.rate(durationMs) };
  }
  snapshot(): CounterSnapshot {
    return { type: 'counter', sum: this.#acc.sum, comp: this.#acc.comp, n: this.#n };
  }
  merge(s: CounterSnapshot): void {
    this.#acc.comp += s.comp;
    neumaier(this.#acc, s.sum);
    this.#n += s.n;
  }
}

export class GaugeSink {
  readonly type = 'gauge' as const;
  #value = 0;
  #time = -Infinity;
  #min = Infinity;
  #max = -Infinity;
  #n = 0;

  add(value: number, time = 0): void {
    if (value === 0) value = 0; // -0 counts as 0 (JSON, and so a merged snapshot, cannot carry -0)
    // Later (or equal) time wins, so an in-order stream keeps k6's "last value".
    if (time >= this.#time) {
      this.#value = value;
      this.#time = time;
    }
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    this.#n++;
  }
  isEmpty(): boolean {
    return this.#n === 0;
  }
  get value(): number {
    return this.#n === 0 ? 0 : this.#value;
  }
  get min(): number {
    return this.#n === 0 ? 0 : this.#min;
  }
  get max(): number {
    return this.#n === 0 ? 0 : this.#max;
  }
  values(): { value: number; min: number; max: number } {
    return { value: this.value, min: this.min, max: this.max };
  }
  snapshot(): GaugeSnapshot {
    return { type: 'gauge', value: this.#value, time: this.#n === 0 ? 0 : this.#time, min: this.min, max: this.max, n: this.#n };
  }
  merge(s: GaugeSnapshot): void {
    if (s.n === 0) return;
    if (this.#n === 0 || s.time > this.#time) {
      this.#value = s.value;
      this.#time = s.time;
    }
    if (s.min < this.#min) this.#min = s.min;
    if (s.max > this.#max) this.#max = s.max;
    this.#n += s.n;
  }
}

export class RateSink {
  readonly type = 'rate' as const;
  trues = 0;
  total = 0;

  add(value: number): void {
    if (value !== 0) this.trues++;
    this.total++;
  }
  isEmpty(): boolean {
    return this.total === 0;
  }
  /** passes / total; 0 without samples (as k6's summary). */
  get rate(): number {
    return this.total === 0 ? 0 : this.trues / this.total;
  }
  values(): { rate: number; passes: number; fails: number } {
    return { rate: this.rate, passes: this.trues, fails: this.total - this.trues };
  }
  snapshot(): RateSnapshot {
    return { type: 'rate', trues: this.trues, total: this.total };
  }
  merge(s: RateSnapshot): void {
    this.trues += s.trues;
    this.total += s.total;
  }
}

const CHUNK_BITS = 10;
const CHUNK = 1 << CHUNK_BITS;

/**
 * Bucket counts in 1024-bucket chunks keyed by chunk number: dense where samples cluster,
 * sparse across decades without samples (so 1e-300 and 1e300 in one trend stay cheap).
 */
class BucketStore {
  readonly chunks = new Map<number, Float64Array>();
  #lastKey = NaN;
  #last: Float64Array = new Float64Array(0);

  add(idx: number, n: number): void {
    const key = idx >> CHUNK_BITS;
    let chunk: Float64Array | undefined;
    if (key === this.#lastKey) chunk = this.#last;
    else {
      chunk = this.chunks.get(key);
      if (chunk === undefined) {
        chunk = new Float64Array(CHUNK);
        this.chunks.set(key, chunk);
      }
      this.#lastKey = key;
      this.#last = chunk;
    }
    const i = idx & (CHUNK - 1);
    chunk[i] = (chunk[i] ?? 0) + n;
  }

  /** Chunk numbers in ascending order. */
  sortedKeys(): number[] {
    return [...this.chunks.keys()].sort((a, b) => a - b);
  }

  /** Non-zero buckets as flat [index, count, ...] pairs, ascending index. */
  pairs(): number[] {
    const out: number[] = [];
    for (const key of this.sortedKeys()) {
      const c = this.chunks.get(key);
      if (c === undefined) continue;
      const base = key * CHUNK;
      for (let i = 0; i < CHUNK; i++) {
        const n = c[i] ?? 0;
        if (n !== 0) out.push(base + i, n);
      }
    }
    return out;
  }

  addPairs(pairs: readonly number[]): void {
    for (let i = 0; i + 1 < pairs.length; i += 2) this.add(pairs[i] ?? 0, pairs[i + 1] ?? 0);
  }

  bytes(): number {
    return this.chunks.size * CHUNK * 8;
  }
}

function bucketIndex(abs: number): number {
  return Math.ceil(Math.log(abs) * INV_LN_GAMMA);
}
function bucketCentre(idx: number): number {
  return Math.exp(idx * LN_GAMMA) * CENTRE;
}

export type TrendStatName = 'avg' | 'min' | 'med' | 'max' | 'count' | `p(${string})`;

/**
 * Parses a trend statistic name as k6 accepts it in summaryTrendStats and threshold sinks:
 * avg, min, med, max, count, or p(N) with 0 <= N <= 100. Returns the percentile fraction for p(N)
 * (med = 0.5), or undefined when the name is not a trend statistic.
 */
export function parseTrendStat(stat: string): { kind: 'avg' | 'min' | 'max' | 'count' } | { kind: 'p'; q: number } | undefined {
  switch (stat) {
    case 'avg':
    case 'min':
    case 'max':
    case 'count':
      return { kind: stat };
    case 'med':
      return { kind: 'p', q: 0.5 };
  }
  const m = /^p\(([^)]*)\)$/.exec(stat);
  if (m === null) return undefined;
  const body = (m[1] ?? '').trim();
  if (!/^(?:\d+\.?\d*|\.\d+)$/.test(body)) return undefined;
  const n = Number(body);
  if (!(n >= 0 && n <= 100)) return undefined;
  return { kind: 'p', q: n / 100 };
}

export class TrendSink {
  readonly type = 'trend' as const;
  count = 0;
  #min = Infinity;
  #max = -Infinity;
  #acc = { sum: 0, comp: 0 };
  #zeros = 0;
  readonly #pos = new BucketStore();
  readonly #neg = new BucketStore();

  /** Records one value. Non-finite values (NaN, ±Infinity) are ignored. */
  add(value: number): void {
    if (value > 0) {
      if (value === Infinity) return;
      this.#pos.add(bucketIndex(value), 1);
    } else if (value < 0) {
      if (value === -Infinity) return;
      this.#neg.add(bucketIndex(-value), 1);
    } else if (value === 0) {
      this.#zeros++;
      value = 0; // -0 counts as 0 (JSON, and so a merged snapshot, cannot carry -0)
    } else {
      return; // NaN
    }
    this.count++;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    neumaier(this.#acc, value);
  }

  isEmpty(): boolean {
    return this.count === 0;
  }
  get min(): number {
    return this.count === 0 ? 0 : this.#min;
  }
  get max(): number {
    return this.count === 0 ? 0 : this.#max;
  }
  get sum(): number {
    return this.#acc.sum + this.#acc.comp;
  }
  get avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }
  get med(): number {
    return this.percentile(0.5);
  }

  /** k6's percentile (linear interpolation between the ranks around q*(n-1)); q in [0, 1]. */
  percentile(q: number): number {
    return this.percentiles([q])[0] ?? 0;
  }

  /** Several percentiles in one pass over the buckets. */
  percentiles(qs: readonly number[]): number[] {
    const n = this.count;
    if (n === 0) return qs.map(() => 0);
    if (n === 1) return qs.map(() => this.#min);
    const ranks: number[] = [];
    for (const q of qs) {
      const i = q * (n - 1);
      ranks.push(Math.floor(i), Math.ceil(i));
    }
    const est = this.#valuesAtRanks(ranks);
    return qs.map((q, k) => {
      const i = q * (n - 1);
      const f = i - Math.floor(i);
      const lo = est.get(ranks[2 * k] ?? 0) ?? 0;
      const hi = est.get(ranks[2 * k + 1] ?? 0) ?? 0;
      return lo + (hi - lo) * f;
    });
  }

  /** Estimates of the r-th smallest sample (0-based) for each rank. */
  #valuesAtRanks(ranks: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    const wanted = [...new Set(ranks)].sort((a, b) => a - b);
    const last = this.count - 1;
    const clamp = (v: number): number => (v < this.#min ? this.#min : v > this.#max ? this.#max : v);
    let w = 0;
    while (w < wanted.length && wanted[w] === 0) {
      out.set(0, this.#min);
      w++;
    }
    let cum = 0;
    // Negative values: largest magnitude (highest index) first.
    const negKeys = this.#neg.sortedKeys();
    for (let k = negKeys.length - 1; k >= 0 && w < wanted.length; k--) {
      const key = negKeys[k] ?? 0;
      const chunk = this.#neg.chunks.get(key);
      if (chunk === undefined) continue;
      for (let i = CHUNK - 1; i >= 0 && w < wanted.length; i--) {
        const c = chunk[i] ?? 0;
        if (c === 0) continue;
        cum += c;
        const v = clamp(-bucketCentre(key * CHUNK + i));
        while (w < wanted.length && (wanted[w] ?? 0) < cum) {
          const r = wanted[w] ?? 0;
          out.set(r, r === last ? this.#max : v);
          w++;
        }
      }
    }
    if (this.#zeros > 0) {
      cum += this.#zeros;
      while (w < wanted.length && (wanted[w] ?? 0) < cum) {
        const r = wanted[w] ?? 0;
        out.set(r, r === last ? this.#max : 0);
        w++;
      }
    }
    for (const key of this.#pos.sortedKeys()) {
      if (w >= wanted.length) break;
      const chunk = this.#pos.chunks.get(key);
      if (chunk === undefined) continue;
      for (let i = 0; i < CHUNK && w < wanted.length; i++) {
        const c = chunk[i] ?? 0;
        if (c === 0) continue;
        cum += c;
        const v = clamp(bucketCentre(key * CHUNK + i));
        while (w < wanted.length && (wanted[w] ?? 0) < cum) {
          const r = wanted[w] ?? 0;
          out.set(r, r === last ? this.#max : v);
          w++;
        }
      }
    }
    return out;
  }

  /** Value of one trend statistic (see parseTrendStat); undefined for an unknown name. */
  stat(name: string): number | undefined {
    const s = parseTrendStat(name);
    if (s === undefined) return undefined;
    switch (s.kind) {
      case 'avg':
        return this.avg;
      case 'min':
        return this.min;
      case 'max':
        return this.max;
      case 'count':
        return this.count;
      case 'p':
        return this.percentile(s.q);
    }
  }

  /** The requested statistics (summaryTrendStats order), keyed by their names. */
  values(stats: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    const pNames: string[] = [];
    const pQs: number[] = [];
    for (const name of stats) {
      const s = parseTrendStat(name);
      if (s === undefined) continue;
      if (s.kind === 'p') {
        pNames.push(name);
        pQs.push(s.q);
        out[name] = 0;
      } else {
        out[name] = s.kind === 'avg' ? this.avg : s.kind === 'min' ? this.min : s.kind === 'max' ? this.max : this.count;
      }
    }
    const ps = this.percentiles(pQs);
    pNames.forEach((name, i) => (out[name] = ps[i] ?? 0));
    return out;
  }

  snapshot(): TrendSnapshot {
    return {
      type: 'trend',
      count: this.count,
      min: this.min,
      max: this.max,
      sum: this.#acc.sum,
      comp: this.#acc.comp,
      zeros: this.#zeros,
      pos: this.#pos.pairs(),
      neg: this.#neg.pairs(),
    };
  }

  merge(s: TrendSnapshot): void {
    if (s.count === 0) return;
    if (s.min < this.#min) this.#min = s.min;
    if (s.max > this.#max) this.#max = s.max;
    this.count += s.count;
    this.#zeros += s.zeros;
    this.#acc.comp += s.comp;
    neumaier(this.#acc, s.sum);
    this.#pos.addPairs(s.pos);
    this.#neg.addPairs(s.neg);
  }

  /** Bytes held by the bucket arrays (for memory checks). */
  memoryBytes(): number {
    return this.#pos.bytes() + this.#neg.bytes();
  }
}

export type Sink = CounterSink | GaugeSink | RateSink | TrendSink;

export function createSink(type: MetricType): Sink {
  switch (type) {
    case 'counter':
      return new CounterSink();
    case 'gauge':
      return new GaugeSink();
    case 'rate':
      return new RateSink();
    case 'trend':
      return new TrendSink();
  }
}

/** Merges a snapshot into a sink of the same type; throws on a type mismatch. */
export function mergeSink(sink: Sink, s: SinkSnapshot): void {
  if (sink.type === 'counter' && s.type === 'counter') sink.merge(s);
  else if (sink.type === 'gauge' && s.type === 'gauge') sink.merge(s);
  else if (sink.type === 'rate' && s.type === 'rate') sink.merge(s);
  else if (sink.type === 'trend' && s.type === 'trend') sink.merge(s);
  else throw new TypeError(`cannot merge a ${s.type} snapshot into a ${sink.type} sink`);
}

/** Exact k6 percentile over raw values (reference implementation for tests and small data). */
export function exactPercentile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  if (n === 1) return sorted[0] ?? 0;
  const i = q * (n - 1);
  const j = sorted[Math.floor(i)] ?? 0;
  const k = sorted[Math.ceil(i)] ?? 0;
  return j + (k - j) * (i - Math.floor(i));
}
