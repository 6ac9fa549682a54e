/**
 * The `data` object k6 passes to `handleSummary` and the legacy `--summary-export` file, built
 * from an Aggregator and the last threshold evaluation (k6 v0.49 shapes; see docs/engine-data.md).
 */

import { createHash } from 'node:crypto';
import type { Aggregator, MetricState } from '../metrics/index.ts';
import type { BreakdownNode } from '../metrics/breakdown.ts';
import type { Sink } from '../metrics/sinks.ts';
import type { ThresholdEvaluation } from '../thresholds/index.ts';
import type { SummaryCheck, SummaryData, SummaryGroup, SummaryMetric, SummaryReport, SummaryReportGroup } from './summary-types.ts';

export type { SummaryCheck, SummaryData, SummaryGroup, SummaryMetric, SummaryReport, SummaryReportGroup } from './summary-types.ts';

/** k6's default summaryTrendStats. */
export const DEFAULT_SUMMARY_TREND_STATS: readonly string[] = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

export interface SummaryInput {
  readonly aggregator: Aggregator;
  /** The final threshold evaluation; omit with --no-thresholds. */
  readonly thresholds?: ThresholdEvaluation;
  readonly options?: { readonly summaryTrendStats?: readonly string[]; readonly summaryTimeUnit?: string; readonly noColor?: boolean };
  readonly state: { readonly isStdOutTTY: boolean; readonly isStdErrTTY: boolean; readonly testRunDurationMs: number };
}

/** k6's group/check id: md5 hex of the path. */
export function k6Id(path: string): string {
  return createHash('md5').update(path).digest('hex');
}

function metricValues(st: Pick<MetricState, 'sink'>, trendStats: readonly string[], durationMs: number): Record<string, number> {
  const sink: Sink = st.sink;
  switch (sink.type) {
    case 'counter':
      return sink.values(durationMs);
    case 'gauge':
      return sink.values();
    case 'rate':
      return sink.values();
    case 'trend':
      return sink.values(trendStats);
  }
}

/** Threshold verdicts per canonical metric name. */
function verdictsByMetric(agg: Aggregator, ev: ThresholdEvaluation | undefined): Map<string, Record<string, { ok: boolean }>> {
  const out = new Map<string, Record<string, { ok: boolean }>>();
  if (ev === undefined) return out;
  for (const [key, perSource] of Object.entries(ev.results)) {
    const name = agg.resolve(key)?.name ?? key;
    const rec = out.get(name) ?? {};
    for (const [source, o] of Object.entries(perSource)) rec[source] = { ok: o.ok };
    // k6 lists `thresholds` only for metrics that have at least one.
    if (Object.keys(rec).length > 0) out.set(name, rec);
  }
  return out;
}

function buildGroupTree(agg: Aggregator): SummaryGroup {
  const root: SummaryGroup = { name: '', path: '', id: k6Id(''), groups: [], checks: [] };
  const byPath = new Map<string, SummaryGroup>([['', root]]);
  const ensure = (path: string): SummaryGroup => {
    const found = byPath.get(path);
    if (found !== undefined) return found;
    const cut = path.lastIndexOf('::');
    const parent = ensure(cut <= 0 ? '' : path.slice(0, cut));
    const g: SummaryGroup = { name: path.slice(cut + 2), path, id: k6Id(path), groups: [], checks: [] };
    parent.groups.push(g);
    byPath.set(path, g);
    return g;
  };
  for (const g of agg.groups()) ensure(g);
  for (const c of agg.checks()) {
    const path = `${c.group}::${c.name}`;
    ensure(c.group).checks.push({ name: c.name, path, id: k6Id(path), passes: c.passes, fails: c.fails });
  }
  return root;
}

/** The exact `data` object k6 passes to handleSummary(). */
export function buildSummaryData(input: SummaryInput): SummaryData {
  const trendStats = [...(input.options?.summaryTrendStats ?? DEFAULT_SUMMARY_TREND_STATS)];
  const duration = input.state.testRunDurationMs;
  const verdicts = verdictsByMetric(input.aggregator, input.thresholds);
  const metrics: Record<string, SummaryMetric> = {};
  for (const st of input.aggregator.observed()) {
    const m: SummaryMetric = { type: st.type, contains: st.contains, values: metricValues(st, trendStats, duration) };
    const t = verdicts.get(st.name);
    if (t !== undefined) m.thresholds = t;
    metrics[st.name] = m;
  }
  return {
    metrics,
    root_group: buildGroupTree(input.aggregator),
    options: {
      summaryTrendStats: trendStats,
      summaryTimeUnit: input.options?.summaryTimeUnit ?? '',
      noColor: input.options?.noColor ?? false,
    },
    state: { isStdOutTTY: input.state.isStdOutTTY, isStdErrTTY: input.state.isStdErrTTY, testRunDurationMs: duration },
  };
}

