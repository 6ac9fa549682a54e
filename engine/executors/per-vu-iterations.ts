/** k6's per-vu-iterations executor: each VU runs exactly `iterations` iterations. */

import type { ExecutionTuple } from '../units/segments.ts';
import { formatDuration } from '../units/duration.ts';
import {
  FieldReader,
  IterationCounter,
  MIN_DURATION,
  ScenarioWindow,
  baseInfo,
  droppedSample,
  issue,
  positiveVUs,
  padInt,
  readBase,
  spentOf,
  validateBase,
} from './common.ts';
import { loopIterations } from './iteration.ts';
import { runLoopingVUs } from './loops.ts';
import { DEFAULT_MAX_DURATION } from './shared-iterations.ts';
import type { ExecutionStep, ExecutorModule, ExecutorRuntime, PerVUIterationsConfig } from './types.ts';

export function parse(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  path: string,
): { config: PerVUIterationsConfig; issues: ReturnType<FieldReader['finish']> } {
  const r = new FieldReader(raw, path);
  const config: PerVUIterationsConfig = {
    ...readBase(name, r),
    executor: 'per-vu-iterations',
    vus: r.int('vus', 1),
    iterations: r.int('iterations', 1),
    maxDuration: r.duration('maxDuration', DEFAULT_MAX_DURATION),
  };
  return { config, issues: r.finish() };
}

export function validate(cfg: PerVUIterationsConfig, path: string): ReturnType<typeof validateBase> {
  const out = [...validateBase(cfg, path), ...positiveVUs(cfg.vus, path)];
  if (cfg.iterations <= 0)
    out.push(issue('out-of-range', `${path}.iterations`, `the number of iterations must be more than 0, got ${cfg.iterations}`));
  if (cfg.maxDuration < MIN_DURATION) {
    out.push(
      issue('out-of-range', `${path}.maxDuration`, `the maxDuration must be at least 1s, but is ${formatDuration(cfg.maxDuration)}`),
    );
  }
  return out;
}

/** Segments scale only the VUs; iterations stay per VU (k6: otherwise scaling would be quadratic). */
export function scaledVUs(cfg: PerVUIterationsConfig, tuple: ExecutionTuple): number {
  return tuple.scaleInt64(cfg.vus);
}

export function requirements(cfg: PerVUIterationsConfig, tuple: ExecutionTuple): ExecutionStep[] {
  return [
    { offset: 0, plannedVUs: scaledVUs(cfg, tuple), maxUnplannedVUs: 0 },
    { offset: cfg.maxDuration + cfg.gracefulStop, plannedVUs: 0, maxUnplannedVUs: 0 },
  ];
}

export function describe(cfg: PerVUIterationsConfig, tuple: ExecutionTuple): string {
  return `${cfg.iterations} iterations for each of ${scaledVUs(cfg, tuple)} VUs${baseInfo(cfg, `maxDuration: ${formatDuration(cfg.maxDuration)}`)}`;
}

export function hasWork(cfg: PerVUIterationsConfig, tuple: ExecutionTuple): boolean {
  return scaledVUs(cfg, tuple) > 0 && cfg.iterations > 0;
}

export async function run(cfg: PerVUIterationsConfig, rt: ExecutorRuntime): Promise<void> {
  const numVUs = scaledVUs(cfg, rt.tuple);
  const total = numVUs * cfg.iterations;
  if (total <= 0) {
    rt.stats.status = 'done';
    return;
  }
  const counter = new IterationCounter(rt.tuple);
  const win = new ScenarioWindow(rt, cfg.maxDuration, cfg.gracefulStop);
  rt.stats.status = 'running';
  rt.stats.startedAt = win.start;
  rt.onStart?.(win.start);
  const progress = (): number => rt.stats.completed / total;
  await runLoopingVUs(rt, numVUs, (vu) => {
    let i = 0;
    // An interrupted iteration is followed by this check too: its stop aborted, so the VU's rest is dropped.
    const more = (): boolean => {
      if (i >= cfg.iterations) return false;
      if (win.regularDone()) {
        if (!rt.signal.aborted) {
          rt.stats.dropped += cfg.iterations - i;
          rt.emit([droppedSample(rt, cfg, cfg.iterations - i, vu.idInInstance)]);
        }
        return false;
      }
      i++;
      return true;
    };
    return loopIterations(rt, cfg, vu, counter, win.hard, progress, win.start, more);
  });
  win.dispose();
  rt.stats.status = rt.signal.aborted || rt.stats.completed < total ? 'interrupted' : 'done';
}

export function progress(
  cfg: PerVUIterationsConfig,
  tuple: ExecutionTuple,
  stats: ExecutorRuntime['stats'],
  now: number,
): { fraction: number; right: string[] } {
  const vus = scaledVUs(cfg, tuple);
  const total = vus * cfg.iterations;
  const spent = Number.isNaN(stats.startedAt) ? 0 : now - stats.startedAt;
  const right = [
    `${vus} VUs`,
    formatDuration(cfg.maxDuration),
    `${padInt(stats.completed, total)}/${total} iters, ${cfg.iterations} per VU`,
  ];
  if (spent > cfg.maxDuration) return { fraction: 1, right };
  right[1] = spentOf(spent, cfg.maxDuration);
  return { fraction: total === 0 ? 1 : stats.completed / total, right };
}

export const perVuIterations = {
  parse,
  validate,
  requirements,
  describe,
  hasWork,
  progress,
  run,
} satisfies ExecutorModule<PerVUIterationsConfig>;
