import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator, MetricRegistry } from '../../../engine/metrics/index.ts';
import { parseThresholds, thresholdsAbortMessage, thresholdsCrossedMessage, type ThresholdSet } from '../../../engine/thresholds/index.ts';
import type { Sample } from '../../../engine/contracts.ts';
import {
  FIXTURE_CUSTOM_METRICS,
  FIXTURE_THRESHOLDS,
  fixtureSamples,
  handleSummaryReference,
  readReference,
  readReferenceJson,
} from '../metrics/k6-fixture.ts';

function fixtureSetup(samples: readonly Sample[]): { agg: Aggregator; set: ThresholdSet } {
  const registry = new MetricRegistry();
  for (const m of FIXTURE_CUSTOM_METRICS) registry.define(m.name, m.type, m.contains);
  const { set, issues } = parseThresholds(FIXTURE_THRESHOLDS, registry);
  assert.deepEqual(issues, []);
  const agg = new Aggregator(registry, { submetrics: set.keys() });
  agg.add(samples);
  return { agg, set };
}

function k6LogMessage(file: string): string {
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(readReference(file));
  assert.ok(m, file);
  return JSON.parse(`"${m[1] ?? ''}"`) as string;
}

void describe('threshold evaluation against the k6 reference run', () => {
  void it('gives the same verdict for every threshold as k6 (handleSummary and summary export)', () => {
    const ref = handleSummaryReference();
    const exported = readReferenceJson('fixture.summary-export.json') as {
      metrics: Record<string, { thresholds?: Record<string, boolean> }>;
    };
    const { agg, set } = fixtureSetup(fixtureSamples());
    const ev = set.evaluate(agg, ref.state.testRunDurationMs);
    let compared = 0;
    for (const [key, perSource] of Object.entries(ev.results)) {
      const name = agg.resolve(key)?.name ?? key;
      for (const [source, outcome] of Object.entries(perSource)) {
        assert.equal(outcome.ok, ref.metrics[name]?.thresholds?.[source]?.ok, `${name} ${source} observed ${String(outcome.observed)}`);
        assert.equal(!outcome.ok, exported.metrics[name]?.thresholds?.[source], `${name} ${source} (export: true = crossed)`);
        compared++;
      }
    }
    assert.equal(compared, 14);
    assert.equal(ev.ok, false);
    assert.equal(ev.shouldAbort, false);
    assert.equal(thresholdsCrossedMessage(ev.crossed), k6LogMessage('fixture.stderr.txt'));
    assert.equal(readReference('fixture.exit-code.txt').trim(), 'exit=99');
  });

  void it('flips the checks verdict when the failing check samples pass instead', () => {
    const samples = fixtureSamples().map((s) => (s.metric === 'checks' && s.tags.check === 'slow under 50ms' ? { ...s, value: 1 } : s));
    const { agg, set } = fixtureSetup(samples);
    const ev = set.evaluate(agg, 4019);
    assert.equal(ev.results.checks?.['rate>0.9']?.ok, true);
    assert.deepEqual(ev.crossed, ['fixture_ttft', 'http_req_duration{scenario:ramp}']);
  });

  void it('flips a counter rate verdict with the elapsed time (count per second of test time)', () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ iterations: ['rate>=10'] }, registry);
    const agg = new Aggregator(registry);
    agg.add(Array.from({ length: 20 }, (_, i) => ({ metric: 'iterations', time: i, value: 1, tags: {} })));
    assert.equal(set.evaluate(agg, 2000).ok, true);
    assert.equal(set.evaluate(agg, 2001).ok, false);
    assert.equal(set.evaluate(agg, 2001).results.iterations?.['rate>=10']?.observed, 20 / 2.001);
  });

  void it('passes thresholds of metrics without data (no data = pass) and shows them in the summary', () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ ws_ping: ['p(95)<1'], 'http_req_duration{scenario:none}': ['max<1'] }, registry);
    const agg = new Aggregator(registry);
    agg.add([{ metric: 'http_req_duration', time: 1, value: 500, tags: { scenario: 'other' } }]);
    const ev = set.evaluate(agg, 10_000);
    assert.equal(ev.ok, true);
    assert.deepEqual(ev.results.ws_ping?.['p(95)<1'], { source: 'p(95)<1', ok: true, observed: undefined });
    const observed = agg.observed().map((m) => m.name);
    assert.ok(observed.includes('ws_ping'));
    assert.ok(observed.includes('http_req_duration{scenario:none}'));
  });
});

void describe('abortOnFail and delayAbortEval', () => {
  const failing = (n: number, t0 = 0): Sample[] =>
    Array.from({ length: n }, (_, i) => ({ metric: 'http_req_failed', time: t0 + i, value: 1, tags: {} }));

  void it('aborts at once without delayAbortEval', () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }] }, registry);
    const agg = new Aggregator(registry);
    assert.equal(set.evaluate(agg, 0).shouldAbort, false); // no data yet
    agg.add(failing(3));
    const ev = set.evaluate(agg, 1);
    assert.equal(ev.shouldAbort, true);
    assert.equal(ev.abortReasons.length, 1);
  });

  void it('waits until the time in test is strictly past delayAbortEval (abort.js: stops at the 2 s evaluation)', () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '1s' }] }, registry);
    const agg = new Aggregator(registry);
    agg.add(failing(100));
    assert.equal(set.evaluate(agg, 999).shouldAbort, false);
    assert.equal(set.evaluate(agg, 1000).shouldAbort, false);
    const atTwo = set.evaluate(agg, 2000);
    assert.equal(atTwo.shouldAbort, true);
    assert.equal(thresholdsAbortMessage(atTwo.crossed), k6LogMessage('abort.stdout.txt'));
    assert.equal(readReference('abort.exit-code.txt').trim(), 'exit=99');
  });

  void it('keeps the abort flag once set, but aborts only while the metric fails', () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: '5s' }] }, registry);
    const agg = new Aggregator(registry);
    agg.add(failing(1));
    assert.equal(set.evaluate(agg, 6000).shouldAbort, true);
    agg.add(Array.from({ length: 9 }, (_, i) => ({ metric: 'http_req_failed', time: 10 + i, value: 0, tags: {} })));
    assert.equal(set.evaluate(agg, 7000).shouldAbort, false);
  });

  void it('does not abort on failing thresholds without abortOnFail', () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ http_req_failed: ['rate<0.1'] }, registry);
    const agg = new Aggregator(registry);
    agg.add(failing(5));
    const ev = set.evaluate(agg, 60_000);
    assert.equal(ev.ok, false);
    assert.equal(ev.shouldAbort, false);
  });
});
