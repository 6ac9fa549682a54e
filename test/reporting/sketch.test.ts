import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuantileSketch, REPORT_FOLD, relativeErrorOf } from '../../shared/quantile-sketch.ts';
import { RELATIVE_ERROR } from '../../src/reporting/aggregate.ts';
import { exactQuantile } from './helpers.ts';

const value = fc.oneof(
  fc.double({ min: 0.001, max: 1e6, noNaN: true }),
  fc.double({ min: -1000, max: -0.001, noNaN: true }),
  fc.constant(0),
);

function near(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= Math.abs(expected) * RELATIVE_ERROR * (1 + 1e-9) + 1e-9;
}

void test('quantiles stay within the stated relative error of k6 interpolated percentiles', () => {
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
      const s = new QuantileSketch(REPORT_FOLD);
      for (const x of xs) s.add(x);
      const sorted = [...xs].sort((a, b) => a - b);
      const got = s.quantile(q);
      const want = exactQuantile(sorted, q);
      // Interpolation between estimates of two order statistics: bound holds against each end.
      const lo = sorted[Math.floor(q * (sorted.length - 1))] ?? 0;
      const hi = sorted[Math.ceil(q * (sorted.length - 1))] ?? 0;
      const ok =
        near(got, want) ||
        (lo * hi < 0 && got >= Math.min(lo, hi) * (1 + RELATIVE_ERROR) - 1e-9 && got <= Math.max(lo, hi) * (1 + RELATIVE_ERROR) + 1e-9);
      assert.ok(ok, `q=${q} got ${got}, exact ${want}`);
      assert.equal(s.count, xs.length);
      assert.equal(s.min, sorted[0]);
      assert.equal(s.max, sorted[sorted.length - 1]);
    }),
    { numRuns: 300 },
  );
});

void test('merging two sketches equals one sketch of all values; JSON round trip keeps it', () => {
  fc.assert(
    fc.property(fc.array(value, { maxLength: 200 }), fc.array(value, { maxLength: 200 }), (a, b) => {
      const sa = new QuantileSketch(REPORT_FOLD);
      const sb = new QuantileSketch(REPORT_FOLD);
      const all = new QuantileSketch(REPORT_FOLD);
      for (const x of a) {
        sa.add(x);
        all.add(x);
      }
      for (const x of b) {
        sb.add(x);
        all.add(x);
      }
      sa.merge(sb);
      const back = new QuantileSketch(REPORT_FOLD);
      back.mergeSnapshot(JSON.parse(JSON.stringify(sa.snapshot())) as ReturnType<QuantileSketch['snapshot']>);
      for (const q of [0, 0.1, 0.5, 0.9, 0.99, 1]) {
        assert.equal(sa.quantile(q), all.quantile(q));
        assert.equal(back.quantile(q), all.quantile(q));
      }
      assert.equal(sa.count, all.count);
    }),
    { numRuns: 200 },
  );
});

void test('the bound is real: a coarse estimate would be caught', () => {
  const s = new QuantileSketch(REPORT_FOLD);
  for (let i = 1; i <= 1000; i++) s.add(i);
  const p90 = s.quantile(0.9);
  assert.ok(
    near(
      p90,
      exactQuantile(
        Array.from({ length: 1000 }, (_, i) => i + 1),
        0.9,
      ),
    ),
  );
  assert.ok(!near(p90 * (1 + 3 * RELATIVE_ERROR), 900.1), 'a value 1.5 % off is outside the bound');
  assert.equal(new QuantileSketch(REPORT_FOLD).quantile(0.5), 0);
});

void test("the report's sketches keep the report's stated bound, and the engine's grid is ten times finer", () => {
  assert.ok(relativeErrorOf(REPORT_FOLD) <= RELATIVE_ERROR, `fold ${REPORT_FOLD}: ${relativeErrorOf(REPORT_FOLD)}`);
  assert.ok(relativeErrorOf(REPORT_FOLD) > RELATIVE_ERROR * 0.99, 'not needlessly fine (memory)');
  assert.ok(Math.abs(relativeErrorOf(1) - 0.0005) < 1e-15);
  assert.equal(new QuantileSketch(REPORT_FOLD).relativeError, relativeErrorOf(REPORT_FOLD));
  assert.throws(() => new QuantileSketch(REPORT_FOLD).merge(new QuantileSketch(1)), /fold 1 into one of fold 10/);
});
