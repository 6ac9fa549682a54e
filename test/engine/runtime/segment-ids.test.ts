/**
 * `exec.vu.idInTest` under a user --execution-segment (k6's GetUniqueVUIdentifiers): each instance
 * numbers its own VUs 1..n (`idInInstance`, also `__VU`), and idInTest is the segment's stripe of
 * the whole test, so the instances of one sequence together use 1..N once each.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExecutionSegment, ExecutionTuple, parseSegmentSequence, vuIdsInTest } from '../../../engine/execution/index.ts';
import { runSource } from '../conformance/run-helpers.ts';

const SCRIPT = `import exec from 'k6/execution';
export const options = { scenarios: { each: { executor: 'per-vu-iterations', vus: 6, iterations: 1 } } };
export default async function () { console.log('ids ' + exec.vu.idInTest + ' ' + exec.vu.idInInstance + ' ' + __VU); }
`;

interface Ids {
  inTest: number;
  inInstance: number;
  local: number;
}

async function idsOf(args: string[]): Promise<Ids[]> {
  const run = await runSource(SCRIPT, ['-q', '--no-summary', ...args]);
  assert.equal(run.code, 0, run.stderr);
  return [...run.stderr.matchAll(/msg="ids (\d+) (\d+) (\d+)"/g)]
    .map((m) => ({ inTest: Number(m[1]), inInstance: Number(m[2]), local: Number(m[3]) }))
    .sort((a, b) => a.inInstance - b.inInstance);
}

const THIRDS = ['--execution-segment-sequence', '0,1/3,2/3,1'];

void test('thirds of 6 VUs: each instance has VUs 1 and 2, ids in the test 1,4 / 2,5 / 3,6, together 1..6 once', async () => {
  const all: number[] = [];
  for (const [segment, want] of [
    ['0:1/3', [1, 4]],
    ['1/3:2/3', [2, 5]],
    ['2/3:1', [3, 6]],
  ] as const) {
    const ids = await idsOf(['--execution-segment', segment, ...THIRDS]);
    assert.deepEqual(
      ids.map((x) => x.inInstance),
      [1, 2],
      `${segment}: idInInstance`,
    );
    assert.deepEqual(
      ids.map((x) => x.local),
      [1, 2],
      `${segment}: __VU is the local id`,
    );
    assert.deepEqual(
      ids.map((x) => x.inTest),
      want,
      `${segment}: idInTest`,
    );
    all.push(...ids.map((x) => x.inTest));
  }
  assert.deepEqual(
    all.sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6],
  );
});

void test('a user segment on a worker thread (--workers 2 keeps it one worker) numbers the same way', async () => {
  const ids = await idsOf(['--execution-segment', '1/3:2/3', ...THIRDS, '--workers', '2']);
  assert.deepEqual(
    ids.map((x) => [x.inTest, x.inInstance]),
    [
      [2, 1],
      [5, 2],
    ],
  );
});

void test('the whole test: idInTest = idInInstance = __VU = 1..6', async () => {
  const ids = await idsOf([]);
  for (const x of ids) assert.ok(x.inTest === x.inInstance && x.local === x.inInstance);
  assert.deepEqual(
    ids.map((x) => x.inTest),
    [1, 2, 3, 4, 5, 6],
  );
});

void test("vuIdsInTest: k6's striping of ids (start + 1, then + offsets, as its GetUniqueVUIdentifiers test)", () => {
  const tuple = (seg: string, seq?: string): ExecutionTuple => {
    const s = ExecutionSegment.parse(seg);
    assert.ok(s.ok);
    const q = seq === undefined ? undefined : parseSegmentSequence(seq);
    if (q !== undefined) assert.ok(q.ok);
    const t = ExecutionTuple.create(s.value, q?.ok === true ? q.value : undefined);
    assert.ok(t.ok);
    return t.value;
  };
  const first = (t: ExecutionTuple, n: number): number[] => {
    const f = vuIdsInTest(t);
    return Array.from({ length: n }, (_, i) => f(i + 1));
  };
  assert.deepEqual(first(tuple('1/2:1'), 4), [2, 4, 6, 8], "no sequence: the segment's own split of (0,1]");
  // k6's documented striping of 0,1/2,3/4,1: the half takes indexes 0,2,4; 1/2:3/4 takes 1,5,9; 3/4:1 takes 3,7,11.
  const seq = '0,1/2,3/4,1';
  assert.deepEqual(first(tuple('0:1/2', seq), 3), [1, 3, 5]);
  assert.deepEqual(first(tuple('1/2:3/4', seq), 3), [2, 6, 10]);
  assert.deepEqual(first(tuple('3/4:1', seq), 3), [4, 8, 12]);
  assert.deepEqual(first(tuple('0:1'), 3), [1, 2, 3]);
  const f = vuIdsInTest(tuple('1/2:3/4', seq));
  assert.deepEqual([f(3), f(1), f(2)], [10, 2, 6], 'asked out of order');
});
