/**
 * Streams k6 `--out json` files (plain or .gz) line by line into mergeable aggregates:
 * totals per metric × tag set (only the tags that matter are kept), and a per-metric time series
 * whose bucket width doubles (1 s, 2 s, 4 s, ...) so memory stays bounded whatever the run length.
 * Lines are parsed with a fast path for k6's fixed layout and JSON.parse for anything else.
 */

import { stat } from 'node:fs/promises';
import { addSample, addSampleTwice, newAgg, type Agg } from './aggregate.ts';
import { ReportError, toError } from './errors.ts';
import { readK6File } from './ingest-read.ts';
import type { FileInfo, MetricDef, MetricSlot } from './ingest-types.ts';
import { K6LineParser, type PointSink } from './k6-line-parser.ts';
import { utf8 } from './k6-json-scan.ts';
import { TimeBuckets } from './time-buckets.ts';

export type { FileInfo, MetricDef, SubmetricDef } from './ingest-types.ts';

/** Tags kept on every sample; other tags are dropped unless a submetric filters on them. */
export const DIMENSIONS: readonly string[] = [
  'name',
  'method',
  'status',
  'scenario',
  'group',
  'check',
  'endpoint',
  'expected_response',
  'error_code',
  'error',
];

export { MAX_BUCKETS } from './time-buckets.ts';
/** The one metric that also keeps a time series per tag set: per-endpoint latency over time (charts, the baseline gate). */
export const TAG_SERIES_METRIC = 'http_req_duration';
export const MAX_TAGSETS = 20000;
export class RunAccumulator implements PointSink {
  readonly metrics = new Map<string, MetricDef>();
  /** Tag set id → tags (projected onto the kept keys). */
  readonly tagsets: Record<string, string>[] = [];
  /** metric → tag set id → aggregate. */
  readonly totals = new Map<string, Map<number, Agg>>();
  firstTime = Infinity;
  lastTime = -Infinity;
  readonly files: FileInfo[] = [];
  cardinalityCapped = false;

  /** bucket start (ms since epoch) → metric → aggregate. */
  get buckets(): ReadonlyMap<number, ReadonlyMap<string, Agg>> {
    return this.series.buckets;
  }
  /** bucket start (ms since epoch, same width as `buckets`) → tag set id → aggregate of TAG_SERIES_METRIC: per-endpoint time series. */
  get tagBuckets(): ReadonlyMap<number, ReadonlyMap<number, Agg>> {
    return this.series.tagBuckets;
  }
  /** The width of the time buckets (doubles as the run grows). */
  get bucketMs(): number {
    return this.series.bucketMs;
  }

  private readonly parser = new K6LineParser(this);
  private readonly series = new TimeBuckets();
  private readonly keep = new Set(DIMENSIONS);
  private readonly tagsetIds = new Map<string, number>();

  define(def: MetricDef): void {
    const old = this.metrics.get(def.name);
    if (old) {
      for (const t of def.thresholds) if (!old.thresholds.includes(t)) old.thresholds.push(t);
      for (const s of def.submetrics) if (!old.submetrics.some((x) => x.name === s.name)) old.submetrics.push(s);
    } else {
      this.metrics.set(def.name, { ...def, thresholds: [...def.thresholds], submetrics: [...def.submetrics] });
    }
    let grew = false;
    for (const s of def.submetrics)
      for (const k of Object.keys(s.tags))
        if (!this.keep.has(k)) {
          this.keep.add(k);
          grew = true;
        }
    // Tags already projected without the new key: cached raw strings must be re-projected.
    if (grew) this.parser.resetTagCaches();
  }

  tagsetOf(tags: Readonly<Record<string, unknown>> | null): number {
    const kept: Record<string, string> = {};
    let key = '';
    if (tags) {
      for (const k of Object.keys(tags).sort()) {
        if (!this.keep.has(k)) continue;
        const v = tags[k];
        const s = typeof v === 'string' ? v : JSON.stringify(v);
        kept[k] = s;
        key += `${k}\u0000${s}\u0001`;
      }
    }
    let id = this.tagsetIds.get(key);
    if (id === undefined) {
      if (this.tagsets.length >= MAX_TAGSETS) {
        this.cardinalityCapped = true;
        return this.tagsetOf(null);
      }
      id = this.tagsets.length;
      this.tagsets.push(kept);
      this.tagsetIds.set(key, id);
    }
    return id;
  }

