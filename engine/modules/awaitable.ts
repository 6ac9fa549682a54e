/**
 * Promises returned by calls that block in k6 (http.*, sleep). They remember whether the script
 * awaited them, so a forgotten `await` is reported once per call site with the fix.
 */
import type { AwaitCheck, EngineModuleContext } from './context.ts';

export class Awaitable<T> extends Promise<T> implements AwaitCheck {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  awaited = false;
  call = '';
  siteThunk: (() => string) | undefined;
  /** Set when a warning about this promise was already given (e.g. `.status` read from it). */
  warned = false;
  /** True while the VU's pending-work tracker attaches to it: that `then` is not the script's await. */
  tracking = false;
  get site(): string {
    return this.siteThunk?.() ?? '';
  }
  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    if (!this.tracking) this.awaited = true;
    return super.then(onfulfilled, onrejected);
  }
}

type AwaitableCtor<T, P> = new (ex: (res: (v: T) => void, rej: (e: unknown) => void) => void) => P;

/**
 * An Awaitable the caller settles itself (`settle`/`fail`), tracked by the VU: it keeps the
 * iteration open and is checked at its end. One promise per call, no promise chained to it.
 */
export function deferredAwaitable<T, P extends Awaitable<T> = Awaitable<T>>(
  ctx: EngineModuleContext,
  call: string,
  ctor: AwaitableCtor<T, P> = Awaitable as never,
): { promise: P; settle: (v: T) => void; fail: (e: unknown) => void } {
  let settle!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const p = new ctor((a, b) => {
    settle = a;
    fail = b;
  });
  p.call = call;
  if (ctx.wantSites() && ctx.stage() === 'iteration') p.siteThunk = ctx.captureSite();
  // The tracker handles a rejection too: never an unhandled one; the script's is reported at iteration end.
  p.tracking = true;
  ctx.trackPending(p);
  p.tracking = false;
  ctx.trackAwaitable(p);
  return { promise: p, settle, fail };
}

/** Creates an Awaitable settled by `work`, tracked by the VU (keeps the iteration open, checked at its end). */
export function awaitable<T, P extends Awaitable<T> = Awaitable<T>>(
  ctx: EngineModuleContext,
  call: string,
  work: Promise<T>,
  ctor: AwaitableCtor<T, P> = Awaitable as never,
): P {
  const d = deferredAwaitable<T, P>(ctx, call, ctor);
  void work.then(d.settle, d.fail);
  return d.promise;
}

export function forgotAwaitMessage(call: string, where: string, detail: string): string {
  return `${call} returns a promise on the embedded engine and ${detail}${where === '' ? '' : ` at ${where}`}; add await: \`await ${call}\``;
}
