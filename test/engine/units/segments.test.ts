// Execution segments: parsing, k6's striping and scaling, and the per-segment split of the
// reference run (test/fixtures/k6-reference/segments.*.summary-export.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ExecutionSegment,
  ExecutionTuple,
  Rat,
  SegmentedIndex,
  parseSegmentSequence,
  splitForWorkers,
  type ExecutionSegmentSequence,
} from '../../../engine/units/segments.ts';

function seg(text: string): ExecutionSegment {
  const r = ExecutionSegment.parse(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}
function seq(text: string): ExecutionSegmentSequence {
  const r = parseSegmentSequence(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}
function tuple(s: string, q?: string): ExecutionTuple {
  const r = ExecutionTuple.create(seg(s), q === undefined ? undefined : seq(q));
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

void test('segment strings parse like k6 (fractions, decimals, percentages, single values)', () => {
  const ok: [string, string][] = [
    ['0:1/2', '0:1/2'],
    ['1/3:2/3', '1/3:2/3'],
    ['50%:100%', '1/2:1'],
    ['0.5:0.75', '1/2:3/4'],
    ['2/4:75%', '1/2:3/4'],
    ['20%', '0:1/5'],
    ['0.2', '0:1/5'],
    ['1/5', '0:1/5'],
    ['', '0:1'],
    ['1', '0:1'],
  ];
  for (const [input, want] of ok) assert.equal(seg(input).toString(), want, input);
  const bad: [string, RegExp][] = [
    ['1/2:1/3', /must be less than its end/],
    ['0:2', /can't be more than 1/],
    ['-1/2:1', /at least 0/],
    ['abc', /not a valid/],
    ['33.3%', /not a valid percentage/],
    ['1/0', /not a valid/],
  ];
  for (const [input, msg] of bad) {
    const r = ExecutionSegment.parse(input);
    assert.match(r.ok ? 'parsed' : r.message, msg, input);
  }
});

void test('segment sequences parse and reject gaps-free violations', () => {
  assert.deepEqual(seq('0,1/3,2/3,1').map(String), ['0:1/3', '1/3:2/3', '2/3:1']);
  assert.deepEqual(seq(''), []);
  for (const bad of ['0', '0,1/2,1/3', '0,x,1']) assert.equal(parseSegmentSequence(bad).ok, false, bad);
});

void test("ScaleInt64 divides integers like k6's documented table (0:1/2, 1/2:3/4, 3/4:1)", () => {
  const q = '0,1/2,3/4,1';
  const values = Array.from({ length: 12 }, (_, i) => i + 1);
  assert.deepEqual(
    values.map((v) => tuple('0:1/2', q).scaleInt64(v)),
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6],
  );
  assert.deepEqual(
    values.map((v) => tuple('1/2:3/4', q).scaleInt64(v)),
    [0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3],
  );
  assert.deepEqual(
    values.map((v) => tuple('3/4:1', q).scaleInt64(v)),
    [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3],
  );
});

void test("segmented iterators stripe the global indexes like k6's documented table", () => {
  const q = '0,1/2,3/4,1';
  const walk = (s: string): number[] => {
    const idx = new SegmentedIndex(tuple(s, q));
    return Array.from({ length: 3 }, () => idx.next()[1] - 1);
  };
  assert.deepEqual(walk('0:1/2'), [0, 2, 4]);
  assert.deepEqual(walk('1/2:3/4'), [1, 5, 9]);
  assert.deepEqual(walk('3/4:1'), [3, 7, 11]);
});

const randomSequence = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }).map((nums) => {
  const total = nums.reduce((a, b) => a + b, 0);
  let from = Rat.of(0);
  return nums.map((n) => {
    const to = from.add(Rat.of(n, total));
    const s = ExecutionSegment.create(from, to);
    if (!s.ok) throw new Error(s.message);
    from = to;
    return s.value;
  });
});

void test('property: the parts of any sequence sum to the whole and never shrink as the value grows', () => {
  fc.assert(
    fc.property(randomSequence, fc.integer({ min: 0, max: 5000 }), (sequence, value) => {
      const tuples = sequence.map((s) => {
        const t = ExecutionTuple.create(s, sequence);
        if (!t.ok) throw new Error(t.message);
        return t.value;
      });
      const parts = tuples.map((t) => t.scaleInt64(value));
      assert.equal(
        parts.reduce((a, b) => a + b, 0),
        value,
      );
      tuples.forEach((t, i) => assert.ok(t.scaleInt64(value + 1) >= (parts[i] ?? 0)));
    }),
    { numRuns: 200 },
  );
});

void test('property: segmented iterators of a sequence cover every global index exactly once', () => {
  fc.assert(
    fc.property(randomSequence, fc.integer({ min: 1, max: 300 }), (sequence, n) => {
      const seen = new Set<number>();
      for (const s of sequence) {
        const t = ExecutionTuple.create(s, sequence);
        if (!t.ok) throw new Error(t.message);
        const idx = new SegmentedIndex(t.value);
        for (let i = 0; i < t.value.scaleInt64(n); i++) {
          const g = idx.next()[1] - 1;
          assert.ok(g < n && !seen.has(g), `index ${g}`);
          seen.add(g);
        }
      }
      assert.equal(seen.size, n);
    }),
    { numRuns: 100 },
  );
});

void test('SegmentedIndex.goTo lands where next() would and prev() walks back', () => {
  const t = tuple('1/3:2/3', '0,1/3,2/3,1');
  for (let v = 0; v < 30; v++) {
    const walker = new SegmentedIndex(t);
    let last: [number, number] = [0, 0];
    for (;;) {
      const step = walker.next();
      if (step[1] > v) break;
      last = step;
    }
    assert.deepEqual(new SegmentedIndex(t).goTo(v), last, `goTo(${v})`);
  }
  const idx = new SegmentedIndex(t);
  const forward = [idx.next(), idx.next(), idx.next()];
  assert.deepEqual(idx.prev(), forward[1]);
  assert.deepEqual(idx.prev(), forward[0]);
});

void test('splitForWorkers gives the sequence and one segment per worker', () => {
  assert.deepEqual(splitForWorkers(3), { sequence: '0,1/3,2/3,1', segments: ['0:1/3', '1/3:2/3', '2/3:1'] });
  assert.deepEqual(splitForWorkers(1), { sequence: '', segments: ['0:1'] });
  // A user segment is not split again (k6's striping would change): one worker, exact counts.
  assert.deepEqual(splitForWorkers(2, tuple('1/2:1')), { sequence: '0,1/2,1', segments: ['1/2:1'] });
  assert.throws(() => splitForWorkers(0), /positive integer/);
  // Worker shares of any value add up to the whole.
  const { sequence, segments } = splitForWorkers(4);
  const total = segments.map((s) => tuple(s, sequence).scaleInt64(1001)).reduce((a, b) => a + b, 0);
  assert.equal(total, 1001);
});
