import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { buildReport, loadRun } from '../../src/reporting/index.ts';
import { ingestFiles } from '../../src/reporting/ingest.ts';
import { mergedAgg } from '../../src/reporting/merged-aggregates.ts';
import { RELATIVE_ERROR } from '../../src/reporting/aggregate.ts';
import { exactQuantile, FIXTURE_HANDLE, FIXTURE_OUT, FIXTURE_SUMMARY, tmp } from './helpers.ts';

interface ExportMetric {
  count?: number;
  passes?: number;
  fails?: number;
  value?: number;
  min?: number;
  max?: number;
  avg?: number;
  med?: number;
  'p(90)'?: number;
  'p(95)'?: number;
  thresholds?: Record<string, boolean>;
}
const exported = (JSON.parse(readFileSync(FIXTURE_SUMMARY, 'utf8')) as { metrics: Record<string, ExportMetric> }).metrics;

function within(actual: number, expected: number, rel: number, label: string): void {
  const tol = Math.abs(expected) * rel + 1e-9;
  assert.ok(Math.abs(actual - expected) <= tol, `${label}: ${actual} is not within ${rel * 100} % of ${expected}`);
}

function runDir(files: { out?: string; gz?: boolean; summary?: boolean; handle?: boolean } = {}): string {
  const dir = join(tmp(), 'fixture-20261123T155814Z');
  mkdirSync(dir);
  const out = readFileSync(files.out ?? FIXTURE_OUT);
  if (files.gz === true) writeFileSync(join(dir, 'out.json.gz'), gzipSync(out));
  else writeFileSync(join(dir, 'out.json'), out);
  if (files.summary !== false) copyFileSync(FIXTURE_SUMMARY, join(dir, 'summary-export.json'));
  if (files.handle !== false) copyFileSync(FIXTURE_HANDLE, join(dir, 'handle-summary-data.json'));
  return dir;
}

void test('counts from the JSON output equal the summary export exactly', async () => {
  const model = await loadRun(runDir({ gz: true }));
  const byName = new Map(model.metrics.map((m) => [m.name, m.values]));
  let checked = 0;
  for (const [key, e] of Object.entries(exported)) {
    if (key.includes('{')) continue;
    const v = byName.get(key);
    assert.ok(v, `metric ${key} is in the report`);
    if (e.count !== undefined) assert.equal(v.count, e.count, `${key} count`);
    if (e.passes !== undefined) assert.equal(v.passes, e.passes, `${key} passes`);
    if (e.fails !== undefined) assert.equal(v.fails, e.fails, `${key} fails`);
    if (e.min !== undefined) assert.equal(v.min, e.min, `${key} min`);
    if (e.max !== undefined) assert.equal(v.max, e.max, `${key} max`);
    if (e.value !== undefined && e.count === undefined && e.passes === undefined) assert.equal(v.value, e.value, `${key} gauge value`);
    if (e.avg !== undefined) within(v.avg ?? NaN, e.avg, 1e-12, `${key} avg`);
    checked++;
  }
  assert.ok(checked >= 25, `checked ${checked} metrics`);
  assert.equal(
    model.checks.reduce((n, c) => n + c.passes, 0),
    exported.checks?.passes,
  );
  assert.equal(model.checks.find((c) => c.name === 'slow under 50ms')?.fails, 21);
});

