/**
 * One threshold grammar: the engine (ThresholdSet on its Aggregator, while a run goes) and the report
 * (evaluating the k6 JSON output afterwards) give the same verdict on every threshold of the k6 reference
 * run and on k6's edge cases (`avg<.5e3`, `rate<.5`, `+500`, `Inf`, `p(.5)`, exponents), and refuse the same
 * ones (min/max on a gauge, malformed expressions) — and, for the reference thresholds, k6's own verdict.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MetricType, Sample, ValueType } from '../../engine/contracts.ts';
import { Aggregator, MetricRegistry } from '../../engine/metrics/index.ts';
import { parseThresholds } from '../../engine/thresholds/index.ts';
import { ingestFiles } from '../../src/reporting/ingest.ts';
import { buildModel, type ThresholdRow } from '../../src/reporting/model.ts';
import { REFERENCE } from '../engine/conformance/run-helpers.ts';

const OUT = join(REFERENCE, 'fixture.out.json');

interface MetricLine {
  type: 'Metric';
  data: { name: string; type: MetricType; contains: ValueType; thresholds: (string | { threshold: string })[] };
}
interface PointLine {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags: Record<string, string> | null };
}

/** k6's verdicts from the reference run's --summary-export (there, `true` means crossed). */
function k6Verdicts(): Map<string, boolean> {
  const doc = JSON.parse(readFileSync(join(REFERENCE, 'fixture.summary-export.json'), 'utf8')) as {
    metrics: Record<string, { thresholds?: Record<string, boolean> }>;
  };
  const out = new Map<string, boolean>();
  for (const [key, m] of Object.entries(doc.metrics))
    for (const [source, crossed] of Object.entries(m.thresholds ?? {})) out.set(`${key} ${source}`, !crossed);
  return out;
}

/** Thresholds on gauges, counters, rates and trends that k6 accepts, refuses or fails, beyond the reference's own. */
const EDGE_CASES: readonly (readonly [string, string])[] = [
  ['http_req_duration', 'avg<.5e3'],
  ['http_req_duration', 'p(95)<+500'],
  ['http_req_duration', 'p(99)<Inf'],
  ['http_req_duration', 'p(.5)<1000'],
  ['http_req_duration', 'p(99.9) <= 1e4'],
  ['http_req_duration', 'max<1'],
  ['http_req_duration', 'med>=0x0p+0'],
  ['http_req_failed', 'rate<.5'],
  ['http_req_failed', 'rate==0'],
  ['http_reqs', 'count>0'],
  ['http_reqs', 'count<1'],
  ['http_reqs', 'rate>0'],
  ['checks', 'rate!=1'],
  ['vus', 'value>0'],
  ['vus', 'value===1'],
  ['fixture_queue_depth', 'value<-1'],
  // refused by k6: methods a gauge does not offer, malformed expressions, a percentile out of range
  ['vus', 'max<1000'],
  ['vus', 'min>0'],
  ['fixture_queue_depth', 'avg<100'],
  ['http_reqs', 'avg<1'],
  ['http_req_duration', 'p(95)<<500'],
  ['http_req_duration', 'mean<3'],
  ['http_req_duration', 'p(101)<5'],
  ['http_req_duration', 'p95<500'],
  ['http_req_duration', 'avg<1_000'],
];

void test('engine and report give the same verdict on every reference threshold and every edge case', async () => {
  const lines = readFileSync(OUT, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as MetricLine | PointLine);
  const registry = new MetricRegistry();
  const reference: [string, string][] = [];
  for (const l of lines) {
    if (l.type !== 'Metric') continue;
    registry.define(l.data.name, l.data.type, l.data.contains);
    for (const t of l.data.thresholds) reference.push([l.data.name, typeof t === 'string' ? t : t.threshold]);
  }
  const k6 = k6Verdicts();
  for (const id of k6.keys()) {
    const at = id.lastIndexOf(' ');
    const pair: [string, string] = [id.slice(0, at), id.slice(at + 1)];
    if (!reference.some(([k, s]) => k === pair[0] && s === pair[1])) reference.push(pair);
  }
  assert.ok(reference.length >= 14, `the reference's thresholds: ${String(reference.length)}`);
  const all = [...reference, ...EDGE_CASES];

  // The engine: the run's threshold set on its aggregator, fed the reference run's samples.
  const raw: Record<string, string[]> = {};
  for (const [key, source] of all) (raw[key] ??= []).push(source);
  const { set, issues } = parseThresholds(raw, registry);
  const agg = new Aggregator(registry, { submetrics: set.keys() });
  set.attach(agg);
  const samples: Sample[] = [];
  for (const l of lines)
    if (l.type === 'Point') samples.push({ metric: l.metric, time: Date.parse(l.data.time), value: l.data.value, tags: l.data.tags ?? {} });
  agg.add(samples);
  const handleSummary = JSON.parse(readFileSync(join(REFERENCE, 'fixture.handle-summary-data.json'), 'utf8')) as {
    state: { testRunDurationMs: number };
  };
  const durationMs = handleSummary.state.testRunDurationMs;
  const engine = set.evaluate(agg, durationMs);
  const refusedByEngine = (key: string, source: string): boolean =>
    issues.some(
      (i) =>
        i.path.startsWith(`thresholds.${key}`) &&
        (i.message.includes(JSON.stringify(source)) || i.path === `thresholds.${key}[${String(raw[key]?.indexOf(source) ?? -1)}]`),
    );

  // The report: the same output, evaluated after the run.
  const acc = await ingestFiles([OUT]);
  const k6Thresholds = new Map<string, Map<string, boolean>>();
  for (const [key, source] of all) {
    let m = k6Thresholds.get(key);
    if (m === undefined) {
      m = new Map();
      k6Thresholds.set(key, m);
    }
    m.set(source, true);
  }
  const model = buildModel(acc, { k6Thresholds, testRunDurationMs: durationMs, meta: {}, interrupted: false });
  const row = (key: string, source: string): ThresholdRow | undefined =>
    model.thresholds.find((r) => r.metric === key && r.expression === source);

  let accepted = 0;
  let refused = 0;
  for (const [key, source] of all) {
    const r = row(key, source);
    assert.ok(r !== undefined, `the report has a row for ${key} ${source}`);
    const engineRefused = refusedByEngine(key, source);
    assert.equal(
      r.problem !== undefined,
      engineRefused,
      `${key} ${source}: refused by the engine ${String(engineRefused)}, by the report ${String(r.problem !== undefined)} (${r.problem ?? ''})`,
    );
    if (engineRefused) {
      refused++;
      continue;
    }
    const verdict = engine.results[key]?.[source];
    assert.ok(verdict !== undefined, `${key} ${source} evaluated by the engine`);
    assert.equal(
      r.ok,
      verdict.ok,
      `${key} ${source}: engine ${String(verdict.ok)} (observed ${String(verdict.observed)}), report ${String(r.ok)} (observed ${String(r.observed)})`,
    );
    const k6Ok = k6.get(`${key} ${source}`);
    if (k6Ok !== undefined) assert.equal(r.ok, k6Ok, `${key} ${source}: k6 said ${String(k6Ok)}`);
    accepted++;
  }
  assert.ok(accepted >= 25 && refused >= 9, `accepted ${String(accepted)}, refused ${String(refused)}`);
  // The check can fail: both sides fail a crossed threshold and pass a kept one.
  assert.equal(row('http_req_duration', 'max<1')?.ok, false);
  assert.equal(row('http_req_duration', 'avg<.5e3')?.ok, true);
});
