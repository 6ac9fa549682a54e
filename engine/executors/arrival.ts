/**
 * The runner shared by the arrival-rate executors: start one iteration at each planned offset
 * on a free VU; when none is free, count a `dropped_iterations` and (if maxVUs allows) init one
 * more VU in the background, one at a time, like k6. One timer wake-up starts every iteration
 * due by then (not one timer per start), and the most recently freed VU goes first.
 */

import type { VirtualUser } from '../contracts.ts';
import type { ExecutionTuple } from '../units/segments.ts';
import { IterationCounter, ScenarioWindow, executorTags, sleepUntil } from './common.ts';
import { releaseWhenSettled, runIteration, type IterationOutcome } from './iteration.ts';
import type { ConstantArrivalRateConfig, ExecutorRuntime, RampingArrivalRateConfig } from './types.ts';

/**
 * The shortest time between two wake-ups of the arrival loop (ms): iterations due in between
 * start together, never early and at most this late. Node's timers fire no sooner than 1 ms
 * anyway, so 1 ms costs no accuracy; docs/engine-scheduling.md has the CPU figures.
 */
export const ARRIVAL_WAKE_MS = 1;

export interface ArrivalPlan {
  /** Regular duration in ms (no new iterations after it). */
  readonly duration: number;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
  /** The tuple iteration numbers are striped by (re-segmented on maxVUs). */
  readonly iterTuple: ExecutionTuple;
  /** Iteration start offsets in ms from the scenario start, ascending. */
  readonly offsets: Iterable<number>;
}

export async function runArrivalRate(
  cfg: ConstantArrivalRateConfig | RampingArrivalRateConfig,
  rt: ExecutorRuntime,
  plan: ArrivalPlan,
): Promise<void> {
  const win = new ScenarioWindow(rt, plan.duration, cfg.gracefulStop);
  rt.stats.status = 'running';
  rt.stats.startedAt = win.start;
  rt.onStart?.(win.start);
  const counter = new IterationCounter(plan.iterTuple);
  const progress = (): number => (plan.duration <= 0 ? 1 : Math.min(1, (rt.clock.now() - win.start) / plan.duration));
  const idle: VirtualUser[] = [];
  const owned: VirtualUser[] = [];
  const running = new Set<Promise<IterationOutcome>>();
  /** VUs whose last iteration has not settled yet, with its settle promise. */
  const unsettled = new Map<VirtualUser, Promise<void>>();
  let closed = false;
  let remainingUnplanned = plan.maxVUs - plan.preAllocatedVUs;
  let initializing: Promise<void> | undefined;
  let warned = false;

  const own = (vu: VirtualUser): void => {
    owned.push(vu);
    idle.push(vu);
    rt.stats.heldVUs++;
  };
  for (let i = 0; i < plan.preAllocatedVUs && !rt.signal.aborted; i++) {
    const vu = await rt.pool.acquire();
    if (vu === undefined) {
      rt.warn?.(`scenario ${cfg.name}: only ${i} of ${plan.preAllocatedVUs} pre-allocated VUs were free`);
      break;
    }
    own(vu);
  }

  const start = (vu: VirtualUser): void => {
    rt.stats.activeVUs++;
    const p = runIteration(rt, cfg, vu, counter, win.hard, progress, win.start);
    running.add(p);
    void p.then((out) => {
      running.delete(p);
      rt.stats.activeVUs--;
      unsettled.set(vu, out.settled);
      void out.settled.then(() => {
        unsettled.delete(vu);
        if (!closed) idle.push(vu);
      });
    });
  };
  const dropTags = executorTags(rt, cfg);
  const drop = (): void => {
    rt.stats.dropped++;
    rt.emit([{ metric: 'dropped_iterations', time: rt.clock.wallNow(), value: 1, tags: dropTags }]);
    if (remainingUnplanned <= 0) {
      if (!warned) {
        rt.warn?.(`Insufficient VUs, reached ${plan.maxVUs} active VUs and cannot initialize more`);
        warned = true;
      }
      return;
    }
    if (initializing === undefined) {
      remainingUnplanned--;
      initializing = rt.pool.acquire({ allowInit: true }).then(
        (fresh) => {
          initializing = undefined;
          if (fresh === undefined) return;
          rt.stats.unplannedInits++;
          own(fresh);
        },
        () => {
          initializing = undefined;
        },
      );
    }
  };

  // One wake-up starts every iteration that is due by then; wake-ups are at least
  // ARRIVAL_WAKE_MS apart, so a high rate costs one timer per ARRIVAL_WAKE_MS, not one per start.
  const offsets = plan.offsets[Symbol.iterator]();
  let next = offsets.next();
  let prev = 0;
  // A function, not a property read, so the check is redone after every start (an iteration may stop the test).
  const stopped = (): boolean => win.hard.aborted;
  while (next.done !== true && next.value <= plan.duration && !stopped()) {
    const now = rt.clock.now() - win.start;
    while (next.done !== true && next.value <= now && next.value <= plan.duration && !stopped()) {
      const offset = next.value;
      rt.stats.currentRate = offset > prev ? 1000 / (offset - prev) : rt.stats.currentRate;
      prev = offset;
      // The most recently freed VU first: it has warm connections, and fewer VUs stay busy.
      const vu = idle.pop();
      next = offsets.next();
      if (vu !== undefined) {
        start(vu);
        continue;
      }
      drop();
      // A VU initialised just now (the engine's pool does it synchronously) joins before the
      // next due start: yield the microtasks its acquire() needs, without waiting on real init.
      if (initializing !== undefined) await Promise.resolve();
    }
    if (next.done === true || next.value > plan.duration) break;
    if (!(await sleepUntil(rt, win.start + now + Math.max(next.value - now, ARRIVAL_WAKE_MS), win.hard))) break;
  }
  rt.stats.status = 'stopping';
  while (running.size > 0) await Promise.all([...running]);
  if (initializing !== undefined) await initializing;
  win.dispose();
  // Give every VU back once its last iteration has settled.
  closed = true;
  idle.length = 0;
  for (const vu of owned) {
    const pending = unsettled.get(vu);
    if (pending === undefined) rt.pool.release(vu);
    else releaseWhenSettled(rt, vu, pending);
  }
  rt.stats.status = rt.signal.aborted ? 'interrupted' : 'done';
}
