/**
 * k6's constant-arrival-rate executor: `rate` iterations per `timeUnit` for `duration`.
 * Iteration i of the whole test starts at i * trunc(timeUnit/rate) ns; a segment starts the
 * i it owns in the tuple re-segmented on maxVUs (k6's striping), so segments interleave.
 */

import type { ExecutionTuple } from '../units/segments.ts';
import { formatDuration } from '../units/duration.ts';
import { runArrivalRate } from './arrival.ts';
import { FieldReader, baseInfo, issue, minDurationIssue, padInt, padRate, readBase, spentOf, validateBase } from './common.ts';
import type { ConstantArrivalRateConfig, ExecutionStep, ExecutorModule, ExecutorRuntime } from './types.ts';

export function parse(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  path: string,
): { config: ConstantArrivalRateConfig; issues: ReturnType<FieldReader['finish']> } {
  const r = new FieldReader(raw, path);
  const base = readBase(name, r);
  const pre = r.int('preAllocatedVUs', Number.NaN);
  const config: ConstantArrivalRateConfig = {
    ...base,
    executor: 'constant-arrival-rate',
    rate: r.int('rate', Number.NaN),
    timeUnit: r.duration('timeUnit', 1000),
    duration: r.duration('duration', Number.NaN),
    preAllocatedVUs: pre,
    maxVUs: r.int('maxVUs', pre),
  };
  return { config, issues: r.finish() };
}

/** Checks shared by both arrival-rate executors. */
export function validateArrivalVUs(cfg: { preAllocatedVUs: number; maxVUs: number }, path: string): ReturnType<typeof validateBase> {
  const out: ReturnType<typeof validateBase> = [];
  if (Number.isNaN(cfg.preAllocatedVUs)) {
    out.push(
      issue('missing-field', `${path}.preAllocatedVUs`, "the number of preAllocatedVUs isn't specified; set it, e.g. preAllocatedVUs: 10"),
    );
  } else if (cfg.preAllocatedVUs < 0) {
    out.push(
      issue('out-of-range', `${path}.preAllocatedVUs`, `the number of preAllocatedVUs can't be negative, got ${cfg.preAllocatedVUs}`),
    );
  }
  if (cfg.maxVUs < cfg.preAllocatedVUs) {
    out.push(
      issue(
        'max-vus-below-preallocated',
        `${path}.maxVUs`,
        `maxVUs (${cfg.maxVUs}) can't be less than preAllocatedVUs (${cfg.preAllocatedVUs})`,
      ),
    );
  }
  return out;
}

export function validate(cfg: ConstantArrivalRateConfig, path: string): ReturnType<typeof validateBase> {
  const out = validateBase(cfg, path);
  if (Number.isNaN(cfg.rate))
    out.push(issue('missing-field', `${path}.rate`, "the iteration rate isn't specified; set rate, e.g. rate: 10"));
  else if (cfg.rate <= 0) out.push(issue('out-of-range', `${path}.rate`, `the iteration rate must be more than 0, got ${cfg.rate}`));
  if (!(cfg.timeUnit > 0))
    out.push(issue('out-of-range', `${path}.timeUnit`, `the timeUnit must be more than 0, got ${formatDuration(cfg.timeUnit)}`));
  return [...out, ...minDurationIssue(cfg.duration, 'duration', path), ...validateArrivalVUs(cfg, path)];
}

const scale = (tuple: ExecutionTuple, v: number): number => tuple.scaleInt64(Number.isNaN(v) ? 0 : v);

export function requirements(cfg: ConstantArrivalRateConfig, tuple: ExecutionTuple): ExecutionStep[] {
  const pre = scale(tuple, cfg.preAllocatedVUs);
  return [
    { offset: 0, plannedVUs: pre, maxUnplannedVUs: scale(tuple, cfg.maxVUs) - pre },
    { offset: cfg.duration + cfg.gracefulStop, plannedVUs: 0, maxUnplannedVUs: 0 },
  ];
}

