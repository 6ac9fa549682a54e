/**
 * The per-metric time series of a run: aggregates per bucket start, with a bucket width that doubles
 * (1 s, 2 s, 4 s, ...) whenever there would be more than MAX_BUCKETS, so memory stays bounded
 * whatever the run length. Also the per-tag-set series of one metric (TAG_SERIES_METRIC).
 */

import { addSample, mergeAgg, newAgg, type Agg } from './aggregate.ts';

export const MAX_BUCKETS = 720;

export class TimeBuckets {
  /** bucket start (ms since epoch) → metric → aggregate. */
  buckets = new Map<number, Map<string, Agg>>();
  /** bucket start (ms since epoch, same width as `buckets`) → tag set id → aggregate: the per-tag-set series. */
  tagBuckets = new Map<number, Map<number, Agg>>();
  bucketMs = 1000;
  /** Bumped whenever `buckets` is rebuilt (coarsen), so aggregates cached by callers are re-fetched. */
  gen = 0;
  /** The start of the bucket the last bucketAt returned (NaN after a coarsen). */
  lastStart = NaN;
  private last: Map<string, Agg> | undefined;

  /** The metric → aggregate map of the bucket holding `time`, made (and the series coarsened) if new. */
  bucketAt(time: number): Map<string, Agg> {
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    let bucket = start === this.lastStart ? this.last : this.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(start, bucket);
      if (this.buckets.size > MAX_BUCKETS) this.coarsen();
      bucket = this.bucketFor(time);
    }
    this.lastStart = Math.floor(time / this.bucketMs) * this.bucketMs;
    this.last = bucket;
    return bucket;
  }

  /** Adds a sample to the per-tag-set time series. */
  tagPoint(time: number, value: number, tagset: number): void {
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    let bucket = this.tagBuckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.tagBuckets.set(start, bucket);
    }
    let a = bucket.get(tagset);
    if (!a) {
      a = newAgg('trend');
      bucket.set(tagset, a);
    }
    addSample(a, value, time);
  }

  private bucketFor(time: number): Map<string, Agg> {
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    let bucket = start === this.lastStart ? this.last : this.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(start, bucket);
    }
    return bucket;
  }

  /** Doubles the bucket width until the series fits MAX_BUCKETS again. */
  private coarsen(): void {
    this.gen++;
    this.lastStart = NaN;
    this.last = undefined;
    while (this.buckets.size > MAX_BUCKETS) {
      this.bucketMs *= 2;
      const next = new Map<number, Map<string, Agg>>();
      for (const [start, metrics] of this.buckets) {
        const s = Math.floor(start / this.bucketMs) * this.bucketMs;
        const into = next.get(s);
        if (!into) {
          next.set(s, metrics);
          continue;
        }
        for (const [m, a] of metrics) {
          const t = into.get(m);
          if (t) mergeAgg(t, a);
          else into.set(m, a);
        }
      }
      this.buckets = next;
    }
    const tagNext = new Map<number, Map<number, Agg>>();
    for (const [start, perTag] of this.tagBuckets) {
      const s = Math.floor(start / this.bucketMs) * this.bucketMs;
      const into = tagNext.get(s);
      if (!into) {
        tagNext.set(s, perTag);
        continue;
      }
      for (const [id, a] of perTag) {
        const t = into.get(id);
        if (t) mergeAgg(t, a);
        else into.set(id, a);
      }
    }
    this.tagBuckets = tagNext;
  }
}
