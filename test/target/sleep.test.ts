// The injected-latency delay is never short: FAULT_LATENCY_MS is a measurement's input (bench:gate's slowdowns).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { delayAtLeast } from '../../target/sleep.ts';

/** Starts each delay at a different point of the loop's millisecond, as requests arrive, and returns the real waits. */
async function waits(ms: number, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setImmediate(r));
    const until = performance.now() + (i % 10) / 10; // 0–0.9 ms into the loop's turn
    while (performance.now() < until);
    const t0 = performance.now();
    await delayAtLeast(ms);
    out.push(performance.now() - t0);
  }
  return out;
}

void it('delayAtLeast waits at least the fractional milliseconds asked (a plain timer waits from ~0 to 2 ms for 1.5)', async () => {
  for (const ms of [0.9, 1.5, 2.96]) {
    const w = await waits(ms, 60);
    const short = w.filter((x) => x < ms);
    assert.deepEqual(
      short,
      [],
      `delayAtLeast(${ms}) came out short ${short.length} of 60 times: ${short.map((x) => x.toFixed(2)).join(', ')} ms`,
    );
  }
});

void it('delayAtLeast resolves at once for 0 and below', async () => {
  const t0 = performance.now();
  await delayAtLeast(0);
  await delayAtLeast(-5);
  assert.ok(performance.now() - t0 < 50);
});
