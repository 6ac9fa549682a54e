/**
 * Execution segments, as k6 defines them (lib/execution_segment.go): a test is split into
 * (from, to] parts of [0, 1], every instance computes its own share without a coordinator.
 *
 * - `ExecutionSegment`: one (from, to] part, exact rationals (bigint numerator/denominator).
 * - `ExecutionSegmentSequence`: the ordered, gap-free list of segments all instances use.
 * - `ExecutionTuple`: a segment inside its filled sequence; `scaleInt64` divides integers
 *   (VUs, iterations) between segments so the parts always sum to the whole, using k6's
 *   striping algorithm; `SegmentedIndex` walks the striped global indexes one instance owns.
 *
 * Pure maths, no I/O. Parsing never throws: it returns `{ ok: false, message }`.
 */

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

function gcdBig(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/** An exact rational number, always normalised (denominator > 0, gcd 1). */
export class Rat {
  readonly num: bigint;
  readonly den: bigint;
  constructor(num: bigint, den = 1n) {
    if (den === 0n) throw new RangeError('Rat: zero denominator');
    const sign = den < 0n ? -1n : 1n;
    const g = gcdBig(num, den) || 1n;
    this.num = (sign * num) / g;
    this.den = (sign * den) / g;
  }
  static of(num: number | bigint, den: number | bigint = 1n): Rat {
    return new Rat(BigInt(num), BigInt(den));
  }
  add(o: Rat): Rat {
    return new Rat(this.num * o.den + o.num * this.den, this.den * o.den);
  }
  sub(o: Rat): Rat {
    return new Rat(this.num * o.den - o.num * this.den, this.den * o.den);
  }
  mul(o: Rat): Rat {
    return new Rat(this.num * o.num, this.den * o.den);
  }
  cmp(o: Rat): number {
    const l = this.num * o.den;
    const r = o.num * this.den;
    return l < r ? -1 : l > r ? 1 : 0;
  }
  eq(o: Rat): boolean {
    return this.num === o.num && this.den === o.den;
  }
  toNumber(): number {
    return Number(this.num) / Number(this.den);
  }
  /** Like Go's big.Rat.RatString: "a/b", or "a" when the denominator is 1. */
  toString(): string {
    return this.den === 1n ? this.num.toString() : `${this.num.toString()}/${this.den.toString()}`;
  }
  /** Like Go's big.Rat.FloatString(n): fixed decimals, rounded half away from zero. */
  toFixed(digits: number): string {
    const scale = 10n ** BigInt(digits);
    const neg = this.num < 0n;
    const abs = neg ? -this.num : this.num;
    let q = (abs * scale) / this.den;
    const r = (abs * scale) % this.den;
    if (r * 2n >= this.den) q += 1n;
    const s = q.toString().padStart(digits + 1, '0');
    const int = s.slice(0, s.length - digits);
    const frac = s.slice(s.length - digits);
    return `${neg ? '-' : ''}${int}${digits > 0 ? `.${frac}` : ''}`;
  }
}

const ZERO = Rat.of(0);
const ONE = Rat.of(1);

/** Go's big.Rat SetString subset: integers, fractions `a/b`, decimals with optional exponent. */
function parseRat(s: string): Rat | undefined {
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (frac) {
    const den = BigInt(frac[2] ?? '1');
    return den === 0n ? undefined : new Rat(BigInt(frac[1] ?? '0'), den);
  }
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!dec) return undefined;
  const [, sign = '', intPart = '', fracPart = '', expPart] = dec;
  if (intPart === '' && fracPart === '') return undefined;
  let num = BigInt(`${intPart}${fracPart}` || '0');
  let den = 10n ** BigInt(fracPart.length);
  const exp = expPart === undefined ? 0 : Number(expPart);
  if (Math.abs(exp) > 1000) return undefined;
  if (exp > 0) num *= 10n ** BigInt(exp);
  if (exp < 0) den *= 10n ** BigInt(-exp);
  return new Rat(sign === '-' ? -num : num, den);
}

