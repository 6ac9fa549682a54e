/**
 * The one quantile sketch of agentload: the engine's trends (engine/metrics/sinks.ts) and the report's
 * aggregates (src/reporting/aggregate.ts) both count values in it. Node-free, so both sides may import it.
 *
 * Every non-zero value is counted in a logarithmic bin: base bin `i` holds |v| in (γ^(i−1), γ^i] with
 * γ = (1+α)/(1−α), α = BASE_RELATIVE_ERROR (0.05 %); negative values use a mirrored store and zero has its
 * own exact count. A sketch made with `fold` k counts in bins of k consecutive base bins (bin j holds
 * base bins ((j−1)k, jk]), so its α is (γ^k − 1)/(γ^k + 1): fold 10 gives 0.49975 % (REPORT_FOLD, within
 * the report's stated 0.5 %). A coarse bin is exactly `fold` base bins (the same grid), never a second scheme.
 *
 * Bound (docs/engine-data.md, docs/reports.md): the k-th smallest value is estimated by its bin's centre
 * 2γ^j/(γ+1) clamped to [min, max] (the smallest and largest are exact), so |estimate − x_k| ≤ α·|x_k|; a
 * percentile interpolated as k6 does (linearly between the order statistics around q·(n−1)) is then off by
 * at most α·max(|x_lo|, |x_hi|), i.e. α relative when both have the same sign. count, min and max are
 * exact; sums are the caller's (the engine keeps a compensated one). NaN and ±Infinity are ignored; −0
 * counts as 0. Merging adds bin counts, so merged percentiles equal one sketch's of all values.
 *
 * Memory: one dense Uint32Array per sign over the bins seen (grown by doubling), so it follows the range
 * of the values, not their number: ~2,303 base bins per decade (~9 KB), ~230 at fold 10. A bin holds at
 * most 2^32 − 1 values (4.29 billion: 12 hours of 100,000 samples/s, all within 0.1 % of each other).
 */

/** α of the base grid: the engine's trends (k6's summary shows two decimals of a percentile). */
export const BASE_RELATIVE_ERROR = 0.0005;
/** The report's fold: bins of 10 base bins, α = 0.49975 %. */
export const REPORT_FOLD = 10;

const GAMMA = (1 + BASE_RELATIVE_ERROR) / (1 - BASE_RELATIVE_ERROR);
const LN_GAMMA = Math.log(GAMMA);
const INV_LN_GAMMA = 1 / LN_GAMMA;

/** α of a sketch whose bins are `fold` base bins. */
export function relativeErrorOf(fold: number): number {
  const g = Math.pow(GAMMA, fold);
  return (g - 1) / (g + 1);
}

/** Bins of one sign, a growable dense array indexed from `offset`. */
class Store {
  bins = new Uint32Array(0);
  offset = 0;
  total = 0;

  add(index: number, n: number): void {
    if (this.bins.length === 0) {
      this.bins = new Uint32Array(64);
      this.offset = index - 32;
    }
    let i = index - this.offset;
    if (i < 0 || i >= this.bins.length) {
      this.grow(index);
      i = index - this.offset;
    }
    this.bins[i] = (this.bins[i] ?? 0) + n;
    this.total += n;
  }

  private grow(index: number): void {
    const lo = Math.min(this.offset, index);
    const hi = Math.max(this.offset + this.bins.length - 1, index);
    const size = Math.max(hi - lo + 1, this.bins.length * 2);
    const pad = Math.floor((size - (hi - lo + 1)) / 2);
    const next = new Uint32Array(size);
    const offset = lo - pad;
    next.set(this.bins, this.offset - offset);
    this.bins = next;
    this.offset = offset;
  }

  merge(o: Store): void {
    for (let i = 0; i < o.bins.length; i++) {
      const n = o.bins[i] ?? 0;
      if (n > 0) this.add(o.offset + i, n);
    }
  }

  /** Non-zero bins as flat [index, count, ...] pairs, ascending index (compact for JSON, however wide the range). */
  pairs(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.bins.length; i++) {
      const n = this.bins[i] ?? 0;
      if (n > 0) out.push(this.offset + i, n);
    }
    return out;
  }

  addPairs(pairs: readonly number[]): void {
    for (let i = 0; i + 1 < pairs.length; i += 2) this.add(pairs[i] ?? 0, pairs[i + 1] ?? 0);
  }
}

/** A sketch as plain JSON (structured-cloneable): what engine workers send to the main thread. */
export interface SketchSnapshot {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly zeros: number;
  /** Flat pairs [binIndex, count, ...] of positive values. */
  readonly pos: readonly number[];
  /** Flat pairs [binIndex, count, ...] of negative values (index of |v|). */
  readonly neg: readonly number[];
}

export class QuantileSketch {
  count = 0;
  min = Infinity;
  max = -Infinity;
  private zeros = 0;
  private readonly pos = new Store();
  private readonly neg = new Store();
  readonly relativeError: number;

  /** `fold`: base bins per bin (1: the engine's 0.05 %; REPORT_FOLD: the report's 0.5 %). */
  constructor(readonly fold = 1) {
    if (!Number.isInteger(fold) || fold < 1) throw new RangeError(`sketch fold must be a positive integer, got ${fold}`);
    this.relativeError = relativeErrorOf(fold);
  }

