/** k6's shared-iterations executor: a fixed number of iterations shared by a fixed number of VUs. */

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
import type { ExecutionStep, ExecutorModule, ExecutorRuntime, SharedIterationsConfig } from './types.ts';

export const DEFAULT_MAX_DURATION = 10 * 60_000;

export function parse(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  path: string,
): { config: SharedIterationsConfig; issues: ReturnType<FieldReader['finish']> } {
  const r = new FieldReader(raw, path);
  const config: SharedIterationsConfig = {
    ...readBase(name, r),
    executor: 'shared-iterations',
    vus: r.int('vus', 1),
    iterations: r.int('iterations', 1),
    maxDuration: r.duration('maxDuration', DEFAULT_MAX_DURATION),
  };
  return { config, issues: r.finish() };
}

export function validate(cfg: SharedIterationsConfig, path: string): ReturnType<typeof validateBase> {
  const out = [...validateBase(cfg, path), ...positiveVUs(cfg.vus, path)];
  if (cfg.iterations < cfg.vus) {
    out.push(
      issue(
        'iterations-below-vus',
        `${path}.iterations`,
        `the number of iterations (${cfg.iterations}) can't be less than the number of VUs (${cfg.vus})`,
      ),
    );
  }
  if (cfg.maxDuration < MIN_DURATION) {
    out.push(
      issue('out-of-range', `${path}.maxDuration`, `the maxDuration must be at least 1s, but is ${formatDuration(cfg.maxDuration)}`),
    );
  }
  return out;
}

export function scaledVUs(cfg: SharedIterationsConfig, tuple: ExecutionTuple): number {
  return tuple.scaleInt64(cfg.vus);
}

/** The tuple iterations are striped by: re-segmented by the VU count, as k6 does. */
export function iterationTuple(cfg: SharedIterationsConfig, tuple: ExecutionTuple): ExecutionTuple | undefined {
  return tuple.fromValue(cfg.vus);
}

/** This segment's share of the iterations (k6: scaled by the tuple re-segmented on `vus`). */
export function scaledIterations(cfg: SharedIterationsConfig, tuple: ExecutionTuple): number {
  return iterationTuple(cfg, tuple)?.scaleInt64(cfg.iterations) ?? 0;
}

export function requirements(cfg: SharedIterationsConfig, tuple: ExecutionTuple): ExecutionStep[] {
  const vus = scaledVUs(cfg, tuple);
  if (vus === 0) return [{ offset: 0, plannedVUs: 0, maxUnplannedVUs: 0 }];
  return [
    { offset: 0, plannedVUs: vus, maxUnplannedVUs: 0 },
    { offset: cfg.maxDuration + cfg.gracefulStop, plannedVUs: 0, maxUnplannedVUs: 0 },
  ];
}

export function describe(cfg: SharedIterationsConfig, tuple: ExecutionTuple): string {
  return `${scaledIterations(cfg, tuple)} iterations shared among ${scaledVUs(cfg, tuple)} VUs${baseInfo(cfg, `maxDuration: ${formatDuration(cfg.maxDuration)}`)}`;
}

export function hasWork(cfg: SharedIterationsConfig, tuple: ExecutionTuple): boolean {
  return scaledVUs(cfg, tuple) > 0 && scaledIterations(cfg, tuple) > 0;
}

export async function run(cfg: SharedIterationsConfig, rt: ExecutorRuntime): Promise<void> {
  const itTuple = iterationTuple(cfg, rt.tuple);
  const numVUs = scaledVUs(cfg, rt.tuple);
  const total = itTuple?.scaleInt64(cfg.iterations) ?? 0;
  if (itTuple === undefined || numVUs === 0 || total === 0) {
    rt.stats.status = 'done';
    return;
  }
  const counter = new IterationCounter(itTuple);
  const win = new ScenarioWindow(rt, cfg.maxDuration, cfg.gracefulStop);
  rt.stats.status = 'running';
  rt.stats.startedAt = win.start;
  rt.onStart?.(win.start);
  const progress = (): number => rt.stats.completed / total;
  let attempted = 0;
  const more = (interrupted: boolean): boolean => {
    if (interrupted || win.regularDone()) return false;
    attempted++;
    return attempted <= total;
  };
  await runLoopingVUs(rt, numVUs, (vu) => loopIterations(rt, cfg, vu, counter, win.hard, progress, win.start, more));
  win.dispose();
  if (attempted < total && !rt.signal.aborted) {
    rt.stats.dropped += total - attempted;
    rt.emit([droppedSample(rt, cfg, total - attempted)]);
  }
  rt.stats.status = rt.signal.aborted || rt.stats.completed < total ? 'interrupted' : 'done';
}

export function progress(
  cfg: SharedIterationsConfig,
  tuple: ExecutionTuple,
  stats: ExecutorRuntime['stats'],
  now: number,
): { fraction: number; right: string[] } {
  const total = scaledIterations(cfg, tuple);
  const spent = Number.isNaN(stats.startedAt) ? 0 : now - stats.startedAt;
  return {
    fraction: total === 0 ? 1 : stats.completed / total,
    right: [`${scaledVUs(cfg, tuple)} VUs`, spentOf(spent, cfg.maxDuration), `${padInt(stats.completed, total)}/${total} shared iters`],
  };
}

export const sharedIterations = {
  parse,
  validate,
  requirements,
  describe,
  hasWork,
  progress,
  run,
} satisfies ExecutorModule<SharedIterationsConfig>;
