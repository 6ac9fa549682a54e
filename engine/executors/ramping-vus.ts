/**
 * k6's ramping-vus executor: a variable number of looping VUs following `stages`.
 *
 * Plan (pure): `rawExecutionSteps` is k6's getRawExecutionSteps (the VUs that should be looping
 * at each moment, segment-aware through SegmentedIndex), `requirements` adds the gracefulRampDown
 * reservations (reserveVUsForGracefulRampDowns) and the final 0 at sum(stages)+gracefulStop.
 * Run: raw steps start/gracefully stop VU handles, graceful steps hard-stop them.
 * Offsets are computed in integer nanoseconds like Go's time.Duration, then reported in ms.
 */

import type { VirtualUser } from '../contracts.ts';
import { SegmentedIndex, type ExecutionTuple } from '../units/segments.ts';
import { formatDuration } from '../units/duration.ts';
import {
  FieldReader,
  IterationCounter,
  ScenarioWindow,
  baseInfo,
  fixedLengthDuration,
  issue,
  padInt,
  readBase,
  sleepUntil,
  stagesMaxTarget,
  sumStagesDuration,
  validateBase,
  validateStages,
} from './common.ts';
import { loopIterations, releaseWhenSettled } from './iteration.ts';
import type { ExecutionStep, ExecutorModule, ExecutorRuntime, RampingVUsConfig } from './types.ts';

export const DEFAULT_GRACEFUL_RAMP_DOWN = 30_000;

export function parse(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  path: string,
): { config: RampingVUsConfig; issues: ReturnType<FieldReader['finish']> } {
  const r = new FieldReader(raw, path);
  const config: RampingVUsConfig = {
    ...readBase(name, r),
    executor: 'ramping-vus',
    startVUs: r.int('startVUs', 1),
    stages: r.stages('stages'),
    gracefulRampDown: r.duration('gracefulRampDown', DEFAULT_GRACEFUL_RAMP_DOWN),
  };
  return { config, issues: r.finish() };
}

export function validate(cfg: RampingVUsConfig, path: string): ReturnType<typeof validateBase> {
  const out = validateBase(cfg, path);
  if (cfg.startVUs < 0)
    out.push(issue('out-of-range', `${path}.startVUs`, `the number of start VUs can't be negative, got ${cfg.startVUs}`));
  if (stagesMaxTarget(cfg.startVUs, cfg.stages) <= 0) {
    out.push(issue('no-vus', `${path}.stages`, "either startVUs or one of the stages' target values must be greater than 0"));
  }
  if (cfg.gracefulRampDown < 0) {
    out.push(
      issue(
        'out-of-range',
        `${path}.gracefulRampDown`,
        `the gracefulRampDown can't be negative, got ${formatDuration(cfg.gracefulRampDown)}`,
      ),
    );
  }
  return [...out, ...validateStages(cfg.stages, path)];
}

const toNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));
const toMs = (ns: bigint): number => Number(ns) / 1e6;

/** k6's getRawExecutionSteps: VUs that should be looping at each offset (no graceful periods). */
export function rawExecutionSteps(cfg: RampingVUsConfig, tuple: ExecutionTuple, zeroEnd: boolean): ExecutionStep[] {
  const steps: { offset: bigint; vus: number }[] = [];
  const index = new SegmentedIndex(tuple);
  let fromVUs = cfg.startVUs;
  let [scaled, unscaled] = index.goTo(fromVUs);
  steps.push({ offset: 0n, vus: scaled });
  const add = (offset: bigint, vus: number): void => {
    if (steps[steps.length - 1]?.vus !== vus) steps.push({ offset, vus });
  };
  let timeTillEnd = 0n;
  for (const stage of cfg.stages) {
    const end = stage.target;
    const dur = toNs(stage.duration);
    timeTillEnd += dur;
    const diff = end - fromVUs;
    if (diff === 0) continue;
    if (dur === 0n) {
      [scaled, unscaled] = index.goTo(end);
      add(timeTillEnd, scaled);
      fromVUs = end;
      continue;
    }
    if (unscaled > end) {
      for (; unscaled > end; [scaled, unscaled] = index.prev()) {
        add(timeTillEnd - (dur * BigInt(end - unscaled + 1)) / BigInt(diff), scaled - 1);
      }
    } else {
      for (; unscaled <= end; [scaled, unscaled] = index.next()) {
        add(timeTillEnd - (dur * BigInt(end - unscaled)) / BigInt(diff), scaled);
      }
    }
    fromVUs = end;
  }
  if (zeroEnd && steps[steps.length - 1]?.vus !== 0) steps.push({ offset: timeTillEnd, vus: 0 });
  return steps.map((s) => ({ offset: toMs(s.offset), plannedVUs: s.vus, maxUnplannedVUs: 0 }));
}

