import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator, MetricRegistry } from '../../../engine/metrics/index.ts';
import { parseThresholds } from '../../../engine/thresholds/index.ts';
import { buildSummaryData, buildSummaryExport, k6Id, summaryExportJson, type SummaryData } from '../../../engine/output/index.ts';
import {
  FIXTURE_CUSTOM_METRICS,
  FIXTURE_THRESHOLDS,
  fixtureSamples,
  handleSummaryReference,
  readReferenceJson,
  within,
} from '../metrics/k6-fixture.ts';

function fixtureData(opts: { thresholds: boolean; trendStats?: string[] }): SummaryData {
  const ref = handleSummaryReference();
  const registry = new MetricRegistry();
  for (const m of FIXTURE_CUSTOM_METRICS) registry.define(m.name, m.type, m.contains);
  const { set } = parseThresholds(FIXTURE_THRESHOLDS, registry);
  // With --no-thresholds k6 still tracks the submetrics but attaches no thresholds.
  const agg = new Aggregator(registry, { submetrics: set.keys() });
  agg.add(fixtureSamples());
  const evaluation = opts.thresholds ? set.evaluate(agg, ref.state.testRunDurationMs) : undefined;
  return buildSummaryData({
    aggregator: agg,
    ...(evaluation === undefined ? {} : { thresholds: evaluation }),
    options: {
      summaryTrendStats: opts.trendStats ?? ref.options.summaryTrendStats,
      summaryTimeUnit: ref.options.summaryTimeUnit,
      noColor: ref.options.noColor,
    },
    state: ref.state,
  });
}

function assertValuesClose(ours: Record<string, number>, ref: Record<string, number>, label: string): void {
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(ref).sort(), label);
  for (const [k, v] of Object.entries(ref))
    assert.ok(within(ours[k] ?? NaN, v, k === 'rate' ? 1e-12 : 0.001), `${label} ${k}: ours ${String(ours[k])} k6 ${v}`);
}

void describe('buildSummaryData (handleSummary data)', () => {
  void it('matches fixture.handle-summary-data.json key by key', () => {
    const ref = handleSummaryReference();
    const data = fixtureData({ thresholds: true });
    assert.deepEqual(Object.keys(data).sort(), Object.keys(ref).sort());
    assert.deepEqual(data.options, ref.options);
    assert.deepEqual(data.state, ref.state);
    assert.deepEqual(Object.keys(data.metrics).sort(), Object.keys(ref.metrics).sort());
    for (const [name, m] of Object.entries(ref.metrics)) {
      const ours = data.metrics[name];
      assert.ok(ours, name);
      assert.deepEqual(Object.keys(ours).sort(), Object.keys(m).sort(), name);
      assert.equal(ours.type, m.type);
      assert.equal(ours.contains, m.contains);
      assert.deepEqual(ours.thresholds, m.thresholds, name);
      assertValuesClose(ours.values, m.values, name);
    }
    assert.deepEqual(data.root_group, ref.root_group);
  });

  void it('computes group and check ids as k6 does (md5 of the path)', () => {
    assert.equal(k6Id(''), 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(k6Id('::slow group::slow ok'), '725cd1c1e6595c8a2136527119de9baa');
  });

  void it('nests groups by path and keeps the data JSON-serialisable', () => {
    const registry = new MetricRegistry();
    const agg = new Aggregator(registry);
    agg.add([
      { metric: 'checks', time: 1, value: 1, tags: { group: '::a::b', check: 'deep' } },
      { metric: 'group_duration', time: 2, value: 5, tags: { group: '::c' } },
    ]);
    const data = buildSummaryData({ aggregator: agg, state: { isStdOutTTY: true, isStdErrTTY: false, testRunDurationMs: 1000 } });
    assert.deepEqual(JSON.parse(JSON.stringify(data)), data);
    assert.deepEqual(
      data.root_group.groups.map((g) => [g.path, g.groups.map((x) => x.path)]),
      [
        ['::a', ['::a::b']],
        ['::c', []],
      ],
    );
    assert.equal(data.root_group.groups[0]?.groups[0]?.checks[0]?.path, '::a::b::deep');
    assert.deepEqual(data.options, {
      summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
      summaryTimeUnit: '',
      noColor: false,
    });
  });
});

void describe('buildSummaryData thresholds', () => {
  void it('omits `thresholds` for a metric with an empty threshold list, keeps it observed', () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ http_req_duration: [], http_reqs: ['count>0'] }, registry);
    const agg = new Aggregator(registry, { submetrics: set.keys() });
    const ev = set.evaluate(agg, 1000);
    const data = buildSummaryData({
      aggregator: agg,
      thresholds: ev,
      state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 1000 },
    });
    assert.deepEqual(Object.keys(data.metrics).sort(), ['http_req_duration', 'http_reqs']);
    assert.equal(data.metrics.http_req_duration?.thresholds, undefined);
    assert.deepEqual(data.metrics.http_reqs?.thresholds, { 'count>0': { ok: true } });
  });
});

type ExportFile = { metrics: Record<string, Record<string, unknown>>; root_group: unknown };

void describe('buildSummaryExport (--summary-export)', () => {
  void it('matches fixture.summary-export.json: flattened values, rate passes/fails/value, thresholds true = crossed', () => {
    const ref = readReferenceJson('fixture.summary-export.json') as ExportFile;
    const ours = buildSummaryExport(fixtureData({ thresholds: true }));
    assert.deepEqual(Object.keys(ours.metrics).sort(), Object.keys(ref.metrics).sort());
    for (const [name, m] of Object.entries(ref.metrics)) {
      const o = ours.metrics[name];
      assert.ok(o, name);
      assert.deepEqual(Object.keys(o).sort(), Object.keys(m).sort(), name);
      for (const [k, v] of Object.entries(m)) {
        if (typeof v === 'number') assert.ok(within(o[k] as number, v, 0.001), `${name} ${k}`);
        else assert.deepEqual(o[k], v, `${name} ${k}`);
      }
    }
    assert.deepEqual(ours.root_group, ref.root_group);
    assert.deepEqual(JSON.parse(summaryExportJson(fixtureData({ thresholds: true }))), JSON.parse(JSON.stringify(ours)));
  });

  void it('has the keys of fixture.summary-export-default.json (--no-thresholds, p(99) added)', () => {
    const ref = readReferenceJson('fixture.summary-export-default.json') as ExportFile;
    const ours = buildSummaryExport(
      fixtureData({ thresholds: false, trendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] }),
    );
    assert.deepEqual(Object.keys(ours.metrics).sort(), Object.keys(ref.metrics).sort());
    for (const [name, m] of Object.entries(ref.metrics))
      assert.deepEqual(Object.keys(ours.metrics[name] ?? {}).sort(), Object.keys(m).sort(), name);
  });
});
