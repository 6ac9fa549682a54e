/**
 * Threshold definitions (`options.thresholds`): parsing every problem at once, validation against
 * the metric registry, and evaluation against an Aggregator with k6's semantics:
 * - a metric without samples is skipped (no data = pass);
 * - a failing threshold with `abortOnFail` aborts the run once the time spent in the test is
 *   strictly greater than its `delayAbortEval` (no delay: at once); once set, a metric's abort flag
 *   stays set (as k6), and the run aborts when that metric is failing;
 * - counter `rate` is count per second of elapsed test time.
 * The runtime evaluates every 2 s (THRESHOLD_EVAL_INTERVAL_MS) and once at the end.
 */

import type { Issue, MetricType } from '../contracts.ts';
import { parseMetricKey, type Aggregator, type MetricRegistry, type MetricState } from '../metrics/index.ts';
import { parseThresholdExpression, supportedMethods, type ThresholdExpression } from './expression.ts';
import { judgeThreshold, unsupportedMethodMessage, type MetricAggregate } from './judge.ts';

/** k6 evaluates thresholds every 2 seconds during the run. */
export const THRESHOLD_EVAL_INTERVAL_MS = 2000;

export interface ThresholdDefinition {
  /** The metric key as written in options (`http_req_duration{scenario:api}`). */
  readonly key: string;
  /** The expression text, e.g. `p(95)<500`. */
  readonly source: string;
  readonly expr: ThresholdExpression;
  readonly abortOnFail: boolean;
  /** delayAbortEval in ms; undefined when not set. */
  readonly delayAbortEvalMs: number | undefined;
}

export interface ThresholdOutcome {
  readonly source: string;
  readonly ok: boolean;
  /** The aggregated value compared; undefined when the metric had no data (not evaluated). */
  readonly observed: number | undefined;
}

export interface ThresholdEvaluation {
  /** Per metric key as written in options, per expression source. */
  readonly results: Readonly<Record<string, Readonly<Record<string, ThresholdOutcome>>>>;
  /** True when no threshold failed. */
  readonly ok: boolean;
  /** Metric names (canonical submetric names) with a failing threshold, sorted (k6's log order). */
  readonly crossed: readonly string[];
  readonly shouldAbort: boolean;
  /** One line per failing abortOnFail threshold that triggered the abort. */
  readonly abortReasons: readonly string[];
}

export type ThresholdsByKey = Readonly<Record<string, readonly ThresholdDefinition[]>>;

const GO_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** k6's extended Go duration (`1m30s`, `500ms`, `1.5h`, `2d`, `0`) in ms, or undefined. */
export function parseK6Duration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d))+)$/.exec(s);
  if (m === null) return undefined;
  let total = 0;
  for (const part of (m[2] ?? '').matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/g)) {
    total += Number(part[1]) * (GO_UNITS[part[2] ?? ''] ?? 0);
  }
  return m[1] === '-' ? -total : total;
}

/** A threshold as k6 serialises it when abortOnFail is set. */
export interface ThresholdJsonConfig {
  readonly threshold: string;
  readonly abortOnFail: boolean;
  readonly delayAbortEval: string | null;
}

