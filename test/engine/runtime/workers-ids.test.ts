/**
 * VU ids over worker threads: what a user of one k6 instance sees, `exec.vu.idInTest` and
 * `idInInstance` equal and running 1..N with no gaps and no id shared by two VUs, including VUs
 * an arrival-rate scenario initialises mid-test in either worker.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { plannedIdBlocks, workerVuId } from '../../../engine/runtime/workers.ts';
import { runSource, tempDir } from '../conformance/run-helpers.ts';

// 5 VUs × 2 iterations, plus an arrival rate that needs far more than its 4 max VUs (1 planned),
// so 3 VUs are initialised mid-test: 6 planned + 3 unplanned = ids 1..9.
const SCRIPT = `import { Counter } from 'k6/metrics';
import exec from 'k6/execution';
import { sleep } from 'k6';
const seen = new Counter('vu_seen');
const record = (scenario) => seen.add(1, { id: String(exec.vu.idInTest), inst: String(exec.vu.idInInstance), sc: scenario, local: String(__VU) });
export const options = {
  scenarios: {
    each: { executor: 'per-vu-iterations', vus: 5, iterations: 2, exec: 'each' },
    car: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '2s', preAllocatedVUs: 1, maxVUs: 4, exec: 'car' },
  },
};
export async function each() { record('each'); }
export async function car() { record('car'); await sleep(0.6); }
`;
const EXPECTED_VUS = 9;

interface Seen {
  id: number;
  inst: number;
  local: number;
  sc: string;
}

async function idsSeen(workers: string, env: Record<string, string> = {}): Promise<Seen[]> {
  const out = join(tempDir(), 'out.json');
  const run = await runSource(SCRIPT, ['-q', '--no-summary', '--workers', workers, '--out', `json=${out}`], env);
  assert.equal(run.code, 0, run.stderr);
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"metric":"vu_seen","type":"Point"'))
    .map((l) => {
      const tags = (JSON.parse(l) as { data: { tags: Record<string, string> } }).data.tags;
      return { id: Number(tags.id), inst: Number(tags.inst), local: Number(tags.local), sc: tags.sc ?? '' };
    });
}

function assertSingleInstanceIds(seen: readonly Seen[]): void {
  const ids = [...new Set(seen.map((s) => s.id))].sort((a, b) => a - b);
  assert.deepEqual(
    ids,
    Array.from({ length: EXPECTED_VUS }, (_, i) => i + 1),
    'ids are exactly 1..N',
  );
  for (const s of seen) {
    assert.equal(s.inst, s.id, 'idInInstance equals idInTest (one instance)');
    assert.equal(s.local, s.id, '__VU equals idInTest');
  }
  const each = seen.filter((s) => s.sc === 'each');
  assert.equal(each.length, 10);
  assert.equal(new Set(each.map((s) => s.id)).size, 5, 'each per-vu-iterations VU has its own id');
  assert.ok(
    seen.some((s) => s.sc === 'car' && s.id > 6),
    'VUs initialised mid-test continue after the planned ids',
  );
}

void test('two workers: VU ids are 1..N with no duplicates, like one k6 instance', async () => {
  assertSingleInstanceIds(await idsSeen('2'));
});

void test('two workers loading the engine through tsx (AGENTLOAD_WORKER_BUNDLE=0) number VUs the same way', async () => {
  assertSingleInstanceIds(await idsSeen('2', { AGENTLOAD_WORKER_BUNDLE: '0' }));
});

void test('one thread gives the same ids (the reference the workers must match)', async () => {
  assertSingleInstanceIds(await idsSeen('1'));
});

void test('planned blocks follow worker order; later VUs share one counter', () => {
  assert.deepEqual(plannedIdBlocks([3, 0, 2]), [1, 4, 4]);
  const counter = new Int32Array(new SharedArrayBuffer(4));
  counter[0] = 5;
  assert.deepEqual(
    [1, 2, 3].map((n) => workerVuId(n, 3, 1, counter)),
    [1, 2, 3],
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => workerVuId(n, 2, 4, counter)),
    [4, 5, 6, 7],
  );
  assert.equal(workerVuId(4, 3, 1, counter), 8);
});
