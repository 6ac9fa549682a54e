/**
 * Types shared by the executors: normalised scenario configs (durations in ms, defaults
 * applied), execution steps (k6's lib.ExecutionStep), the runtime an executor runs against,
 * and the module shape every executor file exports.
 */

import type { Scenario } from 'k6/options';
import type { Clock, Issue, Sample, Tags, VUPool } from '../contracts.ts';
import type { ExecutionTuple } from '../units/segments.ts';

export type ExecutorName = Scenario['executor'];

export interface StageConfig {
  /** Stage duration in ms. */
  readonly duration: number;
  readonly target: number;
}

/** Fields every scenario has (k6's BaseConfig). */
export interface BaseConfig {
  /** Scenario name (the key in `options.scenarios`). */
  readonly name: string;
  readonly startTime: number;
  readonly gracefulStop: number;
  /** Exported function to run; "default" unless set. */
  readonly exec: string;
  /** Whether `exec` was set explicitly (k6 only then shows it in the description). */
  readonly execSet: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SharedIterationsConfig extends BaseConfig {
  readonly executor: 'shared-iterations';
  readonly vus: number;
  readonly iterations: number;
  readonly maxDuration: number;
}
export interface PerVUIterationsConfig extends BaseConfig {
  readonly executor: 'per-vu-iterations';
  readonly vus: number;
  readonly iterations: number;
  readonly maxDuration: number;
}
export interface ConstantVUsConfig extends BaseConfig {
  readonly executor: 'constant-vus';
  readonly vus: number;
  /** NaN when unspecified (validation reports it). */
  readonly duration: number;
}
export interface RampingVUsConfig extends BaseConfig {
  readonly executor: 'ramping-vus';
  readonly startVUs: number;
  readonly stages: readonly StageConfig[];
  readonly gracefulRampDown: number;
}
export interface ConstantArrivalRateConfig extends BaseConfig {
  readonly executor: 'constant-arrival-rate';
  /** NaN when unspecified. */
  readonly rate: number;
  readonly timeUnit: number;
  readonly duration: number;
  /** NaN when unspecified. */
  readonly preAllocatedVUs: number;
  /** Defaults to preAllocatedVUs. */
  readonly maxVUs: number;
}
export interface RampingArrivalRateConfig extends BaseConfig {
  readonly executor: 'ramping-arrival-rate';
  readonly startRate: number;
  readonly timeUnit: number;
  readonly stages: readonly StageConfig[];
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}

export type ScenarioConfig =
  | SharedIterationsConfig
  | PerVUIterationsConfig
  | ConstantVUsConfig
  | RampingVUsConfig
  | ConstantArrivalRateConfig
  | RampingArrivalRateConfig;

export type ConfigOf<K extends ExecutorName> = Extract<ScenarioConfig, { executor: K }>;

/**
 * k6's lib.ExecutionStep: from `offset` (ms, relative to the scenario start) on, the executor
 * needs `plannedVUs` initialised VUs and may init up to `maxUnplannedVUs` more mid-test.
 */
export interface ExecutionStep {
  readonly offset: number;
  readonly plannedVUs: number;
  readonly maxUnplannedVUs: number;
}

/** Live numbers of one running scenario: feeds the progress line and the `vus` gauge. */
export interface ScenarioStats {
  status: 'waiting' | 'running' | 'stopping' | 'done' | 'interrupted';
  /** Clock.now() when the scenario started (NaN while waiting). */
  startedAt: number;
  /** Clock.now() when its run ended (NaN until then); progress freezes there, like k6's bars. */
  endedAt: number;
  /** VUs counted in the `vus` gauge right now (k6's currently active VUs). */
  activeVUs: number;
  /** VUs this scenario holds; for arrival rates all VUs it activated (k6's "running/active VUs" column keeps them). */
  heldVUs: number;
  completed: number;
  interrupted: number;
  dropped: number;
  /** Unplanned VUs initialised mid-test (arrival-rate growth beyond preAllocatedVUs). */
  unplannedInits: number;
  /** Current iterations/s of an arrival-rate scenario (for its progress column). */
  currentRate: number;
}

export function newScenarioStats(): ScenarioStats {
  return {
    status: 'waiting',
    startedAt: Number.NaN,
    endedAt: Number.NaN,
    activeVUs: 0,
    heldVUs: 0,
    completed: 0,
    interrupted: 0,
    dropped: 0,
    unplannedInits: 0,
    currentRate: 0,
  };
}

/** What a runner gets from the scheduler. */
export interface ExecutorRuntime {
  readonly clock: Clock;
  readonly pool: VUPool;
  /** Aborted when the whole test stops (abort, signal, threshold abortOnFail): iterations are interrupted at once. */
  readonly signal: AbortSignal;
  /** The instance's segment in its sequence (the whole test when unsplit). */
  readonly tuple: ExecutionTuple;
  /** Emits samples (`dropped_iterations`). */
  emit(samples: readonly Sample[]): void;
  /** Test-wide tags (`options.tags`), put on executor samples with `scenario`. */
  readonly runTags: Tags;
  /** System tags enabled (k6 default set when omitted): `scenario`, `vu` decide executor sample tags. */
  readonly systemTags?: ReadonlySet<string>;
  /** Live numbers, updated by the runner, read by the scheduler. */
  readonly stats: ScenarioStats;
  /** Called once when the scenario actually starts (after its startTime). */
  onStart?(startTime: number): void;
  /** Logs a warning once (e.g. "Insufficient VUs"). */
  warn?(message: string): void;
}

/** What every `engine/executors/<k6-name>.ts` exports. */
export interface ExecutorModule<C extends ScenarioConfig> {
  /** Turns the raw script object into a config with k6's defaults; type problems become issues. */
  parse(name: string, raw: Readonly<Record<string, unknown>>, path: string): { config: C; issues: Issue[] };
  /** k6's Validate(): every semantic problem of the config. */
  validate(cfg: C, path: string): Issue[];
  /** k6's GetExecutionRequirements: VU needs over time, graceful periods included. */
  requirements(cfg: C, tuple: ExecutionTuple): ExecutionStep[];
  /** k6's GetDescription: the text after `* name: ` in the run header. */
  describe(cfg: C, tuple: ExecutionTuple): string;
  /** k6's HasWork: whether this segment gets anything to do. */
  hasWork(cfg: C, tuple: ExecutionTuple): boolean;
  /** Fraction done (0..1) and the progress columns, from the live stats. */
  progress(cfg: C, tuple: ExecutionTuple, stats: ScenarioStats, now: number): { fraction: number; right: string[] };
  /** Runs the scenario to its end (graceful periods included). Never rejects for iteration errors. */
  run(cfg: C, rt: ExecutorRuntime): Promise<void>;
}
