/** k6's exit codes (the ones the embedded engine produces) and the engine's error type. */

export const EXIT_CODES = {
  ok: 0,
  thresholdsFailed: 99,
  invalidConfig: 104,
  externalAbort: 105,
  scriptException: 107,
  scriptAborted: 108,
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
  | 'test-aborted';

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
