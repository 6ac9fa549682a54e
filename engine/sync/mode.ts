/**
 * Which VU mode a run uses (docs/engine-sync.md):
 *
 * - `async`: VUs are objects on the engine thread; calls that block in k6 return promises the script
 *   awaits. Cheapest per VU and per request; what agentload's scenarios are written for.
 * - `sync`: each VU runs on its own worker thread and blocks on its calls, as in k6; I/O stays on the
 *   engine thread. Runs unchanged k6 scripts (`const res = http.get(url); check(res, ...)`).
 *
 * Choice, first that applies: `--vu-mode`, `AGENTLOAD_VU_MODE`, the script's
 * `export const agentload = { vuMode: '...' }`, then auto: `sync` when the script calls a blocking k6
 * function (http.get & co., sleep, ws.connect) without awaiting it there, else `async`.
 */
import { totalmem } from 'node:os';
import type { SyncReason } from '../runtime/loader.ts';

export type VuMode = 'sync' | 'async';

export interface VuModeChoice {
  readonly mode: VuMode;
  /** Why, for the run header: `auto: http.get(...) not awaited at file:///x.js:7:13`. */
  readonly why: string;
  readonly issue?: string;
}

const MODES = new Set(['auto', 'sync', 'async']);

/**
 * Measured on this project's 2-core machine (`npm run bench:engine`, docs/engine-sync.md): a VU thread
 * costs about this much RSS once initialised with a small script, and about this much CPU to start.
 */
export const SYNC_VU_RSS_MB = 14;
export const SYNC_VU_START_MS = 180;

/** The sync VUs this machine can hold: three quarters of its memory at SYNC_VU_RSS_MB each. */
export function syncVuCapacity(totalBytes = totalmem()): number {
  return Math.floor((totalBytes * 0.75) / (SYNC_VU_RSS_MB * 1024 * 1024));
}

export function chooseVuMode(a: {
  flag?: string | undefined;
  env?: string | undefined;
  exported?: unknown;
  reasons: readonly SyncReason[];
}): VuModeChoice {
  const pick = (raw: string, from: string): VuModeChoice | undefined => {
    if (!MODES.has(raw)) return { mode: 'async', why: '', issue: `${from} must be auto, sync or async, got "${raw}"` };
    if (raw === 'auto') return undefined;
    return { mode: raw as VuMode, why: from };
  };
  for (const [raw, from] of [
    [a.flag, '--vu-mode'],
    [a.env, 'AGENTLOAD_VU_MODE'],
  ] as const) {
    if (raw === undefined || raw === '') continue;
    const c = pick(raw, from);
    if (c !== undefined) return c;
    break;
  }
  const exported = (a.exported as { vuMode?: unknown } | undefined)?.vuMode;
  if (exported !== undefined) {
    const c = pick(typeof exported === 'string' ? exported : JSON.stringify(exported), "the script's agentload.vuMode");
    if (c !== undefined) return c;
  }
  const first = a.reasons[0];
  if (first === undefined) return { mode: 'async', why: 'auto: every blocking call is awaited' };
  const more = a.reasons.length > 1 ? ` (and ${String(a.reasons.length - 1)} more)` : '';
  return { mode: 'sync', why: `auto: ${first.call} not awaited at ${first.site}${more}` };
}
