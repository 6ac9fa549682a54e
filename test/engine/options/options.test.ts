// resolveOptions: k6's shortcut → scenario rules, config tiers (script < K6_* env < CLI),
// defaults, and validation that reports every problem with a stable code and path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  resolveOptions,
  parseStagesFlag,
  DEFAULT_SUMMARY_TREND_STATS,
  type OptionOverrides,
  type ResolveEnv,
} from '../../../engine/options/index.ts';
import type { ScenarioConfig } from '../../../engine/executors/types.ts';

function scenarios(script: unknown, overrides: OptionOverrides = {}, env: ResolveEnv = {}): ScenarioConfig[] {
  const r = resolveOptions(script, overrides, env);
  assert.deepEqual(r.issues, []);
  return [...r.options.scenarios];
}

function one(script: unknown, overrides: OptionOverrides = {}, env: ResolveEnv = {}): Record<string, unknown> {
  const list = scenarios(script, overrides, env);
  assert.equal(list.length, 1);
  const drop = new Set(['env', 'tags', 'execSet', 'startTime']);
  return Object.fromEntries(Object.entries(list[0] ?? {}).filter(([k]) => !drop.has(k)));
}

const codes = (script: unknown, overrides: OptionOverrides = {}, env: ResolveEnv = {}): [string, string][] =>
  resolveOptions(script, overrides, env)
    .issues.map((i) => [i.code, i.path] as [string, string])
    .sort((a, b) => (a.join() < b.join() ? -1 : 1));

void test("nothing set: 1 VU, 1 iteration, with k6's defaults", () => {
  const r = resolveOptions(undefined);
  assert.deepEqual(r.issues, []);
  assert.deepEqual(one({}), {
    name: 'default',
    executor: 'per-vu-iterations',
    exec: 'default',
    gracefulStop: 30_000,
    vus: 1,
    iterations: 1,
    maxDuration: 600_000,
  });
  assert.deepEqual(r.options.summaryTrendStats, DEFAULT_SUMMARY_TREND_STATS);
  assert.equal(r.options.tuple.segment.toString(), '0:1');
  assert.equal(r.options.noThresholds, false);
});

void test('shortcuts become scenarios exactly like k6', () => {
  const stages = [
    { duration: '10s', target: 5 },
    { duration: '5s', target: 0 },
  ];
  const table: [unknown, OptionOverrides, Record<string, unknown>][] = [
    [{ iterations: 10 }, {}, { executor: 'shared-iterations', vus: 1, iterations: 10, maxDuration: 600_000 }],
    [{ iterations: 10, vus: 2, duration: '5s' }, {}, { executor: 'shared-iterations', vus: 2, iterations: 10, maxDuration: 5000 }],
    [{ duration: '30s' }, {}, { executor: 'constant-vus', vus: 1, duration: 30_000 }],
    [{ vus: 5, duration: '1m' }, {}, { executor: 'constant-vus', vus: 5, duration: 60_000 }],
    [
      { stages },
      {},
      {
        executor: 'ramping-vus',
        startVUs: 1,
        gracefulRampDown: 30_000,
        stages: [
          { duration: 10_000, target: 5 },
          { duration: 5000, target: 0 },
        ],
      },
    ],
    [
      { stages, vus: 3 },
      {},
      {
        executor: 'ramping-vus',
        startVUs: 3,
        gracefulRampDown: 30_000,
        stages: [
          { duration: 10_000, target: 5 },
          { duration: 5000, target: 0 },
        ],
      },
    ],
    [{}, { vus: 4, duration: '10s' }, { executor: 'constant-vus', vus: 4, duration: 10_000 }],
    [{}, { iterations: 7 }, { executor: 'shared-iterations', vus: 1, iterations: 7, maxDuration: 600_000 }],
  ];
  for (const [script, overrides, want] of table) {
    assert.deepEqual(
      one(script, overrides),
      { name: 'default', exec: 'default', gracefulStop: 30_000, ...want },
      JSON.stringify([script, overrides]),
    );
  }
});