/** k6's stringToRat: `50%` (integer percent), `0.5`, `1/2`. */
export function stringToRat(s: string): Result<Rat> {
  if (s.endsWith('%')) {
    const body = s.slice(0, -1);
    if (!/^[+-]?\d+$/.test(body)) return { ok: false, message: `'${s}' is not a valid percentage` };
    return { ok: true, value: new Rat(BigInt(body), 100n) };
  }
  const r = parseRat(s);
  if (r === undefined) return { ok: false, message: `'${s}' is not a valid percentage, decimal, fraction or interval value` };
  return { ok: true, value: r };
}

/** A (from, to] part of the whole test, 0 <= from < to <= 1. */
export class ExecutionSegment {
  readonly from: Rat;
  readonly to: Rat;
  readonly length: Rat;
  private constructor(from: Rat, to: Rat) {
    this.from = from;
    this.to = to;
    this.length = to.sub(from);
  }
  /** Unchecked constructor for internal use (filled sequences). */
  static unchecked(from: Rat, to: Rat): ExecutionSegment {
    return new ExecutionSegment(from, to);
  }
  static full(): ExecutionSegment {
    return new ExecutionSegment(ZERO, ONE);
  }
  static create(from: Rat, to: Rat): Result<ExecutionSegment> {
    if (from.cmp(ZERO) < 0) return { ok: false, message: `segment start value must be at least 0 but was ${from.toFixed(2)}` };
    if (from.cmp(to) >= 0) {
      return { ok: false, message: `segment start(${from.toFixed(2)}) must be less than its end(${to.toFixed(2)})` };
    }
    if (to.cmp(ONE) > 0) return { ok: false, message: `segment end value can't be more than 1 but was ${to.toFixed(2)}` };
    return { ok: true, value: new ExecutionSegment(from, to) };
  }
  /**
   * k6's NewExecutionSegmentFromString: `1/2:3/4`, `0.5:0.75`, `50%:75%` are (from, to];
   * a single value `20%` / `0.2` / `1/5` is (0, value]; empty means the whole test.
   */
  static parse(text: string): Result<ExecutionSegment> {
    let from = ZERO;
    let toStr = text === '' ? '1' : text;
    const colon = toStr.indexOf(':');
    if (colon >= 0) {
      const f = stringToRat(toStr.slice(0, colon));
      if (!f.ok) return f;
      from = f.value;
      toStr = toStr.slice(colon + 1);
    }
    const to = stringToRat(toStr);
    if (!to.ok) return to;
    return ExecutionSegment.create(from, to.value);
  }
  isFull(): boolean {
    return this.from.eq(ZERO) && this.to.eq(ONE);
  }
  equals(o: ExecutionSegment): boolean {
    return this.from.eq(o.from) && this.to.eq(o.to);
  }
  /** `from:to` as k6 prints it (`0:1/2`). */
  toString(): string {
    return `${this.from.toString()}:${this.to.toString()}`;
  }
  floatLength(): number {
    return this.length.toNumber();
  }
  /** Splits this segment into `n` equal consecutive sub-segments. */
  split(n: number): ExecutionSegment[] {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of parts must be at least 1, ${n} received`);
    const step = new Rat(this.length.num, this.length.den * BigInt(n));
    const out: ExecutionSegment[] = [];
    let from = this.from;
    for (let i = 0; i < n; i++) {
      const to = i === n - 1 ? this.to : from.add(step);
      out.push(new ExecutionSegment(from, to));
      from = to;
    }
    return out;
  }
  /** a.subSegment(b): b taken inside a, e.g. (1/2,1].subSegment((0,1/2]) = (1/2,3/4]. */
  subSegment(child: ExecutionSegment): ExecutionSegment {
    const from = this.from.add(this.length.mul(child.from));
    return new ExecutionSegment(from, from.add(this.length.mul(child.length)));
  }
  /** k6's ExecutionSegment.Scale (the older, non-striped rounding): round(v*to - round(v*from)). */
  scale(value: number): number {
    const v = Rat.of(value);
    const fromV = roundHalfUp(v.mul(this.from));
    return Number(roundHalfUp(v.mul(this.to).sub(new Rat(fromV))));
  }
}

function roundHalfUp(r: Rat): bigint {
  const q = r.num / r.den;
  const rem = r.num % r.den;
  return rem * 2n >= r.den ? q + 1n : q;
}

/** An ordered chain of segments, each starting where the previous one ends. */
export type ExecutionSegmentSequence = readonly ExecutionSegment[];

/** k6's NewExecutionSegmentSequenceFromString: "r1,r2,...,rn" means (r1,r2], ..., (r{n-1},rn]. */
export function parseSegmentSequence(text: string): Result<ExecutionSegmentSequence> {
  if (text === '') return { ok: true, value: [] };
  const points = text.split(',');
  if (points.length < 2) {
    return { ok: false, message: `at least 2 points are needed for an execution segment sequence, ${points.length} given` };
  }
  const segments: ExecutionSegment[] = [];
  let start: Rat | undefined;
  for (const p of points) {
    const r = stringToRat(p);
    if (!r.ok) return r;
    if (start !== undefined) {
      const seg = ExecutionSegment.create(start, r.value);
      if (!seg.ok) return seg;
      segments.push(seg.value);
    }
    start = r.value;
  }
  return { ok: true, value: segments };
}

export function sequenceToString(seq: ExecutionSegmentSequence): string {
  const first = seq[0];
  if (first === undefined) return '';
  return [first.from.toString(), ...seq.map((s) => s.to.toString())].join(',');
}

/** Fills gaps so the sequence covers (0, 1] (k6's GetFilledExecutionSegmentSequence). */
export function filledSequence(sequence: ExecutionSegmentSequence | undefined, fallback: ExecutionSegment | undefined): ExecutionSegment[] {
  let result: ExecutionSegment[];
  if (sequence === undefined || sequence.length === 0) {
    if (fallback === undefined || fallback.length.eq(ONE)) return [ExecutionSegment.full()];
    result = [fallback];
  } else {
    result = [...sequence];
  }
  const first = result[0];
  if (first !== undefined && !first.from.eq(ZERO)) result.unshift(ExecutionSegment.unchecked(ZERO, first.from));
  const last = result[result.length - 1];
  if (last !== undefined && !last.to.eq(ONE)) result.push(ExecutionSegment.unchecked(last.to, ONE));
  return result;
}

function gcdNum(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/**
 * A filled sequence with k6's pre-computed striping: `offsets[i]` = [start, d1, ..., dn] where
 * segment i owns global indexes start, start+d1, ... repeating every `lcd` elements.
 */
export class SegmentSequenceWrapper {
  readonly sequence: readonly ExecutionSegment[];
  readonly lcd: number;
  private readonly offsets: readonly (readonly number[])[];

  constructor(sequence: readonly ExecutionSegment[]) {
    const first = sequence[0];
    const last = sequence[sequence.length - 1];
    if (first === undefined || last === undefined || !first.from.eq(ZERO) || !last.to.eq(ONE)) {
      throw new RangeError(`cannot wrap a non-full execution segment sequence '${sequenceToString(sequence)}'`);
    }
    this.sequence = sequence;
    let lcd = Number(first.length.den);
    for (const seg of sequence.slice(1)) {
      const n = Number(seg.length.den);
      if (lcd % n !== 0) lcd *= n / gcdNum(lcd, n);
    }
    this.lcd = lcd;
    const sorted = sequence
      .map((seg, originalIndex) => ({ norm: Number(seg.length.num) * (lcd / Number(seg.length.den)), originalIndex }))
      .sort((a, b) => b.norm - a.norm); // Array.prototype.sort is stable, like sort.SliceStable
    const offsets: number[][] = sequence.map(() => []);
    const prev = sequence.map(() => 0);
    const chosen = sequence.map(() => 0);
    for (let i = 0; i < lcd; i++) {
      for (let s = 0; s < sorted.length; s++) {
        const entry = sorted[s];
        if (entry === undefined) continue;
        const num = (chosen[s] ?? 0) * lcd;
        const denom = entry.norm;
        const q = Math.floor(num / denom);
        if (i > q || (i === q && num % denom === 0)) {
          chosen[s] = (chosen[s] ?? 0) + 1;
          const idx = entry.originalIndex;
          const list = offsets[idx] ?? [];
          list.push(i - (prev[idx] ?? 0));
          prev[idx] = i;
          if (list.length === denom) list.push((list[0] ?? 0) + lcd - i);
          break;
        }
      }
    }
    this.offsets = offsets;
  }

  /** Start and per-step offsets of segment `index` (k6's GetStripedOffsets). */
  stripedOffsets(index: number): { start: number; offsets: readonly number[]; lcd: number } {
    const o = this.offsets[index] ?? [0, this.lcd];
    return { start: o[0] ?? 0, offsets: o.slice(1), lcd: this.lcd };
  }

  /** How much of `value` segment `index` gets; the parts over all segments sum to `value`. */
  scaleInt64(index: number, value: number): number {
    const { start, offsets } = this.stripedOffsets(index);
    let result = Math.floor(value / this.lcd) * offsets.length;
    const rem = value % this.lcd;
    for (let gi = 0, i = start; i < rem; i += offsets[gi] ?? this.lcd, gi++) result++;
    return result;
  }

  findSegment(segment: ExecutionSegment): number {
    return this.sequence.findIndex((s) => s.equals(segment));
  }

  /**
   * Re-segments the sequence by `value` (k6's GetNewExecutionSegmentSequenceFromValue): each
   * segment gets length scaleInt64(value)/value, empty ones are dropped. Returns the new wrapper
   * and where `tracked` went (-1 when it got nothing).
   */
  resegment(value: number, tracked: number): { wrapper: SegmentSequenceWrapper; index: number } {
    if (value < 1) return { wrapper: this, index: -1 };
    if (value % this.lcd === 0) return { wrapper: this, index: tracked };
    const next: ExecutionSegment[] = [];
    let newIndex = -1;
    let prev = 0;
    for (let i = 0; i < this.sequence.length; i++) {
      const v = this.scaleInt64(i, value);
      if (v === 0) continue;
      if (i === tracked) newIndex = next.length;
      next.push(ExecutionSegment.unchecked(Rat.of(prev, value), Rat.of(prev + v, value)));
      prev += v;
    }
    if (newIndex === -1) return { wrapper: this, index: -1 };
    return { wrapper: new SegmentSequenceWrapper(next), index: newIndex };
  }
}

/** A segment plus its filled sequence: what one instance needs to compute its share. */
export class ExecutionTuple {
  readonly wrapper: SegmentSequenceWrapper;
  readonly segment: ExecutionSegment;
  readonly index: number;

  constructor(wrapper: SegmentSequenceWrapper, index: number) {
    const seg = wrapper.sequence[index];
    if (seg === undefined) throw new RangeError(`segment index ${index} is outside the sequence`);
    this.wrapper = wrapper;
    this.segment = seg;
    this.index = index;
  }

  /** The whole test, unsplit. */
  static full(): ExecutionTuple {
    return new ExecutionTuple(new SegmentSequenceWrapper([ExecutionSegment.full()]), 0);
  }

  /** k6's NewExecutionTuple: fills the sequence around the segment and finds it. */
  static create(segment: ExecutionSegment | undefined, sequence?: ExecutionSegmentSequence): Result<ExecutionTuple> {
    const seg = segment ?? ExecutionSegment.full();
    const filled = filledSequence(sequence, seg);
    const wrapper = new SegmentSequenceWrapper(filled);
    const index = wrapper.findSegment(seg);
    if (index < 0) {
      return { ok: false, message: `couldn't find segment ${seg.toString()} in sequence ${sequenceToString(filled)}` };
    }
    return { ok: true, value: new ExecutionTuple(wrapper, index) };
  }

  scaleInt64(value: number): number {
    if (this.wrapper.sequence.length === 1) return value;
    return this.wrapper.scaleInt64(this.index, value);
  }

  stripedOffsets(): { start: number; offsets: readonly number[]; lcd: number } {
    return this.wrapper.stripedOffsets(this.index);
  }

  /** k6's GetNewExecutionTupleFromValue; undefined when this segment gets none of `value`. */
  fromValue(value: number): ExecutionTuple | undefined {
    const { wrapper, index } = this.wrapper.resegment(value, this.index);
    return index < 0 ? undefined : new ExecutionTuple(wrapper, index);
  }

  toString(): string {
    return `${this.segment.toString()} in ${sequenceToString(this.wrapper.sequence)}`;
  }
}

