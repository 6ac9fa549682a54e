/**
 * What the embedded engine's own modules get beyond contracts.ts ModuleContext. The runtime
 * implements it for every VU; protocol modules written against ModuleContext work unchanged.
 */
import type { IterationContext, ModuleContext } from '../contracts.ts';

/** Something in flight that the running iteration's interruption must stop (an HTTP exchange). */
export interface Interruptible {
  interrupt(reason: unknown): void;
}

/**
 * The running iteration's interruption, cheaper than listening on its AbortSignal: a flag plus
 * the set of in-flight work to stop. Interrupted exactly when the iteration's signal aborts.
 */
export interface IterationInterruption {
  readonly aborted: boolean;
  /** `h.interrupt(reason)` is called once if the iteration is interrupted while `h` is registered. */
  add(h: Interruptible): void;
  delete(h: Interruptible): void;
}

/** An IterationContext from the engine's executors: `interruption` mirrors `signal` without building it. */
export interface EngineIterationContext extends IterationContext {
  readonly interruption?: IterationInterruption;
}

/** Per-instance numbers for `exec.instance`. */
export interface InstanceStats {
  readonly iterationsCompleted: number;
  readonly iterationsInterrupted: number;
  readonly vusActive: number;
  readonly vusInitialized: number;
  /** Milliseconds since the test started (0 before). */
  readonly currentTestRunDuration: number;
}

export interface EngineModuleContext extends ModuleContext {
  /** Adds bytes to the running iteration's `data_sent`/`data_received`. */
  countBytes(sent: number, received: number): void;
  /** `discardResponseBodies` (option or flag): default responseType is 'none'. */
  discardResponseBodies(): boolean;
  /** Where the script called us from, mapped to its sources: `file:///x.ts:12:5`, or '' if unknown. */
  callSite(depth?: number): string;
  /** Captures where the script called us from now; the thunk formats it only when needed. */
  captureSite(): () => string;
  /** Whether promises should capture their call site (on once a forgotten await was seen: zero cost before). */
  wantSites(): boolean;
  /** State shared by every VU of this engine instance (SharedArray, open() cache). */
  readonly shared: Map<string, unknown>;
  /** Script directory, for open() with a relative path. */
  readonly scriptDir: string;
  instanceStats(): InstanceStats;
  /** Iteration number of this VU in the current scenario (`exec.vu.iterationInScenario`). */
  iterationInScenario(): number;
  /** Iteration number of this VU across scenarios (`exec.vu.iterationInInstance`). */
  iterationInVu(): number;
  /**
   * Fails the running iteration with `error` (an exception in an event handler, as k6 does): the
   * iteration ends once its pending work settles, the error is logged like a thrown one.
   */
  failIteration(error: unknown): void;
  /** `exec.test.fail()`: the run continues, the exit code becomes 110. */
  failTest(reason: string): void;
  /** Registers a promise the script should have awaited; checked when the iteration ends. */
  trackAwaitable(p: AwaitCheck): void;
  /** The running iteration's interruption (undefined outside iterations), see IterationInterruption. */
  iterationInterruption(): IterationInterruption | undefined;
}

/** A promise that knows whether the script awaited it (called `then`). */
export interface AwaitCheck {
  readonly awaited: boolean;
  /** e.g. `http.get(...)`, `sleep(...)`. */
  readonly call: string;
  /** Call site captured when the promise was made ('' when not captured). */
  readonly site: string;
  /** True when a warning about it was already given. */
  readonly warned: boolean;
}