void test("vus alone is ignored with k6's warning", () => {
  const r = resolveOptions({ vus: 5 });
  assert.deepEqual(r.issues, []);
  assert.equal(r.options.scenarios[0]?.executor, 'per-vu-iterations');
  assert.match(r.options.warnings.join('\n'), /`vus=5` option will be ignored/);
});

void test('conflicting shortcuts in one tier are errors, like k6', () => {
  const stages = [{ duration: '1s', target: 1 }];
  const scen = { s: { executor: 'constant-vus', duration: '1s' } };
  for (const script of [
    { iterations: 1, stages },
    { duration: '1s', stages },
    { iterations: 1, scenarios: scen },
    { duration: '1s', scenarios: scen },
    { stages, scenarios: scen },
  ]) {
    assert.deepEqual(codes(script), [['conflicting-options', 'scenarios']], JSON.stringify(script));
  }
  assert.deepEqual(codes({ duration: '0s' }), [['out-of-range', 'duration']]);
});

void test("a shortcut in a higher tier replaces the lower tier's execution options", () => {
  const script = { duration: '30s', scenarios: undefined, stages: undefined };
  // CLI --duration over script scenarios: no conflict, the scenarios go.
  assert.equal(
    one({ scenarios: { api: { executor: 'constant-vus', vus: 9, duration: '1m' } } }, { duration: '10s' }).executor,
    'constant-vus',
  );
  assert.equal(one({ scenarios: { api: { executor: 'constant-vus', vus: 9, duration: '1m' } } }, { duration: '10s' }).vus, 1);
  // CLI --iterations over script duration: the script's duration no longer caps it.
  assert.deepEqual(one(script, { iterations: 5 }), {
    name: 'default',
    exec: 'default',
    gracefulStop: 30_000,
    executor: 'shared-iterations',
    vus: 1,
    iterations: 5,
    maxDuration: 600_000,
  });
  // CLI --vus alone keeps the script's duration.
  assert.equal(one(script, { vus: 5 }).vus, 5);
  // K6_DURATION replaces script scenarios; CLI --stage replaces K6_DURATION.
  const env: ResolveEnv = { vars: { K6_DURATION: '20s' } };
  assert.deepEqual(
    [one({ scenarios: { a: { executor: 'per-vu-iterations' } } }, {}, env).executor, one({}, {}, env).duration],
    ['constant-vus', 20_000],
  );
  assert.equal(one({}, { stages: [{ duration: '5s', target: 2 }] }, env).executor, 'ramping-vus');
  // CLI vus does not touch script scenarios.
  assert.equal(one({ scenarios: { a: { executor: 'constant-vus', vus: 2, duration: '5s' } } }, { vus: 50 }).vus, 2);
});

