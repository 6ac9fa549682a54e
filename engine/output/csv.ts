/**
 * `--out csv=FILE`: k6's CSV output. Header `metric_name,timestamp,metric_value`, then one column per
 * enabled indexable system tag (sorted: by default check, error, error_code, expected_response, group,
 * method, name, proto, scenario, service, status, subproto, tls_version, url), then `extra_tags` (the
 * other tags, `k=v&k=v`) and `metadata` (`vu=1&iter=0`). Values as Go's `%f` (6 decimals), time as
 * `unix` seconds by default (K6_CSV_TIME_FORMAT / `timeFormat`: unix, unix_milli, unix_micro, unix_nano,
 * rfc3339, rfc3339_nano), rows written every K6_CSV_SAVE_INTERVAL (`saveInterval`, default 1s), gzip when
 * the name ends in `.gz`, `-` for stdout. Quoting as Go's encoding/csv. Differences from k6: the times
 * are UTC, and `extra_tags`/`metadata` keys are sorted (k6 writes them in map order).
 */
import type { Issue, Sample, SampleSink } from '../contracts.ts';
import { parseDuration } from '../options/index.ts';
import { formatRfc3339Nano } from './json.ts';
import { OutputFile } from './output-file.ts';

/** Every k6 system tag (metrics.SystemTagValues). */
export const SYSTEM_TAGS = [
  'proto',
  'subproto',
  'status',
  'method',
  'url',
  'name',
  'group',
  'check',
  'error',
  'error_code',
  'tls_version',
  'scenario',
  'service',
  'expected_response',
  'vu',
  'iter',
  'ip',
  'ocsp_status',
] as const;
/** k6's default `systemTags` (lib.DefaultSystemTagSet). */
export const DEFAULT_SYSTEM_TAGS = [
  'proto',
  'subproto',
  'status',
  'method',
  'url',
  'name',
  'group',
  'check',
  'error',
  'error_code',
  'tls_version',
  'scenario',
  'service',
  'expected_response',
] as const;
/** System tags that are metadata, never columns (metrics.NonIndexableSystemTags). */
const NON_INDEXABLE = new Set(['vu', 'iter']);

export const CSV_TIME_FORMATS = ['unix', 'unix_milli', 'unix_micro', 'unix_nano', 'rfc3339', 'rfc3339_nano'] as const;
export type CsvTimeFormat = (typeof CSV_TIME_FORMATS)[number];

export interface CsvConfig {
  readonly fileName: string;
  readonly saveIntervalMs: number;
  readonly timeFormat: CsvTimeFormat;
}

/** k6's precedence: defaults < K6_CSV_* variables < the `--out csv=...` argument (a file name, or key=value pairs). */
export function csvConfig(arg: string, env: Readonly<Record<string, string>>): { config: CsvConfig; issues: Issue[] } {
  const issues: Issue[] = [];
  const raw: { fileName: string; saveInterval: string; timeFormat: string } = {
    fileName: env.K6_CSV_FILENAME ?? 'file.csv',
    saveInterval: env.K6_CSV_SAVE_INTERVAL ?? '1s',
    timeFormat: env.K6_CSV_TIME_FORMAT ?? 'unix',
  };
  if (arg !== '' && !arg.includes('=')) raw.fileName = arg;
  else if (arg !== '') {
    for (const pair of arg.split(',')) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (key === 'fileName' || key === 'file_name') raw.fileName = value;
      else if (key === 'saveInterval' || key === 'save_interval') raw.saveInterval = value;
      else if (key === 'timeFormat') raw.timeFormat = value;
      else
        issues.push({
          code: 'invalid-output-config',
          path: '--out csv',
          message: `unknown key "${key}" in --out csv=${arg}; use a file name, or fileName=..., saveInterval=..., timeFormat=...`,
        });
    }
  }
  const interval = parseDuration(raw.saveInterval);
  if (!interval.ok || interval.ms <= 0) {
    issues.push({
      code: 'invalid-output-config',
      path: 'saveInterval',
      message: `csv saveInterval must be a positive duration like "1s", got "${raw.saveInterval}"`,
    });
  }
  const timeFormat = CSV_TIME_FORMATS.find((f) => f === raw.timeFormat);
  if (timeFormat === undefined) {
    issues.push({
      code: 'invalid-output-config',
      path: 'timeFormat',
      message: `csv timeFormat must be one of ${CSV_TIME_FORMATS.join(', ')}, got "${raw.timeFormat}"`,
    });
  }
  return {
    config: {
      fileName: raw.fileName,
      saveIntervalMs: interval.ok && interval.ms > 0 ? interval.ms : 1000,
      timeFormat: timeFormat ?? 'unix',
    },
    issues,
  };
}

