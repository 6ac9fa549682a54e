/**
 * Baseline snapshots: the figures of a run that later runs are judged against (per metric and per
 * endpoint: trends' percentiles, rates, counters' per-second rates, gauges' last and highest values) and,
 * for the figures the gate judges, the run's time windows (see stats.ts). compare.ts judges a run's
 * snapshot against one.
 *
 * Which figures are judged ("gated"): http_req_duration p50/p95/p99 overall and per endpoint, error rates
 * (http_req_failed overall and per endpoint), throughput (http_reqs per second), and every metric a
 * threshold names (trends by p95/p99, rates by rate, counters by rate, gauges by value and max). All
 * other figures (sub-timings such as http_req_sending, avg, p50 of other trends, custom metrics without thresholds, and the
 * endpoints of setup()/teardown() requests, `GET /api/agents [setup]`) are shown for information and never
 * fail. "Worse" has a direction per metric (`worseDirection`).
 *
 * A saved baseline may combine several runs (`combineSnapshots`): each figure is the median of the
 * runs', the windows of all runs are pooled, and each gated figure keeps its value in every run
 * (`perRun`), for compare.ts's between-run condition.
 */

import type { MetricType } from '../../engine/contracts.ts';
import type { RunModel, TrendStats } from './model.ts';
import { medianOf } from './stats.ts';

export interface BaselineEntry {
  kind: 'trend' | 'rate' | 'counter' | 'gauge';
  /** Samples behind the figure. */
  count: number;
  /** Trends: ms (or the metric's unit); rates: 0..1; counters: `rate` per second; gauges: `value` (last), `max`. */
  values: Record<string, number>;
  /** 'up' when a higher value is worse (latency, error rates), 'down' when lower is worse (throughput, hit rates). */
  worse: 'up' | 'down';
  unit: 'ms' | 'ratio' | 'value';
  /** Stats the gate judges (absent or empty: shown for information only). */
  gated?: string[];
  /** Rates: samples that were non-zero (errors), for the proportion test. */
  events?: number;
  /** Gated stats' values per time window of the run (pooled over runs in a combined baseline). */
  windows?: Record<string, number[]>;
  /** A combined baseline: gated stats' value in each of its runs (oldest first), for the between-run condition. */
  perRun?: Record<string, number[]>;
}

/**
 * How busy the machine was during one run (none of these is judged as a result: they say whether a run's slower
 * tail can be the machine's doing; compare.ts `judgeNoise`). A figure a run did not record is absent.
 */
export interface RunNoise {
  /** 1-minute load average per core, mean over the load (run.json `machine`, the run command). */
  loadPerCore?: number;
  /** p99 of how late a thread that only sleeps woke up, ms (run.json `machine`, the run command's probe). */
  schedLagP99Ms?: number;
  /** The load generator's own `http_req_sending` p99, ms: its time to write a request, which the target cannot slow (k6 output, any engine). */
  sendingP99Ms?: number;
  /** CPU time stolen by the hypervisor over the run, % (run.json `machine`). */
  stealPct?: number;
}

export interface BaselineSnapshot {
  kind: 'agentload-baseline';
  version: 1 | 2;
  scenario?: string;
  createdAt: string;
  /** Where it came from: the run folder's or file's name (never an absolute path). */
  source: string;
  entries: Record<string, BaselineEntry>;
  /** A combined baseline: how many runs its figures are the median of. */
  runs?: number;
  /** This run's machine-noise figures (a combined baseline: its latest run's). */
  noise?: RunNoise;
  /** A combined baseline: each run's machine-noise figures, oldest first. */
  noisePerRun?: RunNoise[];
}

/**
 * A snapshot's machine-noise figures: those it recorded, and `http_req_sending` p99 from its entries (so a
 * snapshot saved before runs recorded noise still gives the generator's own tail).
 */
export function noiseOf(snap: BaselineSnapshot): RunNoise {
  const out: RunNoise = { ...(snap.noise ?? {}) };
  const sending = snap.entries['metric http_req_sending'];
  const p99 = sending?.kind === 'trend' && sending.count > 0 ? sending.values.p99 : undefined;
  if (out.sendingP99Ms === undefined && p99 !== undefined) out.sendingP99Ms = p99;
  return out;
}

/** The machine-noise figures of each run a baseline stands for (one run: its own). */
export function noiseRunsOf(snap: BaselineSnapshot): RunNoise[] {
  return snap.noisePerRun ?? [noiseOf(snap)];
}

