/**
 * Streams k6 `--out json` files (plain or .gz) line by line into mergeable aggregates:
 * totals per metric × tag set (only the tags that matter are kept), and a per-metric time series
 * whose bucket width doubles (1 s, 2 s, 4 s, ...) so memory stays bounded whatever the run length.
 * Lines are parsed with a fast path for k6's fixed layout and JSON.parse for anything else.
 */

import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { MetricType, ValueType } from '../../engine/contracts.ts';
import { addSample, addSampleTwice, mergeAgg, newAgg, type Agg } from './aggregate.ts';
import { ReportError, toError } from './errors.ts';
import {
  B_HEAD,
  B_HEAD_LEN,
  B_METRIC,
  B_TAGS,
  B_TAGS_LEN,
  B_VALUE,
  B_VALUE_LEN,
  bytesAt,
  fractionAt,
  headAt,
  latin1,
  nameEndAt,
  nameIsAt,
  plainDecimal,
  sameTagsAt,
  scan,
  secondAt,
  tagsEndAt,
  utf8,
  valueAt,
  viewOf,
} from './k6-json-scan.ts';

export interface SubmetricDef {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
  readonly thresholds: string[];
  readonly submetrics: SubmetricDef[];
}

export interface FileInfo {
  readonly path: string;
  lines: number;
  points: number;
  badLines: number;
  /** Set when the file ends in an incomplete line (a killed run) or a cut gzip stream. */
  truncated: boolean;
  firstTime: number;
  lastTime: number;
}

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

export const MAX_BUCKETS = 720;
/** The one metric that also keeps a time series per tag set: per-endpoint latency over time (charts, the baseline gate). */
export const TAG_SERIES_METRIC = 'http_req_duration';
export const MAX_TAGSETS = 20000;
const RAW_CACHE_LIMIT = 50000;
export class RunAccumulator {
  readonly metrics = new Map<string, MetricDef>();
  /** Tag set id → tags (projected onto the kept keys). */
  readonly tagsets: Record<string, string>[] = [];
  /** metric → tag set id → aggregate. */
  readonly totals = new Map<string, Map<number, Agg>>();
  /** bucket start (ms since epoch) → metric → aggregate. */
  buckets = new Map<number, Map<string, Agg>>();
  /** bucket start (ms since epoch, same width as `buckets`) → tag set id → aggregate of TAG_SERIES_METRIC: per-endpoint time series. */
  tagBuckets = new Map<number, Map<number, Agg>>();
  bucketMs = 1000;
  firstTime = Infinity;
  lastTime = -Infinity;
  readonly files: FileInfo[] = [];
  cardinalityCapped = false;