/** Go encoding/csv: quote a field that holds a comma, a quote, CR or LF, starts with a space, or is `\.`. */
export function csvField(s: string): string {
  if (s === '') return s;
  if (s === '\\.' || /[",\r\n]/.test(s) || /^\s/.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** Go's `%f`: six decimals, no exponent; NaN and infinities as Go prints them. */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Math.abs(v) < 1e21) return v.toFixed(6);
  return `${BigInt(Math.round(v)).toString()}.000000`;
}

export function csvTime(ms: number, format: CsvTimeFormat): string {
  switch (format) {
    case 'unix':
      return String(Math.floor(ms / 1000));
    case 'unix_milli':
      return String(Math.floor(ms));
    case 'unix_micro':
      return String(Math.floor(ms * 1000));
    case 'unix_nano':
      return (BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms - Math.floor(ms)) * 1e6))).toString();
    case 'rfc3339':
      return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
    case 'rfc3339_nano':
      return formatRfc3339Nano(ms);
  }
}

export interface CsvOutputOptions {
  readonly config: CsvConfig;
  /** The run's `systemTags` option (default k6's). */
  readonly systemTags?: readonly string[];
  /** Where `-` writes (never closed). */
  readonly stdout: NodeJS.WritableStream;
  /** Absolute path of the file (the config's name resolved against the working folder). */
  readonly path: string;
}

export class CsvOutput implements SampleSink {
  readonly description: string;
  readonly columns: readonly string[];
  readonly #ignored: ReadonlySet<string>;
  readonly #timeFormat: CsvTimeFormat;
  readonly #out: OutputFile;
  readonly #timer: NodeJS.Timeout;
  #pending = '';
  #closed = false;

  constructor(o: CsvOutputOptions) {
    const enabled = new Set(o.systemTags ?? DEFAULT_SYSTEM_TAGS);
    this.columns = [...enabled].filter((t) => !NON_INDEXABLE.has(t)).sort();
    this.#ignored = new Set(SYSTEM_TAGS.filter((t) => !enabled.has(t) && !NON_INDEXABLE.has(t)));
    this.#timeFormat = o.config.timeFormat;
    const toStdout = o.config.fileName === '' || o.config.fileName === '-';
    this.description = `csv (${toStdout ? 'stdout' : o.config.fileName})`;
    this.#out = new OutputFile(toStdout ? '-' : o.path, o.stdout);
    this.#pending = `${['metric_name', 'timestamp', 'metric_value', ...this.columns, 'extra_tags', 'metadata'].join(',')}\n`;
    this.#flush();
    this.#timer = setInterval(() => {
      this.#flush();
    }, o.config.saveIntervalMs);
    this.#timer.unref();
  }

  #pairs(entries: readonly (readonly [string, string])[]): string {
    return entries
      .filter(([k]) => !this.columns.includes(k) && !this.#ignored.has(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
  }

  add(samples: readonly Sample[]): void {
    if (this.#closed) return;
    let out = this.#pending;
    for (const s of samples) {
      const row = [s.metric, csvTime(s.time, this.#timeFormat), goFloat(s.value)];
      for (const c of this.columns) row.push(s.tags[c] ?? '');
      row.push(this.#pairs(Object.entries(s.tags)), this.#pairs(Object.entries(s.metadata ?? {})));
      out += `${row.map(csvField).join(',')}\n`;
    }
    this.#pending = out;
  }

  #flush(): void {
    if (this.#pending === '') return;
    const chunk = this.#pending;
    this.#pending = '';
    this.#out.write(chunk);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#flush();
    await this.#out.close('--out csv');
  }
}
