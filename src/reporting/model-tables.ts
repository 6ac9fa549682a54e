/**
 * The report model's tables: one row per endpoint (method and URL name; setup/teardown apart) with its
 * latency distribution, checks by group and name, failed requests by status, error code and endpoint,
 * and the metric panels.
 */

import { mergeAgg, newAgg, type Agg } from './aggregate.ts';
import type { RunAccumulator } from './ingest.ts';
import { trendStats } from './merged-aggregates.ts';
import type { CheckRow, Distribution, EndpointRow, ErrorRow, Panel } from './model.ts';
import { HTTP_REQ_METRICS } from '../../shared/k6-metrics.ts';

export interface PanelRule {
  id: string;
  title: string;
  /** A metric belongs to the first panel whose pattern matches its name. */
  pattern: RegExp;
}

/** Data-driven panel detection: a panel appears when any metric name matches its pattern. */
export const PANEL_RULES: readonly PanelRule[] = [
  { id: 'ws', title: 'WebSocket', pattern: /^ws_/ },
  { id: 'bus', title: 'Event bus', pattern: /^(bus|eventbus|event_bus)_/ },
  { id: 'slack', title: 'Slack', pattern: /^slack_/ },
  { id: 'llm', title: 'LLM', pattern: /^llm_/ },
  { id: 'db', title: 'Database', pattern: /^(db|sql|pg)_/ },
  { id: 'target', title: 'Target (scraped gauges)', pattern: /^target_/ },
];

export const BUILTIN_METRICS = new Set<string>([
  ...HTTP_REQ_METRICS,
  'checks',
  'data_sent',
  'data_received',
  'iteration_duration',
  'iterations',
  'group_duration',
  'vus',
  'vus_max',
  'dropped_iterations',
]);

function shortName(name: string): string {
  try {
    const u = new URL(name);
    return u.pathname + u.search;
  } catch {
    return name;
  }
}

/** `setup`/`teardown` for requests k6 made in those lifecycle functions (their group tag is `::setup` / `::teardown`). */
export function phaseOf(tags: Record<string, string>): 'setup' | 'teardown' | undefined {
  return tags.group === '::setup' ? 'setup' : tags.group === '::teardown' ? 'teardown' : undefined;
}

/** The endpoint row a request's tags belong to: method and URL name, and ` [setup]`/` [teardown]` for those requests (rows apart). */
export function endpointKeyOf(tags: Record<string, string>): string {
  const phase = phaseOf(tags);
  return `${tags.method ?? ''} ${tags.name ?? ''}${phase !== undefined ? ` [${phase}]` : ''}`;
}

/** Percentiles (0..1) at which each endpoint's latency distribution is drawn: dense in the tail. */
export const DISTRIBUTION_POINTS = [
  0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995, 0.999, 1,
] as const;

function distributionOf(a: Agg): Distribution {
  const p = [...DISTRIBUTION_POINTS];
  const ms = p.map((q) => (q === 0 ? a.min : q === 1 ? a.max : (a.sketch?.quantile(q) ?? 0))).map((v) => Number(v.toPrecision(4)));
  return { p, ms };
}

export function endpointRows(acc: RunAccumulator, durationSec: number, distributions: Record<string, Distribution> = {}): EndpointRow[] {
  const dur = acc.totals.get('http_req_duration');
  const failed = acc.totals.get('http_req_failed');
  if (!dur) return [];
  const groups = new Map<string, { method: string; name: string; endpoint?: string; phase?: 'setup' | 'teardown'; d: Agg; f: Agg }>();
  const keyOf = endpointKeyOf;
  for (const [id, a] of dur) {
    const tags = acc.tagsets[id] ?? {};
    const key = keyOf(tags);
    let g = groups.get(key);
    if (!g) {
      g = { method: tags.method ?? '', name: tags.name ?? '', d: newAgg('trend'), f: newAgg('rate') };
      if (tags.endpoint !== undefined) g.endpoint = tags.endpoint;
      const phase = phaseOf(tags);
      if (phase !== undefined) g.phase = phase;
      groups.set(key, g);
    }
    mergeAgg(g.d, a);
  }
  if (failed)
    for (const [id, a] of failed) {
      const g = groups.get(keyOf(acc.tagsets[id] ?? {}));
      if (g) mergeAgg(g.f, a);
    }
  const rows: EndpointRow[] = [];
  for (const [key, g] of groups) {
    const row: EndpointRow = {
      key,
      method: g.method,
      name: shortName(g.name),
      ...trendStats(g.d),
      rps: durationSec > 0 ? g.d.n / durationSec : 0,
      errors: g.f.nonzero,
      errorRate: g.f.n === 0 ? 0 : g.f.nonzero / g.f.n,
    };
    if (g.endpoint !== undefined) row.endpoint = g.endpoint;
    if (g.phase !== undefined) row.phase = g.phase;
    if (g.d.n > 0) distributions[key] = distributionOf(g.d);
    rows.push(row);
  }
  return rows.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

export function checkRows(acc: RunAccumulator): CheckRow[] {
  const per = acc.totals.get('checks');
  if (!per) return [];
  const m = new Map<string, CheckRow>();
  for (const [id, a] of per) {
    const tags = acc.tagsets[id] ?? {};
    const name = tags.check ?? '';
    const group = tags.group ?? '';
    const k = `${group}\u0000${name}`;
    let r = m.get(k);
    if (!r) {
      r = { name, group, passes: 0, fails: 0 };
      m.set(k, r);
    }
    r.passes += a.nonzero;
    r.fails += a.n - a.nonzero;
  }
  return [...m.values()].sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
}

export function errorRows(acc: RunAccumulator): ErrorRow[] {
  const per = acc.totals.get('http_reqs');
  if (!per) return [];
  const m = new Map<string, ErrorRow>();
  for (const [id, a] of per) {
    const tags = acc.tagsets[id] ?? {};
    const status = tags.status ?? '';
    const errorCode = tags.error_code ?? '';
    const failed = errorCode !== '' || status === '0' || Number(status) >= 400 || tags.expected_response === 'false';
    if (!failed) continue;
    const phase = phaseOf(tags);
    const endpoint = `${tags.method ?? ''} ${shortName(tags.name ?? '')}${phase !== undefined ? ` [${phase}]` : ''}`.trim();
    const k = `${status}\u0000${errorCode}\u0000${endpoint}`;
    const r = m.get(k) ?? { status, errorCode, endpoint, count: 0 };
    r.count += a.sum;
    m.set(k, r);
  }
  return [...m.values()].sort(
    (a, b) =>
      b.count - a.count ||
      a.endpoint.localeCompare(b.endpoint) ||
      a.status.localeCompare(b.status) ||
      a.errorCode.localeCompare(b.errorCode),
  );
}

export function panels(acc: RunAccumulator): Panel[] {
  const out = new Map<string, Panel>();
  const custom: string[] = [];
  for (const name of acc.metrics.keys()) {
    if (!acc.totals.has(name)) continue;
    const rule = PANEL_RULES.find((r) => r.pattern.test(name));
    if (rule) {
      const p = out.get(rule.id) ?? { id: rule.id, title: rule.title, metrics: [] };
      p.metrics.push(name);
      out.set(rule.id, p);
    } else if (!BUILTIN_METRICS.has(name)) custom.push(name);
  }
  const list = PANEL_RULES.flatMap((r) => {
    const p = out.get(r.id);
    return p ? [p] : [];
  });
  if (custom.length > 0) list.push({ id: 'custom', title: 'Custom metrics', metrics: custom });
  return list;
}
