/**
 * From script options + flags to a runnable test plan (E2's resolveOptions and executors): the
 * header lines, how many VUs to pre-allocate and at most, and the driver that runs every
 * scenario at its startTime against one VU pool, emitting `vus`/`vus_max` every second.
 */
import type { Options, Stage } from 'k6/options';
import type { Clock, Issue, Sample, Tags } from '../contracts.ts';
import { ExecutionSegment, ExecutionTuple, parseSegmentSequence, type ExecutionSegmentSequence } from '../execution/segments.ts';
import { describeScenarioConfig, newScenarioStats, runScenario, scenarioHasWork, scenarioRequirements } from '../executors/index.ts';
import type { ExecutorRuntime, ScenarioConfig, ScenarioStats } from '../executors/types.ts';
import { formatDuration, parseStagesFlag, resolveOptions, type OptionOverrides, type ResolvedOptions } from '../options/index.ts';
import type { ParsedRunFlags } from './flags.ts';
import type { Logger } from './logger.ts';
import type { VuPool } from './pool.ts';

export interface PlanRuntime {
  readonly clock: Clock;
  readonly pool: VuPool;
  readonly signal: AbortSignal;
  emit(samples: readonly Sample[]): void;
  readonly runTags: Tags;
  readonly logger: Logger;
  /** Live stats of every started scenario (exec.instance, progress, workers). */
  readonly scenarioStats: ScenarioStats[];
  /** Where to draw the live progress line (a TTY stderr), if anywhere. */
  readonly progress?: NodeJS.WritableStream;
  /** Skip the vus/vus_max gauges (workers report counts to the main thread instead). */
  readonly noGauges?: boolean;
}

export interface TestPlan {
  readonly resolved: ResolvedOptions;
  /** Consolidated k6 options (exec.test.options). */
  readonly options: Options;
  readonly issues: readonly Issue[];
  readonly scenarios: readonly ScenarioConfig[];
  readonly tuple: ExecutionTuple;
  /** `(100.00%) 3 scenarios, 13 max VUs, 41s max duration (incl. graceful stop):` */
  readonly scenariosLine: string;
  readonly scenarioLines: readonly string[];
  /** VUs initialised before the start (k6's max planned VUs). */
  readonly preAllocatedVUs: number;
  /** VUs this instance may ever hold (planned + unplanned). */
  readonly maxVUs: number;
  /** Longest possible run incl. graceful stops, ms. */
  readonly maxDurationMs: number;
  run(rt: PlanRuntime): Promise<void>;
}

function overridesFromFlags(flags: ParsedRunFlags, issues: Issue[], segmentOverride?: { segment: string; sequence: string }): OptionOverrides {
  const v = flags.values;
  const o: { -readonly [K in keyof OptionOverrides]: OptionOverrides[K] } = {};
  const int = (name: string): number | undefined => {
    const raw = v[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      issues.push({ code: 'invalid-flag-value', path: `--${name}`, message: `flag --${name} must be a whole number, got "${raw}"; e.g. --${name} 10` });
      return undefined;
    }
    return n;
  };
  const vus = int('vus');
  if (vus !== undefined) o.vus = vus;
  const iterations = int('iterations');
  if (iterations !== undefined) o.iterations = iterations;
  if (v.duration !== undefined) o.duration = v.duration;
  const stageTexts = flags.lists.stage ?? [];
  if (stageTexts.length > 0) {
    const stages: Stage[] = [];
    for (const t of stageTexts) {
      const r = parseStagesFlag(t, '--stage');
      issues.push(...r.issues);
      stages.push(...r.stages);
    }
    o.stages = stages;
  }
  const tagEntries = flags.lists.tag ?? [];
  if (tagEntries.length > 0) {
    const tags: Record<string, string> = {};
    for (const e of tagEntries) { const i = e.indexOf('='); if (i > 0) tags[e.slice(0, i)] = e.slice(i + 1); }
    o.tags = tags;
  }
  const seg = segmentOverride?.segment ?? v['execution-segment'];
  const seq = segmentOverride?.sequence ?? v['execution-segment-sequence'];
  if (seg !== undefined && seg !== '') o.executionSegment = seg;
  if (seq !== undefined && seq !== '') o.executionSegmentSequence = seq;
  if (flags.booleans.has('no-thresholds')) o.noThresholds = true;
  if (flags.booleans.has('no-summary')) o.noSummary = true;
  if (flags.booleans.has('discard-response-bodies')) o.discardResponseBodies = true;
  if (flags.booleans.has('quiet')) o.quiet = true;
  const ts = v['summary-trend-stats'];
  if (ts !== undefined) o.summaryTrendStats = ts.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (v['summary-time-unit'] !== undefined) o.summaryTimeUnit = v['summary-time-unit'];
  if (v['summary-export'] !== undefined) o.summaryExport = v['summary-export'];
  return o;
}

