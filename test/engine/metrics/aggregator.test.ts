import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Aggregator,
  AggregatorError,
  MetricError,
  MetricRegistry,
  BUILTIN_METRICS,
  type AggregatorSnapshot,
} from '../../../engine/metrics/index.ts';
import type { Sample } from '../../../engine/contracts.ts';
import type { BreakdownNode } from '../../../engine/metrics/breakdown.ts';
import type { Sink } from '../../../engine/metrics/sinks.ts';
import { FIXTURE_CUSTOM_METRICS, FIXTURE_THRESHOLDS, fixtureLines, fixtureSamples, handleSummaryReference, within } from './k6-fixture.ts';

function fixtureRegistry(): MetricRegistry {
  const r = new MetricRegistry();
  for (const m of FIXTURE_CUSTOM_METRICS) r.define(m.name, m.type, m.contains);
  return r;
}

function fixtureAggregator(): Aggregator {
  const agg = new Aggregator(fixtureRegistry(), { submetrics: Object.keys(FIXTURE_THRESHOLDS) });
  agg.add(fixtureSamples());
  return agg;
}

void describe('MetricRegistry', () => {
  void it('pre-declares every k6 built-in with the types and contains of the reference run', () => {
    const r = new MetricRegistry();
    for (const line of fixtureLines()) {
      if (line.type !== 'Metric' || line.metric.startsWith('fixture_')) continue;
      const def = r.get(line.metric);
      assert.ok(def, line.metric);
      assert.equal(def.type, line.data.type, line.metric);
      assert.equal(def.contains, line.data.contains, line.metric);
    }
    for (const name of ['dropped_iterations', 'ws_ping', 'vus', 'vus_max', 'group_duration']) assert.ok(r.has(name), name);
    assert.equal(BUILTIN_METRICS.length, r.all().length);
  });

  void it('defines custom metrics, returns the same definition on an identical redefinition', () => {
    const r = new MetricRegistry();
    const a = r.define('my_trend', 'trend', 'time');
    assert.equal(r.define('my_trend', 'trend', 'time'), a);
    assert.equal(r.define('my_trend', 'trend'), a);
    assert.equal(r.define('my_counter', 'counter').contains, 'default');
  });

  void it('rejects invalid names and conflicting redefinitions with k6 wording and stable codes', () => {
    const r = new MetricRegistry();
    r.define('my_trend', 'trend', 'time');
    const cases: [() => unknown, string, RegExp][] = [
      [() => r.define('1abc', 'counter'), 'invalid-metric-name', /^Invalid metric name: '1abc'\. Metric names should start/],
      [() => r.define('a', 'counter'), 'invalid-metric-name', /Invalid metric name: 'a'/],
      [() => r.define('has-dash', 'counter'), 'invalid-metric-name', /has-dash/],
      [() => r.define('x'.repeat(130), 'counter'), 'invalid-metric-name', /Invalid metric name/],
      [
        () => r.define('my_trend', 'counter'),
        'metric-type-conflict',
        /^metric 'my_trend' already exists but with type trend, instead of counter$/,
      ],
      [
        () => r.define('my_trend', 'trend', 'data'),
        'metric-contains-conflict',
        /already exists but with a value type time, instead of data$/,
      ],
      [() => r.define('http_req_duration', 'counter'), 'metric-type-conflict', /http_req_duration/],
    ];
    for (const [fn, code, re] of cases) {
      assert.throws(fn, (err: unknown) => err instanceof MetricError && err.code === code && re.test(err.message));
    }
    assert.ok(r.define('x'.repeat(129), 'counter'));
  });
});

