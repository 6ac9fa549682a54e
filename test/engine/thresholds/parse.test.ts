import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MetricRegistry } from '../../../engine/metrics/index.ts';
import {
  goDurationString,
  parseGoFloat,
  parseK6Duration,
  parseThresholdExpression,
  parseThresholds,
  thresholdMetricKeys,
} from '../../../engine/thresholds/index.ts';
import { readReference } from '../metrics/k6-fixture.ts';

void describe('threshold expressions', () => {
  const valid: [string, object][] = [
    ['p(95)<500', { method: 'p', percentile: 95, operator: '<', value: 500 }],
    ['p(99.9) < 1000', { method: 'p', percentile: 99.9, operator: '<', value: 1000 }],
    ['  p(50)   <=  50  ', { method: 'p', percentile: 50, operator: '<=', value: 50 }],
    ['avg<=1', { method: 'avg', operator: '<=', value: 1 }],
    ['med<50', { method: 'med', operator: '<', value: 50 }],
    ['min>0', { method: 'min', operator: '>', value: 0 }],
    ['max < 2000', { method: 'max', operator: '<', value: 2000 }],
    ['rate>0.9', { method: 'rate', operator: '>', value: 0.9 }],
    ['count>=5', { method: 'count', operator: '>=', value: 5 }],
    ['value==3', { method: 'value', operator: '==', value: 3 }],
    ['value===3', { method: 'value', operator: '===', value: 3 }],
    ['rate!=0', { method: 'rate', operator: '!=', value: 0 }],
    ['rate<1e-3', { method: 'rate', operator: '<', value: 0.001 }],
    ['avg<.5', { method: 'avg', operator: '<', value: 0.5 }],
    ['avg<-1', { method: 'avg', operator: '<', value: -1 }],
    ['p(0)>=0', { method: 'p', percentile: 0, operator: '>=', value: 0 }],
    ['p(100)<9', { method: 'p', percentile: 100, operator: '<', value: 9 }],
  ];
  for (const [src, expr] of valid) {
    void it(`parses ${JSON.stringify(src)}`, () => {
      const r = parseThresholdExpression(src);
      assert.ok(r.ok, src);
      assert.deepEqual(r.expr, expr);
    });
  }

  const invalid: [string, string][] = [
    [
      'p(95)<<500',
      `failed parsing threshold expresion's "p(95)<<500" right hand side; reason: strconv.ParseFloat: parsing "<500": invalid syntax`,
    ],
    ['', `failed parsing threshold expression ""; reason: malformed threshold expression`],
    ['avg 500', `failed parsing threshold expression "avg 500"; reason: malformed threshold expression`],
    ['p95<500', `failed parsing threshold expression's "p95<500" left hand side; reason: failed parsing method from expression`],
    ['mean<5', `failed parsing threshold expression's "mean<5" left hand side; reason: failed parsing method from expression`],
    ['p<5', `failed parsing threshold expression's "p<5" left hand side; reason: failed parsing method from expression`],
    ['<5', `failed parsing threshold expression's "<5" left hand side; reason: failed parsing method from expression`],
    [
      'p(abc)<5',
      `failed parsing threshold expression's "p(abc)<5" left hand side; reason: malformed percentile value; reason: strconv.ParseFloat: parsing "abc": invalid syntax`,
    ],
    [
      'p()<5',
      `failed parsing threshold expression's "p()<5" left hand side; reason: malformed percentile value; reason: strconv.ParseFloat: parsing "": invalid syntax`,
    ],
    ['avg<', `failed parsing threshold expresion's "avg<" right hand side; reason: strconv.ParseFloat: parsing "": invalid syntax`],
    [
      'avg<5ms',
      `failed parsing threshold expresion's "avg<5ms" right hand side; reason: strconv.ParseFloat: parsing "5ms": invalid syntax`,
    ],
    [
      'avg<1_000',
      `failed parsing threshold expresion's "avg<1_000" right hand side; reason: strconv.ParseFloat: parsing "1_000": invalid syntax`,
    ],
    [
      'avg<1e999',
      `failed parsing threshold expresion's "avg<1e999" right hand side; reason: strconv.ParseFloat: parsing "1e999": value out of range`,
    ],
    ['avg=>5', `failed parsing threshold expression's "avg=>5" left hand side; reason: failed parsing method from expression`],
  ];
  for (const [src, message] of invalid) {
    void it(`rejects ${JSON.stringify(src)}`, () => {
      const r = parseThresholdExpression(src);
      assert.deepEqual(r, { ok: false, message });
    });
  }

  void it('rejects percentiles outside 0..100', () => {
    const r = parseThresholdExpression('p(150)<5');
    assert.equal(r.ok, false);
  });

  void it('produces the exact message k6 printed for init-error.js (exit 104)', () => {
    const stdout = readReference('init-error.stdout.txt');
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(stdout);
    assert.ok(m);
    const k6Message = JSON.parse(`"${m[1] ?? ''}"`) as string;
    const r = parseThresholdExpression('p(95)<<500');
    assert.ok(!r.ok);
    assert.equal(r.message, k6Message);
    assert.equal(readReference('init-error.exit-code.txt').trim(), 'exit=104');
  });

  void it('parses floats like Go strconv.ParseFloat', () => {
    assert.deepEqual(parseGoFloat('0x1p-2'), { ok: true, value: 0.25 });
    assert.deepEqual(parseGoFloat('+Inf'), { ok: true, value: Infinity });
    assert.deepEqual(parseGoFloat('1.5E3'), { ok: true, value: 1500 });
    assert.equal(parseGoFloat('1.2.3').ok, false);
    assert.equal(parseGoFloat(' 1').ok, false);
  });

  void it('parses k6 durations for delayAbortEval', () => {
    assert.equal(parseK6Duration('1s'), 1000);
    assert.equal(parseK6Duration('1m30s'), 90_000);
    assert.equal(parseK6Duration('1.5h'), 5_400_000);
    assert.equal(parseK6Duration('250ms'), 250);
    assert.equal(parseK6Duration('1d'), 86_400_000);
    assert.equal(parseK6Duration('0'), 0);
    assert.equal(parseK6Duration('10'), undefined);
    assert.equal(parseK6Duration('soon'), undefined);
  });
});

