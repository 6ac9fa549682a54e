/**
 * Streams k6 `--out json` files (plain or .gz) line by line into mergeable aggregates:
 * totals per metric × tag set (only the tags that matter are kept), and a per-metric time series
 * whose bucket width doubles (1 s, 2 s, 4 s, ...) so memory stays bounded whatever the run length.
 * Lines are parsed with a fast path for k6's fixed layout and JSON.parse for anything else.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { MetricType, ValueType } from '../../engine/contracts.ts';
import { addSample, mergeAgg, newAgg, type Agg } from './aggregate.ts';
import { ReportError, toError } from './errors.ts';

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
    if (grew) this.rawCache = new Map();
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

  private tagsetOfRaw(raw: string): number {
    let id = this.rawCache.get(raw);
    if (id !== undefined) return id;
    const parsed: unknown = raw === 'null' ? null : JSON.parse(raw);
    id = this.tagsetOf(parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null);
    if (this.rawCache.size >= RAW_CACHE_LIMIT) this.rawCache = new Map();
    this.rawCache.set(raw, id);
    return id;
  }

  private parseTime(ts: string): number {
    // RFC 3339 with nanoseconds, as Go writes time.Time: 2026-11-23T15:58:14.169230497Z or ...+01:00
    if (ts.length < 20 || ts.charCodeAt(10) !== 84 /* T */) return Date.parse(ts);
    let j = 19;
    let frac = 0;
    if (ts.charCodeAt(19) === 46 /* . */) {
      j = 20;
      let scale = 0.1;
      for (;;) {
        const c = ts.charCodeAt(j);
        if (c < 48 || c > 57 || Number.isNaN(c)) break;
        frac += (c - 48) * scale;
        scale /= 10;
        j++;
      }
    }
    const prefix = ts.slice(0, 19);
    const tz = ts.slice(j);
    if (prefix !== this.lastSecPrefix || tz !== this.lastSecTz) {
      this.lastSecBase = Date.parse(prefix + tz);
      this.lastSecPrefix = prefix;
      this.lastSecTz = tz;
    }
    return this.lastSecBase + frac * 1000;
  }

  private point(metric: string, time: number, value: number, tagset: number): void {
    let def = this.metrics.get(metric);
    if (!def) {
      // A Point before its Metric line (a later segment, or a cut head): assume a trend; k6 always declares first.
      def = { name: metric, type: 'trend', contains: 'default', thresholds: [], submetrics: [] };
      this.metrics.set(metric, def);
    }
    let perTag = this.totals.get(metric);
    if (!perTag) {
      perTag = new Map();
      this.totals.set(metric, perTag);
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
    let bucket = this.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(start, bucket);
      if (this.buckets.size > MAX_BUCKETS) this.coarsen();
      bucket = this.bucketFor(time);
    }
    let b = bucket.get(metric);
    if (!b) {
      b = newAgg(def.type);
      bucket.set(metric, b);
    }
    addSample(b, value, time);
  }

  private bucketFor(time: number): Map<string, Agg> {
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    let bucket = this.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(start, bucket);
    }
    return bucket;
  }

  /** Doubles the bucket width until the series fits MAX_BUCKETS again. */
  private coarsen(): void {
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
            const time = this.parseTime(l.slice(tStart, tEnd));
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
      o = JSON.parse(l);
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
      const time = typeof data.time === 'string' ? this.parseTime(data.time) : NaN;
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
      throw new ReportError('input-not-found', `k6 JSON output ${path} cannot be read (${toError(e).message}); pass a run dir or a file written by k6 --out json`, { cause: e });
    }
    this.files.push(info);
    if (size === 0) return info;
    const gz = await isGzip(path);
    const src = createReadStream(path, { highWaterMark: 1 << 20 });
    const stream = gz ? src.pipe(createGunzip()) : src;
    stream.setEncoding('utf8');
    let rest = '';
    const streamDone = new Promise<void>((resolve) => {
      stream.on('data', (chunk: string) => {
        let text = rest.length > 0 ? rest + chunk : chunk;
        let start = 0;
        for (;;) {
          const nl = text.indexOf('\n', start);
          if (nl < 0) break;
          if (nl > start && !this.line(text.slice(start, nl), info)) info.badLines++;
          start = nl + 1;
        }
        rest = start === 0 ? text : text.slice(start);
        text = '';
      });
      stream.on('end', () => resolve());
      stream.on('error', () => {
        // A cut gzip stream (killed run): keep what was decoded.
        info.truncated = true;
        src.destroy();
        resolve();
      });
    });
    await streamDone;
    if (rest.length > 0) {
      // Last line without a newline: complete JSON is accepted, anything else is a cut line.
      if (!this.line(rest, info)) info.truncated = true;
    }
    return info;
  }
}

async function isGzip(path: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
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