/** Go's time.Duration.String() for a duration in ms (`1s`, `1m30s`, `1.5ms`, `0s`). */
export function goDurationString(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${sign}${abs}ns`;
  if (abs < 1e6) return `${sign}${String(abs / 1e3)}µs`;
  if (abs < 1e9) return `${sign}${String(abs / 1e6)}ms`;
  const h = Math.floor(abs / 3.6e12);
  const m = Math.floor((abs % 3.6e12) / 6e10);
  const sec = (abs % 6e10) / 1e9;
  return `${sign}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${String(sec)}s`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const KNOWN_FIELDS: ReadonlySet<string> = new Set(['threshold', 'abortOnFail', 'delayAbortEval']);

export class ThresholdSet {
  readonly byKey: ThresholdsByKey;
  readonly #abortFlags = new Map<string, boolean>();
  readonly #attached = new WeakSet<Aggregator>();
  #last: ThresholdEvaluation | undefined;

  constructor(byKey: ThresholdsByKey) {
    this.byKey = byKey;
  }

  /** Metric keys with thresholds, in definition order. */
  keys(): string[] {
    return Object.keys(this.byKey);
  }

  isEmpty(): boolean {
    return this.keys().length === 0;
  }

  /** Threshold sources per metric key (for `--out json` Metric lines). */
  sourcesByKey(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, defs] of Object.entries(this.byKey)) out[k] = defs.map((d) => d.source);
    return out;
  }

  /**
   * Thresholds per metric key as k6 writes them in `--out json` Metric lines: the source string,
   * or `{threshold, abortOnFail, delayAbortEval}` when abortOnFail is set (k6's MarshalJSON).
   */
  jsonConfigByKey(): Record<string, (string | ThresholdJsonConfig)[]> {
    const out: Record<string, (string | ThresholdJsonConfig)[]> = {};
    for (const [k, defs] of Object.entries(this.byKey)) {
      out[k] = defs.map((d) =>
        d.abortOnFail
          ? {
              threshold: d.source,
              abortOnFail: true,
              delayAbortEval: d.delayAbortEvalMs === undefined ? null : goDurationString(d.delayAbortEvalMs),
            }
          : d.source,
      );
    }
    return out;
  }

  /** Checks metric names and methods against the registry (run after init defined custom metrics). */
  validate(registry: MetricRegistry): Issue[] {
    const issues: Issue[] = [];
    for (const [key, defs] of Object.entries(this.byKey)) {
      const parsed = parseMetricKey(key);
      if (!parsed.ok) continue; // reported by parseThresholds
      const def = registry.get(parsed.key.parent);
      if (def === undefined) {
        issues.push({
          code: 'unknown-metric',
          path: `thresholds.${key}`,
          message: `invalid threshold defined on ${key}; reason: no metric name ${JSON.stringify(key)} found; define the metric in the script's init code or fix the name`,
        });
        continue;
      }
      for (const d of defs) {
        if (!supportedMethods(def.type).includes(d.expr.method)) issues.push(unsupported(key, d, def.type));
      }
    }
    return issues;
  }

  /** Declares submetrics and marks threshold metrics observed (k6 shows them in the summary). */
  attach(agg: Aggregator): void {
    if (this.#attached.has(agg)) return;
    this.#attached.add(agg);
    for (const key of this.keys()) {
      const parsed = parseMetricKey(key);
      if (!parsed.ok || !agg.registry.has(parsed.key.parent)) continue;
      agg.declareSubmetric(key);
      agg.markObserved(key);
      agg.markObserved(parsed.key.parent);
    }
  }

  /** Evaluates every threshold; `elapsedMs` is the time spent in the test so far. */
  evaluate(agg: Aggregator, elapsedMs: number): ThresholdEvaluation {
    this.attach(agg);
    const results: Record<string, Record<string, ThresholdOutcome>> = {};
    const crossed = new Set<string>();
    const abortReasons: string[] = [];
    let shouldAbort = false;
    for (const [key, defs] of Object.entries(this.byKey)) {
      const perKey: Record<string, ThresholdOutcome> = {};
      results[key] = perKey;
      const st = agg.resolve(key);
      // No samples: k6 does not evaluate the metric's thresholds (they pass).
      const aggregate = st === undefined || st.sink.isEmpty() ? undefined : aggregateOf(st);
      if (st === undefined || aggregate === undefined) {
        for (const d of defs) perKey[d.source] = { source: d.source, ...judgeThreshold(d.expr, undefined, elapsedMs) };
        continue;
      }
      let failed = false;
      let abort = this.#abortFlags.get(key) ?? false;
      for (const d of defs) {
        const { ok, observed } = judgeThreshold(d.expr, aggregate, elapsedMs);
        perKey[d.source] = { source: d.source, ok, observed };
        if (ok) continue;
        failed = true;
        if (abort || !d.abortOnFail) continue;
        abort = d.delayAbortEvalMs === undefined || d.delayAbortEvalMs < elapsedMs;
        if (abort) abortReasons.push(`${st.name}: ${d.source} (observed ${String(observed)}) with abortOnFail`);
      }
      this.#abortFlags.set(key, abort);
      if (failed) {
        crossed.add(st.name);
        if (abort) shouldAbort = true;
      }
    }
    const evaluation: ThresholdEvaluation = { results, ok: crossed.size === 0, crossed: [...crossed].sort(), shouldAbort, abortReasons };
    this.#last = evaluation;
    return evaluation;
  }

  /** The last evaluation, if any. */
  last(): ThresholdEvaluation | undefined {
    return this.#last;
  }
}

function unsupported(key: string, d: ThresholdDefinition, type: MetricType): Issue {
  return {
    code: 'unsupported-aggregation',
    path: `thresholds.${key}`,
    message: unsupportedMethodMessage(key, d.source, d.expr.method, type),
  };
}

/** A sink as the shared threshold judge sees it (judge.ts): the same figures the report computes from its aggregates. */
function aggregateOf(st: MetricState): MetricAggregate {
  const sink = st.sink;
  switch (sink.type) {
    case 'counter':
      return { type: 'counter', count: sink.count };
    case 'gauge':
      return { type: 'gauge', value: sink.value };
    case 'rate':
      return { type: 'rate', trues: sink.trues, total: sink.total };
    case 'trend':
      return { type: 'trend', avg: sink.avg, min: sink.min, max: sink.max, percentile: (p) => sink.percentiles([p / 100])[0] ?? 0 };
  }
}

/**
 * Parses `options.thresholds` and reports EVERY problem: malformed config, invalid metric keys,
 * invalid expressions (k6's wording), and, when a registry is given, unknown metrics and methods
 * not valid for the metric type. Only well-formed thresholds enter the set.
 */