void test(`percentiles are within ${RELATIVE_ERROR * 100} % of k6's (summary export and exact values)`, async () => {
  const model = await loadRun(runDir());
  const byName = new Map(model.metrics.map((m) => [m.name, m.values]));
  for (const [key, e] of Object.entries(exported)) {
    if (key.includes('{') || e.med === undefined) continue;
    const v = byName.get(key);
    assert.ok(v);
    within(v.p50 ?? NaN, e.med, RELATIVE_ERROR, `${key} med`);
    within(v.p90 ?? NaN, e['p(90)'] ?? NaN, RELATIVE_ERROR, `${key} p(90)`);
    within(v.p95 ?? NaN, e['p(95)'] ?? NaN, RELATIVE_ERROR, `${key} p(95)`);
  }
  // p(99) is not in the export: check it against the exact values of the file itself.
  const values = readFileSync(FIXTURE_OUT, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"metric":"http_req_duration"'))
    .map((l) => (JSON.parse(l) as { data: { value: number } }).data.value)
    .sort((a, b) => a - b);
  assert.equal(values.length, 273);
  within(byName.get('http_req_duration')?.p99 ?? NaN, exactQuantile(values, 0.99), RELATIVE_ERROR, 'http_req_duration p(99)');
  const acc = await ingestFiles([FIXTURE_OUT]);
  const agg = mergedAgg(acc, 'http_req_duration');
  for (const q of [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999])
    within(agg?.sketch?.quantile(q) ?? NaN, exactQuantile(values, q), RELATIVE_ERROR, `p(${q * 100})`);
  // Submetric percentiles (tag filter) too.
  const health = mergedAgg(acc, 'http_req_duration', { endpoint: 'health' });
  within(
    health?.sketch?.quantile(0.95) ?? NaN,
    exported['http_req_duration{endpoint:health}']?.['p(95)'] ?? NaN,
    RELATIVE_ERROR,
    'health p(95)',
  );
});

void test('threshold verdicts equal k6 (summary export: true = crossed)', async () => {
  const model = await loadRun(runDir());
  let n = 0;
  for (const [key, e] of Object.entries(exported)) {
    for (const [expr, crossed] of Object.entries(e.thresholds ?? {})) {
      const row = model.thresholds.find((t) => t.metric === key && t.expression === expr);
      assert.ok(row, `threshold ${key} ${expr} evaluated`);
      assert.equal(row.ok, !crossed, `${key} ${expr}`);
      assert.equal(row.k6Ok, !crossed);
      n++;
    }
  }
  assert.equal(n, 14);
  assert.equal(model.thresholds.length, 14);
  // Thresholds declared on the Metric lines alone (no summary export) are evaluated as well.
  const bare = await loadRun(runDir({ summary: false, handle: false }));
  assert.equal(bare.thresholds.length, 11);
  assert.deepEqual(
    bare.thresholds
      .filter((t) => !t.ok)
      .map((t) => `${t.metric} ${t.expression}`)
      .sort(),
    ['checks rate>0.9', 'fixture_ttft avg<1'],
  );
});

void test('buildReport writes every file and exits 99 like k6 for crossed thresholds', async () => {
  const dir = runDir({ gz: true });
  const res = await buildReport({ runDir: dir, historyDir: false });
  assert.equal(res.verdict, 'fail');
  assert.equal(res.exitCode, 99);
  assert.deepEqual(res.files.map((f) => f.slice(dir.length + 1)).sort(), ['junit.xml', 'report.html', 'summary.md', 'verdict.json']);
  const v = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as {
    kind: string;
    exitCode: number;
    thresholds: unknown[];
    run: { truncated: boolean };
  };
  assert.equal(v.kind, 'agentload-verdict');
  assert.equal(v.exitCode, 99);
  assert.equal(v.run.truncated, false);
  const md = readFileSync(join(dir, 'summary.md'), 'utf8');
  assert.match(md, /FAIL \(exit 99\)/);
  assert.match(md, /`http_req_duration\{scenario:ramp\}` \| `med<50`/);
});

void test('a truncated output (cut mid-line, killed run) still reports, marked truncated', async () => {
  const whole = readFileSync(FIXTURE_OUT, 'utf8');
  const cut = whole.slice(0, Math.floor(whole.length * 0.6));
  assert.notEqual(cut.at(-1), '\n');
  const completeLines = cut.split('\n').length - 1;
  const d1 = tmp();
  writeFileSync(join(d1, 'out.json'), cut);
  const model = await loadRun(join(d1, 'out.json'));
  assert.equal(model.meta.truncated, true);
  assert.equal(model.meta.files[0]?.lines, completeLines + 1);
  const expected = cut
    .split('\n')
    .slice(0, completeLines)
    .filter((l) => l.startsWith('{"metric":"http_reqs","type":"Point"')).length;
  assert.equal(model.metrics.find((m) => m.name === 'http_reqs')?.values.count, expected);
  // Gzip cut mid-stream too.
  const d2 = tmp();
  const gz = gzipSync(whole);
  writeFileSync(join(d2, 'out.json.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  const res = await buildReport({ runDir: d2, historyDir: false });
  assert.equal(res.exitCode, 99);
  const html = readFileSync(join(d2, 'report.html'), 'utf8');
  assert.match(html, /truncated/);
  const v = JSON.parse(readFileSync(join(d2, 'verdict.json'), 'utf8')) as { run: { truncated: boolean }; reasons: string[] };
  assert.equal(v.run.truncated, true);
  assert.ok(v.reasons.some((r) => r.includes('truncated')));
  // The complete file is not marked.
  assert.equal((await loadRun(FIXTURE_OUT)).meta.truncated, false);
});

void test('two halves (segments) merge into the same report as the whole, thresholds on merged data', async () => {
  const lines = readFileSync(FIXTURE_OUT, 'utf8').split('\n').filter(Boolean);
  const defs = lines.filter((l) => l.startsWith('{"type":"Metric"'));
  const points = lines.filter((l) => !l.startsWith('{"type":"Metric"'));
  const d = tmp();
  const a = join(d, 'out.0.json');
  const b = join(d, 'out.1.json.gz');
  writeFileSync(a, [...defs, ...points.filter((_, i) => i % 2 === 0)].join('\n') + '\n');
  writeFileSync(b, gzipSync([...defs, ...points.filter((_, i) => i % 2 === 1)].join('\n') + '\n'));
  const whole = await loadRun(FIXTURE_OUT);
  const merged = await loadRun(d);
  assert.equal(merged.meta.files.length, 2);
  const strip = (m: typeof whole): unknown => ({
    metrics: m.metrics,
    thresholds: m.thresholds,
    endpoints: m.endpoints,
    checks: m.checks,
    errors: m.errors,
  });
  const round = (x: unknown): unknown =>
    JSON.parse(JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(10)) : v)));
  assert.deepEqual(round(strip(merged)), round(strip(whole)));
  // Order of segments does not matter.
  const reversed = await loadRun(d, { inputs: [b, a] });
  assert.deepEqual(round(strip(reversed)), round(strip(whole)));
  // A segment alone differs (so the comparison above can fail).
  const half = await loadRun(d, { inputs: [a] });
  assert.notDeepEqual(round(strip(half)), round(strip(whole)));
});