  /** Bin of |v| > 0: the base index, folded (ceil(ceil(x)/k) = ceil(x/k), so folding loses nothing). */
  private binOf(abs: number): number {
    const i = Math.ceil(Math.log(abs) * INV_LN_GAMMA);
    return this.fold === 1 ? i : Math.ceil(i / this.fold);
  }

  /** Counts one value; returns false (and counts nothing) for NaN and ±Infinity. */
  add(v: number): boolean {
    if (v > 0) {
      if (v === Infinity) return false;
      this.pos.add(this.binOf(v), 1);
    } else if (v < 0) {
      if (v === -Infinity) return false;
      this.neg.add(this.binOf(-v), 1);
    } else if (v === 0) {
      this.zeros++;
      v = 0; // -0 counts as 0 (JSON, and so a merged snapshot, cannot carry -0)
    } else return false;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    return true;
  }

  /** add(v) on this sketch and on `twin` (same fold), with the bin worked out once. */
  addTwin(twin: QuantileSketch, v: number): void {
    if (twin.fold !== this.fold || !(v > 0 && v !== Infinity)) {
      this.add(v);
      twin.add(v);
      return;
    }
    const j = this.binOf(v);
    this.pos.add(j, 1);
    twin.pos.add(j, 1);
    this.count++;
    twin.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v < twin.min) twin.min = v;
    if (v > twin.max) twin.max = v;
  }

  merge(o: QuantileSketch): void {
    if (o.fold !== this.fold) throw new RangeError(`cannot merge a sketch of fold ${o.fold} into one of fold ${this.fold}`);
    if (o.count === 0) return;
    this.addTotals(o.count, o.min, o.max, o.zeros);
    this.pos.merge(o.pos);
    this.neg.merge(o.neg);
  }

  /** count, min, max and zeros of another sketch of the same fold, added (a merge without the bins). */
  private addTotals(count: number, min: number, max: number, zeros: number): void {
    this.count += count;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
    this.zeros += zeros;
  }

  /** A copy (same fold, same bins). */
  clone(): QuantileSketch {
    const c = new QuantileSketch(this.fold);
    c.merge(this);
    return c;
  }

  /** k6's percentile: linear interpolation between the order statistics around q·(n−1); q in [0, 1]. */
  quantile(q: number): number {
    return this.quantiles([q])[0] ?? 0;
  }

  /** Several percentiles in one pass over the bins. */
  quantiles(qs: readonly number[]): number[] {
    const n = this.count;
    if (n === 0) return qs.map(() => 0);
    if (n === 1) return qs.map(() => this.min);
    const ranks: number[] = [];
    for (const q of qs) {
      const i = q * (n - 1);
      ranks.push(Math.floor(i), Math.ceil(i));
    }
    const est = this.valuesAtRanks(ranks);
    return qs.map((q, k) => {
      const i = q * (n - 1);
      const lo = est.get(ranks[2 * k] ?? 0) ?? 0;
      const hi = est.get(ranks[2 * k + 1] ?? 0) ?? 0;
      return lo + (hi - lo) * (i - Math.floor(i));
    });
  }

  /** Estimates of the r-th smallest value (0-based) for each rank: one walk, negatives (largest |v| first), zeros, positives. */
  private valuesAtRanks(ranks: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    const wanted = [...new Set(ranks)].sort((a, b) => a - b);
    const last = this.count - 1;
    const lnG = LN_GAMMA * this.fold;
    const centre = 2 / ((this.fold === 1 ? GAMMA : Math.exp(lnG)) + 1);
    let w = 0;
    let cum = 0;
    /** Assigns `v` to every wanted rank below `cum` (rank 0 and the last rank are min and max exactly). */
    const take = (v: number): void => {
      const c = v < this.min ? this.min : v > this.max ? this.max : v;
      for (; w < wanted.length && (wanted[w] ?? 0) < cum; w++) {
        const r = wanted[w] ?? 0;
        out.set(r, r === 0 ? this.min : r === last ? this.max : c);
      }
    };
    const nb = this.neg.bins;
    for (let i = nb.length - 1; i >= 0 && w < wanted.length; i--) {
      const c = nb[i] ?? 0;
      if (c === 0) continue;
      cum += c;
      take(-Math.exp((this.neg.offset + i) * lnG) * centre);
    }
    if (this.zeros > 0) {
      cum += this.zeros;
      take(0);
    }
    const pb = this.pos.bins;
    for (let i = 0; i < pb.length && w < wanted.length; i++) {
      const c = pb[i] ?? 0;
      if (c === 0) continue;
      cum += c;
      take(Math.exp((this.pos.offset + i) * lnG) * centre);
    }
    return out;
  }

  snapshot(): SketchSnapshot {
    return {
      count: this.count,
      min: this.count === 0 ? 0 : this.min,
      max: this.count === 0 ? 0 : this.max,
      zeros: this.zeros,
      pos: this.pos.pairs(),
      neg: this.neg.pairs(),
    };
  }

  /** Adds a snapshot of a sketch of the same fold. */
  mergeSnapshot(s: SketchSnapshot): void {
    if (s.count === 0) return;
    this.addTotals(s.count, s.min, s.max, s.zeros);
    this.pos.addPairs(s.pos);
    this.neg.addPairs(s.neg);
  }

  /** Bytes held by the bin arrays (for memory checks). */
  memoryBytes(): number {
    return this.pos.bins.byteLength + this.neg.bins.byteLength;
  }
}
