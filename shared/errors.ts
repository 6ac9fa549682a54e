/**
 * The one error base of agentload and the one `toError`. Node-free: the engine, the toolkit, the report, the
 * platform and the scripts' helpers all import it. Every error a caller may branch on is a `CodedError` with
 * a stable, typed `code`; its message is one line that names the thing, shows the value and says the fix.
 */

export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodedError';
    this.code = code;
  }
}

/**
 * Any thrown value as an Error: an Error as it is; an error-like object (a `message` string, e.g. an error
 * from another realm or worker) keeps its message and stack; a string becomes the message; anything else its
 * JSON text (or `String()` when JSON cannot show it: undefined, functions, symbols, bigints, cycles). Never
 * throws: a value that throws when read (a getter, a revoked Proxy) gives its `String()`, or says it cannot be read.
 */
export function toError(value: unknown): Error {
  try {
    return readError(value);
  } catch {
    return new Error(thrownText(value));
  }
}

/** A thrown value's `String()`, or that it cannot be read (a revoked Proxy, a `toString` that throws). Never throws. */
export function thrownText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'a thrown value that cannot be read';
  }
}

function readError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string') {
    const e = new Error(value.message);
    if ('stack' in value && typeof value.stack === 'string') e.stack = value.stack;
    return e;
  }
  return new Error(typeof value === 'string' ? value : stringify(value));
}

function stringify(value: unknown): string {
  try {
    const json = JSON.stringify(value) as string | undefined;
    return json ?? String(value);
  } catch {
    return String(value);
  }
}
