/**
 * One iteration on a VU, as every executor runs it: interrupted (not counted as complete) when the
 * scenario's stop signal aborts first; one 'abort' listener per stop signal however many iterations run;
 * the event loop given a turn between iterations that never wait.
 */
import type { IterationContext, VirtualUser } from '../contracts.ts';
import type { EngineIterationContext, Interruptible, IterationInterruption } from '../modules/context.ts';
import { toError } from '../../shared/errors.ts';
import type { IterationCounter } from './common.ts';
import type { ExecutorRuntime, ScenarioConfig } from './types.ts';

export interface IterationOutcome {
  readonly interrupted: boolean;
  /** Settles when the VU's iteration promise has settled (release the VU after it). */
  readonly settled: Promise<void>;
}

/**
 * One iteration's interruption: a flag set when the scenario's stop signal aborts while the
 * iteration runs. The iteration's AbortSignal is built only when something asks for it (most
 * iterations never do: the engine's modules use add/delete), so an iteration costs no
 * AbortController and no listener on the shared stop signal.
 */
class Interruption implements IterationInterruption {
  aborted = false;
  reason: unknown = undefined;
  #ctl: AbortController | undefined;
  /** What to interrupt: the first in its own slot (an iteration mostly has one request at a time, so no set for it), the rest in a set. */
  #hook: Interruptible | undefined;
  #hooks: Set<Interruptible> | undefined;
  /** Wakes runIteration's wait (set while it waits). */
  wake: (() => void) | undefined;

  get signal(): AbortSignal {
    let ctl = this.#ctl;
    if (ctl === undefined) {
      ctl = new AbortController();
      if (this.aborted) ctl.abort(this.reason);
      this.#ctl = ctl;
    }
    return ctl.signal;
  }

  add(h: Interruptible): void {
    if (this.#hook === undefined && this.#hooks === undefined) this.#hook = h;
    else if (this.#hook !== h) (this.#hooks ??= new Set()).add(h);
  }

  delete(h: Interruptible): void {
    if (this.#hook === h) this.#hook = undefined;
    else this.#hooks?.delete(h);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#ctl?.abort(reason);
    const hook = this.#hook;
    const hooks = this.#hooks;
    this.#hook = undefined;
    this.#hooks = undefined;
    hook?.interrupt(reason);
    if (hooks !== undefined) for (const h of hooks) h.interrupt(reason);
    this.wake?.();
  }
}

/** The context of one iteration; its AbortSignal is built on first access. */
class Iteration implements EngineIterationContext {
  constructor(
    readonly scenario: IterationContext['scenario'],
    readonly iterationInInstance: number,
    readonly iterationInTest: number,
    readonly interruption: Interruption,
  ) {}
  get signal(): AbortSignal {
    return this.interruption.signal;
  }
}

/** Running iterations per stop signal; one 'abort' listener per signal interrupts them all. */
const runningBySignal = new WeakMap<AbortSignal, Set<Interruption>>();

function runningOn(stop: AbortSignal): Set<Interruption> {
  let set = runningBySignal.get(stop);
  if (set === undefined) {
    const running = new Set<Interruption>();
    set = running;
    runningBySignal.set(stop, running);
    stop.addEventListener(
      'abort',
      () => {
        for (const it of running) it.abort(stop.reason);
        running.clear();
      },
      { once: true },
    );
  }
  return set;
}

/** The `scenario` part of iteration contexts, one object per scenario run (keyed by its progress function). */
const scenarioInfos = new WeakMap<() => number, IterationContext['scenario']>();

function scenarioInfo(cfg: ScenarioConfig, progress: () => number, startedAt: number): IterationContext['scenario'] {
  let info = scenarioInfos.get(progress);
  if (info === undefined || info.startTime !== startedAt || info.name !== cfg.name) {
    info = { name: cfg.name, executor: cfg.executor, exec: cfg.exec, tags: cfg.tags, env: cfg.env, startTime: startedAt, progress };
    scenarioInfos.set(progress, info);
  }
  return info;
}

/** The iteration promise's outcome is not needed once it settled (one function for both, not two closures per iteration). */
const nothing = (): undefined => undefined;

/**
 * Runs one iteration on `vu`. Interrupted (not counted as complete) when `stop` aborts before
 * the iteration ends; failed iterations count as complete, like k6.
 */
export async function runIteration(
  rt: ExecutorRuntime,
  cfg: ScenarioConfig,
  vu: VirtualUser,
  counter: IterationCounter,
  stop: AbortSignal,
  progress: () => number,
  startedAt: number,
): Promise<IterationOutcome> {
  const intr = new Interruption();
  const running = runningOn(stop);
  if (stop.aborted) intr.abort(stop.reason);
  else running.add(intr);
  const [iterationInInstance, iterationInTest] = counter.next();
  const ctx = new Iteration(scenarioInfo(cfg, progress, startedAt), iterationInInstance, iterationInTest, intr);
  let run: Promise<unknown>;
  try {
    run = vu.runIteration(ctx);
  } catch (err: unknown) {
    run = Promise.reject(toError(err));
  }
  const settled = run.then(nothing, nothing);
  if (!intr.aborted) {
    await new Promise<void>((resolve) => {
      intr.wake = resolve;
      void settled.then(resolve);
    });
  }
  intr.wake = undefined;
  running.delete(intr);
  const interrupted = intr.aborted;
  if (interrupted) rt.stats.interrupted++;
  else rt.stats.completed++;
  const turn = yieldIfBusy();
  if (turn !== undefined) await turn;
  return { interrupted, settled };
}

/**
 * Iterations that never wait on I/O or a timer settle in microtasks only, and a VU loop of them would
 * never let a timer fire: the scenario's end, the threshold evaluation and signals would starve. The
 * loops give the event loop a turn (setImmediate) at least every YIELD_EVERY_MS of such work.
 */
export const YIELD_EVERY_MS = 5;
let lastYield = performance.now();

function yieldIfBusy(): Promise<void> | undefined {
  const now = performance.now();
  if (now - lastYield < YIELD_EVERY_MS) return undefined;
  return new Promise<void>((resolve) => {
    setImmediate(() => {
      lastYield = performance.now();
      resolve();
    });
  });
}

/** Returns the VU to the pool once its iteration promise has settled. */
export function releaseWhenSettled(rt: ExecutorRuntime, vu: VirtualUser, settled: Promise<void>): void {
  void settled.then(() => rt.pool.release(vu));
}
