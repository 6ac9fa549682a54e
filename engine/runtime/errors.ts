/** The engine's error types; k6's exit codes are in the one table (shared/exit-codes.ts). */

import { CodedError, toError } from '../../shared/errors.ts';
import { EXIT_CODES, type ExitCode } from '../../shared/exit-codes.ts';

export { EXIT_CODES, toError, type ExitCode };

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
export class EngineError extends CodedError<EngineErrorCode> {
  readonly exitCode: ExitCode;
  constructor(code: EngineErrorCode, exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'EngineError';
    this.exitCode = exitCode;
  }
}

/** Thrown by `exec.test.abort()`; unwinds the iteration and stops the test with exit 108. */
export class TestAbortedError extends CodedError<'test-aborted'> {
  constructor(readonly reason: string) {
    super('test-aborted', reason === '' ? 'test aborted' : `test aborted: ${reason}`);
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
    const exit: ExitCode =
      place === 'setup' ? EXIT_CODES.setupTimeout : place === 'teardown' ? EXIT_CODES.teardownTimeout : EXIT_CODES.genericTimeout;
    super(code, exit, `${place}() execution timed out after ${goWholeNumber(timeoutMs / 1000)} seconds`);
    this.name = 'LifecycleTimeoutError';
    this.place = place;
    this.timeoutMs = timeoutMs;
    this.hint = place === 'handleSummary' ? '' : `You can increase the time limit via the ${place}Timeout option`;
  }
}
