/**
 * `--out json=FILE`: one JSON object per line, shaped exactly like k6's JSON output:
 *   {"type":"Metric","data":{"name":..,"type":..,"contains":..,"thresholds":[..],"submetrics":[..]|null},"metric":..}
 * before the first Point of each metric, then
 *   {"metric":..,"type":"Point","data":{"time":"<RFC 3339, ns>","value":..,"tags":{sorted},"metadata":{..}}}
 * (`metadata` only when the sample has some). Gzip when FILE ends in `.gz`. Lines are built by
 * string concatenation (tags serialised once per tags object) and written in batches; the gzip stream is
 * sync-flushed at least every second, so a killed run loses at most its last second of samples.
 */

import type { Sample, SampleSink, Tags } from '../contracts.ts';
import type { MetricRegistry, SubmetricInfo } from '../metrics/index.ts';
import type { ThresholdJsonConfig } from '../thresholds/index.ts';
import { OutputFile } from './output-file.ts';

export interface JsonOutputOptions {
  /** Output file; a name ending in `.gz` is gzip-compressed; `-` or '' writes to `stdout` (as k6). */
  readonly path: string;
  /** Where `-` writes (default process.stdout); never closed by close(). */
  readonly stdout?: NodeJS.WritableStream;
  readonly registry: MetricRegistry;
  /**
   * Thresholds per metric key: ThresholdSet.jsonConfigByKey() (exact k6 lines, objects for
   * abortOnFail) or sourcesByKey(). Only plain metric names are looked up.
   */
  readonly thresholds?: Readonly<Record<string, readonly (string | ThresholdJsonConfig)[]>>;
  /** Submetrics of a metric (Aggregator.submetricsOf), listed in the Metric line. */
  readonly submetrics?: (metric: string) => readonly SubmetricInfo[];
  /** Bytes buffered before a write (default 256 KiB). */
  readonly bufferBytes?: number;
  /** Max ms between flushes while samples arrive (default 200, as k6). */
  readonly flushIntervalMs?: number;
  /**
   * Gzip only: max ms between a write and the compressor's sync flush to the file (default 800). zlib keeps
   * compressed output in its own buffer until that fills, so without it a killed run lost its last many
   * seconds; with it, a sample reaches the file within a second (flushIntervalMs + this).
   */
  readonly gzipSyncMs?: number;
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/;
const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string literal escaped as Go's encoding/json does (HTML characters as \u00XX). */
export function goJsonString(s: string): string {
  const j = JSON.stringify(s);
  return HTML_UNSAFE.test(j) ? j.replace(/[<>&\u2028\u2029]/g, (c) => HTML_ESCAPES[c] ?? c) : j;
}

/** A JSON number as Go prints float64 (JS and Go agree for finite values); null otherwise. */
function goJsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/** JSON object with keys sorted (k6 tag sets serialise in key order). */
export function sortedStringMapJson(m: Readonly<Record<string, string>>): string {
  const keys = Object.keys(m).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] ?? '';
    if (i > 0) out += ',';
    out += goJsonString(k) + ':' + goJsonString(m[k] ?? '');
  }
  return out + '}';
}

function hasKeys(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

let cachedSecond = NaN;
let cachedPrefix = '';

/**
 * RFC 3339 time with up to nanosecond digits, trailing zeros dropped, UTC (Go's RFC3339Nano),
 * from epoch milliseconds with a fractional part.
 */
export function formatRfc3339Nano(timeMs: number): string {
  const sec = Math.floor(timeMs / 1000);
  let nanos = Math.round((timeMs - sec * 1000) * 1e6);
  let s = sec;
  if (nanos >= 1e9) {
    s += 1;
    nanos -= 1e9;
  }
  if (s !== cachedSecond) {
    cachedSecond = s;
    cachedPrefix = new Date(s * 1000).toISOString().slice(0, 19);
  }
  if (nanos === 0) return cachedPrefix + 'Z';
  let frac = String(nanos).padStart(9, '0');
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  return cachedPrefix + '.' + frac + 'Z';
}

export class JsonOutput implements SampleSink {
  readonly path: string;
  readonly #opts: JsonOutputOptions;
  readonly #out: OutputFile;
  readonly #declared = new Set<string>();
  readonly #metricPrefix = new Map<string, string>();
  readonly #tagsCache = new WeakMap<Tags, string>();
  #pending = '';
  readonly #limit: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: JsonOutputOptions) {
    this.path = opts.path;
    this.#opts = opts;
    this.#limit = opts.bufferBytes ?? 64 * 1024;
    this.#out = new OutputFile(opts.path, opts.stdout, opts.gzipSyncMs);
  }

  #metricLine(name: string): string {
    const def = this.#opts.registry.get(name);
    const type = def?.type ?? 'counter';
    const contains = def?.contains ?? 'default';
    const thresholds = this.#opts.thresholds?.[name] ?? [];
    const subs = this.#opts.submetrics?.(name) ?? [];
    // k6 marshals threshold sources without HTML escaping (MarshalJSONWithoutHTMLEscape).
    const thr = '[' + thresholds.map((t) => JSON.stringify(t)).join(',') + ']';
    const sm =
      subs.length === 0
        ? 'null'
        : '[' +
          subs
            .map((s) => `{"name":${goJsonString(s.name)},"suffix":${goJsonString(s.suffix)},"tags":${sortedStringMapJson(s.tags)}}`)
            .join(',') +
          ']';
    const n = goJsonString(name);
    return `{"type":"Metric","data":{"name":${n},"type":"${type}","contains":"${contains}","thresholds":${thr},"submetrics":${sm}},"metric":${n}}\n`;
  }

  add(samples: readonly Sample[]): void {
    if (this.#closed) return;
    let pending = this.#pending;
    let lastTime = NaN;
    let timeText = '';
    for (const s of samples) {
      let prefix = this.#metricPrefix.get(s.metric);
      if (prefix === undefined) {
        if (!this.#declared.has(s.metric)) {
          this.#declared.add(s.metric);
          pending += this.#metricLine(s.metric);
        }
        prefix = `{"metric":${goJsonString(s.metric)},"type":"Point","data":{"time":"`;
        this.#metricPrefix.set(s.metric, prefix);
      }
      // Tags text with the line's end, serialised once per tags object.
      let tail = this.#tagsCache.get(s.tags);
      if (tail === undefined) {
        tail = ',"tags":' + sortedStringMapJson(s.tags);
        this.#tagsCache.set(s.tags, tail);
      }
      if (s.time !== lastTime) {
        lastTime = s.time;
        timeText = formatRfc3339Nano(s.time);
      }
      const md = s.metadata;
      const end = md !== undefined && hasKeys(md) ? ',"metadata":' + sortedStringMapJson(md) + '}}\n' : '}}\n';
      pending += prefix + timeText + '","value":' + goJsonNumber(s.value) + tail + end;
      if (pending.length >= this.#limit) {
        this.#write(pending);
        pending = '';
      }
    }
    this.#pending = pending;
    if (this.#timer === undefined && pending.length > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, this.#opts.flushIntervalMs ?? 200);
      this.#timer.unref();
    }
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const chunk = this.#pending;
    this.#pending = '';
    this.#write(chunk);
  }

  #write(chunk: string): void {
    this.#out.write(chunk);
  }

  /** Flushes everything and closes the file; rejects if writing failed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
    await this.#out.close('--out json');
  }
}
