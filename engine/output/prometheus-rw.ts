/**
 * `--out experimental-prometheus-rw`: k6's Prometheus remote-write output (xk6-output-prometheus-remote,
 * built into k6) on the embedded engine, with k6's variables and naming:
 *
 * - every series is `k6_<metric>` plus a suffix by type: counters `_total` (running sum), gauges none
 *   (last value), rates `_rate` (trues / total), trends one gauge per stat in K6_PROMETHEUS_RW_TREND_STATS
 *   (default `p(99)`) named `_p99`, `_p95`, `_p999` (for p(99.9)), `_avg`, `_min`, `_med`, `_max`,
 *   `_count`, `_sum`; a trend of time is sent in seconds (every stat, `count` included: k6 divides all of
 *   them by 1000, and so does this output, so dashboards built on k6's data read the same);
 * - the sample's tags are the labels (empty values dropped), sorted, with `__name__`;
 * - values are cumulative from the start of the test; each push (every K6_PROMETHEUS_RW_PUSH_INTERVAL,
 *   default 5s, and once at the end) sends the series that got samples since the last one, stamped with
 *   their latest sample's time in ms;
 * - the request: protobuf WriteRequest (protobufjs), snappy block compression (snappyjs), the remote-write
 *   1.0 headers, basic auth and extra headers from the K6_PROMETHEUS_RW_* variables, 5 s timeout.
 *
 * A failed push is logged and the run goes on (as k6). Memory is one sink per series (trends bounded).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import type { Issue, MetricDefinition, Sample, SampleSink } from '../contracts.ts';
import { createSink, parseTrendStat, type Sink } from '../metrics/index.ts';
import { parseDuration } from '../options/index.ts';

export const PROMETHEUS_RW_OUTPUT = 'experimental-prometheus-rw';

export interface PrometheusRwConfig {
  readonly url: string;
  readonly pushIntervalMs: number;
  /** k6 stat names (`p(99)`, `avg`, `count`, `sum`, ...), in the order given. */
  readonly trendStats: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly insecureSkipTLSVerify: boolean;
  readonly staleMarkers: boolean;
}

const DEFAULTS = { url: 'http://localhost:9090/api/v1/write', pushInterval: '5s', trendStats: ['p(99)'] } as const;
const TIMEOUT_MS = 5000;
const ENV = 'K6_PROMETHEUS_RW_';

function envBool(env: Readonly<Record<string, string>>, name: string, issues: Issue[]): boolean | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (/^(1|t|true)$/i.test(raw)) return true;
  if (/^(0|f|false)$/i.test(raw)) return false;
  issues.push({ code: 'invalid-output-config', path: name, message: `${name} must be true or false, got "${raw}"` });
  return undefined;
}

/** The series-name suffix of a trend stat: `p(99)` → `p99`, `p(99.9)` → `p999` (k6's rule), others as named. */
export function trendStatSuffix(stat: string): string {
  return stat.startsWith('p(') ? `p${stat.slice(2, -1).replace(/\./g, '')}` : stat;
}

