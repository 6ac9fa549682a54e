import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CounterSink,
  GaugeSink,
  RateSink,
  TrendSink,
  TREND_RELATIVE_ERROR,
  exactPercentile,
  parseTrendStat,
  type GaugeSnapshot,
  type TrendSnapshot,
} from '../../../engine/metrics/index.ts';

/** The documented bound: |est - exact| <= ALPHA * max(|x_lo|, |x_hi|) (+ float rounding). */
function boundFor(sorted: readonly number[], q: number): number {
  const i = q * (sorted.length - 1);
  const lo = Math.abs(sorted[Math.floor(i)] ?? 0);
  const hi = Math.abs(sorted[Math.ceil(i)] ?? 0);
  return TREND_RELATIVE_ERROR * 1.000001 * Math.max(lo, hi) + 1e-300;
}

const finite = (min: number, max: number): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const values = fc.oneof(
  fc.array(finite(0, 1e6), { minLength: 1, maxLength: 300 }),
  fc.array(finite(-1e6, 1e6), { minLength: 1, maxLength: 300 }),
  fc.array(fc.oneof(fc.constant(0), finite(1e-9, 1e-3), finite(-5, 5), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 300 }),
  fc.array(finite(1e-300, 1e300), { minLength: 1, maxLength: 100 }),
);
const quantiles = fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 0.9, 0.95, 0.99, 0.999, 1)), {
  minLength: 1,
  maxLength: 8,
});

function fill(xs: readonly number[]): TrendSink {
  const t = new TrendSink();
  for (const x of xs) t.add(x);
  return t;
}

