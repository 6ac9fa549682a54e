/** How a running iteration or lifecycle call is interrupted, when nothing but its AbortSignal says so. */
import type { Interruptible, IterationInterruption } from '../modules/context.ts';

/** An IterationInterruption over a plain AbortSignal (iterations not started by the engine's executors). */
export function interruptionOf(signal: AbortSignal): IterationInterruption {
  const listeners = new Map<Interruptible, () => void>();
  return {
    get aborted() {
      return signal.aborted;
    },
    add(h) {
      const l = (): void => {
        listeners.delete(h);
        h.interrupt(signal.reason);
      };
      listeners.set(h, l);
      signal.addEventListener('abort', l, { once: true });
    },
    delete(h) {
      const l = listeners.get(h);
      if (l === undefined) return;
      listeners.delete(h);
      signal.removeEventListener('abort', l);
    },
  };
}