void describe('parseThresholds', () => {
  void it('accepts strings and objects, keeping abortOnFail and delayAbortEval', () => {
    const { set, issues } = parseThresholds(
      {
        http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '1s' }],
        'http_req_duration{endpoint:health}': ['p(50)<50', 'max<2000'],
      },
      new MetricRegistry(),
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(set.keys(), ['http_req_failed', 'http_req_duration{endpoint:health}']);
    const d = set.byKey.http_req_failed?.[0];
    assert.ok(d);
    assert.equal(d.abortOnFail, true);
    assert.equal(d.delayAbortEvalMs, 1000);
    assert.deepEqual(set.sourcesByKey(), { http_req_failed: ['rate<0.1'], 'http_req_duration{endpoint:health}': ['p(50)<50', 'max<2000'] });
  });

  void it('treats undefined as no thresholds', () => {
    const { set, issues } = parseThresholds(undefined);
    assert.equal(set.isEmpty(), true);
    assert.deepEqual(issues, []);
  });

  void it('reports EVERY problem at once, with stable codes and paths', () => {
    const registry = new MetricRegistry();
    registry.define('my_counter', 'counter');
    const { issues } = parseThresholds(
      {
        http_req_duration: ['p(95)<<500', 'avg<1', 'rate<3'],
        'http_req_duration{endpoint': ['avg<1'],
        'http_req_duration{}': ['avg<1'],
        'http_req_duration{a:b}x': ['avg<1'],
        'http_req_duration}': ['avg<1'],
        'http_req_duration{a:}': ['avg<1'],
        no_such_metric: ['avg<1'],
        'no_such_metric{a:b}': ['avg<1'],
        my_counter: ['avg<1', 'count>1', 'rate>1', 'value>1'],
        checks: 'rate>0.9',
        vus: [42, { threshold: 'value<9', abortOnFail: 'yes', delayAbortEval: 'later', extra: 1 }, { abortOnFail: true }],
      },
      registry,
    );
    const got = issues.map((i) => [i.code, i.path]);
    assert.deepEqual(got, [
      ['invalid-threshold-expression', 'thresholds.http_req_duration[0]'],
      ['invalid-metric-key', 'thresholds.http_req_duration{endpoint'],
      ['invalid-metric-key', 'thresholds.http_req_duration{}'],
      ['invalid-metric-key', 'thresholds.http_req_duration{a:b}x'],
      ['invalid-metric-key', 'thresholds.http_req_duration}'],
      ['invalid-metric-key', 'thresholds.http_req_duration{a:}'],
      ['invalid-threshold-config', 'thresholds.checks'],
      ['invalid-threshold-config', 'thresholds.vus[0]'],
      ['unknown-threshold-field', 'thresholds.vus[1].extra'],
      ['invalid-threshold-config', 'thresholds.vus[1].abortOnFail'],
      ['invalid-threshold-config', 'thresholds.vus[1].delayAbortEval'],
      ['invalid-threshold-config', 'thresholds.vus[2].threshold'],
      ['unsupported-aggregation', 'thresholds.http_req_duration'],
      ['unknown-metric', 'thresholds.no_such_metric'],
      ['unknown-metric', 'thresholds.no_such_metric{a:b}'],
      ['unsupported-aggregation', 'thresholds.my_counter'],
      ['unsupported-aggregation', 'thresholds.my_counter'],
    ]);
    const unsupported = issues.find((i) => i.code === 'unsupported-aggregation');
    assert.equal(
      unsupported?.message,
      'invalid threshold "rate<3" applied on metric http_req_duration; reason: unsupported aggregation method rate on metric of type trend. supported aggregation methods for this metric are: avg, min, max, med, p(N)',
    );
    const key = issues.find((i) => i.path === 'thresholds.http_req_duration{endpoint');
    assert.match(key?.message ?? '', /metric "http_req_duration\{endpoint" has unmatched opening\/close curly brace/);
    assert.match(
      issues.find((i) => i.code === 'unknown-metric')?.message ?? '',
      /^invalid threshold defined on no_such_metric; reason: no metric name "no_such_metric" found/,
    );
  });

  void it('validates unknown metrics only when the registry knows the custom ones (after init)', () => {
    const raw = { my_trend: ['p(95)<1'] };
    const before = parseThresholds(raw);
    assert.deepEqual(before.issues, []);
    const registry = new MetricRegistry();
    assert.deepEqual(
      before.set.validate(registry).map((i) => i.code),
      ['unknown-metric'],
    );
    registry.define('my_trend', 'trend', 'time');
    assert.deepEqual(before.set.validate(registry), []);
  });

  void it('rejects a non-object thresholds option', () => {
    assert.deepEqual(
      parseThresholds(['p(95)<1']).issues.map((i) => i.code),
      ['invalid-thresholds'],
    );
  });
});