/**
 * Walks the global (unscaled) indexes one segment owns. Both counters are 1-based:
 * next() returns [scaled, unscaled] = [how many this instance has, the global position].
 */
export class SegmentedIndex {
  private readonly start: number;
  private readonly lcd: number;
  private readonly offsets: readonly number[];
  scaled = 0;
  unscaled = 0;

  constructor(tuple: ExecutionTuple) {
    const s = tuple.stripedOffsets();
    this.start = s.start;
    this.lcd = s.lcd;
    this.offsets = s.offsets;
  }

  private offset(i: number): number {
    return this.offsets[i % this.offsets.length] ?? this.lcd;
  }

  next(): [number, number] {
    this.step();
    return [this.scaled, this.unscaled];
  }

  /** next() without the pair: read `scaled` and `unscaled` after it. */
  step(): void {
    if (this.scaled === 0) this.unscaled += this.start + 1;
    else this.unscaled += this.offset(this.scaled - 1);
    this.scaled++;
  }

  prev(): [number, number] {
    if (this.scaled === 1) this.unscaled -= this.start + 1;
    else this.unscaled -= this.offset(this.scaled - 2);
    this.scaled--;
    return [this.scaled, this.unscaled];
  }

  /** Moves to the largest scaled index whose unscaled index is <= value. */
  goTo(value: number): [number, number] {
    const whole = Math.floor(value / this.lcd);
    this.scaled = whole * this.offsets.length;
    this.unscaled = whole * this.lcd + this.start + 1;
    let gi = 0;
    for (let i = this.start; i < value % this.lcd; i += this.offset(gi), gi++) {
      this.scaled++;
      this.unscaled += this.offset(gi);
    }
    if (gi > 0) this.unscaled -= this.offset(gi - 1);
    else if (this.scaled > 0) this.unscaled -= this.offset(this.offsets.length - 1);
    if (this.scaled === 0) this.unscaled = 0;
    return [this.scaled, this.unscaled];
  }
}