/** `maxVUs: 4-8` (the range only when maxVUs > preAllocatedVUs). */
export function maxVUsRange(cfg: { preAllocatedVUs: number; maxVUs: number }, pre: number, max: number): string {
  return `maxVUs: ${pre}${cfg.maxVUs > cfg.preAllocatedVUs ? `-${max}` : ''}`;
}

/** Iterations/s this segment runs (k6 scales the rate by scaledMaxVUs/maxVUs here). */
export function ratePerSecond(cfg: ConstantArrivalRateConfig, tuple: ExecutionTuple): number {
  const max = scale(tuple, cfg.maxVUs);
  if (max === 0) return 0;
  return ((cfg.rate * 1000) / cfg.timeUnit) * (max / cfg.maxVUs);
}

export function describe(cfg: ConstantArrivalRateConfig, tuple: ExecutionTuple): string {
  const pre = scale(tuple, cfg.preAllocatedVUs);
  const max = scale(tuple, cfg.maxVUs);
  return `${ratePerSecond(cfg, tuple).toFixed(2)} iterations/s for ${formatDuration(cfg.duration)}${baseInfo(cfg, maxVUsRange(cfg, pre, max))}`;
}

export function hasWork(cfg: ConstantArrivalRateConfig, tuple: ExecutionTuple): boolean {
  return scale(tuple, cfg.maxVUs) > 0;
}

/** The tuple iterations are striped by: re-segmented on maxVUs (k6's Init). */
export function iterationTuple(cfg: { maxVUs: number }, tuple: ExecutionTuple): ExecutionTuple | undefined {
  return tuple.fromValue(cfg.maxVUs);
}

/**
 * Start offsets (ms from the scenario start) of the iterations this segment runs, up to and
 * including `duration` (a start exactly at the end still runs, as observed with k6 v0.49).
 */
export function* arrivalOffsets(cfg: ConstantArrivalRateConfig, tuple: ExecutionTuple): Generator<number> {
  const et = iterationTuple(cfg, tuple);
  if (et === undefined || !(cfg.rate > 0)) return;
  const { start, offsets } = et.stripedOffsets();
  const periodNs = Math.trunc((cfg.timeUnit * 1e6) / cfg.rate);
  const durationNs = Math.round(cfg.duration * 1e6);
  for (let li = 0, gi = start; ; gi += offsets[li % offsets.length] ?? 1, li++) {
    const at = periodNs * gi;
    if (at > durationNs) return;
    yield at / 1e6;
  }
}

export async function run(cfg: ConstantArrivalRateConfig, rt: ExecutorRuntime): Promise<void> {
  const iterTuple = iterationTuple(cfg, rt.tuple);
  if (iterTuple === undefined) {
    rt.stats.status = 'done';
    return;
  }
  rt.stats.currentRate = ratePerSecond(cfg, rt.tuple);
  await runArrivalRate(cfg, rt, {
    duration: cfg.duration,
    preAllocatedVUs: scale(rt.tuple, cfg.preAllocatedVUs),
    maxVUs: scale(rt.tuple, cfg.maxVUs),
    iterTuple,
    offsets: arrivalOffsets(cfg, rt.tuple),
  });
}

export function progress(
  cfg: ConstantArrivalRateConfig,
  tuple: ExecutionTuple,
  stats: ExecutorRuntime['stats'],
  now: number,
): { fraction: number; right: string[] } {
  const spent = Number.isNaN(stats.startedAt) ? 0 : now - stats.startedAt;
  const max = scale(tuple, cfg.maxVUs);
  const rate = ratePerSecond(cfg, tuple);
  const right = [
    `${padInt(stats.activeVUs, max)}/${padInt(stats.heldVUs, max)} VUs`,
    formatDuration(cfg.duration),
    `${padRate(rate, rate)} iters/s`,
  ];
  if (spent > cfg.duration) return { fraction: 1, right };
  right[1] = spentOf(spent, cfg.duration);
  return { fraction: Math.min(1, spent / cfg.duration), right };
}

export const constantArrivalRate = {
  parse,
  validate,
  requirements,
  describe,
  hasWork,
  progress,
  run,
} satisfies ExecutorModule<ConstantArrivalRateConfig>;