void test('validation reports every problem at once, with path and stable code', () => {
  const got = codes({
    scenarios: {
      bad: { executor: 'nope' },
      none: { vus: 2 },
      neg: { executor: 'constant-vus', vus: -1, duration: '1x', gracefulStop: '-1s' },
      arr: { executor: 'constant-arrival-rate', rate: 0, duration: '500ms', preAllocatedVUs: 5, maxVUs: 2, foo: 1 },
      'bad name!': { executor: 'shared-iterations', vus: 3, iterations: 2 },
      ramp: { executor: 'ramping-vus', stages: [], gracefulRampDown: 'soon' },
      zero: { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '1s', target: 0 }] },
      stage: { executor: 'ramping-arrival-rate', preAllocatedVUs: 1, stages: [{ target: 2 }, { duration: '-1s', target: -3 }] },
      types: { executor: 'per-vu-iterations', vus: '5', iterations: 1.5, tags: { a: 1 } },
    },
  });
  assert.deepEqual(got, [
    ['invalid-duration', 'scenarios.neg.duration'],
    ['invalid-duration', 'scenarios.ramp.gracefulRampDown'],
    ['invalid-scenario-name', 'scenarios.bad name!'],
    ['invalid-type', 'scenarios.types.iterations'],
    ['invalid-type', 'scenarios.types.tags.a'],
    ['invalid-type', 'scenarios.types.vus'],
    ['iterations-below-vus', 'scenarios.bad name!.iterations'],
    ['max-vus-below-preallocated', 'scenarios.arr.maxVUs'],
    ['missing-field', 'scenarios.none.executor'],
    ['missing-field', 'scenarios.stage.stages[0].duration'],
    ['no-stages', 'scenarios.ramp.stages'],
    ['no-vus', 'scenarios.zero.stages'],
    ['out-of-range', 'scenarios.arr.duration'],
    ['out-of-range', 'scenarios.arr.rate'],
    ['out-of-range', 'scenarios.neg.gracefulStop'],
    ['out-of-range', 'scenarios.neg.vus'],
    ['out-of-range', 'scenarios.stage.stages[1].duration'],
    ['out-of-range', 'scenarios.stage.stages[1].target'],
    ['unknown-executor', 'scenarios.bad.executor'],
    ['unknown-field', 'scenarios.arr.foo'],
  ]);
  const msg = resolveOptions({ scenarios: { a: { executor: 'constant-vus', duration: '1x' } } }).issues[0]?.message ?? '';
  assert.match(msg, /scenarios\.a\.duration/);
  assert.match(msg, /"1x"/);
  assert.doesNotMatch(msg, /\n/);
});

void test('arrival-rate executors need rate, duration and preAllocatedVUs', () => {
  assert.deepEqual(codes({ scenarios: { a: { executor: 'constant-arrival-rate' } } }), [
    ['missing-field', 'scenarios.a.duration'],
    ['missing-field', 'scenarios.a.preAllocatedVUs'],
    ['missing-field', 'scenarios.a.rate'],
  ]);
  const r = resolveOptions({ scenarios: { a: { executor: 'constant-arrival-rate', rate: 5, duration: '1s', preAllocatedVUs: 3 } } });
  assert.deepEqual(r.issues, []);
  assert.equal(
    r.options.scenarios[0]?.executor === 'constant-arrival-rate' ? r.options.scenarios[0].maxVUs : -1,
    3,
    'maxVUs defaults to preAllocatedVUs',
  );
});

void test("exec functions are checked against the script's exports when given", () => {
  const script = { scenarios: { a: { executor: 'per-vu-iterations', exec: 'api' }, b: { executor: 'per-vu-iterations' } } };
  assert.deepEqual(codes(script, {}, { exports: new Set(['api', 'default']) }), []);
  assert.deepEqual(codes(script, {}, { exports: new Set(['default']) }), [['exec-not-found', 'scenarios.a.exec']]);
  assert.deepEqual(codes({ scenarios: { a: { executor: 'per-vu-iterations', exec: '' } } }), [['out-of-range', 'scenarios.a.exec']]);
});

