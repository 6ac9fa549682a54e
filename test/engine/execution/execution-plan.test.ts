// The run header and the test plan against the reference run's stdout (fixture.stdout.txt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeScenario, describeTest, fullExecutionRequirements, planExecution } from '../../../engine/execution/index.ts';
import { resolveOptions, type OptionOverrides } from '../../../engine/options/index.ts';
import { k6ReferenceFile } from '../../support/k6-reference.ts';

const stdout = readFileSync(k6ReferenceFile('fixture.stdout.txt'), 'utf8');

const FIXTURE = {
  scenarios: {
    api: {
      executor: 'constant-arrival-rate',
      rate: 20,
      timeUnit: '1s',
      duration: '4s',
      preAllocatedVUs: 4,
      maxVUs: 8,
      exec: 'api',
      tags: { suite: 'api' },
    },
    ws: { executor: 'per-vu-iterations', vus: 2, iterations: 2, exec: 'ws', startTime: '1s', maxDuration: '10s' },
    ramp: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: '2s', target: 3 },
        { duration: '2s', target: 0 },
      ],
      exec: 'slow',
      gracefulRampDown: '1s',
    },
  },
};

function plan(options: unknown, overrides: OptionOverrides = {}): ReturnType<typeof planExecution> {
  const r = resolveOptions(options, overrides);
  assert.deepEqual(r.issues, []);
  return planExecution(r.options.scenarios, r.options.tuple);
}

void test("the scenario header matches k6's lines for the fixture, character for character", () => {
  const want = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('scenarios:') || l.startsWith('* '));
  const p = plan(FIXTURE);
  assert.deepEqual(describeTest(p), want);
  assert.equal(p.maxPlannedVUs, 9, 'initial vus_max, as in fixture.out.json');
  assert.equal(p.maxPossibleVUs, 13);
  assert.equal(p.maxDuration, 41_000);
  const api = p.scenarios.find((s) => s.config.name === 'api');
  assert.ok(api);
  assert.equal(describeScenario(api.config, p.tuple), want[1]);
});

void test('shortcut descriptions and segment percentage', () => {
  assert.deepEqual(describeTest(plan({}, { vus: 10, duration: '30s' })), [
    'scenarios: (100.00%) 1 scenario, 10 max VUs, 1m0s max duration (incl. graceful stop):',
    '* default: 10 looping VUs for 30s (gracefulStop: 30s)',
  ]);
  assert.deepEqual(describeTest(plan({ iterations: 10, vus: 2 }, { executionSegment: '0:1/2' })), [
    'scenarios: (50.00%) 1 scenario, 1 max VUs, 10m30s max duration (incl. graceful stop):',
    '* default: 5 iterations shared among 1 VUs (maxDuration: 10m0s, gracefulStop: 30s)',
  ]);
  assert.deepEqual(
    describeTest(
      plan({
        scenarios: {
          r: {
            executor: 'ramping-arrival-rate',
            startRate: 5,
            timeUnit: '1m',
            preAllocatedVUs: 2,
            maxVUs: 5,
            stages: [{ duration: '1m', target: 60 }],
          },
        },
      }),
    ),
    [
      'scenarios: (100.00%) 1 scenario, 5 max VUs, 1m30s max duration (incl. graceful stop):',
      '* r: Up to 1.00 iterations/s for 1m0s over 1 stages (maxVUs: 2-5, gracefulStop: 30s)',
    ],
  );
});

void test('a scenario without work in this segment is skipped, like k6', () => {
  const p = plan(
    {
      scenarios: {
        one: { executor: 'shared-iterations', vus: 1, iterations: 1 },
        two: { executor: 'constant-vus', vus: 4, duration: '5s' },
      },
    },
    { executionSegment: '1/2:1' },
  );
  assert.deepEqual(p.skipped, ['one']);
  assert.deepEqual(
    p.scenarios.map((s) => s.config.name),
    ['two'],
  );
  assert.equal(p.maxPlannedVUs, 2);
});

void test('max VUs: overlapping scenarios add up, sequential ones do not', () => {
  const overlapping = plan({
    scenarios: {
      a: { executor: 'constant-vus', vus: 3, duration: '10s' },
      b: { executor: 'constant-vus', vus: 4, duration: '10s', startTime: '5s' },
    },
  });
  assert.equal(overlapping.maxPlannedVUs, 7);
  const sequential = plan({
    scenarios: {
      a: { executor: 'constant-vus', vus: 3, duration: '10s', gracefulStop: '0s' },
      b: { executor: 'constant-vus', vus: 4, duration: '10s', startTime: '10s' },
    },
  });
  assert.equal(sequential.maxPlannedVUs, 4);
  assert.equal(sequential.maxDuration, 50_000);
  const r = resolveOptions({ scenarios: { a: { executor: 'constant-vus', vus: 3, duration: '10s', gracefulStop: '0s' } } });
  assert.deepEqual(
    fullExecutionRequirements(r.options.scenarios, r.options.tuple).map((s) => [s.offset, s.plannedVUs]),
    [
      [0, 3],
      [10_000, 0],
    ],
  );
});
