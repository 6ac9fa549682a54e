// k6 durations: parsing (Go syntax + k6's extensions) and Go's Duration.String() formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../engine/units/duration.ts';

void test('parses Go durations, k6 day units, bare numbers as milliseconds', () => {
  const cases: [unknown, number][] = [
    ['1h2m3.5s', 3_723_500],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['1d', 86_400_000],
    ['2h', 7_200_000],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['100ns', 0.0001],
    ['.5s', 500],
    ['10', 10],
    ['0', 0],
    ['-5s', -5000],
    [1500, 1500],
    [0, 0],
  ];
  for (const [input, ms] of cases) {
    const r = parseDuration(input);
    assert.ok(r.ok, `${String(input)} parses`);
    assert.ok(Math.abs(r.ms - ms) < 1e-9, `${String(input)} = ${ms}, got ${r.ms}`);
  }
});

void test('rejects what k6 rejects, with a message that shows the value', () => {
  for (const input of ['', '5x', '1h2', 's', 'abc', '1.2.3s', null, {}, true, [], Number.NaN]) {
    const r = parseDuration(input);
    assert.equal(r.ok, false, `${JSON.stringify(input)} must not parse`);
  }
  const r = parseDuration('5x');
  assert.match(r.ok ? '' : r.message, /"5x"/);
});

void test("formats like Go's time.Duration.String()", () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [500, '500ms'],
    [1500, '1.5s'],
    [30_000, '30s'],
    [41_000, '41s'],
    [60_000, '1m0s'],
    [600_000, '10m0s'],
    [90_000, '1m30s'],
    [3_723_500, '1h2m3.5s'],
    [3_600_000, '1h0m0s'],
    [0.001, '1µs'],
    [1.5, '1.5ms'],
    [0.0001, '100ns'],
    [-1500, '-1.5s'],
  ];
  for (const [ms, want] of cases) assert.equal(formatDuration(ms), want, `${ms} ms`);
});

void test('property: formatting then parsing gives the same milliseconds back', () => {
  fc.assert(
    fc.property(fc.integer({ min: -1e9, max: 1e10 }), (ms) => {
      const r = parseDuration(formatDuration(ms));
      assert.ok(r.ok);
      assert.equal(r.ms, ms);
    }),
  );
});