void describe('Aggregator on the k6 reference run', () => {
  void it('has the same metric set, types and contains as handleSummary data', () => {
    const ref = handleSummaryReference();
    const agg = fixtureAggregator();
    const ours = new Map(agg.observed().map((m) => [m.name, m]));
    assert.deepEqual([...ours.keys()].sort(), Object.keys(ref.metrics).sort());
    for (const [name, m] of Object.entries(ref.metrics)) {
      const st = ours.get(name);
      assert.ok(st, name);
      assert.equal(st.type, m.type, name);
      assert.equal(st.contains, m.contains, name);
    }
  });

  void it('matches counts, rates and passes/fails exactly and trend stats within 0.1 %', () => {
    const ref = handleSummaryReference();
    const agg = fixtureAggregator();
    const dur = ref.state.testRunDurationMs;
    for (const [name, m] of Object.entries(ref.metrics)) {
      const st = agg.resolve(name);
      assert.ok(st, name);
      const sink = st.sink;
      switch (sink.type) {
        case 'counter':
          assert.equal(sink.count, m.values.count, name);
          assert.ok(within(sink.rate(dur), m.values.rate ?? NaN, 1e-12), name);
          break;
        case 'rate':
          assert.deepEqual(sink.values(), { rate: m.values.rate, passes: m.values.passes, fails: m.values.fails }, name);
          break;
        case 'gauge':
          assert.deepEqual(sink.values(), { value: m.values.value, min: m.values.min, max: m.values.max }, name);
          break;
        case 'trend': {
          const ours = sink.values(ref.options.summaryTrendStats);
          for (const [stat, v] of Object.entries(m.values)) {
            const exactStat = stat === 'min' || stat === 'max';
            assert.ok(exactStat ? ours[stat] === v : within(ours[stat] ?? NaN, v), `${name} ${stat}: ours ${String(ours[stat])} k6 ${v}`);
          }
          break;
        }
      }
    }
  });

  void it('builds checks per group and the groups seen', () => {
    const agg = fixtureAggregator();
    assert.deepEqual(agg.groups(), ['::slow group']);
    const checks = agg.checks().map((c) => [c.group, c.name, c.passes, c.fails]);
    assert.deepEqual(
      checks.sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      [
        ['', 'agents listed', 81, 0],
        ['', 'health is 200', 81, 0],
        ['::slow group', 'slow ok', 21, 0],
        ['::slow group', 'slow under 50ms', 0, 21],
      ],
    );
  });

  void it('lists the submetrics of a metric for Metric lines, as in the reference', () => {
    const agg = fixtureAggregator();
    const names = agg
      .submetricsOf('http_req_duration')
      .map((s) => s.name)
      .sort();
    const ref = fixtureLines().find((l) => l.type === 'Metric' && l.metric === 'http_req_duration');
    assert.ok(ref && ref.type === 'Metric');
    assert.deepEqual(names, (ref.data.submetrics ?? []).map((s) => s.name).sort());
    assert.deepEqual(agg.submetricsOf('checks'), []);
  });

  void it('rejects samples of undefined metrics and malformed submetric keys', () => {
    const agg = new Aggregator(new MetricRegistry());
    assert.throws(
      () => agg.add([{ metric: 'nope_metric', time: 0, value: 1, tags: {} }]),
      (e: unknown) => e instanceof AggregatorError && e.code === 'unknown-metric',
    );
    assert.throws(
      () => agg.declareSubmetric('http_reqs{status'),
      (e: unknown) => e instanceof AggregatorError && e.code === 'invalid-submetric',
    );
  });

  void it('submetric keys with quotes and spaces share one submetric, named after the first key', () => {
    const agg = new Aggregator(new MetricRegistry(), {
      submetrics: ['http_reqs{ status: "200" }', "http_reqs{'status':200}"],
      expectedResponseSubmetric: false,
    });
    const subs = agg.submetricsOf('http_reqs');
    assert.equal(subs.length, 1);
    assert.deepEqual(subs[0], { name: 'http_reqs{status: "200"}', suffix: 'status: "200"', tags: { status: '200' }, parent: 'http_reqs' });
    agg.add([
      { metric: 'http_reqs', time: 1, value: 1, tags: { status: '200' } },
      { metric: 'http_reqs', time: 2, value: 1, tags: { status: '500' } },
    ]);
    const st = agg.resolve("http_reqs{'status':200}");
    assert.ok(st && st.sink.type === 'counter');
    assert.equal(st.sink.count, 1);
  });
});

