/**
 * Parses k6 `--out json` lines into metric definitions and points for a PointSink (RunAccumulator):
 * a byte fast path for k6's fixed layout when the time shares the previous line's second, a byte
 * path for the same layout otherwise, and a string path (JSON.parse for anything else). It holds
 * only parse caches (time prefixes, tag bytes → tag set ids, metric names → slots); every aggregate
 * lives in the sink.
 */

import type { FileInfo, MetricDef, MetricSlot, SubmetricDef } from './ingest-types.ts';
import type { LineParser } from './ingest-read.ts';
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

const RAW_CACHE_LIMIT = 50000;

/** Where parsed lines go: the aggregation (RunAccumulator). */
export interface PointSink {
  /** A metric's definition (a Metric line). */
  define(def: MetricDef): void;
  /** The tag set id of a tags object (projected onto the kept keys). */
  tagsetOf(tags: Readonly<Record<string, unknown>> | null): number;
  /** One sample of `metric` (its name possibly still latin1-encoded). */
  point(metric: string, time: number, value: number, tagset: number): void;
  /** The fast-path slot of a metric (`nameBytes`: a copy of its raw name bytes). */
  slotOf(metric: string, nameBytes: Buffer): MetricSlot;
  /** point() for the byte fast path, through the metric's slot. */
  pointSlot(slot: MetricSlot, time: number, value: number, tagset: number): void;
}

interface TagEntry {
  /** A fresh copy of the raw tag bytes (never a slice of a read buffer, which is reused). */
  readonly bytes: Buffer;
  readonly view: DataView;
  readonly id: number;
}

export class K6LineParser implements LineParser {
  constructor(private readonly sink: PointSink) {}

  private rawCache = new Map<string, number>();
  private lastSecPrefix = '';
  private lastSecTz = '';
  private lastSecBase = 0;

  /** Forgets every raw-tags → tag set id cache (the kept tag keys changed: tags must be re-projected). */
  resetTagCaches(): void {
    this.rawCache = new Map();
    this.lastRawId = -1;
    this.lastTagsId = -1;
    this.tagBytes = new Map();
    this.tagBytesSize = 0;
    this.prevTagsLen = -1;
  }

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
    id = this.sink.tagsetOf(parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null);
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

  private lastPrefix = Buffer.alloc(19);
  private readonly lastPrefixView = viewOf(this.lastPrefix);
  private lastPrefixOk = false;
  private lastTz = Buffer.alloc(0);
  private lastBase = 0;
  private lastTags = Buffer.alloc(0);
  private lastTagsId = -1;

  private readonly names = new Map<number, { bytes: Buffer; name: string; slot?: MetricSlot }[]>();
  /** The slot of the previous fast-path line, and the guess for this line's metric (what followed it last time). */
  private prevSlot: MetricSlot | undefined;
  private predSlot: MetricSlot | undefined;

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
          c.slot ??= this.sink.slotOf(c.name, c.bytes);
          return c.slot;
        }
    return this.sink.slotOf(this.nameHashed(buf, from, to, hash), Buffer.from(buf.subarray(from, to)));
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
  fastLine(buf: Buffer, dv: DataView, s: number, lim: number, info: FileInfo): number {
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
    this.sink.pointSlot(slot, time, value, tagset);
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
  lineBytes(buf: Buffer, s: number, e: number, info: FileInfo): boolean {
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
    this.sink.point(this.nameAt(buf, s + B_METRIC.length, nameEnd), time, value, tagset);
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
                this.sink.point(l.slice(11, nameEnd), time, value, tagset);
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
      this.sink.define({ name, type, contains, thresholds, submetrics });
      return true;
    }
    if (rec.type === 'Point' && typeof rec.metric === 'string') {
      const time = typeof data.time === 'string' ? this.parseTime(data.time, 0, data.time.length) : NaN;
      const value = typeof data.value === 'number' ? data.value : NaN;
      if (Number.isNaN(time) || Number.isNaN(value)) return false;
      const tags = typeof data.tags === 'object' ? (data.tags as Record<string, unknown> | null) : null;
      this.sink.point(rec.metric, time, value, this.sink.tagsetOf(tags));
      info.points++;
      if (time < info.firstTime) info.firstTime = time;
      if (time > info.lastTime) info.lastTime = time;
      return true;
    }
    return false;
  }
}
