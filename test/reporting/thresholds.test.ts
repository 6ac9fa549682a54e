import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRun } from '../../src/reporting/index.ts';
import { httpRun, tmp } from './helpers.ts';

void test('thresholds are evaluated on the data, pass and fail both', async () => {
  const d = tmp();
  // 100 requests, latencies 1..100 ms, every 10th fails: p(95)=95.05, rate=0.1
  writeFileSync(
    join(d, 'out.json'),
    httpRun({ n: 100, latency: (i) => i + 1, errEvery: 10, thresholds: ['p(95)<96', 'p(95)<95', 'avg<51', 'max<=100', 'min>1'] }),
  );
  const m = await loadRun(d);
  const by = new Map(m.thresholds.map((t) => [t.expression, t.ok]));
  assert.equal(by.get('p(95)<96'), true);
  assert.equal(by.get('p(95)<95'), false);
  assert.equal(by.get('avg<51'), true);
  assert.equal(by.get('max<=100'), true);
  assert.equal(by.get('min>1'), false);
});

void test('an aggregation the metric type does not have is reported, not passed', async () => {
  const d = tmp();
  writeFileSync(join(d, 'out.json'), httpRun({ n: 5, latency: () => 1, thresholds: ['rate<0.1'] }));
  const row = (await loadRun(d)).thresholds[0];
  assert.ok(row);
  assert.equal(row.ok, false);
  assert.match(
    row.problem ?? '',
    /unsupported aggregation method rate on metric of type trend\. supported aggregation methods for this metric are: avg, min, max, med, p\(N\)/,
  );
});

void test('an interrupted run whose thresholds pass is a warning (exit 0), marked in every output', async () => {
  const { buildReport } = await import('../../src/reporting/index.ts');
  const { readFileSync } = await import('node:fs');
  const d = tmp();
  writeFileSync(join(d, 'out.json'), httpRun({ n: 50, latency: () => 5, thresholds: ['p(95)<100'] }));
  const res = await buildReport({ runDir: d, interrupted: true, historyDir: false });
  assert.equal(res.verdict, 'warn');
  assert.equal(res.exitCode, 0);
  assert.match(readFileSync(join(d, 'report.html'), 'utf8'), /The run was interrupted/);
  assert.match(readFileSync(join(d, 'summary.md'), 'utf8'), /interrupted/);
  const plain = await buildReport({ runDir: d, historyDir: false });
  assert.equal(plain.verdict, 'pass');
});

void test('k6 verdicts from several segment summary exports combine (a threshold is ok only if ok everywhere)', async () => {
  const d = tmp();
  writeFileSync(join(d, 'out.json'), httpRun({ n: 20, latency: () => 5 }));
  writeFileSync(
    join(d, 'summary-export.0.json'),
    JSON.stringify({ metrics: { http_req_duration: { thresholds: { 'p(95)<100': false } } } }),
  );
  writeFileSync(
    join(d, 'summary-export.1.json'),
    JSON.stringify({ metrics: { http_req_duration: { thresholds: { 'p(95)<100': true } } } }),
  );
  const row = (await loadRun(d)).thresholds.find((t) => t.expression === 'p(95)<100');
  assert.ok(row);
  assert.equal(row.k6Ok, false, 'crossed in one segment');
  assert.equal(row.ok, true, 'but not on the merged data');
});
