/** The production clock: monotonic `performance.now()`, wall time from `Date.now()`. */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../contracts.ts';

const origin = Date.now() - performance.now();

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => origin + performance.now(),
  sleep: (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason as Error);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