/** k6's reserveVUsForGracefulRampDowns: keeps ramping-down VUs reserved for gracefulRampDown. */
export function reserveVUsForGracefulRampDowns(cfg: RampingVUsConfig, raw: readonly ExecutionStep[], endOffset: number): ExecutionStep[] {
  const grace = toNs(cfg.gracefulRampDown);
  const end = toNs(endOffset);
  const ns = raw.map((s) => ({ offset: toNs(s.offset), vus: s.plannedVUs }));
  const out: { offset: bigint; vus: number }[] = [];
  let lastPlanned = 0;
  let lastDownwardSlope = 0;
  for (let n = 0; n < ns.length; n++) {
    const step = ns[n];
    if (step === undefined) break;
    if (n === 0 || step.vus > lastPlanned) {
      out.push(step);
      lastPlanned = step.vus;
      continue;
    }
    if (step.vus === lastPlanned) continue;
    let skipped = false;
    const withTimeout = step.offset + grace;
    const advStart = Math.max(n + 1, lastDownwardSlope);
    let wasRampingDown = true;
    for (let a = advStart; a < ns.length; a++) {
      const adv = ns[a];
      const before = ns[a - 1];
      if (adv === undefined || before === undefined) break;
      if (adv.offset > withTimeout) break;
      if (adv.vus >= lastPlanned) {
        n = a - 1;
        skipped = true;
        break;
      }
      if (wasRampingDown) {
        if (before.vus > adv.vus) lastDownwardSlope = a;
        else wasRampingDown = false;
      }
    }
    if (skipped) continue;
    if (withTimeout >= end) break;
    out.push({ offset: withTimeout, vus: step.vus });
    lastPlanned = step.vus;
  }
  return out.map((s) => ({ offset: toMs(s.offset), plannedVUs: s.vus, maxUnplannedVUs: 0 }));
}

/** k6's GetExecutionRequirements for ramping-vus. */
export function requirements(cfg: RampingVUsConfig, tuple: ExecutionTuple): ExecutionStep[] {
  let steps = rawExecutionSteps(cfg, tuple, false);
  const endOffset = toMs(toNs(sumStagesDuration(cfg.stages)) + toNs(cfg.gracefulStop));
  if (cfg.gracefulRampDown > 0) steps = reserveVUsForGracefulRampDowns(cfg, steps, endOffset);
  if (steps[steps.length - 1]?.plannedVUs !== 0) steps.push({ offset: endOffset, plannedVUs: 0, maxUnplannedVUs: 0 });
  return steps;
}

export function describe(cfg: RampingVUsConfig, tuple: ExecutionTuple): string {
  const max = tuple.scaleInt64(stagesMaxTarget(cfg.startVUs, cfg.stages));
  return `Up to ${max} looping VUs for ${formatDuration(sumStagesDuration(cfg.stages))} over ${cfg.stages.length} stages${baseInfo(cfg, `gracefulRampDown: ${formatDuration(cfg.gracefulRampDown)}`)}`;
}

export function hasWork(cfg: RampingVUsConfig, tuple: ExecutionTuple): boolean {
  return requirements(cfg, tuple).some((s) => s.plannedVUs > 0);
}

/** One VU slot of the executor (k6's vuHandle): start, graceful stop, hard stop. */
class VUHandle {
  private wanted = false;
  private hardCtl: AbortController | undefined;
  loop: Promise<void> | undefined;

  constructor(
    private readonly rt: ExecutorRuntime,
    private readonly cfg: RampingVUsConfig,
    private readonly counter: IterationCounter,
    private readonly scenarioHard: AbortSignal,
    private readonly progress: () => number,
    private readonly startedAt: number,
  ) {}

  start(): void {
    this.wanted = true;
    this.loop ??= this.runLoop();
  }

  /** Finish the running iteration, start no new one. */
  gracefulStop(): void {
    this.wanted = false;
  }

  /** Interrupt the running iteration now. */
  hardStop(): void {
    this.wanted = false;
    this.hardCtl?.abort(new Error('gracefulRampDown is over'));
  }

  private async runLoop(): Promise<void> {
    const rt = this.rt;
    const vu: VirtualUser | undefined = this.scenarioHard.aborted ? undefined : await rt.pool.acquire();
    if (vu === undefined) {
      if (!this.scenarioHard.aborted) rt.warn?.(`no initialised VU was free for scenario ${this.cfg.name}; it runs with fewer VUs`);
      this.loop = undefined;
      return;
    }
    rt.stats.heldVUs++;
    rt.stats.activeVUs++;
    const ctl = new AbortController();
    this.hardCtl = ctl;
    const onHard = (): void => ctl.abort(this.scenarioHard.reason);
    if (this.scenarioHard.aborted) onHard();
    else this.scenarioHard.addEventListener('abort', onHard, { once: true });
    const more = (interrupted: boolean): boolean => !interrupted && this.wanted && !ctl.signal.aborted;
    const { settled } = await loopIterations(rt, this.cfg, vu, this.counter, ctl.signal, this.progress, this.startedAt, more);
    this.scenarioHard.removeEventListener('abort', onHard);
    this.hardCtl = undefined;
    rt.stats.heldVUs--;
    rt.stats.activeVUs--;
    releaseWhenSettled(rt, vu, settled);
    this.loop = undefined;
    if (this.wanted && !this.scenarioHard.aborted) this.start();
  }
}

