/**
 * A mergeable relative-error quantile sketch (logarithmic bins, DDSketch-style).
 *
 * Bound: every quantile it returns is within RELATIVE_ERROR (0.5 %) of the exact value k6 computes
 * (k6 interpolates linearly between the two order statistics around rank q·(n−1); the sketch
 * estimates both order statistics within 1 % and interpolates the same way, so the result stays
 * within 0.5 %). min, max, count, sum (so avg) are exact. Values with |v| < MIN_TRACKED count as 0.
 * Memory grows with the log of the value range, not with the sample count: ~230 bins per decade.
 */

export const RELATIVE_ERROR = 0.005;
const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LN_GAMMA = Math.log(GAMMA);
const MIN_TRACKED = 1e-9;

/** Bins for one sign, in a growable dense array indexed from `offset`. */
class Store {
  bins: Uint32Array = new Uint32Array(0);
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
    const newOffset = lo - pad;
    next.set(this.bins, this.offset - newOffset);
    this.bins = next;
    this.offset = newOffset;
  }

  merge(o: Store): void {
    for (let i = 0; i < o.bins.length; i++) {
      const n = o.bins[i] ?? 0;
      if (n > 0) this.add(o.offset + i, n);
    }
  }

  /** Bin index holding the element of 0-based rank `rank` (ascending bin order). */
  indexAtRank(rank: number, descending: boolean): number {
    let seen = 0;
    const len = this.bins.length;
    for (let k = 0; k < len; k++) {
      const i = descending ? len - 1 - k : k;
      seen += this.bins[i] ?? 0;
      if (seen > rank) return this.offset + i;
    }
    return this.offset + (descending ? 0 : len - 1);
  }

  toJSON(): { o: number; b: number[] } {
    let first = 0;
    let last = this.bins.length - 1;
    while (first <= last && this.bins[first] === 0) first++;
    while (last >= first && this.bins[last] === 0) last--;
    return { o: this.offset + first, b: Array.from(this.bins.subarray(first, last + 1)) };
  }

  static fromJSON(j: { o: number; b: readonly number[] }): Store {
    const s = new Store();
    j.b.forEach((n, i) => {
      if (n > 0) s.add(j.o + i, n);
    });
    return s;
  }
}

export interface SketchJSON {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly zeros: number;
  readonly pos: { o: number; b: number[] };
  readonly neg: { o: number; b: number[] };
}

export class QuantileSketch {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private zeros = 0;
  private pos = new Store();
  private neg = new Store();

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v > MIN_TRACKED) this.pos.add(Math.ceil(Math.log(v) / LN_GAMMA), 1);
    else if (v < -MIN_TRACKED) this.neg.add(Math.ceil(Math.log(-v) / LN_GAMMA), 1);
    else this.zeros++;
  }

  /** add(v) on this sketch and on `twin`, with the bin index worked out once (the same bins as two add calls). */
  addTwin(twin: QuantileSketch, v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    twin.count++;
    twin.sum += v;
    if (v < twin.min) twin.min = v;
    if (v > twin.max) twin.max = v;
    if (v > MIN_TRACKED) {
      const i = Math.ceil(Math.log(v) / LN_GAMMA);
      this.pos.add(i, 1);
      twin.pos.add(i, 1);
    } else if (v < -MIN_TRACKED) {
      const i = Math.ceil(Math.log(-v) / LN_GAMMA);
      this.neg.add(i, 1);
      twin.neg.add(i, 1);
    } else {
      this.zeros++;
      twin.zeros++;
    }
  }

  merge(o: QuantileSketch): void {
    if (o.count === 0) return;
    this.count += o.count;
    this.sum += o.sum;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.zeros += o.zeros;
    this.pos.merge(o.pos);
    this.neg.merge(o.neg);
  }

  get avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Estimate of the element with 0-based rank `rank` in ascending order. */
  private atRank(rank: number): number {
    if (rank <= 0) return this.min;
    if (rank >= this.count - 1) return this.max;
    let v: number;
    if (rank < this.neg.total) {
      const i = this.neg.indexAtRank(rank, true);
      v = (-2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
    } else if (rank < this.neg.total + this.zeros) {
      v = 0;
    } else {
      const i = this.pos.indexAtRank(rank - this.neg.total - this.zeros, false);
      v = (2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
    }
    return Math.min(this.max, Math.max(this.min, v));
  }

  /** k6's percentile: linear interpolation between the order statistics around q·(n−1); q in 0..1. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (this.count === 1) return this.min;
    const i = q * (this.count - 1);
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    const a = this.atRank(lo);
    if (hi === lo) return a;
    const b = this.atRank(hi);
    return a + (b - a) * (i - lo);
  }

  toJSON(): SketchJSON {
    return {
      count: this.count,
      sum: this.sum,
      min: this.min,
      max: this.max,
      zeros: this.zeros,
      pos: this.pos.toJSON(),
      neg: this.neg.toJSON(),
    };
  }

  static fromJSON(j: SketchJSON): QuantileSketch {
    const s = new QuantileSketch();
    s.count = j.count;
    s.sum = j.sum;
    s.min = j.count === 0 ? Infinity : j.min;
    s.max = j.count === 0 ? -Infinity : j.max;
    s.zeros = j.zeros;
    s.pos = Store.fromJSON(j.pos);
    s.neg = Store.fromJSON(j.neg);
    return s;
  }
}