const TAGS: Record<string, string>[] = [
  { group: '' },
  { group: '::g' },
  { group: '::g::h', check: 'c1' },
  { scenario: 'a', status: '200' },
  { scenario: 'b', status: '500', group: '::g' },
];
const sampleArb: fc.Arbitrary<Sample> = fc.record({
  metric: fc.constantFrom('http_req_duration', 'http_reqs', 'checks', 'vus', 'my_trend', 'data_sent'),
  time: fc.integer({ min: 0, max: 1e6 }),
  value: fc.oneof(fc.integer({ min: -5, max: 500 }), fc.double({ min: -1e3, max: 1e3, noNaN: true })),
  tags: fc.constantFrom(...TAGS),
});

function normalise(s: AggregatorSnapshot): unknown {
  const strip = (x: { name: string; observed: boolean; sink: object }) => ({ ...x, sink: { ...x.sink, sum: 0, comp: 0 } });
  return {
    ...s,
    metrics: [...s.metrics].map(strip).sort((a, b) => a.name.localeCompare(b.name)),
    submetrics: [...s.submetrics].map(strip).sort((a, b) => a.name.localeCompare(b.name)),
    checks: [...s.checks].sort((a, b) => (a[0] + a[1]).localeCompare(b[0] + b[1])),
    groups: [...s.groups].sort(),
    definitions: [...s.definitions].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

void describe('Aggregator snapshot/merge', () => {
  void it('splitting a stream over two aggregators and merging equals one aggregator (property)', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 200 }), fc.array(fc.boolean(), { maxLength: 200 }), (samples, sides) => {
        const mk = (): Aggregator => {
          const r = new MetricRegistry();
          r.define('my_trend', 'trend');
          return new Aggregator(r, { submetrics: ['http_req_duration{scenario:a}', 'checks{group:::g::h}'] });
        };
        const one = mk();
        one.add(samples);
        const a = mk();
        const bReg = new MetricRegistry();
        bReg.define('my_trend', 'trend');
        const b = new Aggregator(bReg, { submetrics: ['http_req_duration{scenario:a}', 'checks{group:::g::h}'] });
        samples.forEach((s, i) => (sides[i] === true ? a : b).add([s]));
        const main = mk();
        main.merge(JSON.parse(JSON.stringify(a.snapshot())) as AggregatorSnapshot);
        main.merge(structuredClone(b.snapshot()));
        assert.deepEqual(normalise(main.snapshot()), normalise(one.snapshot()));
        for (const st of one.all()) {
          const other = main.resolve(st.name);
          assert.ok(other, st.name);
          if (st.sink.type === 'trend' && other.sink.type === 'trend') {
            assert.deepEqual(
              other.sink.values(['min', 'med', 'max', 'p(90)', 'p(99)', 'count']),
              st.sink.values(['min', 'med', 'max', 'p(90)', 'p(99)', 'count']),
            );
            assert.ok(Math.abs(other.sink.avg - st.sink.avg) <= 1e-9);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  void it('periodic drain() snapshots merged in the main thread equal one aggregator (property)', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 200 }), fc.array(fc.nat({ max: 199 }), { maxLength: 5 }), (samples, cuts) => {
        const mk = (): Aggregator => {
          const r = new MetricRegistry();
          r.define('my_trend', 'trend');
          return new Aggregator(r, { submetrics: ['http_req_duration{scenario:a}'] });
        };
        const one = mk();
        one.add(samples);
        const worker = mk();
        const main = mk();
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b).concat(samples.length)) {
          worker.add(samples.slice(from, Math.max(from, cut)));
          from = Math.max(from, cut);
          main.merge(structuredClone(worker.drain()));
        }
        assert.deepEqual(normalise(main.snapshot()), normalise(one.snapshot()));
      }),
      { numRuns: 150 },
    );
  });

  void it('merge declares custom metrics the worker defined and rejects conflicting ones', () => {
    const w = new MetricRegistry();
    w.define('worker_only', 'rate');
    const wa = new Aggregator(w);
    wa.add([{ metric: 'worker_only', time: 1, value: 1, tags: {} }]);
    const main = new Aggregator(new MetricRegistry());
    main.merge(wa.snapshot());
    assert.equal(main.registry.get('worker_only')?.type, 'rate');
    const clash = new MetricRegistry();
    clash.define('worker_only', 'trend');
    assert.throws(
      () => new Aggregator(clash).merge(wa.snapshot()),
      (e: unknown) => e instanceof MetricError && e.code === 'metric-type-conflict',
    );
  });
});

