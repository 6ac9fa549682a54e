// ramping-vus planning: k6's own getRawExecutionSteps / GetExecutionRequirements tables
// (lib/executor/ramping_vus_test.go), full test and split into segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutionSegment, ExecutionTuple, parseSegmentSequence } from '../../../engine/units/segments.ts';
import { rampingVUs, rawExecutionSteps } from '../../../engine/executors/ramping-vus.ts';
import type { ExecutionStep, RampingVUsConfig } from '../../../engine/executors/types.ts';

type Stage = [seconds: number, target: number];

function config(startVUs: number, stages: Stage[], extra: Record<string, unknown> = {}): RampingVUsConfig {
  const { config: cfg, issues } = rampingVUs.parse(
    'test',
    { executor: 'ramping-vus', startVUs, stages: stages.map(([d, target]) => ({ duration: `${d}s`, target })), ...extra },
    'scenarios.test',
  );
  assert.deepEqual(issues, []);
  return cfg;
}

function tuple(segment?: string, sequence?: string): ExecutionTuple {
  const seg = segment === undefined ? undefined : ExecutionSegment.parse(segment);
  if (seg !== undefined && !seg.ok) throw new Error(seg.message);
  const seq = sequence === undefined ? undefined : parseSegmentSequence(sequence);
  if (seq !== undefined && !seq.ok) throw new Error(seq.message);
  const t = ExecutionTuple.create(seg?.value, seq?.value);
  if (!t.ok) throw new Error(t.message);
  return t.value;
}

const compact = (steps: readonly ExecutionStep[]): [number, number][] => steps.map((s) => [s.offset / 1000, s.plannedVUs]);

const EXAMPLE: Stage[] = [
  [2, 6],
  [5, 1],
  [4, 5],
  [4, 1],
  [3, 4],
  [2, 4],
  [0, 1],
  [3, 1],
];
const EXAMPLE_RAW: [number, number][] = [
  [0, 4],
  [1, 5],
  [2, 6],
  [3, 5],
  [4, 4],
  [5, 3],
  [6, 2],
  [7, 1],
  [8, 2],
  [9, 3],
  [10, 4],
  [11, 5],
  [12, 4],
  [13, 3],
  [14, 2],
  [15, 1],
  [16, 2],
  [17, 3],
  [18, 4],
  [20, 1],
];

void test("raw execution steps of k6's plan example, with and without the zero end", () => {
  const cfg = config(4, EXAMPLE);
  assert.deepEqual(compact(rawExecutionSteps(cfg, ExecutionTuple.full(), false)), EXAMPLE_RAW);
  assert.deepEqual(compact(rawExecutionSteps(cfg, ExecutionTuple.full(), true)), [...EXAMPLE_RAW, [23, 0]]);
});

void test('requirements reserve VUs for gracefulRampDown and end at stages + gracefulStop', () => {
  const cases: { gracefulStop: string; gracefulRampDown?: string; want: [number, number][] }[] = [
    {
      gracefulStop: '30s',
      want: [
        [0, 4],
        [1, 5],
        [2, 6],
        [33, 5],
        [42, 4],
        [50, 1],
        [53, 0],
      ],
    },
    {
      gracefulStop: '80s',
      want: [
        [0, 4],
        [1, 5],
        [2, 6],
        [33, 5],
        [42, 4],
        [50, 1],
        [103, 0],
      ],
    },
    {
      gracefulStop: '3s',
      want: [
        [0, 4],
        [1, 5],
        [2, 6],
        [26, 0],
      ],
    },
    {
      gracefulStop: '0s',
      want: [
        [0, 4],
        [1, 5],
        [2, 6],
        [23, 0],
      ],
    },
    { gracefulStop: '0s', gracefulRampDown: '0s', want: [...EXAMPLE_RAW, [23, 0]] },
  ];
  for (const c of cases) {
    const cfg = config(4, EXAMPLE, {
      gracefulStop: c.gracefulStop,
      ...(c.gracefulRampDown === undefined ? {} : { gracefulRampDown: c.gracefulRampDown }),
    });
    assert.deepEqual(compact(rampingVUs.requirements(cfg, ExecutionTuple.full())), c.want, `gracefulStop ${c.gracefulStop}`);
  }
});

void test("one third of k6's plan example", () => {
  const cfg = config(4, EXAMPLE);
  const et = tuple('0:1/3');
  const raw: [number, number][] = [
    [0, 1],
    [1, 2],
    [4, 1],
    [7, 0],
    [8, 1],
    [11, 2],
    [12, 1],
    [15, 0],
    [16, 1],
    [20, 0],
  ];
  assert.deepEqual(compact(rawExecutionSteps(cfg, et, false)), raw);
  assert.deepEqual(compact(rawExecutionSteps(cfg, et, true)), raw);
  assert.deepEqual(compact(rampingVUs.requirements(cfg, et)), [
    [0, 1],
    [1, 2],
    [42, 1],
    [50, 0],
  ]);
});

const TUPLE_STAGES: Stage[] = [...EXAMPLE, [0, 5], [3, 5], [0, 0], [2, 2], [2, 0], [4, 4]];

