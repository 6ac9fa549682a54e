/**
 * What the embedded engine's own modules get beyond contracts.ts ModuleContext. The runtime
 * implements it for every VU; protocol modules written against ModuleContext work unchanged.
 */
import type { ModuleContext } from '../contracts.ts';

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