void describe('TrendSink percentiles', () => {
  void it('match k6 linear interpolation within the documented bound (property)', () => {
    fc.assert(
      fc.property(values, quantiles, (xs, qs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const t = fill(xs);
        const est = t.percentiles(qs);
        qs.forEach((q, k) => {
          const exact = exactPercentile(sorted, q);
          const got = est[k] ?? NaN;
          assert.ok(Math.abs(got - exact) <= boundFor(sorted, q), `q=${q} exact=${exact} got=${got} n=${xs.length}`);
        });
      }),
      { numRuns: 400 },
    );
  });

  void it('are within 0.1 % of the exact value when neighbours share a sign (the issue bound)', () => {
    fc.assert(
      fc.property(fc.array(finite(1e-6, 1e9), { minLength: 2, maxLength: 500 }), quantiles, (xs, qs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const t = fill(xs);
        for (const q of qs) {
          const exact = exactPercentile(sorted, q);
          assert.ok(Math.abs(t.percentile(q) - exact) <= 0.001 * Math.abs(exact), `q=${q}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  void it('keeps min, max, count, avg exact and zero exact', () => {
    const t = fill([0, 0, 0, 5, -2.5]);
    assert.equal(t.min, -2.5);
    assert.equal(t.max, 5);
    assert.equal(t.count, 5);
    assert.equal(t.avg, 0.5);
    assert.equal(t.med, 0);
    assert.equal(t.percentile(0), -2.5);
    assert.equal(t.percentile(1), 5);
  });

  void it('computes percentiles of negative-only trends', () => {
    const xs = [-10, -20, -30, -40];
    const t = fill(xs);
    const exact = exactPercentile(
      [...xs].sort((a, b) => a - b),
      0.9,
    );
    assert.ok(Math.abs(t.percentile(0.9) - exact) <= 0.0005 * 20, `${t.percentile(0.9)} vs ${exact}`);
  });

  void it('ignores NaN and infinities, and reports 0 when empty', () => {
    const t = new TrendSink();
    assert.equal(t.isEmpty(), true);
    assert.deepEqual(t.values(['avg', 'min', 'med', 'max', 'p(95)', 'count']), { avg: 0, min: 0, med: 0, max: 0, 'p(95)': 0, count: 0 });
    t.add(NaN);
    t.add(Infinity);
    t.add(-Infinity);
    assert.equal(t.count, 0);
    t.add(7);
    assert.deepEqual(t.values(['min', 'p(99.9)']), { min: 7, 'p(99.9)': 7 });
  });

  void it('stays in bounded memory for a million samples', () => {
    const t = new TrendSink();
    let x = 1;
    for (let i = 0; i < 1_000_000; i++) {
      x = (x * 48271) % 2147483647;
      t.add((x / 2147483647) * 1000 + 0.01); // 0.01 .. 1000 ms: 5 decades
    }
    assert.equal(t.count, 1_000_000);
    assert.ok(t.memoryBytes() < 400_000, `memory ${t.memoryBytes()}`);
  });
});

void describe('TrendSink merge', () => {
  void it('-0 counts as 0, so a merge through JSON equals one sink (fast-check counterexample [-0, 0] | [0])', () => {
    const whole = fill([-0, 0, 0]);
    const a = fill([-0, 0]);
    a.merge(JSON.parse(JSON.stringify(fill([0]).snapshot())) as TrendSnapshot);
    assert.ok(Object.is(whole.min, 0) && Object.is(whole.max, 0), 'no -0 kept as min/max');
    assert.deepEqual(a.snapshot(), whole.snapshot());
  });
  void it('merge(a, b) equals recording all samples in one sink (property, via JSON)', () => {
    fc.assert(
      fc.property(values, fc.nat(), quantiles, (xs, cutSeed, qs) => {
        const cut = cutSeed % (xs.length + 1);
        const whole = fill(xs);
        const a = fill(xs.slice(0, cut));
        const b = fill(xs.slice(cut));
        a.merge(JSON.parse(JSON.stringify(b.snapshot())) as TrendSnapshot);
        const sw = whole.snapshot();
        const sa = a.snapshot();
        assert.deepEqual({ ...sa, sum: 0, comp: 0 }, { ...sw, sum: 0, comp: 0 });
        assert.deepEqual(a.percentiles(qs), whole.percentiles(qs));
        assert.ok(
          Math.abs(a.avg - whole.avg) <= 1e-12 * Math.max(1, Math.abs(whole.avg)) ||
            Math.abs(a.sum - whole.sum) <= 1e-9 * Math.max(...xs.map(Math.abs)),
        );
      }),
      { numRuns: 300 },
    );
  });
});

void describe('counter, gauge and rate sinks', () => {
  void it('counter sums and rates per second of test time', () => {
    const c = new CounterSink();
    [1, 2, 3.5].forEach((v) => c.add(v));
    assert.deepEqual(c.values(2000), { count: 6.5, rate: 3.25 });
    const d = new CounterSink();
    d.add(1);
    d.merge(c.snapshot());
    assert.equal(d.count, 7.5);
  });

  void it('gauge keeps the last value by time, plus min and max; merge takes the later sample', () => {
    const g = new GaugeSink();
    g.add(3, 10);
    g.add(9, 20);
    g.add(1, 30);
    assert.deepEqual(g.values(), { value: 1, min: 1, max: 9 });
    const h = new GaugeSink();
    h.add(5, 25);
    h.merge(g.snapshot());
    assert.deepEqual(h.values(), { value: 1, min: 1, max: 9 });
    const late = new GaugeSink();
    late.add(4, 99);
    late.merge(g.snapshot());
    assert.equal(late.value, 4);
  });

  void it('gauge: -0 counts as 0, so a merge through JSON equals one sink (fast-check counterexample of the aggregator property)', () => {
    const whole = new GaugeSink();
    whole.add(-0, 1);
    const a = new GaugeSink();
    a.merge(JSON.parse(JSON.stringify(whole.snapshot())) as GaugeSnapshot);
    assert.ok(Object.is(whole.value, 0) && Object.is(whole.min, 0) && Object.is(whole.max, 0), 'no -0 kept as value, min or max');
    assert.deepEqual(a.snapshot(), whole.snapshot());
  });

  void it('rate counts non-zero values as passes', () => {
    const r = new RateSink();
    [1, 0, 0.5, 0].forEach((v) => r.add(v));
    assert.deepEqual(r.values(), { rate: 0.5, passes: 2, fails: 2 });
  });

  void it('parses trend stat names like k6', () => {
    assert.deepEqual(parseTrendStat('med'), { kind: 'p', q: 0.5 });
    assert.deepEqual(parseTrendStat('p(99.9)'), { kind: 'p', q: 0.9990000000000001 });
    assert.deepEqual(parseTrendStat('count'), { kind: 'count' });
    assert.equal(parseTrendStat('p(101)'), undefined);
    assert.equal(parseTrendStat('p95'), undefined);
    assert.equal(parseTrendStat('mean'), undefined);
  });
});
