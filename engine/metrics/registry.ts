/**
 * Metric registry: k6's built-in metrics pre-declared with k6's names, types and `contains`,
 * plus custom metrics (`k6/metrics`) with k6's name rule and conflict errors.
 */

import { CodedError } from '../../shared/errors.ts';
import type { MetricDefinition, MetricType, ValueType } from '../contracts.ts';

/** k6's built-in metrics (k6 v0.49 `metrics/builtin.go`), in k6's declaration order. */
export const BUILTIN_METRICS: readonly MetricDefinition[] = Object.freeze([
  { name: 'vus', type: 'gauge', contains: 'default' },
  { name: 'vus_max', type: 'gauge', contains: 'default' },
  { name: 'iterations', type: 'counter', contains: 'default' },
  { name: 'iteration_duration', type: 'trend', contains: 'time' },
  { name: 'dropped_iterations', type: 'counter', contains: 'default' },
  { name: 'checks', type: 'rate', contains: 'default' },
  { name: 'group_duration', type: 'trend', contains: 'time' },
  { name: 'http_reqs', type: 'counter', contains: 'default' },
  { name: 'http_req_failed', type: 'rate', contains: 'default' },
  { name: 'http_req_duration', type: 'trend', contains: 'time' },
  { name: 'http_req_blocked', type: 'trend', contains: 'time' },
  { name: 'http_req_connecting', type: 'trend', contains: 'time' },
  { name: 'http_req_tls_handshaking', type: 'trend', contains: 'time' },
  { name: 'http_req_sending', type: 'trend', contains: 'time' },
  { name: 'http_req_waiting', type: 'trend', contains: 'time' },
  { name: 'http_req_receiving', type: 'trend', contains: 'time' },
  { name: 'ws_sessions', type: 'counter', contains: 'default' },
  { name: 'ws_msgs_sent', type: 'counter', contains: 'default' },
  { name: 'ws_msgs_received', type: 'counter', contains: 'default' },
  { name: 'ws_ping', type: 'trend', contains: 'time' },
  { name: 'ws_session_duration', type: 'trend', contains: 'time' },
  { name: 'ws_connecting', type: 'trend', contains: 'time' },
  { name: 'grpc_req_duration', type: 'trend', contains: 'time' },
  { name: 'data_sent', type: 'counter', contains: 'data' },
  { name: 'data_received', type: 'counter', contains: 'data' },
] satisfies MetricDefinition[]);

/** k6's metric name rule (`metrics/registry.go`). */
const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]{1,128}$/;

export type MetricErrorCode = 'invalid-metric-name' | 'metric-type-conflict' | 'metric-contains-conflict' | 'invalid-metric-type';

export class MetricError extends CodedError<MetricErrorCode> {
  constructor(code: MetricErrorCode, message: string) {
    super(code, message);
    this.name = 'MetricError';
  }
}

const METRIC_TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'rate', 'trend']);
const VALUE_TYPES: ReadonlySet<string> = new Set(['default', 'time', 'data']);

export function isMetricType(v: unknown): v is MetricType {
  return typeof v === 'string' && METRIC_TYPES.has(v);
}
export function isValueType(v: unknown): v is ValueType {
  return typeof v === 'string' && VALUE_TYPES.has(v);
}

/** True when `name` passes k6's metric name rule. */
export function isValidMetricName(name: string): boolean {
  return NAME_RE.test(name);
}

export class MetricRegistry {
  readonly #metrics = new Map<string, MetricDefinition>();

  constructor() {
    for (const m of BUILTIN_METRICS) this.#metrics.set(m.name, m);
  }

  /**
   * Declares a metric (k6 `Registry.NewMetric`): returns the existing definition when name, type
   * and contains agree; throws MetricError on a bad name or a conflicting redefinition.
   * `contains` omitted means "default" for a new metric and "any" for an existing one (as k6).
   */
  define(name: string, type: MetricType, contains?: ValueType): MetricDefinition {
    if (!isValidMetricName(name)) {
      throw new MetricError(
        'invalid-metric-name',
        `Invalid metric name: '${name}'. Metric names should start with a letter or an underscore and only include up to 128 ASCII letters, numbers, or underscores.`,
      );
    }
    if (!isMetricType(type)) {
      throw new MetricError(
        'invalid-metric-type',
        `metric '${name}' has invalid type ${JSON.stringify(type)}; use counter, gauge, rate or trend`,
      );
    }
    const old = this.#metrics.get(name);
    if (old === undefined) {
      const def: MetricDefinition = Object.freeze({ name, type, contains: contains ?? 'default' });
      this.#metrics.set(name, def);
      return def;
    }
    if (old.type !== type) {
      throw new MetricError('metric-type-conflict', `metric '${name}' already exists but with type ${old.type}, instead of ${type}`);
    }
    if (contains !== undefined && contains !== old.contains) {
      throw new MetricError(
        'metric-contains-conflict',
        `metric '${name}' already exists but with a value type ${old.contains}, instead of ${contains}`,
      );
    }
    return old;
  }

  get(name: string): MetricDefinition | undefined {
    return this.#metrics.get(name);
  }

  has(name: string): boolean {
    return this.#metrics.has(name);
  }

  /** Every definition, built-ins first, then custom metrics in definition order. */
  all(): MetricDefinition[] {
    return [...this.#metrics.values()];
  }
}
