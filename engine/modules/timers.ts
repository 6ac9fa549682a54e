/**
 * `k6/timers` (also the script's global setTimeout & co.): pending timers keep the iteration open
 * (k6: an iteration ends when its event loop is empty) and are cleared when it is interrupted.
 */
import type { EngineModuleContext } from './context.ts';
import type { K6Module } from './k6-types.ts';

interface Timer {
  handle: NodeJS.Timeout;
  done: () => void;
  interval: boolean;
}

export function createTimersModule(ctx: EngineModuleContext): Record<string, unknown> {
  const timers = new Map<number, Timer>();
  let nextId = 1;
  const clear = (id: unknown): void => {
    const t = timers.get(Number(id));
    if (t === undefined) return;
    timers.delete(Number(id));
    if (t.interval) clearInterval(t.handle);
    else clearTimeout(t.handle);
    t.done();
  };
  const schedule = (interval: boolean, fn: unknown, ms: unknown, args: unknown[]): number => {
    if (typeof fn !== 'function') throw new TypeError(`${interval ? 'setInterval' : 'setTimeout'} needs a function, got ${typeof fn}`);
    const id = nextId++;
    let done!: () => void;
    const pending = new Promise<void>((r) => {
      done = r;
    });
    const delay = Math.max(0, Number(ms) || 0);
    const signal = ctx.iterationSignal();
    const run = (): void => {
      if (!interval) {
        timers.delete(id);
      }
      try {
        (fn as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        ctx.log('error', e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      } finally {
        if (!interval) done();
      }
    };
    const handle = interval ? setInterval(run, delay) : setTimeout(run, delay);
    timers.set(id, { handle, done, interval });
    if (signal !== undefined) {
      const onAbort = (): void => {
        clear(id);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void pending.then(() => {
        signal.removeEventListener('abort', onAbort);
      });
    }
    ctx.trackPending(pending);
    return id;
  };
  return {
    setTimeout: (fn: unknown, ms?: unknown, ...args: unknown[]) => schedule(false, fn, ms, args),
    setInterval: (fn: unknown, ms?: unknown, ...args: unknown[]) => schedule(true, fn, ms, args),
    clearTimeout: clear,
    clearInterval: clear,
  } satisfies K6Module<typeof import('k6/timers')>;
}
