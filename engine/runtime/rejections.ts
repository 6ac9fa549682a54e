/**
 * Unhandled promise rejections of script code: never the end of the process (or of a VU thread). k6 tracks
 * them per VU runtime (js/eventloop: a rejection still unhandled after a batch of the VU's callbacks ends its
 * event loop with the error `Uncaught (in promise) <the reason's stack, or the reason>`): the iteration fails,
 * logged without source=stacktrace; in setup() or teardown() the function fails. VUs here share one JavaScript
 * realm (the script runs in this context), so a rejection is attributed to the VU that last ran script code
 * (entered a function of the script or was woken by its tracked work settling) when Node reports it, at the
 * end of the macrotask that made it. No per-promise hook: the hot path pays one field store per wake-up.
 */

/** A VU as the guard sees it: told about a rejection it is taken to have made. */
export interface RejectionOwner {
  onUnhandledRejection(reason: unknown): void;
}

const live = new Set<RejectionOwner>();
/** VUs closed in the current macrotask: still told about a rejection it left (their logger may still be open). */
const closing = new Set<RejectionOwner>();
let removal: NodeJS.Immediate | undefined;
let last: RejectionOwner | undefined;
let installed = false;

/** Marks `owner` as the VU running script code now (a field store: called on every wake-up). */
export function enteredScript(owner: RejectionOwner): void {
  last = owner;
}

const onRejection = (reason: unknown): void => {
  let owner = last;
  if (owner === undefined || !(live.has(owner) || closing.has(owner))) {
    owner = undefined;
    for (const o of live) owner = o;
  }
  // No VU to own it (the host's own code, after the run): Node's default, an uncaught exception.
  if (owner === undefined) throw reason;
  owner.onUnhandledRejection(reason);
};

/** Counts a VU in: the process's (thread's) `unhandledRejection` listener is installed while any VU lives. */
export function registerOwner(owner: RejectionOwner): void {
  live.add(owner);
  if (!installed) {
    installed = true;
    process.on('unhandledRejection', onRejection);
  }
}

/**
 * Counts a closed VU out: the listener is removed a macrotask after the last one is closed (the host's own
 * handling is back), once what the VUs' last macrotask left unhandled has been reported to it.
 */
export function unregisterOwner(owner: RejectionOwner): void {
  closing.add(owner);
  live.delete(owner);
  if (live.size > 0 || removal !== undefined) return;
  removal = setImmediate(() => {
    removal = undefined;
    closing.clear();
    if (last !== undefined && !live.has(last)) last = undefined;
    if (live.size === 0 && installed) {
      installed = false;
      process.off('unhandledRejection', onRejection);
    }
  });
}

/** k6's wording for a rejection's reason: its stack when it has one (as the script sees it), else its text. */
export function rejectionText(reason: unknown, formatStack: (e: unknown) => string): string {
  let body: string;
  try {
    const hasStack = typeof reason === 'object' && reason !== null && typeof (reason as { stack?: unknown }).stack === 'string';
    body = hasStack ? formatStack(reason) : String(reason);
  } catch {
    body = 'a rejection reason that cannot be read';
  }
  return `Uncaught (in promise) ${body}`;
}

/** The name of UncaughtRejectionError (what crosses a VU thread's port). */
export const UNCAUGHT_REJECTION = 'UncaughtRejectionError';

/** The error a lifecycle function or init code fails with when a rejection of its own went unhandled; its message is k6's text. */
export class UncaughtRejectionError extends Error {
  readonly reason: unknown;
  constructor(text: string, reason: unknown) {
    super(text);
    this.name = UNCAUGHT_REJECTION;
    this.reason = reason;
  }
}

/** One macrotask later: Node reports the rejections a macrotask left unhandled after its microtasks, before the next. */
export function afterRejectionsReported(): Promise<void> {
  return new Promise<void>((resolve) => {
    setImmediate(resolve);
  });
}