/** The output's settings from k6's K6_PROMETHEUS_RW_* variables, with every problem. */
export function prometheusRwConfig(env: Readonly<Record<string, string>>): { config: PrometheusRwConfig; issues: Issue[] } {
  const issues: Issue[] = [];
  const url = env[`${ENV}SERVER_URL`] ?? DEFAULTS.url;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    issues.push({
      code: 'invalid-output-config',
      path: `${ENV}SERVER_URL`,
      message: `${ENV}SERVER_URL must be an http(s) URL like http://localhost:9090/api/v1/write, got "${url}"`,
    });
  }
  const intervalRaw = env[`${ENV}PUSH_INTERVAL`] ?? DEFAULTS.pushInterval;
  const interval = parseDuration(intervalRaw);
  let pushIntervalMs = 5000;
  if (!interval.ok || interval.ms <= 0) {
    issues.push({
      code: 'invalid-output-config',
      path: `${ENV}PUSH_INTERVAL`,
      message: `${ENV}PUSH_INTERVAL must be a positive duration like "5s", got "${intervalRaw}"`,
    });
  } else {
    pushIntervalMs = interval.ms;
  }
  const statsRaw = env[`${ENV}TREND_STATS`];
  const trendStats =
    statsRaw === undefined
      ? [...DEFAULTS.trendStats]
      : statsRaw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  for (const s of trendStats) {
    if (s !== 'sum' && parseTrendStat(s) === undefined) {
      issues.push({
        code: 'invalid-output-config',
        path: `${ENV}TREND_STATS`,
        message: `${ENV}TREND_STATS: "${s}" is not a trend stat; use avg, min, med, max, count, sum or p(N), e.g. "p(95),p(99),max"`,
      });
    }
  }
  if (envBool(env, `${ENV}TREND_AS_NATIVE_HISTOGRAM`, issues) === true) {
    issues.push({
      code: 'unsupported-output-config',
      path: `${ENV}TREND_AS_NATIVE_HISTOGRAM`,
      message: `${ENV}TREND_AS_NATIVE_HISTOGRAM is not supported by the embedded engine: unset it (trends are sent as the ${ENV}TREND_STATS gauges), or run with the k6 binary`,
    });
  }
  const headers: Record<string, string> = {};
  for (const pair of (env[`${ENV}HTTP_HEADERS`] ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const colon = pair.indexOf(':');
    if (colon <= 0) {
      issues.push({
        code: 'invalid-output-config',
        path: `${ENV}HTTP_HEADERS`,
        message: `${ENV}HTTP_HEADERS must be "name:value,name2:value2", got "${pair}"`,
      });
      continue;
    }
    headers[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  for (const [k, v] of Object.entries(env)) if (k.startsWith(`${ENV}HEADERS_`)) headers[k.slice(`${ENV}HEADERS_`.length)] = v;
  return {
    config: {
      url,
      pushIntervalMs,
      trendStats,
      headers,
      username: env[`${ENV}USERNAME`],
      password: env[`${ENV}PASSWORD`],
      insecureSkipTLSVerify: envBool(env, `${ENV}INSECURE_SKIP_TLS_VERIFY`, issues) ?? false,
      staleMarkers: envBool(env, `${ENV}STALE_MARKERS`, issues) ?? false,
    },
    issues,
  };
}

// The remote-write 1.0 protobuf messages (prometheus/prompb types.proto / remote.proto), the fields Prometheus reads.
const WRITE_REQUEST = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: {
          fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
}).lookupType('prometheus.WriteRequest');

export interface RwLabel {
  readonly name: string;
  readonly value: string;
}
export interface RwSeries {
  readonly labels: readonly RwLabel[];
  readonly samples: readonly { readonly value: number; readonly timestamp: number }[];
}

/** A WriteRequest, protobuf-encoded and snappy-compressed (block format), as remote write sends it. */
export function encodeWriteRequest(series: readonly RwSeries[]): Uint8Array {
  const message = WRITE_REQUEST.fromObject({ timeseries: series });
  return snappy.compress(WRITE_REQUEST.encode(message).finish());
}

/** Prometheus's staleness marker: a NaN with a fixed bit pattern (value/value.go StaleNaN). */
const STALE_NAN = new DataView(new Uint8Array([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]).buffer).getFloat64(0, true);

interface SeriesState {
  readonly def: MetricDefinition;
  readonly labels: readonly RwLabel[];
  readonly sink: Sink;
  /** Latest sample time (ms, truncated). */
  latest: number;
}

export interface PrometheusRwOutputOptions {
  readonly config: PrometheusRwConfig;
  /** Metric type and unit by name (the engine's registry). */
  readonly metric: (name: string) => MetricDefinition | undefined;
  /** Logs a failed push (one line). */
  readonly onError: (message: string) => void;
}

export class PrometheusRwOutput implements SampleSink {
  readonly description: string;
  readonly #o: PrometheusRwOutputOptions;
  readonly #series = new Map<string, SeriesState>();
  #dirty = new Set<SeriesState>();
  readonly #timer: NodeJS.Timeout;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(o: PrometheusRwOutputOptions) {
    this.#o = o;
    this.description = `Prometheus remote write (${o.config.url})`;
    this.#timer = setInterval(() => {
      void this.#push();
    }, o.config.pushIntervalMs);
    this.#timer.unref();
  }

  add(samples: readonly Sample[]): void {
    if (this.#closed) return;
    for (const s of samples) {
      const key = `${s.metric}\u0000${JSON.stringify(s.tags)}`;
      let st = this.#series.get(key);
      const time = Math.floor(s.time);
      if (st === undefined) {
        const def = this.#o.metric(s.metric) ?? { name: s.metric, type: 'counter', contains: 'default' };
        const labels = Object.entries(s.tags)
          .filter(([k, v]) => k !== '' && v !== '')
          .map(([name, value]) => ({ name, value }));
        st = { def, labels, sink: createSink(def.type), latest: time };
        this.#series.set(key, st);
        this.#dirty.add(st);
      } else if (time > st.latest) {
        // A sample in the same millisecond as the last one pushed changes the value but not the timestamp:
        // sending it again would be a duplicate sample to Prometheus (k6 skips it the same way).
        st.latest = time;
        this.#dirty.add(st);
      }
      if (st.sink.type === 'gauge') st.sink.add(s.value, s.time);
      else st.sink.add(s.value);
    }
  }

  /** The remote-write series of one k6 series now (one per trend stat for trends). */
  #map(st: SeriesState): RwSeries[] {
    const base = `k6_${st.def.name}`;
    const one = (name: string, value: number): RwSeries => ({
      labels: [...st.labels, { name: '__name__', value: name }].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      samples: [{ value, timestamp: st.latest }],
    });
    const sink = st.sink;
    switch (sink.type) {
      case 'counter':
        return [one(`${base}_total`, sink.count)];
      case 'gauge':
        return [one(base, sink.value)];
      case 'rate':
        return [one(`${base}_rate`, sink.rate)];
      case 'trend': {
        const unit = st.def.contains === 'time' ? 1000 : 1;
        return this.#o.config.trendStats.map((stat) =>
          one(`${base}_${trendStatSuffix(stat)}`, (stat === 'sum' ? sink.sum : (sink.stat(stat) ?? 0)) / unit),
        );
      }
    }
  }

  /** Sends what changed since the last push; pushes run one after another. */
  #push(final = false): Promise<void> {
    const dirty = [...this.#dirty];
    this.#dirty = new Set();
    this.#chain = this.#chain.then(async () => {
      const series = dirty.flatMap((st) => this.#map(st));
      if (final && this.#o.config.staleMarkers) {
        const at = Date.now() + 1;
        for (const st of this.#series.values()) {
          for (const s of this.#map(st)) series.push({ labels: s.labels, samples: [{ value: STALE_NAN, timestamp: at }] });
        }
      }
      if (series.length === 0) return;
      try {
        await this.#send(encodeWriteRequest(series));
      } catch (e) {
        this.#o.onError(
          `Prometheus remote write: failed to send ${String(series.length)} time series to ${this.#o.config.url}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    });
    return this.#chain;
  }

  #send(body: Uint8Array): Promise<void> {
    const c = this.#o.config;
    const url = new URL(c.url);
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      'User-Agent': 'k6-compatible agentload-engine',
      'Content-Length': String(body.byteLength),
      ...c.headers,
    };
    if (c.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
    return new Promise((resolve, reject) => {
      const done = (res: IncomingMessage): void => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 512) text += d;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`HTTP ${String(status)}${text.trim() === '' ? '' : `: ${text.trim().split('\n')[0] ?? ''}`}`));
        });
      };
      const req =
        url.protocol === 'https:'
          ? httpsRequest(url, { method: 'POST', headers, timeout: TIMEOUT_MS, rejectUnauthorized: !c.insecureSkipTLSVerify }, done)
          : httpRequest(url, { method: 'POST', headers, timeout: TIMEOUT_MS }, done);
      req.on('timeout', () => {
        req.destroy(new Error(`no answer within ${String(TIMEOUT_MS / 1000)}s`));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Stops the timer and pushes the rest (and the staleness markers when asked). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#push(true);
  }
}
