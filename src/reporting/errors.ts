/** Errors of the report pipeline: one line, a stable `code`, the value and the fix. */

import { CodedError } from '../../shared/errors.ts';

export { toError } from '../../shared/errors.ts';

export type ReportErrorCode = 'input-not-found' | 'input-empty' | 'input-not-k6' | 'input-unreadable' | 'bad-baseline' | 'bad-argument';

export class ReportError extends CodedError<ReportErrorCode> {
  constructor(code: ReportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ReportError';
  }
}
