// The reference run split by k6 v0.49 (segments.js, whole, halves, thirds): our plan gives the
// same iterations and vus_max per segment, and a fake-clock run of each segment does too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { planExecution, describeTest } from '../../../engine/execution/index.ts';
import { constantArrivalOffsets, sharedIterationsShare } from '../../../engine/executors/index.ts';
import { resolveOptions, type OptionOverrides } from '../../../engine/options/index.ts';
import { runTest, fixed } from '../executors/harness.ts';
import { k6ReferenceFile } from '../../support/k6-reference.ts';

// segments.js's options (the script itself is k6 JS; its options object is copied verbatim).
const SCRIPT = {
  scenarios: {
    rate: { executor: 'constant-arrival-rate', rate: 30, timeUnit: '1s', duration: '3s', preAllocatedVUs: 6, exec: 'hit' },
    iters: { executor: 'shared-iterations', vus: 4, iterations: 40, exec: 'hit' },
    perVu: { executor: 'per-vu-iterations', vus: 3, iterations: 5, exec: 'hit' },
  },
};

interface Ref {
  file: string;
  overrides: OptionOverrides;
}
const THIRDS = '0,1/3,2/3,1';
const REFS: Ref[] = [
  { file: 'segments.full.summary-export.json', overrides: {} },
  { file: 'segments.0_1-2.summary-export.json', overrides: { executionSegment: '0:1/2' } },
  { file: 'segments.1-2_1.summary-export.json', overrides: { executionSegment: '1/2:1' } },
  { file: 'segments.0_1-3.summary-export.json', overrides: { executionSegment: '0:1/3', executionSegmentSequence: THIRDS } },
  { file: 'segments.1-3_2-3.summary-export.json', overrides: { executionSegment: '1/3:2/3', executionSegmentSequence: THIRDS } },
  { file: 'segments.2-3_1.summary-export.json', overrides: { executionSegment: '2/3:1', executionSegmentSequence: THIRDS } },
];

function reference(file: string): { iterations: number; vusMax: number } {
  const data = JSON.parse(readFileSync(k6ReferenceFile(file), 'utf8')) as { metrics: Record<string, Record<string, number>> };
  return { iterations: data.metrics.iterations?.count ?? Number.NaN, vusMax: data.metrics.vus_max?.max ?? Number.NaN };
}

function planned(overrides: OptionOverrides): { iterations: number; vusMax: number; header: string[] } {
  const { options, issues } = resolveOptions(SCRIPT, overrides);
  assert.deepEqual(issues, []);
  const plan = planExecution(options.scenarios, options.tuple);
  let iterations = 0;
  for (const { config } of plan.scenarios) {
    if (config.executor === 'shared-iterations') iterations += sharedIterationsShare(config, options.tuple);
    else if (config.executor === 'per-vu-iterations') iterations += options.tuple.scaleInt64(config.vus) * config.iterations;
    else if (config.executor === 'constant-arrival-rate') iterations += [...constantArrivalOffsets(config, options.tuple)].length;
  }
  return { iterations, vusMax: plan.maxPlannedVUs, header: describeTest(plan) };
}

void test("per-segment iterations and vus_max computed from the plan equal k6's", () => {
  for (const r of REFS) {
    const want = reference(r.file);
    const got = planned(r.overrides);
    assert.equal(got.vusMax, want.vusMax, `${r.file} vus_max`);
    // Exact here; the arrival-rate part is allowed ±1 by the issue, k6 v0.49 ran the start at t=duration.
    assert.equal(got.iterations, want.iterations, `${r.file} iterations`);
  }
  // The check can fail: a wrong segment gives other numbers.
  assert.notEqual(planned({ executionSegment: '0:1/3' }).iterations, reference('segments.0_1-3.summary-export.json').iterations);
});

void test('halves and thirds add up to the whole run', () => {
  const whole = planned({}).iterations;
  const sum = (rs: Ref[]): number => rs.reduce((a, r) => a + planned(r.overrides).iterations, 0);
  assert.equal(sum(REFS.slice(1, 3)), whole);
  assert.equal(sum(REFS.slice(3)), whole);
});

void test("a fake-clock run of each segment completes k6's iteration count", async () => {
  for (const r of REFS) {
    const h = await runTest(SCRIPT, fixed(20), { overrides: r.overrides });
    assert.equal(h.result.completed, reference(r.file).iterations, r.file);
    assert.equal(h.result.interrupted, 0);
  }
});

void test("iterationInTest of the thirds are disjoint and cover each scenario's global numbering", async () => {
  const seen = new Map<string, number[]>();
  for (const r of REFS.slice(3)) {
    const h = await runTest(SCRIPT, fixed(20), { overrides: r.overrides });
    for (const rec of h.pool.log) seen.set(rec.scenario, [...(seen.get(rec.scenario) ?? []), rec.iterationInTest]);
  }
  const sorted = (s: string): number[] => [...(seen.get(s) ?? [])].sort((a, b) => a - b);
  assert.deepEqual(
    sorted('iters'),
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.deepEqual(
    sorted('rate'),
    Array.from({ length: 91 }, (_, i) => i),
  );
  // per-vu-iterations numbers iterations over the main tuple: 3 VUs x 5, striped by segment.
  assert.equal(new Set(sorted('perVu')).size, 15);
});
