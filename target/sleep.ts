/** The platform's simulated work and pauses: resolves after `ms` milliseconds (at once when `ms` is 0 or less). */
export const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/**
 * Resolves once `ms` milliseconds of real time have passed (at once when `ms` is 0 or less), for the injected
 * latency whose size is a measurement's input. Node's timers count whole milliseconds from the loop's clock,
 * so `setTimeout(r, 1.5)` waits anywhere from ~0 to ~2 ms (median about 1.1 ms) and `setTimeout(r, 2.96)`
 * about 2.1 ms: a fractional delay comes out short by up to a millisecond. This re-arms the timer until the
 * high-resolution clock says the time is up, so the delay is never short, and long by at most about 1 ms.
 */
export function delayAtLeast(ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  const end = performance.now() + ms;
  return new Promise((resolve) => {
    const check = (): void => {
      const left = end - performance.now();
      if (left <= 0) resolve();
      else setTimeout(check, left);
    };
    check();
  });
}