/**
 * `exec.vu.idInTest` of this instance's VUs (k6's GetUniqueVUIdentifiers): the n-th VU an instance
 * running `tuple`'s segment initialises (`idInInstance` n, also `__VU`) takes the n-th id of that
 * segment's stripe of the whole test, so the instances of one segment sequence number their VUs
 * without gaps or overlaps (halves: 1, 3, 5, ... and 2, 4, 6, ...). The whole test maps n to n.
 */
export function vuIdsInTest(tuple: ExecutionTuple): (idInInstance: number) => number {
  if (tuple.segment.isFull()) return (n) => n;
  const index = new SegmentedIndex(tuple);
  const ids: number[] = [];
  return (n) => {
    while (ids.length < n) ids.push(index.next()[1]);
    return ids[n - 1] ?? n;
  };
}

/**
 * The segments that spread one run over up to `n` worker threads (each worker runs one
 * segment; start `segments.length` workers). For a whole-test run this is k6's own split of
 * (0,1] into n equal parts, so the workers together do exactly what one k6 instance does.
 * When this instance already runs a user segment (`--execution-segment`), splitting it again
 * would change k6's striping (shares could differ by 1 from k6's), so it stays one segment:
 * one worker, exact counts.
 */
export function splitForWorkers(
  n: number,
  tuple: ExecutionTuple = ExecutionTuple.full(),
): {
  readonly sequence: string;
  readonly segments: readonly string[];
} {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`worker count must be a positive integer, got ${n}`);
  if (!tuple.segment.isFull()) {
    return { sequence: sequenceToString(tuple.wrapper.sequence), segments: [tuple.segment.toString()] };
  }
  if (n === 1) return { sequence: '', segments: ['0:1'] };
  const parts = tuple.segment.split(n);
  return { sequence: sequenceToString(parts), segments: parts.map((p) => p.toString()) };
}