export function parseThresholds(raw: unknown, registry?: MetricRegistry): { set: ThresholdSet; issues: Issue[] } {
  const issues: Issue[] = [];
  const byKey: Record<string, ThresholdDefinition[]> = {};
  if (raw === undefined || raw === null) return { set: new ThresholdSet(byKey), issues };
  if (!isRecord(raw)) {
    issues.push({
      code: 'invalid-thresholds',
      path: 'thresholds',
      message: `thresholds must be an object mapping metric names to arrays of expressions, got ${describe(raw)}; write thresholds: { http_req_duration: ['p(95)<500'] }`,
    });
    return { set: new ThresholdSet(byKey), issues };
  }
  for (const [key, value] of Object.entries(raw)) {
    const path = `thresholds.${key}`;
    const parsedKey = parseMetricKey(key);
    if (!parsedKey.ok) {
      issues.push({
        code: 'invalid-metric-key',
        path,
        message: `unable to validate threshold expressions; reason: ${parsedKey.message}; write it as metric{tag:value}`,
      });
    }
    if (!Array.isArray(value)) {
      issues.push({
        code: 'invalid-threshold-config',
        path,
        message: `thresholds for ${key} must be an array of expressions, got ${describe(value)}; write ['p(95)<500'] or [{ threshold: 'p(95)<500', abortOnFail: true }]`,
      });
      continue;
    }
    const defs: ThresholdDefinition[] = [];
    value.forEach((item: unknown, i) => {
      const itemPath = `${path}[${i}]`;
      let source: string;
      let abortOnFail = false;
      let delayAbortEvalMs: number | undefined;
      if (typeof item === 'string') {
        source = item;
      } else if (isRecord(item)) {
        if (typeof item.threshold !== 'string') {
          issues.push({
            code: 'invalid-threshold-config',
            path: `${itemPath}.threshold`,
            message: `threshold object needs a string 'threshold', got ${describe(item.threshold)}; write { threshold: 'rate<0.1', abortOnFail: true }`,
          });
          return;
        }
        source = item.threshold;
        for (const k of Object.keys(item)) {
          if (!KNOWN_FIELDS.has(k)) {
            issues.push({
              code: 'unknown-threshold-field',
              path: `${itemPath}.${k}`,
              message: `unknown threshold field '${k}'; use threshold, abortOnFail or delayAbortEval`,
            });
          }
        }
        if (item.abortOnFail !== undefined) {
          if (typeof item.abortOnFail === 'boolean') abortOnFail = item.abortOnFail;
          else {
            issues.push({
              code: 'invalid-threshold-config',
              path: `${itemPath}.abortOnFail`,
              message: `abortOnFail must be true or false, got ${describe(item.abortOnFail)}`,
            });
          }
        }
        const delay = item.delayAbortEval;
        if (delay !== undefined && delay !== null) {
          const ms =
            typeof delay === 'number' && Number.isFinite(delay) ? delay : typeof delay === 'string' ? parseK6Duration(delay) : undefined;
          if (ms === undefined) {
            issues.push({
              code: 'invalid-threshold-config',
              path: `${itemPath}.delayAbortEval`,
              message: `delayAbortEval must be a duration like "10s", got ${describe(delay)}`,
            });
          } else delayAbortEvalMs = ms;
        }
      } else {
        issues.push({
          code: 'invalid-threshold-config',
          path: itemPath,
          message: `threshold must be a string like 'p(95)<500' or an object { threshold, abortOnFail, delayAbortEval }, got ${describe(item)}`,
        });
        return;
      }
      const parsed = parseThresholdExpression(source);
      if (!parsed.ok) {
        issues.push({ code: 'invalid-threshold-expression', path: itemPath, message: parsed.message });
        return;
      }
      defs.push({ key, source, expr: parsed.expr, abortOnFail, delayAbortEvalMs });
    });
    if (parsedKey.ok) byKey[key] = defs;
  }
  const set = new ThresholdSet(byKey);
  if (registry !== undefined) issues.push(...set.validate(registry));
  return { set, issues };
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return v === null ? 'null' : 'an object';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${v.toString()}`;
  return typeof v;
}

/** k6's end-of-test log line when thresholds failed. */
export function thresholdsCrossedMessage(crossed: readonly string[]): string {
  return `thresholds on metrics '${crossed.join(', ')}' have been crossed`;
}

/** k6's log line when an abortOnFail threshold stops the test. */
export function thresholdsAbortMessage(crossed: readonly string[]): string {
  return `thresholds on metrics '${crossed.join(', ')}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`;
}

/**
 * Metric keys of `options.thresholds` that name a known metric (or a submetric of one), ignoring
 * everything else. With `--no-thresholds` k6 still tracks these submetrics (they appear in the
 * summary), so pass the result to `new Aggregator(registry, { submetrics })`.
 */
export function thresholdMetricKeys(raw: unknown, registry: MetricRegistry): string[] {
  if (!isRecord(raw)) return [];
  return Object.keys(raw).filter((key) => {
    const parsed = parseMetricKey(key);
    return parsed.ok && registry.has(parsed.key.parent);
  });
}