  point(metric: string, time: number, value: number, tagset: number): void {
    let def = this.metrics.get(metric);
    if (!def) {
      // A Point before its Metric line (a later segment, or a cut head): assume a trend; k6 always declares first.
      const name = utf8(metric);
      def = { name, type: 'trend', contains: 'default', thresholds: [], submetrics: [] };
      this.metrics.set(name, def);
    }
    // Keys are def.name (interned), never the sliced `metric`, which would pin its read chunk.
    let perTag = this.totals.get(def.name);
    if (!perTag) {
      perTag = new Map();
      this.totals.set(def.name, perTag);
    }
    let a = perTag.get(tagset);
    if (!a) {
      a = newAgg(def.type);
      perTag.set(tagset, a);
    }
    addSample(a, value, time);
    if (time < this.firstTime) this.firstTime = time;
    if (time > this.lastTime) this.lastTime = time;
    const bucket = this.series.bucketAt(time);
    let b = bucket.get(def.name);
    if (!b) {
      b = newAgg(def.type);
      bucket.set(def.name, b);
    }
    addSample(b, value, time);
    if (def.name === TAG_SERIES_METRIC) this.series.tagPoint(time, value, tagset);
  }

  /** Per-metric shortcuts for the byte fast path: the metric's totals map, an array by tag set id, its current time bucket aggregate. */
  private readonly slots = new Map<string, MetricSlot>();

  /** `nameBytes`: the raw bytes (a copy) that name the metric in the fast path, for the next-metric guess. */
  slotOf(metric: string, nameBytes: Buffer): MetricSlot {
    let def = this.metrics.get(metric);
    if (!def) {
      def = { name: metric, type: 'trend', contains: 'default', thresholds: [], submetrics: [] };
      this.metrics.set(metric, def);
    }
    let slot = this.slots.get(def.name);
    if (slot) return slot;
    let perTag = this.totals.get(def.name);
    if (!perTag) {
      perTag = new Map();
      this.totals.set(def.name, perTag);
    }
    slot = {
      def,
      perTag,
      byTag: [],
      bucketStart: NaN,
      bucketGen: -1,
      bucketAgg: undefined,
      nameBytes,
      next: undefined,
      tagSeries: def.name === TAG_SERIES_METRIC,
    };
    this.slots.set(def.name, slot);
    return slot;
  }

  /** point() for the byte fast path: the same aggregates, reached through the metric's slot. */
  pointSlot(slot: MetricSlot, time: number, value: number, tagset: number): void {
    const byTag = slot.byTag;
    let a = byTag[tagset];
    if (a === undefined) {
      a = slot.perTag.get(tagset);
      if (!a) {
        a = newAgg(slot.def.type);
        slot.perTag.set(tagset, a);
      }
      while (byTag.length <= tagset) byTag.push(undefined);
      byTag[tagset] = a;
    }
    if (time < this.firstTime) this.firstTime = time;
    if (time > this.lastTime) this.lastTime = time;
    const series = this.series;
    const start = Math.floor(time / series.bucketMs) * series.bucketMs;
    let b = slot.bucketAgg;
    if (b === undefined || start !== slot.bucketStart || slot.bucketGen !== series.gen) {
      const bucket = series.bucketAt(time);
      const name = slot.def.name;
      b = bucket.get(name);
      if (!b) {
        b = newAgg(slot.def.type);
        bucket.set(name, b);
      }
      slot.bucketAgg = b;
      slot.bucketStart = series.lastStart;
      slot.bucketGen = series.gen;
    }
    addSampleTwice(a, b, value, time);
    if (slot.tagSeries) series.tagPoint(time, value, tagset);
  }

  /** One line of k6 JSON output (latin1-decoded). Returns false when the line is not valid k6 JSON. */
  line(l: string, info: FileInfo): boolean {
    return this.parser.line(l, info);
  }

  /** Streams one file (gzip detected by magic bytes) into this accumulator. */
  async ingestFile(path: string): Promise<FileInfo> {
    const info: FileInfo = { path, lines: 0, points: 0, badLines: 0, truncated: false, firstTime: Infinity, lastTime: -Infinity };
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (e) {
      throw new ReportError(
        'input-not-found',
        `k6 JSON output ${path} cannot be read (${toError(e).message}); pass a run dir or a file written by k6 --out json`,
        { cause: e },
      );
    }
    this.files.push(info);
    if (size === 0) return info;
    await readK6File(path, this.parser, info);
    return info;
  }
}

/** Streams several k6 JSON outputs (segments of one run) into one accumulator. */
export async function ingestFiles(paths: readonly string[]): Promise<RunAccumulator> {
  const acc = new RunAccumulator();
  for (const p of paths) await acc.ingestFile(p);
  return acc;
}