void test("--iterations on a script with named scenarios and no default export: k6's exec-not-found, saying why and what to do", () => {
  const script = {
    scenarios: { events: { executor: 'per-vu-iterations', exec: 'events' }, replies: { executor: 'per-vu-iterations', exec: 'replies' } },
  };
  const exports = new Set(['events', 'replies']);
  for (const [overrides, vars] of [
    [{ iterations: 2 }, {}],
    [{}, { K6_VUS: '2', K6_DURATION: '5s' }],
  ] as const) {
    const r = resolveOptions(script, overrides, { exports, vars });
    assert.deepEqual(
      r.issues.map((i) => [i.code, i.path]),
      [['exec-not-found', 'scenarios.default.exec']],
    );
    const message = r.issues[0]?.message ?? '';
    assert.match(message, /^function 'default' not found in exports: /);
    assert.match(message, /replace the script's own scenarios \(events, replies\) with one scenario that runs the default export/);
    assert.match(message, /-e ITERATIONS=/);
  }
  // A script without named scenarios keeps k6's plain message.
  const plain = resolveOptions({}, { iterations: 2 }, { exports: new Set(['x']) });
  assert.doesNotMatch(plain.issues[0]?.message ?? '', /own scenarios/);
});

void test('execution segment flags are parsed and checked against the sequence', () => {
  const ok = resolveOptions({}, { executionSegment: '1/3:2/3', executionSegmentSequence: '0,1/3,2/3,1' });
  assert.deepEqual(ok.issues, []);
  assert.equal(ok.options.tuple.segment.toString(), '1/3:2/3');
  assert.equal(ok.options.tuple.index, 1);
  assert.equal(resolveOptions({}, { executionSegment: '50%:100%' }).options.tuple.segment.toString(), '1/2:1');
  assert.deepEqual(codes({}, { executionSegment: '2:3' }), [['invalid-segment', 'executionSegment']]);
  assert.deepEqual(codes({}, { executionSegmentSequence: '0,1/2', executionSegment: '1/2:1' }), [
    ['segment-not-in-sequence', 'executionSegment'],
  ]);
  assert.deepEqual(codes({}, { executionSegmentSequence: '1' }), [['invalid-segment-sequence', 'executionSegmentSequence']]);
  assert.equal(resolveOptions({}, {}, { vars: { K6_EXECUTION_SEGMENT: '0:1/4' } }).options.tuple.segment.toString(), '0:1/4');
});

void test('summary options: trend stats and time unit are validated; CLI wins', () => {
  assert.deepEqual(codes({ summaryTrendStats: ['avg', 'p(99.9)', 'count'] }), []);
  assert.deepEqual(codes({ summaryTrendStats: ['p(101)', 'foo', 'max'] }), [
    ['invalid-trend-stat', 'summaryTrendStats'],
    ['invalid-trend-stat', 'summaryTrendStats'],
  ]);
  assert.deepEqual(codes({}, { summaryTimeUnit: 'h' }), [['invalid-time-unit', 'summaryTimeUnit']]);
  const r = resolveOptions(
    { summaryTrendStats: ['avg'], tags: { a: '1' } },
    { summaryTrendStats: ['p(99)'], summaryTimeUnit: 'ms', noThresholds: true, tags: { b: '2' } },
  );
  assert.deepEqual(
    [r.options.summaryTrendStats, r.options.summaryTimeUnit, r.options.noThresholds, r.options.tags],
    [['p(99)'], 'ms', true, { b: '2' }],
  );
  assert.deepEqual(resolveOptions({ tags: { a: '1' } }).options.tags, { a: '1' });
});

void test('scenarios are sorted by startTime then name, and k6 options are kept for exec.test.options', () => {
  const r = resolveOptions({
    thresholds: { http_req_duration: ['p(95)<500'] },
    scenarios: {
      z: { executor: 'per-vu-iterations' },
      b: { executor: 'per-vu-iterations', startTime: '1s' },
      a: { executor: 'per-vu-iterations' },
    },
  });
  assert.deepEqual(
    r.options.scenarios.map((s) => s.name),
    ['a', 'z', 'b'],
  );
  assert.deepEqual(r.options.thresholds, { http_req_duration: ['p(95)<500'] });
  assert.deepEqual(Object.keys(r.options.k6.scenarios ?? {}).sort(), ['a', 'b', 'z']);
});

void test('--stage / K6_STAGES text parses into stages', () => {
  assert.deepEqual(parseStagesFlag('30s:10,1m:0'), {
    stages: [
      { duration: '30s', target: 10 },
      { duration: '1m', target: 0 },
    ],
    issues: [],
  });
  assert.deepEqual(parseStagesFlag('30s').stages, [{ duration: '30s', target: 0 }]);
  assert.deepEqual(
    parseStagesFlag('x:1,10s:y').issues.map((i) => [i.code, i.path]),
    [
      ['invalid-stage', 'stages[0]'],
      ['invalid-stage', 'stages[1]'],
    ],
  );
  assert.equal(one({}, {}, { vars: { K6_STAGES: '5s:3' } }).executor, 'ramping-vus');
});
