/**
 * `randomSeed(n)` from 'k6' seeds the calling VU's Math.random (k6: `mi.vu.Runtime().SetRandSource`),
 * from init code or from an iteration: the sequence is the same in every run and in every VU seeded with
 * the same n, other seeds give other sequences, unseeded VUs and the engine's own Math.random are left
 * alone, and setup()/teardown() start from the state after init code as k6's fresh lifecycle VUs do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VuRandom } from '../../engine/modules/k6.ts';
import { runSource } from './conformance/run-helpers.ts';

interface Draw {
  vu: number;
  iter: number;
  a: number;
  b: number;
}
interface Outcome {
  draws: Draw[];
  setup: number | undefined;
  teardown: number | undefined;
  stderr: string;
}

/** Seeds in init code (all VUs, or only ONLY_VU); each iteration draws, yields to the other VU, draws again. */
const INIT_SEEDED = `import { randomSeed, sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 2, iterations: 3 } } };
if (__ENV.SEED !== undefined && (__ENV.ONLY_VU === undefined || String(__VU) === __ENV.ONLY_VU || __VU === 0)) randomSeed(Number(__ENV.SEED));
export function setup() { return { first: Math.random() }; }
export default async function () {
  const a = Math.random();
  await sleep(0.01);
  const b = Math.random();
  console.log('DRAW ' + JSON.stringify({ vu: __VU, iter: __ITER, a, b }));
}
export function teardown(data) { console.log('SETUP ' + JSON.stringify(data.first)); console.log('TEARDOWN ' + JSON.stringify(Math.random())); }
`;

/** Seeds inside every iteration. */
const ITERATION_SEEDED = `import { randomSeed, sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 2, iterations: 2 } } };
export default async function () {
  randomSeed(Number(__ENV.SEED));
  const a = Math.random();
  await sleep(0.01);
  const b = Math.random();
  console.log('DRAW ' + JSON.stringify({ vu: __VU, iter: __ITER, a, b }));
}
`;

function messages(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /msg=("(?:[^"\\]|\\.)*")/.exec(line);
    if (m?.[1] !== undefined) out.push(JSON.parse(m[1]) as string);
  }
  return out;
}

async function run(source: string, env: Record<string, string>): Promise<Outcome> {
  const { code, stderr } = await runSource(source, ['--quiet', '--no-summary'], env);
  assert.equal(code, 0, stderr);
  const msgs = messages(stderr);
  const draws = msgs
    .filter((m) => m.startsWith('DRAW '))
    .map((m) => JSON.parse(m.slice(5)) as Draw)
    .sort((x, y) => x.vu - y.vu || x.iter - y.iter);
  const one = (prefix: string): number | undefined => {
    const m = msgs.find((x) => x.startsWith(prefix));
    return m === undefined ? undefined : (JSON.parse(m.slice(prefix.length)) as number);
  };
  return { draws, setup: one('SETUP '), teardown: one('TEARDOWN '), stderr };
}

const ofVu = (o: Outcome, vu: number): number[] => o.draws.filter((d) => d.vu === vu).flatMap((d) => [d.a, d.b]);

void test('the generator: one seed, one sequence in [0, 1); another seed, another sequence; int64 seeds are not cut to 32 bits', () => {
  const seq = (seed: unknown): number[] => {
    const r = new VuRandom();
    r.seed(seed);
    return Array.from({ length: 50 }, () => r.next() ?? Number.NaN);
  };
  assert.deepEqual(seq(42), seq(42));
  assert.notDeepEqual(seq(42), seq(43));
  assert.notDeepEqual(seq(1), seq(2 ** 32 + 1));
  assert.deepEqual(seq(Number.NaN), seq(0), 'NaN is 0 as in k6 (int64 conversion)');
  assert.deepEqual(seq(7.9), seq(7), 'fractions are cut');
  for (const x of seq(123)) assert.ok(x >= 0 && x < 1, String(x));
  assert.equal(new Set(seq(5)).size, 50);
  const unseeded = new VuRandom();
  assert.equal(unseeded.next(), undefined, 'unseeded: the platform Math.random is used');
});

void test("randomSeed in init code: each VU's sequence is the same in two runs and the same for every VU; another seed differs", async () => {
  const first = await run(INIT_SEEDED, { SEED: '42' });
  const second = await run(INIT_SEEDED, { SEED: '42' });
  assert.equal(first.draws.length, 6, first.stderr);
  assert.deepEqual(first.draws, second.draws);
  // k6 seeds every VU's runtime with the same seed: VU 1 and VU 2 draw the same numbers although their calls interleave.
  assert.deepEqual(ofVu(first, 1), ofVu(first, 2));
  assert.equal(new Set(ofVu(first, 1)).size, 6, 'the sequence goes on across iterations');
  const other = await run(INIT_SEEDED, { SEED: '43' });
  assert.notDeepEqual(ofVu(other, 1), ofVu(first, 1));
});

void test("setup() and teardown() start from the state after init code, like k6's fresh lifecycle VUs", async () => {
  const r = await run(INIT_SEEDED, { SEED: '42' });
  assert.equal(typeof r.setup, 'number', r.stderr);
  assert.equal(r.setup, r.teardown);
  assert.equal(r.setup, r.draws.find((d) => d.vu === 1 && d.iter === 0)?.a, "a VU's first draw after init is setup()'s first draw");
});

void test("only the seeded VU is deterministic; the unseeded one and the engine's own Math.random are untouched", async () => {
  const seededBoth = await run(INIT_SEEDED, { SEED: '42' });
  const a = await run(INIT_SEEDED, { SEED: '42', ONLY_VU: '1' });
  const b = await run(INIT_SEEDED, { SEED: '42', ONLY_VU: '1' });
  assert.deepEqual(ofVu(a, 1), ofVu(seededBoth, 1));
  assert.deepEqual(ofVu(a, 1), ofVu(b, 1));
  assert.notDeepEqual(ofVu(a, 2), ofVu(b, 2), 'VU 2 was never seeded: platform randomness');
  assert.notDeepEqual(ofVu(a, 2), ofVu(a, 1));
  const here = [Math.random(), Math.random()];
  assert.ok(!ofVu(seededBoth, 1).includes(here[0] ?? -1), "the test process's Math.random is not a VU's");
  assert.notEqual(here[0], here[1]);
});

void test('randomSeed inside an iteration: from that call on the draws are deterministic', async () => {
  const first = await run(ITERATION_SEEDED, { SEED: '9' });
  const second = await run(ITERATION_SEEDED, { SEED: '9' });
  assert.equal(first.draws.length, 4, first.stderr);
  assert.deepEqual(first.draws, second.draws);
  // Re-seeded at the start of every iteration: every iteration of every VU draws the same pair.
  const pairs = new Set(first.draws.map((d) => `${String(d.a)},${String(d.b)}`));
  assert.equal(pairs.size, 1);
  const other = await run(ITERATION_SEEDED, { SEED: '10' });
  assert.notDeepEqual(
    other.draws.map((d) => d.a),
    first.draws.map((d) => d.a),
  );
});