/** Names of figures that are worse when higher, whatever their type. */
const HIGHER_IS_WORSE =
  /fail|error|drop|timeout|lost|loss|dup|miss|unmatched|late|retr|rate_limited|reject|evict|waiting|lag|depth|leak|drift|degradation/i;
/** Names of figures that are worse when lower (throughput and success). */
const LOWER_IS_WORSE =
  /per_second|per_hour|throughput|mbps|tokens|hit|success|succeeded|completed|accepted|http_reqs|iterations|received|published|checks/i;
/** The trend stats the gate judges. */
const GATED_TREND_STATS = ['p95', 'p99'];
/**
 * Request latency (`http_req_duration`, overall and per endpoint) is judged on its median too: between
 * runs of unchanged code on a loaded machine the median moved 4–5× less than p95 (σ of the logs 0.14
 * against 0.68 over 8 smoke runs), while a slowdown of every request moves it by nearly its full size,
 * so its between-run bound is far tighter. p95/p99 stay judged: a regression of the tail alone still fails.
 */
const LATENCY_STATS = ['p50', ...GATED_TREND_STATS];
/** Metrics judged even without a threshold: latency, errors, throughput. */
const ALWAYS_GATED = new Set(['http_req_duration', 'http_req_failed', 'http_reqs']);

/** Which way a metric gets worse: by name first, else by type (trends and gauges up, rates and counters down). */
export function worseDirection(name: string, type: MetricType): BaselineEntry['worse'] {
  if (HIGHER_IS_WORSE.test(name)) return 'up';
  if (LOWER_IS_WORSE.test(name)) return 'down';
  return type === 'trend' || type === 'gauge' ? 'up' : 'down';
}

function trendEntry(s: TrendStats, unit: BaselineEntry['unit'], worse: BaselineEntry['worse'] = 'up'): BaselineEntry {
  return { kind: 'trend', count: s.count, values: { avg: s.avg, p50: s.p50, p90: s.p90, p95: s.p95, p99: s.p99, max: s.max }, worse, unit };
}

/** Marks an entry gated on `stats`, with the run's windows of those stats when it has them. */
function gate(e: BaselineEntry, stats: readonly string[], windows: Record<string, number[]> | undefined): BaselineEntry {
  e.gated = [...stats];
  const w: Record<string, number[]> = {};
  for (const st of stats) {
    const v = windows?.[st];
    if (v !== undefined) w[st] = v;
  }
  if (Object.keys(w).length > 0) e.windows = w;
  return e;
}