void describe('thresholdMetricKeys (--no-thresholds still tracks submetrics)', () => {
  void it('keeps well-formed keys of known metrics only', () => {
    const registry = new MetricRegistry();
    assert.deepEqual(
      thresholdMetricKeys({ 'http_req_duration{scenario:a}': ['bad'], unknown_metric: [], 'checks{': [], vus: 'x' }, registry),
      ['http_req_duration{scenario:a}', 'vus'],
    );
    assert.deepEqual(thresholdMetricKeys(undefined, registry), []);
  });
});

void describe('thresholds as k6 writes them in --out json Metric lines', () => {
  void it('keeps plain sources and writes abortOnFail thresholds as objects with a Go duration', () => {
    const { set } = parseThresholds({
      http_req_failed: [
        'rate<0.5',
        { threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '90s' },
        { threshold: 'rate<0.2', abortOnFail: true },
      ],
      checks: [{ threshold: 'rate>0.9', abortOnFail: false, delayAbortEval: '1s' }],
    });
    assert.deepEqual(set.jsonConfigByKey(), {
      http_req_failed: [
        'rate<0.5',
        { threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '1m30s' },
        { threshold: 'rate<0.2', abortOnFail: true, delayAbortEval: null },
      ],
      checks: ['rate>0.9'],
    });
  });

  void it("formats durations like Go's time.Duration.String", () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [1000, '1s'],
      [1500, '1.5s'],
      [90_000, '1m30s'],
      [3_600_000, '1h0m0s'],
      [250, '250ms'],
      [0.5, '500µs'],
      [0.000001, '1ns'],
      [-2000, '-2s'],
    ];
    for (const [ms, want] of cases) assert.equal(goDurationString(ms), want, String(ms));
  });
});
