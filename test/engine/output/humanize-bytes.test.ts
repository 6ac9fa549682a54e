/**
 * Data sizes in the end-of-test summary follow k6's own humanizeBytes (js/summary.js in grafana/k6):
 * values of 10 B and more are rounded to one significant decimal with a unit; values under 10 B are printed
 * as they are, unrounded (`bytes + ' B'`), which is what k6 prints for a tiny data rate too. The engine's
 * summary must read like k6's, so it keeps that.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanizeValue } from '../../../engine/output/text-summary.ts';

const data = { type: 'counter', contains: 'data' } as const;

void test("data values as k6's summary prints them", () => {
  assert.equal(humanizeValue(0, data), '0 B');
  assert.equal(humanizeValue(6.604474423447817, data), '6.604474423447817 B', 'under 10 B: unrounded, as k6');
  assert.equal(humanizeValue(10, data), '10 B');
  assert.equal(humanizeValue(12.34, data), '12 B');
  assert.equal(humanizeValue(999.6, data), '1000 B');
  assert.equal(humanizeValue(9049, data), '9.0 kB');
  assert.equal(humanizeValue(445_123, data), '445 kB');
  assert.equal(humanizeValue(2_212_000, data), '2.2 MB');
});
