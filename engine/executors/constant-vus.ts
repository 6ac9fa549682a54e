/** k6's constant-vus executor: a fixed number of VUs loop for a fixed duration. */

import type { ExecutionTuple } from '../units/segments.ts';
import { formatDuration } from '../units/duration.ts';
import {
  FieldReader,
  IterationCounter,
  ScenarioWindow,
  baseInfo,
  minDurationIssue,
  positiveVUs,
  readBase,
  spentOf,
  validateBase,
} from './common.ts';
import { loopIterations } from './iteration.ts';
import { runLoopingVUs } from './loops.ts';
import type { ConstantVUsConfig, ExecutionStep, ExecutorModule, ExecutorRuntime } from './types.ts';

export function parse(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  path: string,
): { config: ConstantVUsConfig; issues: ReturnType<FieldReader['finish']> } {
  const r = new FieldReader(raw, path);
  const config: ConstantVUsConfig = {
    ...readBase(name, r),
    executor: 'constant-vus',
    vus: r.int('vus', 1),
    duration: r.duration('duration', Number.NaN),
  };
  return { config, issues: r.finish() };
}

export function validate(cfg: ConstantVUsConfig, path: string): ReturnType<typeof validateBase> {
  return [...validateBase(cfg, path), ...positiveVUs(cfg.vus, path), ...minDurationIssue(cfg.duration, 'duration', path)];
}

export function scaledVUs(cfg: ConstantVUsConfig, tuple: ExecutionTuple): number {
  return tuple.scaleInt64(cfg.vus);
}

export function requirements(cfg: ConstantVUsConfig, tuple: ExecutionTuple): ExecutionStep[] {
  return [
    { offset: 0, plannedVUs: scaledVUs(cfg, tuple), maxUnplannedVUs: 0 },
    { offset: cfg.duration + cfg.gracefulStop, plannedVUs: 0, maxUnplannedVUs: 0 },
  ];
}

export function describe(cfg: ConstantVUsConfig, tuple: ExecutionTuple): string {
  return `${scaledVUs(cfg, tuple)} looping VUs for ${formatDuration(cfg.duration)}${baseInfo(cfg)}`;
}

export function hasWork(cfg: ConstantVUsConfig, tuple: ExecutionTuple): boolean {
  return scaledVUs(cfg, tuple) > 0;
}

export async function run(cfg: ConstantVUsConfig, rt: ExecutorRuntime): Promise<void> {
  const numVUs = scaledVUs(cfg, rt.tuple);
  const counter = new IterationCounter(rt.tuple);
  const win = new ScenarioWindow(rt, cfg.duration, cfg.gracefulStop);
  rt.stats.status = 'running';
  rt.stats.startedAt = win.start;
  rt.onStart?.(win.start);
  const progress = (): number => Math.min(1, (rt.clock.now() - win.start) / cfg.duration);
  const more = (): boolean => !win.regularDone();
  await runLoopingVUs(rt, numVUs, (vu) => loopIterations(rt, cfg, vu, counter, win.hard, progress, win.start, more));
  win.dispose();
  rt.stats.status = rt.signal.aborted ? 'interrupted' : 'done';
}

export function progress(
  cfg: ConstantVUsConfig,
  tuple: ExecutionTuple,
  stats: ExecutorRuntime['stats'],
  now: number,
): { fraction: number; right: string[] } {
  const spent = Number.isNaN(stats.startedAt) ? 0 : now - stats.startedAt;
  const vus = `${scaledVUs(cfg, tuple)} VUs`;
  if (spent > cfg.duration) return { fraction: 1, right: [vus, formatDuration(cfg.duration)] };
  return { fraction: spent / cfg.duration, right: [vus, spentOf(spent, cfg.duration)] };
}

export const constantVUs = { parse, validate, requirements, describe, hasWork, progress, run } satisfies ExecutorModule<ConstantVUsConfig>;