export async function run(cfg: RampingVUsConfig, rt: ExecutorRuntime): Promise<void> {
  const raw = rawExecutionSteps(cfg, rt.tuple, true);
  const graceful = requirements(cfg, rt.tuple);
  const regular = raw[raw.length - 1]?.offset ?? 0;
  const maxDuration = graceful[graceful.length - 1]?.offset ?? regular;
  const maxVUs = graceful.reduce((m, s) => Math.max(m, s.plannedVUs), 0);
  const win = new ScenarioWindow(rt, regular, Math.max(0, maxDuration - regular));
  rt.stats.status = 'running';
  rt.stats.startedAt = win.start;
  rt.onStart?.(win.start);
  const counter = new IterationCounter(rt.tuple);
  const progress = (): number => (regular <= 0 ? 1 : Math.min(1, (rt.clock.now() - win.start) / regular));
  const handles = Array.from({ length: maxVUs }, () => new VUHandle(rt, cfg, counter, win.hard, progress, win.start));
  let scheduled = 0;
  let allowed = 0;
  const onScheduled = (s: ExecutionStep): void => {
    for (; scheduled < s.plannedVUs; scheduled++) handles[scheduled]?.start();
    for (; s.plannedVUs < scheduled; scheduled--) handles[scheduled - 1]?.gracefulStop();
  };
  const onAllowed = (s: ExecutionStep): void => {
    for (; s.plannedVUs < allowed; allowed--) handles[allowed - 1]?.hardStop();
    allowed = s.plannedVUs;
  };
  let i = 0;
  let j = 0;
  let stopped = false;
  while (i < raw.length && !stopped) {
    const r = raw[i];
    const g = graceful[j];
    if (r === undefined) break;
    if (g !== undefined && g.offset < r.offset) {
      if (!(await sleepUntil(rt, win.start + g.offset, rt.signal))) stopped = true;
      else onAllowed(g);
      j++;
    } else {
      if (!(await sleepUntil(rt, win.start + r.offset, rt.signal))) stopped = true;
      else onScheduled(r);
      i++;
    }
  }
  rt.stats.status = 'stopping';
  // k6 (runRemainingGracefulSteps): the remaining graceful steps run beside the wait for the VUs, and the
  // executor ends as soon as every VU has finished its last iteration, not when the steps run out.
  const gracefulDone = new AbortController();
  const remaining = (async (): Promise<void> => {
    for (; j < graceful.length && !stopped; j++) {
      const g = graceful[j];
      if (g === undefined) break;
      if (!(await sleepUntil(rt, win.start + g.offset, AbortSignal.any([rt.signal, gracefulDone.signal])))) return;
      onAllowed(g);
    }
    for (const h of handles) h.hardStop();
  })();
  for (;;) {
    const pending = handles.flatMap((h) => (h.loop === undefined ? [] : [h.loop]));
    if (pending.length === 0) break;
    await Promise.all(pending);
  }
  gracefulDone.abort();
  await remaining;
  for (const h of handles) h.hardStop();
  win.dispose();
  rt.stats.status = rt.signal.aborted ? 'interrupted' : 'done';
}

export function progress(
  cfg: RampingVUsConfig,
  tuple: ExecutionTuple,
  stats: ExecutorRuntime['stats'],
  now: number,
): { fraction: number; right: string[] } {
  const regular = sumStagesDuration(cfg.stages);
  const max = requirements(cfg, tuple).reduce((m, s) => Math.max(m, s.plannedVUs), 0);
  const spent = Number.isNaN(stats.startedAt) ? 0 : now - stats.startedAt;
  const vus = `${padInt(stats.activeVUs, max)}/${max} VUs`;
  if (spent > regular) return { fraction: 1, right: [vus, formatDuration(regular)] };
  return {
    fraction: regular <= 0 ? 1 : spent / regular,
    right: [vus, `${fixedLengthDuration(spent, regular)}/${fixedLengthDuration(regular, regular)}`],
  };
}

export const rampingVUs = { parse, validate, requirements, describe, hasWork, progress, run } satisfies ExecutorModule<RampingVUsConfig>;
