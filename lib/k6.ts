/**
 * Typed async-first wrappers over the k6 calls that block in k6 and return promises on the embedded
 * engine (design: "Authoring style: async first"). Scenarios always `await` these; in k6 awaiting a plain
 * value is harmless, so the same bundle runs on both engines.
 */
import { sleep as k6Sleep } from 'k6';

/** Sleeps `seconds` (k6 `sleep`), as a promise on both engines. */
export async function sleep(seconds: number): Promise<void> {
  // Awaited where it is called: the embedded engine then keeps scripts built from this in its async VU mode.
  await (k6Sleep(seconds) as unknown as Promise<void> | undefined);
}

/** Wall-clock milliseconds (`Date.now()`), for latency from timestamps the target stamps. */
export function now(): number {
  return Date.now();
}

/** The message of an unknown thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
