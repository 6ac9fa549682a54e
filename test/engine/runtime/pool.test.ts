/** The VU pool: after a stop, the run waits (bounded) for VUs still settling their interrupted iterations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IterationResult, VirtualUser } from '../../../engine/contracts.ts';
import { VuPool, type PooledVu } from '../../../engine/runtime/pool.ts';

function fakeVu(id: number): PooledVu {
  return {
    idInInstance: id,
    idInTest: id,
    runIteration: (): Promise<IterationResult> => Promise.resolve({ kind: 'completed' }),
    setData: () => undefined,
    close: () => Promise.resolve(),
  };
}

async function busyPool(n: number): Promise<{ pool: VuPool; busy: VirtualUser[] }> {
  const pool = new VuPool((id) => fakeVu(id), n);
  await pool.grow(n);
  const busy: VirtualUser[] = [];
  for (let i = 0; i < n; i++) {
    const vu = await pool.acquire();
    assert.ok(vu);
    busy.push(vu);
  }
  return { pool, busy };
}

void test('settled() resolves true at once when no VU is busy', async () => {
  const pool = new VuPool((id) => fakeVu(id), 2);
  await pool.grow(2);
  assert.equal(await pool.settled(10_000), true);
});

void test('settled() waits for the last busy VU to be released, not for the timeout', async () => {
  const { pool, busy } = await busyPool(2);
  const started = performance.now();
  setTimeout(() => pool.release(busy[0] as VirtualUser), 20);
  setTimeout(() => pool.release(busy[1] as VirtualUser), 60);
  assert.equal(await pool.settled(10_000), true);
  const waited = performance.now() - started;
  assert.ok(waited >= 50, `waited for the second release (${Math.round(waited)} ms)`);
  assert.equal(pool.active, 0);
});

void test('settled() gives up after its timeout when a VU never settles, and says so', async () => {
  const { pool, busy } = await busyPool(1);
  assert.equal(await pool.settled(50), false);
  assert.equal(pool.active, 1);
  // A late release after the timeout wakes no stale waiter.
  pool.release(busy[0] as VirtualUser);
  assert.equal(await pool.settled(50), true);
});