  private readonly keep = new Set(DIMENSIONS);
  private readonly tagsetIds = new Map<string, number>();
  private rawCache = new Map<string, number>();
  private lastSecPrefix = '';
  private lastSecTz = '';
  private lastSecBase = 0;

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
    if (grew) {
      this.rawCache = new Map();
      this.lastRawId = -1;
      this.lastTagsId = -1;
      this.tagBytes = new Map();
      this.tagBytesSize = 0;
      this.prevTagsLen = -1;
    }
  }

  private tagsetOf(tags: Readonly<Record<string, unknown>> | null): number {
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

  private lastBucketStart = NaN;
  private lastBucket: Map<string, Agg> | undefined;
  private lastRaw = '';
  private lastRawId = -1;

  private tagsetOfRaw(raw: string): number {
    // k6 writes the ~9 samples of one request back to back with the same tags: compare before hashing.
    if (raw === this.lastRaw && this.lastRawId >= 0) return this.lastRawId;
    let id = this.rawCache.get(raw);
    if (id !== undefined) {
      this.lastRaw = raw;
      this.lastRawId = id;
      return id;
    }
    id = this.tagsetOfRawMiss(raw);
    this.lastRaw = raw;
    this.lastRawId = id;
    return id;
  }

  private tagsetOfRawMiss(raw: string): number {
    let id = this.rawCache.get(raw);
    if (id !== undefined) return id;
    const parsed: unknown = raw === 'null' ? null : JSON.parse(utf8(raw));
    id = this.tagsetOf(parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null);
    if (this.rawCache.size >= RAW_CACHE_LIMIT) this.rawCache = new Map();
    // A fresh copy: a slice would keep the whole 1 MB read chunk it came from alive.
    this.rawCache.set(Buffer.from(raw, 'latin1').toString('latin1'), id);
    return id;
  }

  /** Parses `l.slice(from, to)`, an RFC 3339 time with nanoseconds as Go writes it (…T15:58:14.169230497Z or …+01:00). */
  private parseTime(l: string, from: number, to: number): number {
    if (to - from < 20 || l.charCodeAt(from + 10) !== 84 /* T */) return Date.parse(l.slice(from, to));
    let j = from + 19;
    let frac = 0;
    if (l.charCodeAt(j) === 46 /* . */) {
      j++;
      let scale = 0.1;
      while (j < to) {
        const c = l.charCodeAt(j);
        if (c < 48 || c > 57) break;
        frac += (c - 48) * scale;
        scale /= 10;
        j++;
      }
    }
    const prefix = this.lastSecPrefix;
    const tz = this.lastSecTz;
    if (!(prefix.length === 19 && l.startsWith(prefix, from) && to - j === tz.length && l.startsWith(tz, j))) {
      this.lastSecPrefix = l.slice(from, from + 19);
      this.lastSecTz = l.slice(j, to);
      this.lastSecBase = Date.parse(this.lastSecPrefix + this.lastSecTz);
    }
    return this.lastSecBase + frac * 1000;
  }

  private point(metric: string, time: number, value: number, tagset: number): void {
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
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    let bucket = start === this.lastBucketStart ? this.lastBucket : this.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(start, bucket);
      if (this.buckets.size > MAX_BUCKETS) this.coarsen();
      bucket = this.bucketFor(time);
    }
    this.lastBucketStart = Math.floor(time / this.bucketMs) * this.bucketMs;
    this.lastBucket = bucket;
    let b = bucket.get(def.name);
    if (!b) {
      b = newAgg(def.type);
      bucket.set(def.name, b);
    }
    addSample(b, value, time);
    if (def.name === TAG_SERIES_METRIC) this.tagPoint(time, value, tagset);
  }

  private bucketFor(time: number): Map<string, Agg> {
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    let bucket = start === this.lastBucketStart ? this.lastBucket : this.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(start, bucket);
    }
    return bucket;
  }

  /** Doubles the bucket width until the series fits MAX_BUCKETS again. */
  private coarsen(): void {
    this.bucketGen++;
    this.lastBucketStart = NaN;
    this.lastBucket = undefined;
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

  private lastPrefix = Buffer.alloc(19);
  private readonly lastPrefixView = viewOf(this.lastPrefix);
  private lastPrefixOk = false;
  private lastTz = Buffer.alloc(0);
  private lastBase = 0;
  private lastTags = Buffer.alloc(0);
  private lastTagsId = -1;

  private readonly names = new Map<number, { bytes: Buffer; name: string; slot?: MetricSlot }[]>();
  /** Per-metric shortcuts for the byte fast path: the metric's totals map, an array by tag set id, its current time bucket aggregate. */
  private readonly slots = new Map<string, MetricSlot>();
  /** The slot of the previous fast-path line, and the guess for this line's metric (what followed it last time). */
  private prevSlot: MetricSlot | undefined;
  private predSlot: MetricSlot | undefined;
  /** Bumped whenever `buckets` is rebuilt (coarsen), so cached bucket aggregates are re-fetched. */
  private bucketGen = 0;

  /** The metric name at buf[from, to), from a small cache keyed by a hash of its bytes (no string made on a hit). */
  private nameAt(buf: Buffer, from: number, to: number): string {
    let h = 2166136261;
    for (let i = from; i < to; i++) h = Math.imul(h ^ (buf[i] ?? 0), 16777619);
    return this.nameHashed(buf, from, to, h);
  }

  /** The slot of the metric named by buf[from, to) (FNV-1a `hash` of those bytes given), cached on its name entry. */
  private slotAt(buf: Buffer, from: number, to: number, hash: number): MetricSlot {
    const h = (hash ^ (to - from)) >>> 0;
    const list = this.names.get(h);
    if (list)
      for (const c of list)
        if (c.bytes.length === to - from && bytesAt(buf, from, c.bytes)) {
          c.slot ??= this.slotOf(c.name, c.bytes);
          return c.slot;
        }
    return this.slotOf(this.nameHashed(buf, from, to, hash), Buffer.from(buf.subarray(from, to)));
  }

  /** `nameBytes`: the raw bytes (a copy) that name the metric in the fast path, for the next-metric guess. */
  private slotOf(metric: string, nameBytes: Buffer): MetricSlot {
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
  private pointSlot(slot: MetricSlot, time: number, value: number, tagset: number): void {
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
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    let b = slot.bucketAgg;
    if (b === undefined || start !== slot.bucketStart || slot.bucketGen !== this.bucketGen) {
      const name = slot.def.name;
      let bucket = start === this.lastBucketStart ? this.lastBucket : this.buckets.get(start);
      if (!bucket) {
        bucket = new Map();
        this.buckets.set(start, bucket);
        if (this.buckets.size > MAX_BUCKETS) this.coarsen();
        bucket = this.bucketFor(time);
      }
      this.lastBucketStart = Math.floor(time / this.bucketMs) * this.bucketMs;
      this.lastBucket = bucket;
      b = bucket.get(name);
      if (!b) {
        b = newAgg(slot.def.type);
        bucket.set(name, b);
      }
      slot.bucketAgg = b;
      slot.bucketStart = this.lastBucketStart;
      slot.bucketGen = this.bucketGen;
    }
    addSampleTwice(a, b, value, time);
    if (slot.tagSeries) this.tagPoint(time, value, tagset);
  }

  /** Adds a sample to the per-tag-set time series (TAG_SERIES_METRIC only). */
  private tagPoint(time: number, value: number, tagset: number): void {
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

  /** nameAt with the FNV-1a hash of the bytes already computed (by a scan that found `to`). */
  private nameHashed(buf: Buffer, from: number, to: number, hash: number): string {
    const h = (hash ^ (to - from)) >>> 0;
    const list = this.names.get(h);
    if (list) for (const c of list) if (c.bytes.length === to - from && bytesAt(buf, from, c.bytes)) return c.name;
    const name = utf8(latin1(buf, from, to));
    const entry = { bytes: Buffer.from(buf.subarray(from, to)), name };
    if (list) list.push(entry);
    else if (this.names.size < 10000) this.names.set(h, [entry]);
    return name;
  }

  /** Raw tag bytes (a fresh copy) → tag set id, keyed by FNV-1a hash of the bytes ^ length. */
  private tagBytes = new Map<number, TagEntry[]>();
  private tagBytesSize = 0;
  /** The previous fast-path line's tag bytes: prevTags[0, prevTagsLen). */
  private prevTags: Buffer = Buffer.alloc(0);
  private prevTagsView = viewOf(this.prevTags);
  private prevTagsLen = -1;
  private prevTagsId = -1;

  /**
   * The fastest path, for lines that are in k6's fixed layout AND share the time's second (and zone)
   * with the line before: one pass over the bytes from `s`, without looking for the newline first
   * (the line must end `}}\n` right after the tags, which proves where it ends). Tags are compared
   * with the previous line's bytes, then looked up by a hash of their bytes: no string is made
   * unless a tag set is new. Returns the start of the next line, or -1 when this line is not for
   * this path (then lineBytes/line take it, exactly as before).
   */
  private fastLine(buf: Buffer, dv: DataView, s: number, lim: number, info: FileInfo): number {
    // lim: the chunk's last newline; the scanner's reads stop at the line's own newline at the latest.
    if (!this.lastPrefixOk || s + 64 > lim || !bytesAt(buf, s, B_METRIC)) return -1;
    // metric name: first the one that followed the previous line's metric last time (k6 writes a
    // request's metrics in a fixed order), compared by bytes; else find its end and hash it
    let i = s + B_METRIC.length;
    let slot = this.predSlot;
    let nameHash = 0;
    if (slot !== undefined && nameIsAt(buf, i, lim, slot.nameBytes)) i += slot.nameBytes.length;
    else {
      slot = undefined;
      i = nameEndAt(buf, i);
      if (i < 0) return -1;
      nameHash = scan.hash;
    }
    const nameEnd = i++;
    if (i + B_HEAD_LEN + 20 > lim || !headAt(dv, i)) return -1;
    i += B_HEAD_LEN;
    // time: same second as the previous line (bytes), then the fraction, then the same zone
    if (!secondAt(buf, dv, i, this.lastPrefix, this.lastPrefixView)) return -1;
    const frac = fractionAt(buf, i + 19);
    if (Number.isNaN(frac)) return -1;
    i = scan.end;
    const tzLen = this.lastTz.length;
    if (!bytesAt(buf, i, this.lastTz) || buf[i + tzLen] !== 34 || !bytesAt(buf, i + tzLen + 1, B_VALUE)) return -1;
    // value: the plain ≤ 15-digit form exactly as in lineBytes; longer or exponent forms by Number()
    const value = valueAt(buf, i + tzLen + 1 + B_VALUE_LEN);
    if (Number.isNaN(value) || !bytesAt(buf, scan.end, B_TAGS)) return -1;
    const tagsStart = scan.end + B_TAGS_LEN;
    // tags: the previous line's bytes followed by `}}\n` (the line ends right there), or looked up by their hash
    let tagset = this.prevTagsId;
    let next = tagsStart + this.prevTagsLen + 3;
    if (this.prevTagsLen < 0 || !sameTagsAt(buf, dv, tagsStart, lim, this.prevTags, this.prevTagsView, this.prevTagsLen)) {
      const j = tagsEndAt(buf, tagsStart);
      if (j < 0) return -1;
      tagset = this.tagsetOfBytes(buf, tagsStart, j, scan.hash);
      if (tagset < 0) return -1;
      next = j + 3;
    }
    const time = this.lastBase + frac * 1000;
    info.lines++;
    slot ??= this.slotAt(buf, s + B_METRIC.length, nameEnd, nameHash);
    if (this.prevSlot !== undefined) this.prevSlot.next = slot;
    this.prevSlot = slot;
    this.predSlot = slot.next;
    this.pointSlot(slot, time, value, tagset);
    info.points++;
    if (time < info.firstTime) info.firstTime = time;
    if (time > info.lastTime) info.lastTime = time;
    return next;
  }

  /** The tag set id of the tag bytes buf[from, to) (`key`: their hash from tagsEndAt), cached by bytes; they become "the previous tags". -1 when they do not parse. */
  private tagsetOfBytes(buf: Buffer, from: number, to: number, key: number): number {
    const len = to - from;
    const list = this.tagBytes.get(key);
    let entry: TagEntry | undefined;
    if (list)
      for (const c of list)
        if (c.bytes.length === len && buf.compare(c.bytes, 0, len, from, to) === 0) {
          entry = c;
          break;
        }
    if (!entry) {
      let id: number;
      try {
        id = this.tagsetOfRaw(latin1(buf, from, to));
      } catch {
        return -1;
      }
      if (this.tagBytesSize >= RAW_CACHE_LIMIT) {
        this.tagBytes = new Map();
        this.tagBytesSize = 0;
      }
      const bytes = Buffer.from(buf.subarray(from, to));
      entry = { bytes, view: viewOf(bytes), id };
      const l2 = this.tagBytes.get(key);
      if (l2) l2.push(entry);
      else this.tagBytes.set(key, [entry]);
      this.tagBytesSize++;
    }
    // the entry's own (immutable) copy becomes "the previous tags": nothing is copied per line
    this.prevTags = entry.bytes;
    this.prevTagsView = entry.view;
    this.prevTagsLen = len;
    this.prevTagsId = entry.id;
    return entry.id;
  }

  /**
   * Fast path on the raw bytes of one line, for k6's fixed layout
   * {"metric":"NAME","type":"Point","data":{"time":"T","value":V,"tags":{...}}}: no line string is
   * made; the time prefix and the tags are compared with the previous line's bytes before anything
   * is decoded. Returns false when the line is not in that layout (the string path takes it then).
   */
  private lineBytes(buf: Buffer, s: number, e: number, info: FileInfo): boolean {
    // Short fixed parts are compared in JS: a native Buffer call costs more than the bytes it checks.
    if (e - s < 64 || !bytesAt(buf, s, B_METRIC)) return false;
    let nameEnd = s + B_METRIC.length;
    while (nameEnd < e && buf[nameEnd] !== 34) nameEnd++;
    const tStart = nameEnd + 1 + B_HEAD.length;
    if (tStart >= e || !bytesAt(buf, nameEnd + 1, B_HEAD)) return false;
    let tEnd = tStart;
    while (tEnd < e && buf[tEnd] !== 34) tEnd++;
    if (tEnd >= e || tEnd - tStart < 20 || buf[tStart + 10] !== 84) return false;
    const vStart = tEnd + 1 + B_VALUE.length;
    if (!bytesAt(buf, tEnd + 1, B_VALUE)) return false;
    if (buf[e - 1] !== 125 || buf[e - 2] !== 125 || buf[e - 3] !== 125) return false;
    // time: seconds prefix cached by bytes, fraction parsed here
    let j = tStart + 19;
    let frac = 0;
    if (buf[j] === 46) {
      j++;
      let scale = 0.1;
      for (;;) {
        const c = buf[j] ?? 0;
        if (c < 48 || c > 57) break;
        frac += (c - 48) * scale;
        scale /= 10;
        j++;
      }
    }
    const tzLen = tEnd - j;
    if (!(this.lastPrefixOk && bytesAt(buf, tStart, this.lastPrefix) && tzLen === this.lastTz.length && bytesAt(buf, j, this.lastTz))) {
      const base = Date.parse(latin1(buf, tStart, tStart + 19) + latin1(buf, j, tEnd));
      if (Number.isNaN(base)) return false;
      buf.copy(this.lastPrefix, 0, tStart, tStart + 19);
      this.lastTz = Buffer.from(buf.subarray(j, tEnd));
      this.lastBase = base;
      this.lastPrefixOk = true;
    }
    const time = this.lastBase + frac * 1000;
    // value: the plain form by plainDecimal, anything longer (or an exponent) by Number()
    let value = plainDecimal(buf, vStart, scan);
    let vEnd = scan.end;
    if (Number.isNaN(value)) {
      while (vEnd < e && buf[vEnd] !== 44) vEnd++;
      if (vEnd >= e) return false;
      value = Number(latin1(buf, vStart, vEnd));
      if (Number.isNaN(value)) return false;
    }
    const tagsStart = vEnd + B_TAGS.length;
    if (!bytesAt(buf, vEnd, B_TAGS)) return false;
    const tagsEnd = e - 2;
    const tLen = tagsEnd - tagsStart;
    let tagset: number;
    if (this.lastTagsId >= 0 && tLen === this.lastTags.length && buf.compare(this.lastTags, 0, tLen, tagsStart, tagsEnd) === 0)
      tagset = this.lastTagsId;
    else {
      // k6 tags hold string values only: the first "}" closes them. Anything after it (a "metadata"
      // object, or a "}" inside a tag value) goes to the string path. (Same bytes as the previous
      // line passed this check already.)
      if (buf[tagsStart] === 123) {
        let close = tagsStart + 1;
        while (close < e && buf[close] !== 125) close++;
        if (close + 1 !== tagsEnd) return false;
      }
      try {
        tagset = this.tagsetOfRaw(latin1(buf, tagsStart, tagsEnd));
      } catch {
        return false;
      }
      this.lastTags = Buffer.from(buf.subarray(tagsStart, tagsEnd));
      this.lastTagsId = tagset;
    }
    info.lines++;
    this.point(this.nameAt(buf, s + B_METRIC.length, nameEnd), time, value, tagset);
    info.points++;
    if (time < info.firstTime) info.firstTime = time;
    if (time > info.lastTime) info.lastTime = time;
    return true;
  }

  /** One line of k6 JSON output. Returns false when the line is not valid k6 JSON. */
  line(l: string, info: FileInfo): boolean {
    info.lines++;
    // Fast path: {"metric":"NAME","type":"Point","data":{"time":"T","value":V,"tags":{...}}}
    if (l.startsWith('{"metric":"')) {
      const nameEnd = l.indexOf('"', 11);
      const head = ',"type":"Point","data":{"time":"';
      if (nameEnd > 11 && l.startsWith(head, nameEnd + 1)) {
        const tStart = nameEnd + 1 + head.length;
        const tEnd = l.indexOf('"', tStart);
        if (tEnd > 0 && l.startsWith(',"value":', tEnd + 1)) {
          const vStart = tEnd + 10;
          const vEnd = l.indexOf(',"tags":', vStart);
          if (vEnd > 0 && l.endsWith('}}}')) {
            let tagsEnd = l.length - 2;
            const md = l.lastIndexOf('},"metadata":{');
            if (md > vEnd) tagsEnd = md + 1;
            const value = Number(l.slice(vStart, vEnd));
            const time = this.parseTime(l, tStart, tEnd);
            if (!Number.isNaN(value) && !Number.isNaN(time)) {
              try {
                const tagset = this.tagsetOfRaw(l.slice(vEnd + 8, tagsEnd));
                this.point(l.slice(11, nameEnd), time, value, tagset);
                info.points++;
                if (time < info.firstTime) info.firstTime = time;
                if (time > info.lastTime) info.lastTime = time;
                return true;
              } catch {
                // fall through to the slow path
              }
            }
          }
        }
      }
    }
    return this.slowLine(l, info);
  }

  private slowLine(l: string, info: FileInfo): boolean {
    let o: unknown;
    try {
      o = JSON.parse(utf8(l));
    } catch {
      return false;
    }
    if (typeof o !== 'object' || o === null) return false;
    const rec = o as { type?: unknown; metric?: unknown; data?: unknown };
    if (typeof rec.data !== 'object' || rec.data === null) return false;
    const data = rec.data as Record<string, unknown>;
    if (rec.type === 'Metric') {
      const type = data.type;
      if (type !== 'counter' && type !== 'gauge' && type !== 'rate' && type !== 'trend') return false;
      const name = typeof data.name === 'string' ? data.name : String(rec.metric);
      const thresholds = Array.isArray(data.thresholds) ? data.thresholds.filter((t): t is string => typeof t === 'string') : [];
      const submetrics: SubmetricDef[] = [];
      if (Array.isArray(data.submetrics)) {
        for (const s of data.submetrics as unknown[]) {
          if (typeof s !== 'object' || s === null) continue;
          const sm = s as { name?: unknown; tags?: unknown };
          if (typeof sm.name !== 'string') continue;
          const tags: Record<string, string> = {};
          if (typeof sm.tags === 'object' && sm.tags !== null)
            for (const [k, v] of Object.entries(sm.tags)) tags[k] = typeof v === 'string' ? v : JSON.stringify(v);
          submetrics.push({ name: sm.name, tags });
        }
      }
      const contains = data.contains === 'time' || data.contains === 'data' ? data.contains : 'default';
      this.define({ name, type, contains, thresholds, submetrics });
      return true;
    }
    if (rec.type === 'Point' && typeof rec.metric === 'string') {
      const time = typeof data.time === 'string' ? this.parseTime(data.time, 0, data.time.length) : NaN;
      const value = typeof data.value === 'number' ? data.value : NaN;
      if (Number.isNaN(time) || Number.isNaN(value)) return false;
      const tags = typeof data.tags === 'object' ? (data.tags as Record<string, unknown> | null) : null;
      this.point(rec.metric, time, value, this.tagsetOf(tags));
      info.points++;
      if (time < info.firstTime) info.firstTime = time;
      if (time > info.lastTime) info.lastTime = time;
      return true;
    }
    return false;
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
    const gz = await isGzip(path);
    // Lines are cut from the raw bytes and decoded as latin1 (a byte-for-byte copy, much faster than
    // UTF-8 decoding); the few places that may hold non-ASCII text (tags, slow path) re-decode as UTF-8.
    // The start of a line that continues in the next chunk, in pieces: joined once, when its end arrives,
    // so a long line costs its length, not its length squared.
    let rest: Buffer[] = [];
    const eat = (chunk: Buffer): void => {
      let start = 0;
      if (rest.length > 0) {
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          rest.push(Buffer.from(chunk)); // a copy: the read buffer is reused
          return;
        }
        // with its newline, so the fast path can take it (its reads stop at the newline)
        const joined = Buffer.concat([...rest, chunk.subarray(0, nl + 1)]);
        const e = joined.length - 1;
        rest = [];
        if (
          e > 0 &&
          this.fastLine(joined, viewOf(joined), 0, e, info) < 0 &&
          !this.lineBytes(joined, 0, e, info) &&
          !this.line(latin1(joined, 0, e), info)
        )
          info.badLines++;
        start = nl + 1;
      }
      const lim = chunk.lastIndexOf(10);
      const dv = viewOf(chunk);
      for (;;) {
        const next = this.fastLine(chunk, dv, start, lim, info);
        if (next >= 0) {
          start = next;
          continue;
        }
        const nl = chunk.indexOf(10, start);
        if (nl < 0) break;
        if (nl > start && !this.lineBytes(chunk, start, nl, info) && !this.line(latin1(chunk, start, nl), info)) info.badLines++;
        start = nl + 1;
      }
      if (start < chunk.length) rest = [Buffer.from(chunk.subarray(start))];
    };
    if (gz) await this.readGzip(path, eat, info);
    else await readPlain(path, eat, info);
    if (rest.length > 0) {
      // Last line without a newline: complete JSON is accepted, anything else is a cut line.
      const last = Buffer.concat(rest);
      if (!this.line(latin1(last, 0, last.length), info)) info.truncated = true;
    }
    return info;
  }

  private async readGzip(path: string, eat: (chunk: Buffer) => void, info: FileInfo): Promise<void> {
    const src = createReadStream(path, { highWaterMark: 1 << 20 });
    const stream = src.pipe(createGunzip({ chunkSize: 1 << 18 }));
    await new Promise<void>((resolve) => {
      stream.on('data', eat);
      stream.on('end', () => resolve());
      stream.on('error', () => {
        // A cut gzip stream (killed run): keep what was decoded.
        info.truncated = true;
        src.destroy();
        resolve();
      });
    });
  }
}

const READ_SIZE = 1 << 20;

/**
 * Plain files: two reused 1 MB buffers, the next read in flight while this one is parsed (no stream
 * machinery, no new Buffer per chunk). `eat` must not keep the chunk: it copies what it keeps.
 */
async function readPlain(path: string, eat: (chunk: Buffer) => void, info: FileInfo): Promise<void> {
  const fh = await open(path, 'r');
  try {
    let cur = Buffer.allocUnsafe(READ_SIZE);
    let spare = Buffer.allocUnsafe(READ_SIZE);
    let pos = 0;
    let pending = fh.read(cur, 0, READ_SIZE, pos);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      pos += bytesRead;
      pending = fh.read(spare, 0, READ_SIZE, pos);
      eat(cur.subarray(0, bytesRead));
      [cur, spare] = [spare, cur];
    }
  } catch {
    // A read error mid-file: keep what was read, as for a cut gzip stream.
    info.truncated = true;
  } finally {
    await fh.close();
  }
}

interface TagEntry {
  /** A fresh copy of the raw tag bytes (never a slice of a read buffer, which is reused). */
  readonly bytes: Buffer;
  readonly view: DataView;
  readonly id: number;
}

interface MetricSlot {
  readonly def: MetricDef;
  readonly perTag: Map<number, Agg>;
  /** The same aggregates as perTag, by tag set id (dense, no hashing). */
  readonly byTag: (Agg | undefined)[];
  /** The bucket aggregate last used, valid while bucketStart and bucketGen still hold. */
  bucketStart: number;
  bucketGen: number;
  bucketAgg: Agg | undefined;
  /** Raw name bytes as they appear in lines (no escapes: those lines take the other paths). */
  readonly nameBytes: Buffer;
  /** The metric of the fast-path line that last followed one of this metric: the next line's first guess. */
  next: MetricSlot | undefined;
  /** Whether the metric also keeps a time series per tag set (TAG_SERIES_METRIC). */
  readonly tagSeries: boolean;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Streams several k6 JSON outputs (segments of one run) into one accumulator. */
export async function ingestFiles(paths: readonly string[]): Promise<RunAccumulator> {
  const acc = new RunAccumulator();
  for (const p of paths) await acc.ingestFile(p);
  return acc;
}
