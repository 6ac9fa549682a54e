/** Executor shorthands typed against k6's own scenario types. */
import type * as k6o from 'k6/options';
import type { Stage } from 'k6/options';

/**
 * k6's scenario types as plain object types (@types/k6 derives them from an abstract class, which object
 * literals must not be assigned to under typescript-eslint's strict rules).
 */
export type Plain<T> = T extends unknown ? { [K in keyof T]: T[K] } : never;
export type ConstantArrivalRateScenario = Plain<k6o.ConstantArrivalRateScenario>;
export type RampingArrivalRateScenario = Plain<k6o.RampingArrivalRateScenario>;
export type PerVUIterationsScenario = Plain<k6o.PerVUIterationsScenario>;
export type Scenario = Plain<k6o.Scenario>;

/** k6 options with plain scenario types; assignable to k6's `Options`. */
export type ScriptOptions = Omit<k6o.Options, 'scenarios'> & { scenarios: Record<string, Scenario> };

export interface ArrivalOptions {
  readonly exec: string;
  /** Iterations per second. */
  readonly rate: number;
  readonly duration: string;
  readonly startTime?: string;
  /** VUs initialised before the start (default: enough for 250 ms per iteration at the rate, at least 2). */
  readonly preAllocatedVUs?: number;
  readonly maxVUs?: number;
  readonly tags?: Readonly<Record<string, string>>;
  readonly gracefulStop?: string;
}

/** constant-arrival-rate: requests start on schedule however slow the answers, so latency cannot hide. */
export function arrival(o: ArrivalOptions): ConstantArrivalRateScenario {
  const pre = o.preAllocatedVUs ?? Math.max(2, Math.ceil(o.rate / 4));
  const s: ConstantArrivalRateScenario = {
    executor: 'constant-arrival-rate',
    exec: o.exec,
    rate: Math.max(1, Math.round(o.rate)),
    timeUnit: '1s',
    duration: o.duration,
    preAllocatedVUs: pre,
    // Room for 2 s per iteration before iterations are dropped (`dropped_iterations`).
    maxVUs: Math.max(pre, o.maxVUs ?? Math.max(pre * 4, Math.ceil(o.rate * 2))),
    gracefulStop: o.gracefulStop ?? '10s',
  };
  if (o.rate < 1) {
    // Below one per second: one iteration per 1/rate seconds.
    s.rate = 1;
    s.timeUnit = `${Math.round(1000 / o.rate)}ms`;
  }
  if (o.startTime !== undefined) s.startTime = o.startTime;
  if (o.tags !== undefined) s.tags = { ...o.tags };
  return s;
}

export interface RampOptions {
  readonly exec: string;
  readonly startRate: number;
  readonly stages: readonly Stage[];
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
  readonly tags?: Readonly<Record<string, string>>;
}

export function rampingArrival(o: RampOptions): RampingArrivalRateScenario {
  const s: RampingArrivalRateScenario = {
    executor: 'ramping-arrival-rate',
    exec: o.exec,
    startRate: o.startRate,
    timeUnit: '1s',
    stages: o.stages.map((x) => ({ ...x })),
    preAllocatedVUs: o.preAllocatedVUs,
    maxVUs: o.maxVUs,
    gracefulStop: '10s',
  };
  if (o.tags !== undefined) s.tags = { ...o.tags };
  return s;
}

/** `vus` VUs each running `exec` once (sessions: subscribers, a publisher, a one-shot procedure). */
export function once(exec: string, vus: number, maxDuration: string, startTime?: string): PerVUIterationsScenario {
  const s: PerVUIterationsScenario = { executor: 'per-vu-iterations', exec, vus, iterations: 1, maxDuration, gracefulStop: '10s' };
  if (startTime !== undefined) s.startTime = startTime;
  return s;
}

/** Seconds as a k6 duration string. */
export function secs(n: number): string {
  return `${Math.max(0, Math.round(n))}s`;
}

/** Compile-time proof that ScriptOptions fits k6's Options. */
export function asK6Options(o: ScriptOptions): k6o.Options {
  return o;
}
