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
import { writeAfterImmediate } from '../modules/http/outbox.ts';

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

/** What a stop signal interrupts: a running iteration's Interruption, or a loop of iterations (its running one). */
interface Stoppable {
  abort(reason: unknown): void;
}

/** Running iterations and iteration loops per stop signal; one 'abort' listener per signal interrupts them all. */
const runningBySignal = new WeakMap<AbortSignal, Set<Stoppable>>();

function runningOn(stop: AbortSignal): Set<Stoppable> {
  let set = runningBySignal.get(stop);
  if (set === undefined) {
    const running = new Set<Stoppable>();
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
const SETTLED: Promise<void> = Promise.resolve();

/**
 * Starts one iteration on `vu`: its interruption (registered in `running`, when given; a loop is registered
 * there itself and is handed the interruption by `onIntr`), its context, the VU's iteration promise. Both
 * registrations happen before the VU runs: its synchronous part may abort `stop` (exec.test.abort()), and
 * that interrupts this iteration, as k6 counts it.
 */
function begin(
  cfg: ScenarioConfig,
  vu: VirtualUser,
  counter: IterationCounter,
  stop: AbortSignal,
  running: Set<Stoppable> | undefined,
  scenario: IterationContext['scenario'],
  onIntr?: (intr: Interruption) => void,
): { intr: Interruption; run: Promise<unknown> } {
  const intr = new Interruption();
  if (stop.aborted) intr.abort(stop.reason);
  else running?.add(intr);
  onIntr?.(intr);
  counter.advance();
  const ctx = new Iteration(scenario, counter.inInstance, counter.inTest, intr);
  let run: Promise<unknown>;
  try {
    run = vu.runIteration(ctx);
  } catch (err: unknown) {
    run = Promise.reject(toError(err));
  }
  return { intr, run };
}

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
  const running = runningOn(stop);
  const { intr, run } = begin(cfg, vu, counter, stop, running, scenarioInfo(cfg, progress, startedAt));
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
  if (turnIsDue()) await new Promise<void>((resolve) => waitForTurn(resolve));
  return { interrupted, settled };
}

/**
 * Runs iterations on `vu` one after another while `more(interrupted)` says so; it is asked before every iteration
 * (`interrupted`: whether the one before was). An interrupted iteration ends the loop either way (its stop signal
 * aborted, so no executor starts another there): `more(true)` is its executor's chance to count what it drops.
 * Resolves with the last iteration's `settled` (release the VU after it). The same iterations as a loop of
 * `runIteration` without its promises: the VU's iteration promise is the only one per iteration, and the loop's
 * state lives in one object whose callbacks are made once.
 */
export function loopIterations(
  rt: ExecutorRuntime,
  cfg: ScenarioConfig,
  vu: VirtualUser,
  counter: IterationCounter,
  stop: AbortSignal,
  progress: () => number,
  startedAt: number,
  more: (interrupted: boolean) => boolean,
): Promise<{ readonly settled: Promise<void> }> {
  return new Promise((resolve) => {
    new IterationLoop(rt, cfg, vu, counter, stop, scenarioInfo(cfg, progress, startedAt), more, resolve).next();
  });
}

class IterationLoop implements Stoppable {
  /** Where this loop is registered while it runs (one entry per loop, not one per iteration). */
  readonly #running: Set<Stoppable>;
  /** The running iteration's interruption and promise (undefined between iterations). */
  #intr: Interruption | undefined;
  #run: Promise<unknown> | undefined;

  constructor(
    readonly rt: ExecutorRuntime,
    readonly cfg: ScenarioConfig,
    readonly vu: VirtualUser,
    readonly counter: IterationCounter,
    readonly stop: AbortSignal,
    readonly scenario: IterationContext['scenario'],
    readonly more: (interrupted: boolean) => boolean,
    readonly done: (out: { readonly settled: Promise<void> }) => void,
  ) {
    this.#running = runningOn(stop);
    if (!stop.aborted) this.#running.add(this);
  }

  /** The stop signal aborted: interrupts the running iteration (a next one would start interrupted). */
  abort(reason: unknown): void {
    this.#intr?.abort(reason);
  }

  #finish(settled: Promise<void>): void {
    this.#running.delete(this);
    this.done({ settled });
  }

  /** Starts the next iteration, or ends the loop. */
  readonly next = (): void => {
    if (!this.more(false)) {
      this.#finish(SETTLED);
      return;
    }
    const { intr, run } = begin(this.cfg, this.vu, this.counter, this.stop, undefined, this.scenario, this.#started);
    if (intr.aborted) {
      this.#end(intr, run);
      return;
    }
    this.#run = run;
    intr.wake = this.#interrupted;
    void Promise.prototype.then.call(run, this.#settled, this.#settled);
  };

  /** The iteration's interruption, before the VU runs it: a stop during its synchronous part interrupts it. */
  readonly #started = (intr: Interruption): void => {
    this.#intr = intr;
  };

  /** The running iteration's promise settled (ignored when its interruption ended it first). */
  readonly #settled = (): void => {
    const intr = this.#intr;
    const run = this.#run;
    if (intr === undefined || run === undefined) return;
    this.#end(intr, run);
  };

  /** The running iteration was interrupted: the loop goes on without waiting for its promise. */
  readonly #interrupted = (): void => {
    const intr = this.#intr;
    const run = this.#run;
    if (intr === undefined || run === undefined) return;
    // Woken inside the stop signal's 'abort' listener: the rest runs after it, as an awaited wake would.
    queueMicrotask(() => {
      this.#end(intr, run);
    });
    this.#intr = undefined;
    this.#run = undefined;
  };

  #end(intr: Interruption, run: Promise<unknown>): void {
    this.#intr = undefined;
    this.#run = undefined;
    intr.wake = undefined;
    const rt = this.rt;
    if (intr.aborted) {
      rt.stats.interrupted++;
      this.more(true);
      this.#finish(run.then(nothing, nothing));
      return;
    }
    rt.stats.completed++;
    if (turnIsDue()) waitForTurn(this.next);
    else this.next();
  }
}

