/**
 * Aggregator: the engine's in-memory metrics state (k6's MetricsEngine "ObservedMetrics").
 * One sink per metric, one per submetric (declared from threshold keys), check pass/fail counts
 * per group path and the set of groups seen, for the summary's `root_group` tree.
 * `snapshot()` is plain JSON; `merge(snapshot)` folds a worker's aggregate in exactly.
 */

import { CodedError } from '../../shared/errors.ts';
import type { MetricDefinition, MetricType, Sample, SampleRow, SampleSink, Tags, ValueType } from '../contracts.ts';
import { SummaryBreakdown, type BreakdownSnapshot } from './breakdown.ts';
import type { MetricRegistry } from './registry.ts';
import { createSink, mergeSink, type Sink, type SinkSnapshot } from './sinks.ts';
import { parseMetricKey, sameTags } from './submetric.ts';

export interface SubmetricInfo {
  /** Canonical name `parent{suffix}` (the key used in summaries). */
  readonly name: string;
  readonly suffix: string;
  readonly tags: Tags;
  readonly parent: string;
}

export interface MetricState {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
  readonly sink: Sink;
  /** Set for submetrics. */
  readonly submetric?: SubmetricInfo;
  /** Shown in summaries: got a sample, or was marked (metrics with thresholds). */
  observed: boolean;
}

export interface CheckRecord {
  /** Group path the check ran in ('' at the root, `::a::b` nested). */
  readonly group: string;
  readonly name: string;
  passes: number;
  fails: number;
}

export interface AggregatorOptions {
  /** Threshold keys (or canonical submetric names) to track as submetrics, e.g. `http_req_duration{scenario:api}`. */
  readonly submetrics?: readonly string[];
  /** Track `http_req_duration{expected_response:true}` as k6 does by default (system tag on). Default true. */
  readonly expectedResponseSubmetric?: boolean;
  /** Keep per-group and per-scenario aggregates for `--summary-mode full` (breakdown.ts). Default false. */
  readonly breakdown?: boolean;
}

export interface AggregatorSnapshot {
  readonly v: 1;
  /** Every metric definition the sender knows, so the receiver can declare custom metrics. */
  readonly definitions: readonly MetricDefinition[];
  readonly metrics: readonly { readonly name: string; readonly observed: boolean; readonly sink: SinkSnapshot }[];
  readonly submetrics: readonly { readonly name: string; readonly observed: boolean; readonly sink: SinkSnapshot }[];
  /** [group, name, passes, fails] */
  readonly checks: readonly (readonly [string, string, number, number])[];
  readonly groups: readonly string[];
  /** Per-group and per-scenario aggregates, when the sender keeps them. */
  readonly breakdown?: BreakdownSnapshot;
}

interface SubState extends MetricState {
  sink: Sink;
  readonly submetric: SubmetricInfo;
  readonly tagKeys: readonly string[];
  readonly tagValues: readonly string[];
}

interface ParentState extends MetricState {
  sink: Sink;
  subs: SubState[];
}

export class AggregatorError extends CodedError<'unknown-metric' | 'invalid-submetric'> {
  constructor(code: 'unknown-metric' | 'invalid-submetric', message: string) {
    super(code, message);
    this.name = 'AggregatorError';
  }
}

const EXPECTED_RESPONSE_KEY = 'http_req_duration{expected_response:true}';

export class Aggregator implements SampleSink {
  readonly registry: MetricRegistry;
  readonly #metrics = new Map<string, ParentState>();
  readonly #subs = new Map<string, SubState>();
  /** Order in which metrics/submetrics became observed. */
  readonly #observedOrder: MetricState[] = [];
  readonly #checks = new Map<string, Map<string, CheckRecord>>();
  readonly #checkOrder: CheckRecord[] = [];
  readonly #groups = new Set<string>();
  #lastGroup = '';
  /** Per-group and per-scenario aggregates (`--summary-mode full`), when asked for. */
  readonly breakdown: SummaryBreakdown | undefined;

  constructor(registry: MetricRegistry, options: AggregatorOptions = {}) {
    this.registry = registry;
    this.breakdown = options.breakdown === true ? new SummaryBreakdown() : undefined;
    for (const key of options.submetrics ?? []) this.declareSubmetric(key);
    if (options.expectedResponseSubmetric ?? true) this.declareSubmetric(EXPECTED_RESPONSE_KEY);
  }

