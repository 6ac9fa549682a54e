/**
 * Pure planning of a whole test (k6's ScenarioConfigs.GetFullExecutionRequirements and the
 * run header): which scenarios have work in this segment, how many VUs to initialise before
 * the start (max planned VUs over concurrent scenarios), how many may exist at most (planned +
 * unplanned), and the max duration including graceful stops.
 */

import { describeScenarioConfig, scenarioHasWork, scenarioRequirements } from '../executors/index.ts';
import type { ExecutionStep, ScenarioConfig } from '../executors/types.ts';
import { formatDuration } from '../units/duration.ts';
import type { ExecutionTuple } from '../units/segments.ts';

export interface PlannedScenario {
  readonly config: ScenarioConfig;
  /** The scenario's own requirements (offsets relative to its startTime). */
  readonly steps: readonly ExecutionStep[];
  /** k6's description, e.g. `20.00 iterations/s for 4s (maxVUs: 4-8, exec: api, gracefulStop: 30s)`. */
  readonly description: string;
}

export interface ExecutionPlan {
  readonly tuple: ExecutionTuple;
  /** Scenarios with work in this segment, sorted by (startTime, name). */
  readonly scenarios: readonly PlannedScenario[];
  /** Scenarios without work in this segment (k6 warns and skips them). */
  readonly skipped: readonly string[];
  /** Combined requirements over the test, offsets from the test start. */
  readonly steps: readonly ExecutionStep[];
  /** VUs to initialise before the test starts (k6's GetMaxPlannedVUs; the initial `vus_max`). */
  readonly maxPlannedVUs: number;
  /** VUs that may exist at most, arrival-rate growth included (k6's GetMaxPossibleVUs; the header's "max VUs"). */
  readonly maxPossibleVUs: number;
  /** Test end offset including graceful stops (k6's GetEndOffset), ms. */
  readonly maxDuration: number;
}

const byStartThenName = (a: ScenarioConfig, b: ScenarioConfig): number =>
  a.startTime - b.startTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** k6's GetFullExecutionRequirements: every scenario's steps shifted by startTime and summed. */
export function fullExecutionRequirements(configs: readonly ScenarioConfig[], tuple: ExecutionTuple): ExecutionStep[] {
  const sorted = [...configs].sort(byStartThenName);
  const tracked: { step: ExecutionStep; id: number; seq: number }[] = [];
  let seq = 0;
  sorted.forEach((cfg, id) => {
    for (const s of scenarioRequirements(cfg, tuple)) tracked.push({ step: { ...s, offset: s.offset + cfg.startTime }, id, seq: seq++ });
  });
  tracked.sort((a, b) => a.step.offset - b.step.offset || a.id - b.id || a.seq - b.seq);
  const planned = sorted.map(() => 0);
  const unplanned = sorted.map(() => 0);
  const out: ExecutionStep[] = [];
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  for (const { step, id } of tracked) {
    planned[id] = step.plannedVUs;
    unplanned[id] = step.maxUnplannedVUs;
    const p = sum(planned);
    const u = sum(unplanned);
    const last = out[out.length - 1];
    if (last?.plannedVUs !== p || last.maxUnplannedVUs !== u) out.push({ offset: step.offset, plannedVUs: p, maxUnplannedVUs: u });
  }
  return out;
}

export const maxPlannedVUs = (steps: readonly ExecutionStep[]): number => steps.reduce((m, s) => Math.max(m, s.plannedVUs), 0);
export const maxPossibleVUs = (steps: readonly ExecutionStep[]): number =>
  steps.reduce((m, s) => Math.max(m, s.plannedVUs + s.maxUnplannedVUs), 0);
/** k6's GetEndOffset: the last step's offset, and whether it ends at 0 VUs. */
export function endOffset(steps: readonly ExecutionStep[]): { offset: number; final: boolean } {
  const last = steps[steps.length - 1];
  return last === undefined ? { offset: 0, final: true } : { offset: last.offset, final: last.plannedVUs === 0 };
}

export function planExecution(configs: readonly ScenarioConfig[], tuple: ExecutionTuple): ExecutionPlan {
  const sorted = [...configs].sort(byStartThenName);
  const withWork = sorted.filter((c) => scenarioHasWork(c, tuple));
  const skipped = sorted.filter((c) => !withWork.includes(c)).map((c) => c.name);
  const steps = fullExecutionRequirements(withWork, tuple);
  return {
    tuple,
    scenarios: withWork.map((config) => ({
      config,
      steps: scenarioRequirements(config, tuple),
      description: describeScenarioConfig(config, tuple),
    })),
    skipped,
    steps,
    maxPlannedVUs: maxPlannedVUs(steps),
    maxPossibleVUs: maxPossibleVUs(steps),
    maxDuration: endOffset(steps).offset,
  };
}

/** `* api: 20.00 iterations/s for 4s (maxVUs: 4-8, exec: api, gracefulStop: 30s)` */
export function describeScenario(cfg: ScenarioConfig, tuple: ExecutionTuple): string {
  return `* ${cfg.name}: ${describeScenarioConfig(cfg, tuple)}`;
}

/**
 * The run header's scenario block, without k6's left padding:
 * `scenarios: (100.00%) 3 scenarios, 13 max VUs, 41s max duration (incl. graceful stop):`
 * followed by one `* name: description` line per scenario.
 */
export function describeTest(plan: ExecutionPlan): string[] {
  const n = plan.scenarios.length;
  const pct = (plan.tuple.segment.floatLength() * 100).toFixed(2);
  const dur = formatDuration(Math.round(plan.maxDuration / 100) * 100);
  return [
    `scenarios: (${pct}%) ${n === 1 ? '1 scenario' : `${n} scenarios`}, ${plan.maxPossibleVUs} max VUs, ${dur} max duration (incl. graceful stop):`,
    ...plan.scenarios.map((s) => `* ${s.config.name}: ${s.description}`),
  ];
}