/**
 * Iterations that never wait on I/O or a timer settle in microtasks only, and a VU loop of them would
 * never let a timer fire: the scenario's end, the threshold evaluation and signals would starve. An
 * iteration that ends when the event loop has not turned for YIELD_EVERY_MS waits for a turn (setImmediate).
 * Whether it turned is seen by a probe: the first iteration to end after a turn queues one setImmediate and
 * notes the time; it is due when that probe has waited YIELD_EVERY_MS without running. Iterations that wait on
 * I/O or timers (the loop turns between them) never wait for one.
 */
export const YIELD_EVERY_MS = 5;
/** A probe is queued (since `probeSince`, performance.now()). */
let probing = false;
let probeSince = 0;
/** Who waits for the next turn: all of them woken by the probe. */
let waiting: (() => void)[] = [];

function turnIsDue(): boolean {
  const now = performance.now();
  if (probing) return now - probeSince >= YIELD_EVERY_MS;
  probing = true;
  probeSince = now;
  setImmediate(turned);
  return false;
}

function turned(): void {
  probing = false;
  const wake = waiting;
  if (wake.length === 0) return;
  waiting = [];
  for (const w of wake) w();
}

/**
 * Calls `resume` in the next check phase (setImmediate). The HTTP outbox writes the requests it makes there in
 * the same check phase (outbox.ts writeAfterImmediate), not a turn later.
 */
function waitForTurn(resume: () => void): void {
  waiting.push(resume);
  if (!probing) {
    probing = true;
    probeSince = performance.now();
    setImmediate(turned);
  }
  if (waiting.length === 1) writeAfterImmediate();
}

/** Returns the VU to the pool once its iteration promise has settled. */
export function releaseWhenSettled(rt: ExecutorRuntime, vu: VirtualUser, settled: Promise<void>): void {
  void settled.then(() => rt.pool.release(vu));
}
