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
  get site(): string {
    return this.siteThunk?.() ?? '';
  }
  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.awaited = true;
    return super.then(onfulfilled, onrejected);
  }
}

/** Creates an Awaitable settled by `work`, tracked by the VU (keeps the iteration open, checked at its end). */
export function awaitable<T, P extends Awaitable<T> = Awaitable<T>>(
  ctx: EngineModuleContext, call: string, work: Promise<T>, ctor: new (ex: (res: (v: T) => void, rej: (e: unknown) => void) => void) => P = Awaitable as never,
): P {
  let res!: (v: T) => void;
  let rej!: (e: unknown) => void;
  const p = new ctor((a, b) => { res = a; rej = b; });
  void work.then(res, rej);
  p.call = call;
  if (ctx.wantSites() && ctx.stage() === 'iteration') p.siteThunk = ctx.captureSite();
  // Never an unhandled rejection: a rejection the script ignores is reported at iteration end.
  void Promise.prototype.then.call(p, undefined, () => undefined);
  ctx.trackPending(work);
  ctx.trackAwaitable(p);
  return p;
}

export function forgotAwaitMessage(call: string, where: string, detail: string): string {
  return `${call} returns a promise on the embedded engine and ${detail}${where === '' ? '' : ` at ${where}`}; add await: \`await ${call}\``;
}