void test('raw steps per execution tuple (k6 TestRampingVUsExecutionTupleTests)', () => {
  const cfg = config(4, TUPLE_STAGES);
  const thirdA: [number, number][] = [
    [0, 1],
    [1, 2],
    [4, 1],
    [7, 0],
    [8, 1],
    [11, 2],
    [12, 1],
    [15, 0],
    [16, 1],
    [20, 0],
    [23, 2],
    [26, 0],
    [28, 1],
    [29, 0],
    [32, 1],
  ];
  const cases: { seg?: string; seq?: string; want: [number, number][] }[] = [
    {
      want: [...EXAMPLE_RAW, [23, 5], [26, 0], [27, 1], [28, 2], [29, 1], [30, 0], [31, 1], [32, 2], [33, 3], [34, 4]],
    },
    { seg: '0:1/3', want: thirdA },
    { seg: '0:1/3', seq: '0,1/3,1', want: thirdA },
    { seg: '1/3:2/3', want: thirdA },
    { seg: '2/3:1', want: thirdA },
    {
      seg: '0:1/3',
      seq: '0,1/3,2/3,1',
      want: [
        [0, 2],
        [5, 1],
        [10, 2],
        [13, 1],
        [18, 2],
        [20, 1],
        [23, 2],
        [26, 0],
        [27, 1],
        [30, 0],
        [31, 1],
        [34, 2],
      ],
    },
    { seg: '1/3:2/3', seq: '0,1/3,2/3,1', want: thirdA },
  ];
  for (const c of cases) {
    assert.deepEqual(compact(rawExecutionSteps(cfg, tuple(c.seg, c.seq), false)), c.want, `${c.seg ?? 'full'} in ${c.seq ?? '-'}`);
  }
});

void test('raw steps corner cases (k6 TestRampingVUsGetRawExecutionStepsCornerCases)', () => {
  const upDown: Stage[] = [
    [2, 2],
    [2, 0],
    [2, 2],
    [2, 0],
  ];
  const cases: { name: string; start: number; stages: Stage[]; seg?: string; seq?: string; want: [number, number][] }[] = [
    {
      name: 'up then down straight away',
      start: 2,
      stages: [
        [0, 5],
        [2, 3],
      ],
      want: [
        [0, 2],
        [0, 5],
        [1, 4],
        [2, 3],
      ],
    },
    {
      name: 'jump up then up again',
      start: 3,
      stages: [[2, 5]],
      want: [
        [0, 3],
        [1, 4],
        [2, 5],
      ],
    },
    {
      name: 'up down up down',
      start: 0,
      stages: upDown,
      want: [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 1],
        [4, 0],
        [5, 1],
        [6, 2],
        [7, 1],
        [8, 0],
      ],
    },
    {
      name: 'in half',
      start: 0,
      stages: upDown,
      seg: '0:1/2',
      want: [
        [0, 0],
        [1, 1],
        [4, 0],
        [5, 1],
        [8, 0],
      ],
    },
    {
      name: 'other half',
      start: 0,
      stages: upDown,
      seg: '1/2:1',
      want: [
        [0, 0],
        [2, 1],
        [3, 0],
        [6, 1],
        [7, 0],
      ],
    },
    { name: 'with nothing', start: 0, stages: upDown, seg: '2/3:1', seq: '0,1/3,2/3,1', want: [[0, 0]] },
    {
      name: 'funky sequence',
      start: 0,
      stages: upDown,
      seg: '0:1/3',
      seq: '0,1/3,1/2,2/3,1',
      want: [
        [0, 0],
        [1, 1],
        [4, 0],
        [5, 1],
        [8, 0],
      ],
    },
    {
      name: 'strange',
      start: 0,
      stages: [
        [20, 20],
        [30, 30],
      ],
      seg: '0:0.3',
      seq: '0,0.3,0.6,0.9,1',
      want: [
        [0, 0],
        [1, 1],
        [5, 2],
        [8, 3],
        [11, 4],
        [15, 5],
        [18, 6],
        [23, 7],
        [35, 8],
        [44, 9],
      ],
    },
    {
      name: 'more up and down',
      start: 0,
      stages: [
        [5, 5],
        [5, 0],
      ],
      want: [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 4],
        [7, 3],
        [8, 2],
        [9, 1],
        [10, 0],
      ],
    },
  ];
  for (const c of cases)
    assert.deepEqual(compact(rawExecutionSteps(config(c.start, c.stages), tuple(c.seg, c.seq), false)), c.want, c.name);
});

void test('segments of a sequence add up to the unsplit raw steps', () => {
  const cfg = config(4, TUPLE_STAGES);
  const full = rawExecutionSteps(cfg, ExecutionTuple.full(), false);
  const parts = ['0:1/3', '1/3:2/3', '2/3:1'].map((s) => rawExecutionSteps(cfg, tuple(s, '0,1/3,2/3,1'), false));
  const at = (steps: readonly ExecutionStep[], t: number): number => steps.filter((s) => s.offset <= t).at(-1)?.plannedVUs ?? 0;
  for (const s of full) {
    const sum = parts.reduce((acc, p) => acc + at(p, s.offset), 0);
    assert.equal(sum, s.plannedVUs, `at ${s.offset} ms`);
  }
  // The check above can fail: a wrong split is caught.
  const wrong = [parts[0] ?? [], parts[0] ?? [], parts[2] ?? []];
  assert.ok(full.some((s) => wrong.reduce((acc, p) => acc + at(p, s.offset), 0) !== s.plannedVUs));
});
