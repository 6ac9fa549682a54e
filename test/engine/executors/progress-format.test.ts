// k6's fixed-width progress columns (pb.GetFixedLengthDuration / IntFormat / FloatFormat).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedLengthDuration, padInt, padRate } from '../../../engine/executors/common.ts';

void test('durations keep the width their maximum needs', () => {
  const cases: [number, number, string][] = [
    [1000, 4000, '1.0s'],
    [0, 10_000, '00.0s'],
    [2049, 4000, '2.0s'],
    [2051, 4000, '2.1s'],
    [9_950, 59_000, '10.0s'],
    [9_950, 60_000, '0m10.0s'],
    [30_000, 120_000, '0m30.0s'],
    [65_000, 600_000, '01m05.0s'],
    [3_723_500, 7_200_000, '1h02m03.5s'],
    [4000, 4000, '4.0s'],
  ];
  for (const [d, max, want] of cases) assert.equal(fixedLengthDuration(d, max), want, `${d}/${max}`);
});

void test('counts and rates are zero-padded to the width of their maximum', () => {
  assert.equal(padInt(1, 9), '1');
  assert.equal(padInt(1, 13), '01');
  assert.equal(padInt(7, 100), '007');
  assert.equal(padRate(20, 20), '20.00');
  assert.equal(padRate(5, 20), '05.00');
  assert.equal(padRate(0.5, 1), '0.50');
});
