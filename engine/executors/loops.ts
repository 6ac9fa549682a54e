/**
 * The runner shape shared by the executors whose VUs loop (shared-iterations, per-vu-iterations,
 * constant-vus): take N VUs from the pool, run one loop per VU, give each VU back once its last
 * iteration has settled, and finish when every loop has.
 */

import type { VirtualUser } from '../contracts.ts';
import { releaseWhenSettled } from './iteration.ts';
import type { ExecutorRuntime } from './types.ts';

/** One VU's loop: returns the last iteration's `settled` promise (release waits for it). */
export type VULoop = (vu: VirtualUser, index: number) => Promise<{ readonly settled: Promise<void> }>;

export async function runLoopingVUs(rt: ExecutorRuntime, count: number, loop: VULoop): Promise<void> {
  const loops: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    if (rt.signal.aborted) break;
    const vu = await rt.pool.acquire();
    if (vu === undefined) {
      rt.warn?.(`no initialised VU was free for VU #${i + 1} of this scenario; it runs with fewer VUs`);
      continue;
    }
    rt.stats.heldVUs++;
    rt.stats.activeVUs++;
    loops.push(
      loop(vu, i).then(
        ({ settled }) => {
          rt.stats.heldVUs--;
          rt.stats.activeVUs--;
          releaseWhenSettled(rt, vu, settled);
        },
        () => {
          rt.stats.heldVUs--;
          rt.stats.activeVUs--;
          rt.pool.release(vu);
        },
      ),
    );
  }
  await Promise.all(loops);
}
