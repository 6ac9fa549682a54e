// Arrival-rate planning: start offsets (k6's ticker period and `cal`), and how segments share them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutionSegment, ExecutionTuple, parseSegmentSequence } from '../../../engine/units/segments.ts';
import { arrivalOffsets as constantOffsets, constantArrivalRate } from '../../../engine/executors/constant-arrival-rate.ts';
import { arrivalOffsets as rampingOffsets, rampingArrivalRate } from '../../../engine/executors/ramping-arrival-rate.ts';

function tuple(s: string, q: string): ExecutionTuple {
  const seg = ExecutionSegment.parse(s);
  const seq = parseSegmentSequence(q);
  if (!seg.ok || !seq.ok) throw new Error('bad segment');
  const t = ExecutionTuple.create(seg.value, seq.value);
  if (!t.ok) throw new Error(t.message);
  return t.value;
}

const constant = constantArrivalRate.parse(
  'a',
  { executor: 'constant-arrival-rate', rate: 30, duration: '3s', preAllocatedVUs: 6 },
  'scenarios.a',
).config;
const ramping = rampingArrivalRate.parse(
  'r',
  {
    executor: 'ramping-arrival-rate',
    startRate: 3,
    timeUnit: '1s',
    preAllocatedVUs: 7,
    maxVUs: 11,
    stages: [
      { duration: '5s', target: 40 },
      { duration: '3s', target: 40 },
      { duration: '4s', target: 0 },
    ],
  },
  'scenarios.r',
).config;

void test("constant-arrival-rate offsets use k6's truncated ticker period and include t = duration", () => {
  const all = [...constantOffsets(constant, ExecutionTuple.full())];
  assert.equal(all.length, 91);
  assert.equal(all[1], 33.333333, '1/30 s truncated to whole ns');
  assert.equal(all.at(-1), 2999.99997, 'the 91st start lands 30 ns before the end');
});

void test('ramping-arrival-rate offsets: area under the rate curve', () => {
  const all = [...rampingOffsets(ramping, ExecutionTuple.full())];
  // area = 5 s x (3+40)/2 + 3 s x 40 + 4 s x 40/2 = 107.5 + 120 + 80 = 307.5 -> 307 starts
  assert.equal(all.length, 307);
  assert.ok(
    all.every((t, i) => i === 0 || t >= (all[i - 1] ?? 0)),
    'ascending',
  );
  assert.ok((all.at(-1) ?? 0) <= 12_000);
});

void test('segments of a sequence split the arrival offsets of the whole run exactly', () => {
  for (const [cfgName, offsets] of [
    ['constant', (t: ExecutionTuple) => [...constantOffsets(constant, t)]],
    ['ramping', (t: ExecutionTuple) => [...rampingOffsets(ramping, t)]],
  ] as const) {
    const whole = offsets(ExecutionTuple.full());
    for (const seq of ['0,1/2,1', '0,1/3,2/3,1', '0,1/4,1/2,3/4,1', '0,0.3,0.5,1']) {
      const points = seq.split(',');
      const parts = points.slice(1).flatMap((to, i) => offsets(tuple(`${points[i] ?? '0'}:${to}`, seq)));
      assert.deepEqual(
        parts.sort((a, b) => a - b),
        whole,
        `${cfgName} split by ${seq}`,
      );
    }
  }
});
