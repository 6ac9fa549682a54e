/** The bundled platform's simulated provisioning times meet seed 001 with margin, so a healthy smoke run cannot fail by chance. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROVISIONING_PHASES, START_MS } from '../../target/jobs/jobs.ts';
import { PROFILES } from '../../objectives/targets.ts';

/** Random sources that push a draw to its slowest: the top of a uniform, and a normal draw 7 σ out (u → 0, angle 0). */
const extremes: ReadonlyArray<() => () => number> = [
  () => () => 0.999_999,
  () => {
    const seq = [1e-300, 0];
    let i = 0;
    return () => seq[i++ % seq.length] ?? 0;
  },
];

/** The slowest each phase can take, summed: no sequence of draws makes a job slower. */
function slowest(): number {
  const draws = [...PROVISIONING_PHASES.map(([, draw]) => draw), START_MS];
  return draws.reduce((sum, draw) => sum + Math.max(...extremes.map((source) => draw(source()))), 0);
}

void test("the slowest possible spawn-to-ready is inside every profile's P95 objective", () => {
  const worst = slowest();
  assert.ok(worst > 30_000, `the extremes reach the tail (${worst} ms)`);
  for (const [name, p] of Object.entries(PROFILES)) {
    assert.ok(worst < p.jobs.readyP95Ms, `${name}: slowest job ${Math.round(worst)} ms vs P95 objective ${p.jobs.readyP95Ms} ms`);
  }
});

void test("the median of many simulated jobs sits inside seed 001's median range", () => {
  const n = 20_000;
  const totals: number[] = [];
  for (let i = 0; i < n; i++)
    totals.push(PROVISIONING_PHASES.reduce((sum, [, draw]) => sum + draw(Math.random), 0) + START_MS(Math.random));
  totals.sort((a, b) => a - b);
  const med = totals[n / 2] ?? Number.NaN;
  for (const [name, p] of Object.entries(PROFILES)) {
    assert.ok(med >= p.jobs.readyMedianMinMs && med <= p.jobs.readyMedianMaxMs, `${name}: median ${Math.round(med)} ms`);
  }
});
