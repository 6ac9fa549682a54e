/** The platform's simulated work and pauses: resolves after `ms` milliseconds (at once when `ms` is 0 or less). */
export const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