void test('a missing run gives input-not-found', async () => {
  await assert.rejects(loadRun(join(tmp(), 'nope')), { code: 'input-not-found' });
  const empty = tmp();
  writeFileSync(join(empty, 'out.json'), '');
  await assert.rejects(loadRun(empty), { code: 'input-empty' });
});

void test("the run command's manifest (agentload.run/1) feeds the report; an earlier verdict's exit code is not taken for the engine's", async () => {
  const dir = runDir();
  const manifest = {
    schema: 'agentload.run/1',
    scenario: { name: 'api-smoke', path: 'scenarios/api-smoke.ts' },
    engine: { kind: 'k6', name: 'k6', version: 'v0.49.0' },
    toolkit: { name: 'agentload', version: '0.1.0' },
    git: { sha: '0123456789abcdef' },
    startedAt: '2026-11-23T15:58:14Z',
    endedAt: '2026-11-23T15:58:18Z',
    engineExitCode: 99,
    exitCode: 4,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(manifest));
  const model = await loadRun(dir);
  assert.equal(model.meta.scenario, 'api-smoke');
  assert.equal(model.meta.gitSha, '0123456789abcdef');
  assert.equal(model.meta.toolkitVersion, '0.1.0');
  assert.equal(model.meta.exitCode, 99);
  const res = await buildReport({ runDir: dir, historyDir: false });
  assert.equal(res.exitCode, 99);
  // A run that k6 ended with another of its codes (107: script error) fails with that code.
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...manifest, engineExitCode: 107 }));
  const { decideVerdict } = await import('../../src/reporting/index.ts');
  const m107 = await loadRun(dir);
  const v = decideVerdict({ ...m107, thresholds: m107.thresholds.map((t) => ({ ...t, ok: true })) }, undefined, undefined);
  assert.equal(v.exitCode, 107);
  assert.equal(v.verdict, 'fail');
});