/** Max over time of the summed VU needs of scenarios running side by side. */
function vuNeeds(scenarios: readonly ScenarioConfig[], tuple: ExecutionTuple): { planned: number; possible: number; duration: number } {
  const events: { t: number; planned: number; unplanned: number; idx: number }[] = [];
  let duration = 0;
  scenarios.forEach((cfg, idx) => {
    const steps = scenarioRequirements(cfg, tuple);
    for (const s of steps) events.push({ t: cfg.startTime + s.offset, planned: s.plannedVUs, unplanned: s.maxUnplannedVUs, idx });
    const last = steps[steps.length - 1];
    if (last !== undefined) duration = Math.max(duration, cfg.startTime + last.offset);
  });
  events.sort((a, b) => a.t - b.t);
  const cur = scenarios.map(() => ({ planned: 0, unplanned: 0 }));
  let planned = 0;
  let possible = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e === undefined) continue;
    const c = cur[e.idx];
    if (c !== undefined) { c.planned = e.planned; c.unplanned = e.unplanned; }
    if (events[i + 1]?.t === e.t) continue;
    const p = cur.reduce((a, x) => a + x.planned, 0);
    const u = cur.reduce((a, x) => a + x.planned + x.unplanned, 0);
    planned = Math.max(planned, p);
    possible = Math.max(possible, u);
  }
  return { planned, possible, duration };
}

export function planTest(
  scriptOptions: unknown, flags: ParsedRunFlags, env: Readonly<Record<string, string>>, exports: Readonly<Record<string, unknown>>,
  segmentOverride?: { segment: string; sequence: string },
): TestPlan {
  const issues: Issue[] = [];
  const overrides = overridesFromFlags(flags, issues, segmentOverride);
  const exportNames = new Set(Object.keys(exports).filter((k) => typeof exports[k] === 'function'));
  const r = resolveOptions(scriptOptions, overrides, { vars: env, exports: exportNames });
  issues.push(...r.issues);
  const resolved = r.options;
  const tuple = resolved.tuple;
  const scenarios = resolved.scenarios;
  const working = scenarios.filter((c) => scenarioHasWork(c, tuple));
  const needs = issues.length > 0 ? { planned: 0, possible: 0, duration: 0 } : vuNeeds(working, tuple);
  const pct = tuple.segment.floatLength() * 100;
  const n = scenarios.length;
  const scenariosLine = `(${pct.toFixed(2)}%) ${String(n)} scenario${n === 1 ? '' : 's'}, ${String(needs.possible)} max VUs, ${formatDuration(needs.duration)} max duration (incl. graceful stop):`;
  const scenarioLines = issues.length > 0 ? [] : [...scenarios].sort((a, b) => a.name.localeCompare(b.name)).map((c) => `${c.name}: ${describeScenarioConfig(c, tuple)}`);
  return {
    resolved,
    options: resolved.k6,
    issues,
    scenarios,
    tuple,
    scenariosLine,
    scenarioLines,
    preAllocatedVUs: needs.planned,
    maxVUs: needs.possible,
    maxDurationMs: needs.duration,
    run: (rt) => drive(working, tuple, rt),
  };
}

async function drive(scenarios: readonly ScenarioConfig[], tuple: ExecutionTuple, rt: PlanRuntime): Promise<void> {
  const { clock, pool, signal } = rt;
  const start = clock.now();
  const gauges = (): void => { if (rt.noGauges !== true) pool.gaugeSamples(clock.wallNow(), rt.runTags, { add: (s) => { rt.emit(s); } }); };
  const timer = setInterval(() => {
    gauges();
    if (rt.progress !== undefined) {
      const done = rt.scenarioStats.reduce((a, s) => a + s.completed, 0);
      const intr = rt.scenarioStats.reduce((a, s) => a + s.interrupted, 0);
      rt.progress.write(`\r\x1b[Krunning (${((clock.now() - start) / 1000).toFixed(1)}s), ${String(pool.active).padStart(2, '0')}/${String(pool.initialized).padStart(2, '0')} VUs, ${String(done)} complete and ${String(intr)} interrupted iterations`);
    }
  }, 1000);
  timer.unref();
  try {
    await Promise.all(scenarios.map(async (cfg) => {
      if (cfg.startTime > 0) {
        try { await clock.sleep(cfg.startTime, signal); } catch { return; }
      }
      if (signal.aborted) return;
      const stats = newScenarioStats();
      rt.scenarioStats.push(stats);
      const ert: ExecutorRuntime = {
        clock, pool, signal, tuple, runTags: rt.runTags, stats,
        emit: (s) => { rt.emit(s); },
        warn: (m) => { rt.logger.warnOnce(m, m); },
      };
      await runScenario(cfg, ert);
    }));
  } finally {
    clearInterval(timer);
    if (rt.progress !== undefined) rt.progress.write('\n');
  }
}

export type { ExecutionSegment, ExecutionSegmentSequence };
export { parseSegmentSequence };
