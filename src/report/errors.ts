/** Errors of the report pipeline: one line, a stable `code`, the value and the fix. */

export type ReportErrorCode =
  | 'input-not-found'
  | 'input-empty'
  | 'input-not-k6'
  | 'input-unreadable'
  | 'bad-baseline'
  | 'bad-argument';

export class ReportError extends Error {
  readonly code: ReportErrorCode;
  constructor(code: ReportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportError';
    this.code = code;
  }
}

export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
