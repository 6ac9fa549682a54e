/**
 * k6's ramping-arrival-rate executor: the iteration rate follows `stages` linearly.
 * `arrivalOffsets` is k6's `cal`: iteration i starts where the area under the rate curve
 * reaches i (closed form per stage), walking only the indexes this segment owns.
 */

import type { ExecutionTuple } from '../units/segments.ts';
import { formatDuration } from '../units/duration.ts';
import { runArrivalRate } from './arrival.ts';
import {
  FieldReader,
  baseInfo,
  issue,
  padInt,
  padRate,
  readBase,
  spentOf,
  stagesMaxTarget,
  sumStagesDuration,
  validateBase,
  validateStages,
} from './common.ts';
import { iterationTuple, maxVUsRange, validateArrivalVUs } from './constant-arrival-rate.ts';
import type { ExecutionStep, ExecutorModule, ExecutorRuntime, RampingArrivalRateConfig } from './types.ts';

export function parse(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  path: string,
): { config: RampingArrivalRateConfig; issues: ReturnType<FieldReader['finish']> } {
  const r = new FieldReader(raw, path);
  const base = readBase(name, r);
  const pre = r.int('preAllocatedVUs', Number.NaN);
  const config: RampingArrivalRateConfig = {
    ...base,
    executor: 'ramping-arrival-rate',
    startRate: r.int('startRate', 0),
    timeUnit: r.duration('timeUnit', 1000),
    stages: r.stages('stages'),
    preAllocatedVUs: pre,
    maxVUs: r.int('maxVUs', pre),
  };
  return { config, issues: r.finish() };
}

export function validate(cfg: RampingArrivalRateConfig, path: string): ReturnType<typeof validateBase> {
  const out = validateBase(cfg, path);
  if (cfg.startRate < 0)
    out.push(issue('out-of-range', `${path}.startRate`, `the startRate value can't be negative, got ${cfg.startRate}`));
  if (!(cfg.timeUnit > 0))
    out.push(issue('out-of-range', `${path}.timeUnit`, `the timeUnit must be more than 0, got ${formatDuration(cfg.timeUnit)}`));
  return [...out, ...validateStages(cfg.stages, path), ...validateArrivalVUs(cfg, path)];
}

const scale = (tuple: ExecutionTuple, v: number): number => tuple.scaleInt64(Number.isNaN(v) ? 0 : v);

export function requirements(cfg: RampingArrivalRateConfig, tuple: ExecutionTuple): ExecutionStep[] {
  return [
    { offset: 0, plannedVUs: scale(tuple, cfg.preAllocatedVUs), maxUnplannedVUs: scale(tuple, cfg.maxVUs - cfg.preAllocatedVUs) },
    { offset: sumStagesDuration(cfg.stages) + cfg.gracefulStop, plannedVUs: 0, maxUnplannedVUs: 0 },
  ];
}

export function describe(cfg: RampingArrivalRateConfig, tuple: ExecutionTuple): string {
  const maxRate = stagesMaxTarget(cfg.startRate, cfg.stages);
  const perSec = ((maxRate * 1000) / cfg.timeUnit) * tuple.segment.floatLength();
  const range = maxVUsRange(cfg, scale(tuple, cfg.preAllocatedVUs), scale(tuple, cfg.maxVUs));
  return `Up to ${perSec.toFixed(2)} iterations/s for ${formatDuration(sumStagesDuration(cfg.stages))} over ${cfg.stages.length} stages${baseInfo(cfg, range)}`;
}

export function hasWork(cfg: RampingArrivalRateConfig, tuple: ExecutionTuple): boolean {
  return scale(tuple, cfg.maxVUs) > 0;
}

/** k6's `cal`, in float nanoseconds like Go, truncated to whole ns; yields ms offsets. */
export function* arrivalOffsets(cfg: RampingArrivalRateConfig, tuple: ExecutionTuple): Generator<number> {
  const et = iterationTuple(cfg, tuple);
  if (et === undefined) return;
  const { start, offsets } = et.stripedOffsets();
  let li = -1;
  const next = (): number => {
    li++;
    return offsets[li % offsets.length] ?? 1;
  };
  const timeUnit = Math.round(cfg.timeUnit * 1e6);
  let stageStart = 0;
  let doneSoFar = 0;
  let endCount = 0;
  let from = cfg.startRate / timeUnit;
  let i = start + 1;
  for (const stage of cfg.stages) {
    const to = stage.target / timeUnit;
    const durNs = Math.round(stage.duration * 1e6);
    const dur = durNs;
    if (from !== to) {
      endCount += dur * ((to - from) / 2 + from);
      for (; i <= endCount; i += next()) {
        const under = dur * (from * from * dur + 2 * (i - doneSoFar) * (to - from));
        const x = (from * dur - (under >= 0 ? Math.sqrt(under) : 0)) / (from - to);
        yield (Math.trunc(x) + stageStart) / 1e6;
      }
    } else {
      endCount += dur * to;
      for (; i <= endCount; i += next()) yield (Math.trunc((i - doneSoFar) / to) + stageStart) / 1e6;
    }
    doneSoFar = endCount;
    from = to;
    stageStart += durNs;
  }
}

export async function run(cfg: RampingArrivalRateConfig, rt: ExecutorRuntime): Promise<void> {
  const iterTuple = iterationTuple(cfg, rt.tuple);
  if (iterTuple === undefined) {
    rt.stats.status = 'done';
    return;
  }
  await runArrivalRate(cfg, rt, {
    duration: sumStagesDuration(cfg.stages),
    preAllocatedVUs: scale(rt.tuple, cfg.preAllocatedVUs),
    maxVUs: scale(rt.tuple, cfg.maxVUs),
    iterTuple,
    offsets: arrivalOffsets(cfg, rt.tuple),
  });
}

export function progress(
  cfg: RampingArrivalRateConfig,
  tuple: ExecutionTuple,
  stats: ExecutorRuntime['stats'],
  now: number,
): { fraction: number; right: string[] } {
  const total = sumStagesDuration(cfg.stages);
  const spent = Number.isNaN(stats.startedAt) ? 0 : now - stats.startedAt;
  const max = scale(tuple, cfg.maxVUs);
  const maxRate = ((stagesMaxTarget(cfg.startRate, cfg.stages) * 1000) / cfg.timeUnit) * tuple.segment.floatLength();
  const right = [
    `${padInt(stats.activeVUs, max)}/${padInt(stats.heldVUs, max)} VUs`,
    formatDuration(total),
    `${padRate(stats.currentRate, maxRate)} iters/s`,
  ];
  if (spent > total) return { fraction: 1, right };
  right[1] = spentOf(spent, total);
  return { fraction: total <= 0 ? 1 : Math.min(1, spent / total), right };
}

export const rampingArrivalRate = {
  parse,
  validate,
  requirements,
  describe,
  hasWork,
  progress,
  run,
} satisfies ExecutorModule<RampingArrivalRateConfig>;
