/**
 * From script options + flags to a runnable test plan (engine/options resolveOptions and engine/executors): the
 * header lines, how many VUs to pre-allocate and at most, and the driver that runs every
 * scenario at its startTime against one VU pool, emitting `vus`/`vus_max` every second.
 */
import type { Options, Stage } from 'k6/options';
import type { Clock, Issue, Sample, Tags } from '../contracts.ts';
import type { ExecutionTuple } from '../units/segments.ts';
import { TestRun, describeTest, planExecution, type ExecutionPlan } from '../execution/index.ts';
import type { ScenarioConfig, ScenarioStats } from '../executors/types.ts';
import { parseStagesFlag, resolveOptions, type OptionOverrides, type ResolvedOptions } from '../options/index.ts';
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

function overridesFromFlags(
  flags: ParsedRunFlags,
  issues: Issue[],
  segmentOverride?: { segment: string; sequence: string },
): OptionOverrides {
  const v = flags.values;
  const o: { -readonly [K in keyof OptionOverrides]: OptionOverrides[K] } = {};
  const int = (name: string): number | undefined => {
    const raw = v[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      issues.push({
        code: 'invalid-flag-value',
        path: `--${name}`,
        message: `flag --${name} must be a whole number, got "${raw}"; e.g. --${name} 10`,
      });
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
    for (const e of tagEntries) {
      const i = e.indexOf('=');
      if (i > 0) tags[e.slice(0, i)] = e.slice(i + 1);
    }
    o.tags = tags;
  }
  const seg = segmentOverride?.segment ?? v['execution-segment'];
  const seq = segmentOverride?.sequence ?? v['execution-segment-sequence'];
  if (seg !== undefined && seg !== '') o.executionSegment = seg;
  if (seq !== undefined && seq !== '') o.executionSegmentSequence = seq;
  if (flags.booleans.has('no-thresholds')) o.noThresholds = true;
  if (flags.booleans.has('no-summary')) o.noSummary = true;
  if (flags.booleans.has('discard-response-bodies')) o.discardResponseBodies = true;
  if (flags.booleans.has('insecure-skip-tls-verify')) o.insecureSkipTLSVerify = true;
  if (flags.booleans.has('no-connection-reuse')) o.noConnectionReuse = true;
  if (flags.booleans.has('no-vu-connection-reuse')) o.noVUConnectionReuse = true;
  if (flags.booleans.has('quiet')) o.quiet = true;
  const ts = v['summary-trend-stats'];
  if (ts !== undefined)
    o.summaryTrendStats = ts
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (v['summary-time-unit'] !== undefined) o.summaryTimeUnit = v['summary-time-unit'];
  if (v['summary-mode'] !== undefined) o.summaryMode = v['summary-mode'];
  if (v['summary-export'] !== undefined) o.summaryExport = v['summary-export'];
  return o;
}

export function planTest(
  scriptOptions: unknown,
  flags: ParsedRunFlags,
  env: Readonly<Record<string, string>>,
  exports: Readonly<Record<string, unknown>>,
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
  const plan = planExecution(issues.length > 0 ? [] : scenarios, tuple);
  const [scenariosLine = '', ...scenarioLines] = describeTest(plan);
  return {
    resolved,
    options: resolved.k6,
    issues,
    scenarios,
    tuple,
    scenariosLine: scenariosLine.replace(/^scenarios: /, ''),
    scenarioLines: scenarioLines.map((l) => l.replace(/^\* /, '')),
    preAllocatedVUs: plan.maxPlannedVUs,
    maxVUs: plan.maxPossibleVUs,
    maxDurationMs: plan.maxDuration,
    run: (rt) => drive(plan, rt),
  };
}

async function drive(plan: ExecutionPlan, rt: PlanRuntime): Promise<void> {
  const { clock, pool } = rt;
  const run = new TestRun(plan, {
    clock,
    pool,
    signal: rt.signal,
    emit:
      rt.noGauges === true
        ? (s) => {
            rt.emit(s.filter((x) => x.metric !== 'vus' && x.metric !== 'vus_max'));
          }
        : (s) => {
            rt.emit(s);
          },
    runTags: rt.runTags,
    initializedVUs: () => pool.initialized,
    warn: (m) => {
      rt.logger.warnOnce(m, m);
    },
  });
  for (const st of run.stats.values()) rt.scenarioStats.push(st);
  await run.run();
}