/** The name a run is known by in a baseline: its folder's or file's name, never an absolute path. */
export function sourceName(path: string): string {
  const parts = path.replace(/[\\/]+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/** The figures of a run that later runs are compared with. */
export function snapshotOf(model: RunModel, source: string, now: Date = new Date()): BaselineSnapshot {
  const entries: Record<string, BaselineEntry> = {};
  const withThresholds = new Set(model.thresholds.map((t) => t.metric.replace(/\{.*$/, '')));
  const win = (key: string): Record<string, number[]> | undefined => model.windows[key];
  for (const m of model.metrics) {
    const type: MetricType = m.type;
    const key = `metric ${m.name}`;
    const gated = ALWAYS_GATED.has(m.name) || withThresholds.has(m.name);
    if (type === 'trend') {
      const v = m.values;
      const e = trendEntry(
        {
          count: v.count ?? 0,
          avg: v.avg ?? 0,
          min: v.min ?? 0,
          p50: v.p50 ?? 0,
          p90: v.p90 ?? 0,
          p95: v.p95 ?? 0,
          p99: v.p99 ?? 0,
          max: v.max ?? 0,
        },
        m.contains === 'time' ? 'ms' : 'value',
        worseDirection(m.name, type),
      );
      entries[key] = gated ? gate(e, m.name === 'http_req_duration' ? LATENCY_STATS : GATED_TREND_STATS, win(key)) : e;
    } else if (type === 'rate') {
      const passes = m.values.passes ?? 0;
      const fails = m.values.fails ?? 0;
      const e: BaselineEntry = {
        kind: 'rate',
        count: passes + fails,
        events: passes,
        values: { rate: m.values.rate ?? 0 },
        worse: worseDirection(m.name, type),
        unit: 'ratio',
      };
      entries[key] = gated ? gate(e, ['rate'], undefined) : e;
    } else if (m.name === 'vus' || m.name === 'vus_max') {
      // The load's shape, not a result.
    } else if (type === 'counter') {
      const e: BaselineEntry = {
        kind: 'counter',
        count: m.samples ?? m.values.count ?? 0,
        values: { rate: m.values.rate ?? 0 },
        worse: worseDirection(m.name, type),
        unit: 'value',
      };
      entries[key] = gated ? gate(e, ['rate'], win(key)) : e;
    } else {
      const e: BaselineEntry = {
        kind: 'gauge',
        count: m.samples ?? 1,
        values: { value: m.values.value ?? 0, max: m.values.max ?? 0 },
        worse: worseDirection(m.name, type),
        unit: m.contains === 'time' ? 'ms' : 'value',
      };
      entries[key] = gated ? gate(e, ['value', 'max'], undefined) : e;
    }
  }
  for (const e of model.endpoints) {
    const latency = trendEntry(e, 'ms');
    const failed: BaselineEntry = {
      kind: 'rate',
      count: e.count,
      events: e.errors,
      values: { rate: e.errorRate },
      worse: 'up',
      unit: 'ratio',
    };
    // setup()/teardown() requests (rows of their own) are a handful made once: shown for information, never judged.
    const judged = e.phase === undefined;
    entries[`endpoint ${e.key}`] = judged ? gate(latency, LATENCY_STATS, win(`endpoint ${e.key}`)) : latency;
    entries[`endpoint ${e.key} errors`] = judged ? gate(failed, ['rate'], undefined) : failed;
  }
  const snap: BaselineSnapshot = {
    kind: 'agentload-baseline',
    version: 2,
    createdAt: now.toISOString(),
    source: sourceName(source),
    entries,
  };
  if (model.meta.scenario !== undefined) snap.scenario = model.meta.scenario;
  const noise = noiseOf(snap);
  const machine = model.meta.machine;
  if (machine?.loadPerCore !== undefined) noise.loadPerCore = machine.loadPerCore;
  if (machine?.schedLagP99Ms !== undefined) noise.schedLagP99Ms = machine.schedLagP99Ms;
  if (machine?.stealPct !== undefined) noise.stealPct = machine.stealPct;
  if (Object.keys(noise).length > 0) snap.noise = noise;
  return snap;
}

export function isSnapshot(x: unknown): x is BaselineSnapshot {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as { kind?: unknown }).kind === 'agentload-baseline' &&
    typeof (x as { entries?: unknown }).entries === 'object'
  );
}

/**
 * One baseline from several runs' snapshots (oldest first): each figure is the median of the runs that
 * have it, counts and error events are summed, windows pooled. Figures only in older runs are left out.
 */
export function combineSnapshots(snaps: readonly BaselineSnapshot[]): BaselineSnapshot {
  const latest = snaps[snaps.length - 1];
  if (latest === undefined) throw new Error('combineSnapshots needs at least one snapshot');
  if (snaps.length === 1) return latest;
  const entries: Record<string, BaselineEntry> = {};
  for (const [key, last] of Object.entries(latest.entries)) {
    const same = snaps.map((s) => s.entries[key]).filter((e): e is BaselineEntry => e !== undefined && e.kind === last.kind);
    const values: Record<string, number> = {};
    for (const stat of Object.keys(last.values))
      values[stat] = medianOf(same.flatMap((e) => (e.values[stat] === undefined ? [] : [e.values[stat]])));
    const e: BaselineEntry = { ...last, count: same.reduce((n, x) => n + x.count, 0), values };
    if (last.events !== undefined) e.events = same.reduce((n, x) => n + (x.events ?? 0), 0);
    if (last.windows !== undefined) {
      const w: Record<string, number[]> = {};
      for (const stat of Object.keys(last.windows)) w[stat] = same.flatMap((x) => x.windows?.[stat] ?? []);
      e.windows = w;
    }
    if (last.gated !== undefined && last.gated.length > 0) {
      const runs: Record<string, number[]> = {};
      for (const stat of last.gated) runs[stat] = same.flatMap((x) => (x.values[stat] === undefined ? [] : [x.values[stat]]));
      e.perRun = runs;
    } else delete e.perRun;
    entries[key] = e;
  }
  return { ...latest, entries, runs: snaps.length, noisePerRun: snaps.map(noiseOf) };
}