  #parent(name: string): ParentState {
    let st = this.#metrics.get(name);
    if (st !== undefined) return st;
    const def = this.registry.get(name);
    if (def === undefined) {
      throw new AggregatorError(
        'unknown-metric',
        `sample for metric '${name}' which is not defined; define it in the MetricRegistry first`,
      );
    }
    st = { name, type: def.type, contains: def.contains, sink: createSink(def.type), observed: false, subs: [] };
    this.#metrics.set(name, st);
    return st;
  }

  /**
   * Declares a submetric from a threshold key (idempotent; keys with the same tags share one
   * submetric, named after the first key as in k6). Returns the metric state for plain names.
   */
  declareSubmetric(key: string): MetricState {
    const parsed = parseMetricKey(key);
    if (!parsed.ok) throw new AggregatorError('invalid-submetric', parsed.message);
    const parent = this.#parent(parsed.key.parent);
    const sm = parsed.key.submetric;
    if (sm === undefined) return parent;
    for (const s of parent.subs) if (sameTags(s.submetric.tags, sm.tags)) return s;
    const info: SubmetricInfo = Object.freeze({
      name: sm.name,
      suffix: sm.suffix,
      tags: Object.freeze({ ...sm.tags }),
      parent: parent.name,
    });
    const st: SubState = {
      name: sm.name,
      type: parent.type,
      contains: parent.contains,
      sink: createSink(parent.type),
      observed: false,
      submetric: info,
      tagKeys: Object.keys(sm.tags),
      tagValues: Object.values(sm.tags),
    };
    parent.subs.push(st);
    this.#subs.set(sm.name, st);
    return st;
  }

  /** The metric or submetric for a metric name, canonical submetric name or threshold key. */
  resolve(key: string): MetricState | undefined {
    const direct = this.#metrics.get(key) ?? this.#subs.get(key);
    if (direct !== undefined) return direct;
    const parsed = parseMetricKey(key);
    if (!parsed.ok) return undefined;
    const sm = parsed.key.submetric;
    if (sm === undefined) return this.registry.has(key) ? this.#parent(key) : undefined;
    const parent = this.#metrics.get(parsed.key.parent);
    return parent?.subs.find((s) => sameTags(s.submetric.tags, sm.tags));
  }

  /** Shows a metric in summaries even without samples (k6 does this for metrics with thresholds). */
  markObserved(key: string): void {
    const st = this.resolve(key);
    if (st !== undefined) this.#observe(st);
  }

  #observe(st: MetricState): void {
    if (!st.observed) {
      st.observed = true;
      this.#observedOrder.push(st);
    }
  }

  add(samples: readonly Sample[]): void {
    for (const s of samples) this.#record(s.metric, s.value, s.time, s.tags, s);
  }

  /** A row of samples, recorded as `add` records them, without a Sample object each (but for the full summary's breakdown). */
  addRow(row: SampleRow): void {
    const { metrics, values, time, tags } = row;
    const states = this.#statesOf(metrics);
    for (let i = 0; i < values.length; i++) {
      const st = states[i];
      if (st === undefined) this.#record(metrics[i] ?? '', values[i] ?? 0, time, tags, undefined);
      else this.#recordIn(st, metrics[i] ?? '', values[i] ?? 0, time, tags, undefined);
    }
  }

  /**
   * The metric states of a row's metric list, looked up once per list: a module emits its rows with one constant
   * list (a request's nine http_req_* metrics, an iteration's end), so the last two lists seen are kept by identity.
   * A metric not defined yet is left undefined (#record looks it up, and throws, as `add` does).
   */
  #statesOf(metrics: readonly string[]): readonly (ParentState | undefined)[] {
    if (metrics === this.#rowA) return this.#statesA;
    if (metrics === this.#rowB) return this.#statesB;
    const states = metrics.map((m) => this.#metrics.get(m) ?? (this.registry.has(m) ? this.#parent(m) : undefined));
    // A list with an undefined metric is not kept: the metric may be defined later.
    if (states.includes(undefined)) return states;
    this.#rowB = this.#rowA;
    this.#statesB = this.#statesA;
    this.#rowA = metrics;
    this.#statesA = states;
    return states;
  }
  #rowA: readonly string[] | undefined;
  #statesA: readonly (ParentState | undefined)[] = [];
  #rowB: readonly string[] | undefined;
  #statesB: readonly (ParentState | undefined)[] = [];

  /** One sample: its metric's sink, the submetrics its tags match, its group and check; `sample` when the caller has the object. */
  #record(metric: string, value: number, time: number, tags: Tags, sample: Sample | undefined): void {
    let st = this.#metrics.get(metric);
    if (st === undefined) st = this.#parent(metric);
    this.#recordIn(st, metric, value, time, tags, sample);
  }

  #recordIn(st: ParentState, metric: string, value: number, time: number, tags: Tags, sample: Sample | undefined): void {
    const sink = st.sink;
    if (sink.type === 'gauge') sink.add(value, time);
    else sink.add(value);
    if (!st.observed) this.#observe(st);
    const subs = st.subs;
    if (subs.length > 0) {
      for (const sub of subs) {
        const keys = sub.tagKeys;
        let match = true;
        for (let i = 0; i < keys.length; i++) {
          if (tags[keys[i] ?? ''] !== sub.tagValues[i]) {
            match = false;
            break;
          }
        }
        if (!match) continue;
        const ss = sub.sink;
        if (ss.type === 'gauge') ss.add(value, time);
        else ss.add(value);
        if (!sub.observed) this.#observe(sub);
      }
    }
    const group = tags.group;
    if (group !== undefined && group !== this.#lastGroup) this.#noteGroup(group);
    if (metric === 'checks') this.#noteCheck(group ?? '', tags.check ?? '', value !== 0 ? 1 : 0, value !== 0 ? 0 : 1);
    this.breakdown?.add(sample ?? { metric, time, value, tags }, st.type, st.contains);
  }

  #noteGroup(group: string): void {
    this.#lastGroup = group;
    if (group === '' || this.#groups.has(group)) return;
    // Register ancestors first so the tree keeps creation order.
    const parts = group.split('::');
    let path = '';
    for (let i = 1; i < parts.length; i++) {
      path += '::' + (parts[i] ?? '');
      this.#groups.add(path);
    }
  }

  #noteCheck(group: string, name: string, passes: number, fails: number): void {
    let byName = this.#checks.get(group);
    if (byName === undefined) {
      byName = new Map();
      this.#checks.set(group, byName);
    }
    let rec = byName.get(name);
    if (rec === undefined) {
      rec = { group, name, passes: 0, fails: 0 };
      byName.set(name, rec);
      this.#checkOrder.push(rec);
      if (group !== '' && !this.#groups.has(group)) this.#noteGroup(group);
    }
    rec.passes += passes;
    rec.fails += fails;
  }

  /** Observed metrics and submetrics, in the order they were first observed. */
  observed(): readonly MetricState[] {
    return this.#observedOrder;
  }

  /** Every tracked metric (observed or not) and submetric. */
  all(): MetricState[] {
    const out: MetricState[] = [];
    for (const m of this.#metrics.values()) out.push(m, ...m.subs);
    return out;
  }

  /** Submetrics of a metric in declaration order (for `--out json` Metric lines). */
  submetricsOf(parent: string): SubmetricInfo[] {
    return (this.#metrics.get(parent)?.subs ?? []).map((s) => s.submetric);
  }

  checks(): readonly CheckRecord[] {
    return this.#checkOrder;
  }

  /** Group paths seen (`::a`, `::a::b`), ancestors before descendants, in first-seen order. */
  groups(): string[] {
    return [...this.#groups];
  }

  snapshot(): AggregatorSnapshot {
    const metrics: { name: string; observed: boolean; sink: SinkSnapshot }[] = [];
    const submetrics: { name: string; observed: boolean; sink: SinkSnapshot }[] = [];
    for (const m of this.#metrics.values()) {
      metrics.push({ name: m.name, observed: m.observed, sink: m.sink.snapshot() });
      for (const s of m.subs) submetrics.push({ name: s.name, observed: s.observed, sink: s.sink.snapshot() });
    }
    return {
      v: 1,
      definitions: this.registry.all(),
      metrics,
      submetrics,
      checks: this.#checkOrder.map((c) => [c.group, c.name, c.passes, c.fails] as const),
      groups: [...this.#groups],
      ...(this.breakdown === undefined ? {} : { breakdown: this.breakdown.snapshot() }),
    };
  }

  /**
   * Snapshot of everything added since the previous drain, then empty sinks and zeroed check
   * counts (declarations, groups and observed flags stay). For shipping a worker's data to the
   * main thread periodically: merging every drain equals one aggregator seeing every sample.
   */
  drain(): AggregatorSnapshot {
    const snap = this.snapshot();
    for (const m of this.#metrics.values()) {
      m.sink = createSink(m.type);
      for (const s of m.subs) s.sink = createSink(s.type);
    }
    for (const c of this.#checkOrder) {
      c.passes = 0;
      c.fails = 0;
    }
    this.breakdown?.reset();
    return snap;
  }

  /** Folds another aggregator's snapshot in; the result equals having added both sample streams here. */
  merge(snap: AggregatorSnapshot): void {
    // Throws MetricError when the sender defined a metric differently.
    for (const d of snap.definitions) this.registry.define(d.name, d.type, d.contains);
    for (const m of snap.metrics) {
      const st = this.#parent(m.name);
      mergeSink(st.sink, m.sink);
      if (m.observed) this.#observe(st);
    }
    for (const m of snap.submetrics) {
      const st = this.declareSubmetric(m.name);
      mergeSink(st.sink, m.sink);
      if (m.observed) this.#observe(st);
    }
    for (const g of snap.groups) this.#noteGroup(g);
    for (const [group, name, passes, fails] of snap.checks) this.#noteCheck(group, name, passes, fails);
    if (snap.breakdown !== undefined) this.breakdown?.merge(snap.breakdown);
    this.#lastGroup = '';
  }
}