function reportGroup(node: BreakdownNode, trendStats: readonly string[], durationMs: number): SummaryReportGroup {
  const metrics: Record<string, SummaryMetric> = {};
  for (const [name, m] of node.metrics)
    metrics[name] = { type: m.type, contains: m.contains, values: metricValues(m, trendStats, durationMs) };
  const groups: Record<string, SummaryReportGroup> = {};
  for (const [name, g] of node.groups) groups[name] = reportGroup(g, trendStats, durationMs);
  return { metrics, checks: [...node.checks.values()].map((c) => ({ name: c.name, passes: c.passes, fails: c.fails })), groups };
}

/**
 * What k6 v1's summary shows beyond `data` (summary-types.ts SummaryReport): each threshold's judged value,
 * and the per-group and per-scenario aggregates when the aggregator kept them (`--summary-mode full`).
 */
export function buildSummaryReport(input: SummaryInput): SummaryReport {
  const trendStats = [...(input.options?.summaryTrendStats ?? DEFAULT_SUMMARY_TREND_STATS)];
  const thresholdValues: Record<string, Record<string, number>> = {};
  for (const [key, perSource] of Object.entries(input.thresholds?.results ?? {})) {
    const name = input.aggregator.resolve(key)?.name ?? key;
    for (const [source, o] of Object.entries(perSource)) {
      if (o.observed === undefined) continue;
      (thresholdValues[name] ??= {})[source] = o.observed;
    }
  }
  const breakdown = input.aggregator.breakdown;
  if (breakdown === undefined) return { thresholdValues };
  const duration = input.state.testRunDurationMs;
  const groups: Record<string, SummaryReportGroup> = {};
  for (const [name, g] of breakdown.root.groups) groups[name] = reportGroup(g, trendStats, duration);
  const scenarios: Record<string, SummaryReportGroup> = {};
  for (const [name, n] of breakdown.scenarios) scenarios[name] = reportGroup(n, trendStats, duration);
  return { thresholdValues, groups, scenarios };
}

export interface SummaryExportGroup {
  name: string;
  path: string;
  id: string;
  groups: Record<string, SummaryExportGroup>;
  checks: Record<string, SummaryCheck>;
}

export interface SummaryExport {
  metrics: Record<string, Record<string, number | Record<string, boolean>>>;
  root_group: SummaryExportGroup;
}

function exportGroup(g: SummaryGroup): SummaryExportGroup {
  const groups: Record<string, SummaryExportGroup> = {};
  for (const sub of g.groups) groups[sub.name] = exportGroup(sub);
  const checks: Record<string, SummaryCheck> = {};
  for (const c of g.checks) checks[c.name] = { ...c };
  return { name: g.name, path: g.path, id: g.id, groups, checks };
}

/**
 * The legacy `--summary-export` object from handleSummary data: trends flatten their
 * summaryTrendStats, rates give passes/fails/value, gauges value/min/max, counters count/rate,
 * and `thresholds` maps each expression to true when it was CROSSED (failed).
 */
export function buildSummaryExport(data: SummaryData): SummaryExport {
  const metrics: SummaryExport['metrics'] = {};
  for (const [name, m] of Object.entries(data.metrics)) {
    const out: Record<string, number | Record<string, boolean>> = {};
    if (m.type === 'rate') {
      out.passes = m.values.passes ?? 0;
      out.fails = m.values.fails ?? 0;
    } else {
      for (const [k, v] of Object.entries(m.values)) out[k] = v;
    }
    if (m.thresholds !== undefined) {
      const t: Record<string, boolean> = {};
      for (const [src, r] of Object.entries(m.thresholds)) t[src] = !r.ok;
      out.thresholds = t;
    }
    if (m.type === 'rate') out.value = m.values.rate ?? 0;
    metrics[name] = out;
  }
  return { metrics, root_group: exportGroup(data.root_group) };
}

/** The `--summary-export` file text (k6 indents with 4 spaces). */
export function summaryExportJson(data: SummaryData): string {
  return JSON.stringify(buildSummaryExport(data), null, 4);
}
