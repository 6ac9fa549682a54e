import { CodedError } from '../shared/errors.ts';

/** One error type for the target's HTTP layer: a stable `code`, an HTTP status, a one-line message. */
export class TargetError extends CodedError {
  readonly statusCode: number;
  constructor(statusCode: number, code: string, message: string) {
    super(code, message);
    this.name = 'TargetError';
    this.statusCode = statusCode;
  }
}
