/**
 * The toolkit's error type. Every failure the CLI reports is an AgentloadError with a stable `code` (tests
 * branch on it) and the process exit code it maps to (the one table, shared/exit-codes.ts). Messages are one
 * line: they name the thing, show the value and say the fix. Below src/cli, so every part of the toolkit
 * (bundle, k6, run, faults) may throw it.
 */

import { CodedError } from '../shared/errors.ts';

import { EXIT_CODES } from '../shared/exit-codes.ts';

export { EXIT_CODES };
export { toError } from '../shared/errors.ts';

export type ErrorCode =
  | 'usage'
  | 'unknown-command'
  | 'missing-scenario'
  | 'scenario-not-found'
  | 'invalid-flag-value'
  | 'missing-flag-value'
  | 'type-error'
  | 'bundle-error'
  | 'bundle-over-budget'
  | 'unsupported-flag'
  | 'host-not-allowed'
  | 'invalid-url'
  | 'k6-not-found'
  | 'k6-failed-to-start'
  | 'k6-too-old'
  | 'k6-extension-missing'
  | 'cloud-needs-target'
  | 'engine-missing'
  | 'target-failed'
  | 'invalid-soak-budget'
  | 'invalid-fault-plan'
  | 'fault-unavailable'
  | 'amqp-unreachable'
  | 'invalid-options'
  | 'interrupted';

export class AgentloadError extends CodedError<ErrorCode> {
  readonly exitCode: number;
  /** Extra lines printed after the message (e.g. every type error); the message itself stays one line. */
  readonly details: readonly string[];

  constructor(code: ErrorCode, exitCode: number, message: string, details: readonly string[] = []) {
    super(code, message);
    this.name = 'AgentloadError';
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** A script's type errors as one error (exit 107, before anything is sent): the first as its message, every other as a detail line. */
export function typeErrors(texts: readonly string[]): AgentloadError {
  return new AgentloadError('type-error', EXIT_CODES.scriptException, texts[0] ?? 'type error', texts.slice(1));
}
