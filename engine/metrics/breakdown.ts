/**
 * The per-group and per-scenario aggregates k6 v1's `--summary-mode full` prints (its summary output's
 * dataModel): a sample of a named scenario (not `default`) goes to that scenario's tree, any other sample to
 * the top-level tree; a sample with a group tag then goes to that group only (a group holds its own samples,
 * not its subgroups'). Each node keeps one sink per metric and the checks' passes and fails in first-seen
 * order. Plain-JSON snapshots merge exactly, so `--workers` threads fold in like the Aggregator's.
 */

import type { MetricType, Sample, ValueType } from '../contracts.ts';
import { createSink, mergeSink, type Sink, type SinkSnapshot } from './sinks.ts';

export interface BreakdownMetric {
  readonly type: MetricType;
  readonly contains: ValueType;
  sink: Sink;
}

export interface BreakdownCheck {
  readonly name: string;
  passes: number;
  fails: number;
}

export interface BreakdownNode {
  readonly metrics: Map<string, BreakdownMetric>;
  readonly checks: Map<string, BreakdownCheck>;
  readonly groups: Map<string, BreakdownNode>;
}

export interface BreakdownNodeSnapshot {
  readonly metrics: readonly {
    readonly name: string;
    readonly type: MetricType;
    readonly contains: ValueType;
    readonly sink: SinkSnapshot;
  }[];
  /** [name, passes, fails] */
  readonly checks: readonly (readonly [string, number, number])[];
  readonly groups: readonly (readonly [string, BreakdownNodeSnapshot])[];
}

export interface BreakdownSnapshot {
  readonly root: BreakdownNodeSnapshot;
  readonly scenarios: readonly (readonly [string, BreakdownNodeSnapshot])[];
}

function newNode(): BreakdownNode {
  return { metrics: new Map(), checks: new Map(), groups: new Map() };
}

function child(node: BreakdownNode, name: string): BreakdownNode {
  let found = node.groups.get(name);
  if (found === undefined) {
    found = newNode();
    node.groups.set(name, found);
  }
  return found;
}

function check(node: BreakdownNode, name: string): BreakdownCheck {
  let c = node.checks.get(name);
  if (c === undefined) {
    c = { name, passes: 0, fails: 0 };
    node.checks.set(name, c);
  }
  return c;
}

function metric(node: BreakdownNode, name: string, type: MetricType, contains: ValueType): BreakdownMetric {
  let m = node.metrics.get(name);
  if (m === undefined) {
    m = { type, contains, sink: createSink(type) };
    node.metrics.set(name, m);
  }
  return m;
}

function addTo(node: BreakdownNode, s: Sample, type: MetricType, contains: ValueType): void {
  const sink = metric(node, s.metric, type, contains).sink;
  if (sink.type === 'gauge') sink.add(s.value, s.time);
  else sink.add(s.value);
  if (s.metric === 'checks' && s.tags.check !== undefined) {
    const c = check(node, s.tags.check);
    if (s.value !== 0) c.passes++;
    else c.fails++;
  }
}

function snapshotNode(node: BreakdownNode): BreakdownNodeSnapshot {
  return {
    metrics: [...node.metrics].map(([name, m]) => ({ name, type: m.type, contains: m.contains, sink: m.sink.snapshot() })),
    checks: [...node.checks.values()].map((c) => [c.name, c.passes, c.fails] as const),
    groups: [...node.groups].map(([name, g]) => [name, snapshotNode(g)] as const),
  };
}

function mergeNode(node: BreakdownNode, snap: BreakdownNodeSnapshot): void {
  for (const m of snap.metrics) mergeSink(metric(node, m.name, m.type, m.contains).sink, m.sink);
  for (const [name, passes, fails] of snap.checks) {
    const c = check(node, name);
    c.passes += passes;
    c.fails += fails;
  }
  for (const [name, g] of snap.groups) mergeNode(child(node, name), g);
}

export class SummaryBreakdown {
  #root = newNode();
  #scenarios = new Map<string, BreakdownNode>();

  /** Records one sample of a metric of `type` (the Aggregator has resolved its definition). */
  add(s: Sample, type: MetricType, contains: ValueType): void {
    let node = this.#root;
    const scenario = s.tags.scenario;
    if (scenario !== undefined && scenario !== 'default') {
      node = this.#scenario(scenario);
      addTo(node, s, type, contains);
    }
    const group = s.tags.group;
    if (group === undefined || group === '') return;
    for (const name of group.replace(/^::/, '').split('::')) node = child(node, name);
    addTo(node, s, type, contains);
  }

  #scenario(name: string): BreakdownNode {
    let node = this.#scenarios.get(name);
    if (node === undefined) {
      node = newNode();
      this.#scenarios.set(name, node);
    }
    return node;
  }

  /** The top-level tree: groups of samples outside named scenarios (its own metrics stay empty). */
  get root(): BreakdownNode {
    return this.#root;
  }

  get scenarios(): ReadonlyMap<string, BreakdownNode> {
    return this.#scenarios;
  }

  snapshot(): BreakdownSnapshot {
    return { root: snapshotNode(this.#root), scenarios: [...this.#scenarios].map(([name, n]) => [name, snapshotNode(n)] as const) };
  }

  /** Starts over: a new, empty tree (what was drained is in the snapshot taken before; merging rebuilds the shape). */
  reset(): void {
    this.#root = newNode();
    this.#scenarios = new Map();
  }

  merge(snap: BreakdownSnapshot): void {
    mergeNode(this.#root, snap.root);
    for (const [name, n] of snap.scenarios) mergeNode(this.#scenario(name), n);
  }
}
