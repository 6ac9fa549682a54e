/** k6's exit codes (the ones the embedded engine produces) and the engine's error type. */

export const EXIT_CODES = {
  ok: 0,
  thresholdsFailed: 99,
  /** k6's exitcodes.SetupTimeout: setup() ran longer than `setupTimeout`. */
  setupTimeout: 100,
  /** k6's exitcodes.TeardownTimeout: teardown() ran longer than `teardownTimeout`. */
  teardownTimeout: 101,
  /** k6's exitcodes.GenericTimeout (a timeout elsewhere than setup/teardown). */
  genericTimeout: 102,
  genericEngine: 103,
  invalidConfig: 104,
  externalAbort: 105,
  scriptException: 107,
  scriptAborted: 108,
  /** `exec.test.fail()`: the run went on, then failed. */
  markedAsFailed: 110,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export type EngineErrorCode =
  | 'invalid-config'
  | 'unknown-module'
  | 'script-load-failed'
  | 'init-exception'
  | 'setup-exception'
  | 'missing-exec'
  | 'open-outside-init'
  | 'open-failed'
  | 'test-aborted'
  | 'setup-timeout'
  | 'teardown-timeout'
  | 'summary-timeout'
  | 'out-of-memory';

/** An error that ends the run with a k6 exit code. `message` is one line a user can act on. */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly exitCode: ExitCode;
  constructor(code: EngineErrorCode, exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Thrown by `exec.test.abort()`; unwinds the iteration and stops the test with exit 108. */
export class TestAbortedError extends Error {
  readonly code = 'test-aborted';
  constructor(readonly reason: string) {
    super(reason === '' ? 'test aborted' : `test aborted: ${reason}`);
    this.name = 'TestAbortedError';
  }
}

export type LifecyclePlace = 'setup' | 'teardown' | 'handleSummary';

/** Go's `%.f` of a float: rounded to an integer, exact halves to even (strconv's correct rounding). */
export function goWholeNumber(x: number): string {
  const floor = Math.floor(x);
  const diff = x - floor;
  const n = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  return String(Object.is(n, -0) ? 0 : n);
}

/**
 * k6's timeoutError: a lifecycle function ran past its time limit. The message and hint are k6's
 * (`setup() execution timed out after 60 seconds`, seconds printed with Go's `%.f`), and so are the exit
 * codes: 100 for setup, 101 for teardown, 102 elsewhere (handleSummary's fixed 2 minutes).
 */
export class LifecycleTimeoutError extends EngineError {
  readonly place: LifecyclePlace;
  readonly timeoutMs: number;
  readonly hint: string;
  constructor(place: LifecyclePlace, timeoutMs: number) {
    const code: EngineErrorCode = place === 'setup' ? 'setup-timeout' : place === 'teardown' ? 'teardown-timeout' : 'summary-timeout';
    const exit: ExitCode = place === 'setup' ? EXIT_CODES.setupTimeout : place === 'teardown' ? EXIT_CODES.teardownTimeout : EXIT_CODES.genericTimeout;
    super(code, exit, `${place}() execution timed out after ${goWholeNumber(timeoutMs / 1000)} seconds`);
    this.name = 'LifecycleTimeoutError';
    this.place = place;
    this.timeoutMs = timeoutMs;
    this.hint = place === 'handleSummary' ? '' : `You can increase the time limit via the ${place}Timeout option`;
  }
}

export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string') {
    const e = new Error(value.message);
    if ('stack' in value && typeof value.stack === 'string') e.stack = value.stack;
    return e;
  }
  return new Error(typeof value === 'string' ? value : stringify(value));
}

function stringify(value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return String(value);
  return JSON.stringify(value);
}
