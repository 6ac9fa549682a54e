/**
 * Sequence-number accounting for delivery checks (event bus, WebSocket fan-out): lost, duplicated and
 * out-of-order messages. Pure and bounded: memory holds only the sequence numbers seen above the
 * contiguous prefix, so a long in-order stream keeps a constant footprint.
 */

/** What one observed sequence number was. */
export type Observation = 'in-order' | 'out-of-order' | 'duplicate' | 'before-start';

export interface SequenceCounts {
  /** Every observation, duplicates included. */
  readonly received: number;
  /** Distinct sequence numbers at or after the start. */
  readonly unique: number;
  readonly duplicates: number;
  /** Distinct numbers that arrived after a higher one. */
  readonly outOfOrder: number;
  /** Numbers in [start, last] never seen (final only after `finish`). */
  readonly lost: number;
  /** Numbers that arrived before the first expected one (e.g. a subscriber that joined mid-stream). */
  readonly beforeStart: number;
}

export class SequenceTracker {
  private start: number | undefined;
  /** All numbers in [start, low] were seen. */
  private low = 0;
  private readonly above = new Set<number>();
  private max = Number.NEGATIVE_INFINITY;
  private received = 0;
  private unique = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private beforeStart = 0;

  /** `first`: the first expected number; when omitted, the first observed number sets it. */
  constructor(first?: number) {
    if (first !== undefined) this.setStart(first);
  }

  private setStart(first: number): void {
    if (!Number.isInteger(first)) throw new RangeError(`sequence start must be an integer, got ${first}`);
    this.start = first;
    this.low = first - 1;
  }

  observe(seq: number): Observation {
    if (!Number.isInteger(seq)) throw new RangeError(`sequence number must be an integer, got ${seq}`);
    this.received++;
    if (this.start === undefined) this.setStart(seq);
    const start = this.start ?? seq;
    if (seq < start) {
      this.beforeStart++;
      return 'before-start';
    }
    if (seq <= this.low || this.above.has(seq)) {
      this.duplicates++;
      return 'duplicate';
    }
    this.unique++;
    const late = seq < this.max;
    if (late) this.outOfOrder++;
    if (seq > this.max) this.max = seq;
    if (seq === this.low + 1) {
      this.low = seq;
      while (this.above.delete(this.low + 1)) this.low++;
    } else {
      this.above.add(seq);
    }
    return late ? 'out-of-order' : 'in-order';
  }

  /** Highest number seen (undefined before the first observation). */
  highest(): number | undefined {
    return this.max === Number.NEGATIVE_INFINITY ? undefined : this.max;
  }

  /** Numbers missing in [start, last]; `last` defaults to the highest seen (trailing losses need the real last). */
  missing(last?: number): number {
    // Nothing observed and no start given: nothing was expected yet.
    if (this.start === undefined) return 0;
    const end = Math.max(last ?? this.max, this.start - 1);
    const expected = end - this.start + 1;
    let seenInRange = Math.min(this.low, end) - this.start + 1;
    for (const s of this.above) if (s <= end) seenInRange++;
    return expected - seenInRange;
  }

  counts(last?: number): SequenceCounts {
    return {
      received: this.received,
      unique: this.unique,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      lost: this.missing(last),
      beforeStart: this.beforeStart,
    };
  }
}
