/**
 * The executor registry: one module per k6 executor, keyed by k6's own executor names
 * (`Scenario['executor']` from @types/k6), so a missing or misspelt executor fails to compile.
 */

import { constantArrivalRate } from './constant-arrival-rate.ts';
import { constantVUs } from './constant-vus.ts';
import { perVuIterations } from './per-vu-iterations.ts';
import { rampingArrivalRate } from './ramping-arrival-rate.ts';
import { rampingVUs } from './ramping-vus.ts';
import { sharedIterations } from './shared-iterations.ts';
import type { ConfigOf, ExecutionStep, ExecutorModule, ExecutorName, ExecutorRuntime, ScenarioConfig, ScenarioStats } from './types.ts';
import type { ExecutionTuple } from '../units/segments.ts';
import type { Issue } from '../contracts.ts';

export const executors = {
  'shared-iterations': sharedIterations,
  'per-vu-iterations': perVuIterations,
  'constant-vus': constantVUs,
  'ramping-vus': rampingVUs,
  'constant-arrival-rate': constantArrivalRate,
  'ramping-arrival-rate': rampingArrivalRate,
} satisfies { readonly [K in ExecutorName]: ExecutorModule<ConfigOf<K>> } satisfies Record<ExecutorName, unknown>;

export const EXECUTOR_NAMES = Object.keys(executors) as readonly ExecutorName[];

export function isExecutorName(name: unknown): name is ExecutorName {
  return typeof name === 'string' && Object.hasOwn(executors, name);
}

/** The module of `cfg`'s executor, typed for that config (one narrowing point for the union). */
export function moduleOf<C extends ScenarioConfig>(cfg: C): ExecutorModule<C> {
  return executors[cfg.executor] as unknown as ExecutorModule<C>;
}

export function parseScenario(
  name: string,
  executor: ExecutorName,
  raw: Readonly<Record<string, unknown>>,
  path: string,
): { config: ScenarioConfig; issues: Issue[] } {
  return executors[executor].parse(name, raw, path);
}

export const validateScenario = (cfg: ScenarioConfig, path: string): Issue[] => moduleOf(cfg).validate(cfg, path);
export const scenarioRequirements = (cfg: ScenarioConfig, tuple: ExecutionTuple): ExecutionStep[] => moduleOf(cfg).requirements(cfg, tuple);
export const describeScenarioConfig = (cfg: ScenarioConfig, tuple: ExecutionTuple): string => moduleOf(cfg).describe(cfg, tuple);
export const scenarioHasWork = (cfg: ScenarioConfig, tuple: ExecutionTuple): boolean => moduleOf(cfg).hasWork(cfg, tuple);
export const runScenario = (cfg: ScenarioConfig, rt: ExecutorRuntime): Promise<void> => moduleOf(cfg).run(cfg, rt);
export const scenarioProgress = (
  cfg: ScenarioConfig,
  tuple: ExecutionTuple,
  stats: ScenarioStats,
  now: number,
): { fraction: number; right: string[] } => moduleOf(cfg).progress(cfg, tuple, stats, now);

export type * from './types.ts';
export { newScenarioStats } from './types.ts';
export { rawExecutionSteps, reserveVUsForGracefulRampDowns } from './ramping-vus.ts';
export { arrivalOffsets as constantArrivalOffsets } from './constant-arrival-rate.ts';
export { arrivalOffsets as rampingArrivalOffsets } from './ramping-arrival-rate.ts';
export { scaledIterations as sharedIterationsShare } from './shared-iterations.ts';