void describe('Aggregator breakdown (--summary-mode full)', () => {
  const withBreakdown = (samples: readonly Sample[]): Aggregator => {
    const agg = new Aggregator(fixtureRegistry(), { submetrics: Object.keys(FIXTURE_THRESHOLDS), breakdown: true });
    agg.add(samples);
    return agg;
  };

  void it("counts each named scenario's samples in its section and a group's samples in that group only, as k6 v1 does", () => {
    const samples = fixtureSamples();
    const agg = withBreakdown(samples);
    const b = agg.breakdown;
    assert.ok(b !== undefined);
    const byScenario = new Map<string, number>();
    const byGroup = new Map<string, number>();
    for (const s of samples) {
      if (s.metric !== 'http_reqs') continue;
      const sc = s.tags.scenario;
      if (sc !== undefined && sc !== 'default') byScenario.set(sc, (byScenario.get(sc) ?? 0) + 1);
      if (s.tags.group !== undefined && s.tags.group !== '')
        byGroup.set(`${sc ?? ''}${s.tags.group}`, (byGroup.get(`${sc ?? ''}${s.tags.group}`) ?? 0) + 1);
    }
    assert.ok(byScenario.size >= 2 && byGroup.size >= 1, 'the fixture has named scenarios and a group');
    for (const [sc, n] of byScenario) {
      const sink: Sink | undefined = b.scenarios.get(sc)?.metrics.get('http_reqs')?.sink;
      assert.equal(sink?.type === 'counter' ? sink.values(1000).count : -1, n, sc);
    }
    for (const [key, n] of byGroup) {
      const [sc = '', ...path] = key.split('::');
      let node: BreakdownNode | undefined = b.scenarios.get(sc);
      for (const g of path) node = node?.groups.get(g);
      const sink: Sink | undefined = node?.metrics.get('http_reqs')?.sink;
      assert.equal(sink?.type === 'counter' ? sink.values(1000).count : -1, n, key);
    }
    assert.equal(new Aggregator(fixtureRegistry()).breakdown, undefined, 'off unless asked for');
  });

  void it("merges exactly: two halves' snapshots folded together equal one aggregator that saw every sample", () => {
    const samples = fixtureSamples();
    const half = Math.floor(samples.length / 2);
    const whole = withBreakdown(samples);
    const first = withBreakdown(samples.slice(0, half));
    const second = withBreakdown(samples.slice(half));
    first.merge(second.drain());
    // Sums may differ in their last bits (added in another order): compare the figures, rounded.
    const figures = (node: BreakdownNode | undefined): unknown =>
      node === undefined
        ? undefined
        : {
            metrics: [...node.metrics].map(([name, m]) => {
              const v: Record<string, number> =
                m.sink.type === 'trend'
                  ? m.sink.values(['count', 'avg', 'min', 'med', 'max', 'p(95)'])
                  : m.sink.type === 'counter'
                    ? m.sink.values(1000)
                    : m.sink.values();
              return [name, Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Number(x.toPrecision(12))]))];
            }),
            checks: [...node.checks.values()],
            groups: [...node.groups].map(([name, g]) => [name, figures(g)]),
          };
    const all = (agg: Aggregator): unknown => ({
      root: figures(agg.breakdown?.root),
      scenarios: [...(agg.breakdown?.scenarios ?? [])].map(([name, n]) => [name, figures(n)]),
    });
    assert.deepEqual(all(first), all(whole));
    assert.deepEqual(second.breakdown?.snapshot(), { root: { metrics: [], checks: [], groups: [] }, scenarios: [] }, 'drained');
  });
});
