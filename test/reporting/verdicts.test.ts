/**
 * Verdicts a pipeline can trust: a run where no request got an answer, or where nothing was done at all,
 * fails (exit 5) instead of passing; input that is not k6 output is one line and exit 2, and writes
 * nothing; report files land only in run folders unless --out says where; junit.xml fails whenever the
 * run failed (a run stopped from outside or aborted by its script included).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportMain } from '../../src/reporting/cli.ts';
import { buildReport } from '../../src/reporting/index.ts';
import { httpRun, metricLine, pointLine, ROOT, tmp } from './helpers.ts';

function io(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

/** `n` requests that never got a response (status 0, k6's connection-refused code). */
function refusedRun(n: number): string {
  const start = Date.UTC(2026, 0, 1, 12, 0, 0);
  const lines = [
    metricLine('http_reqs', 'counter'),
    metricLine('http_req_duration', 'trend'),
    metricLine('http_req_failed', 'rate'),
    metricLine('iterations', 'counter'),
  ];
  for (let i = 0; i < n; i++) {
    const tags = {
      method: 'GET',
      name: 'http://127.0.0.1:9/health',
      scenario: 'default',
      status: '0',
      error_code: '1212',
      expected_response: 'false',
      group: '',
    };
    const t = start + i * 10;
    lines.push(
      pointLine('http_reqs', t, 1, tags),
      pointLine('http_req_duration', t, 0, tags),
      pointLine('http_req_failed', t, 1, tags),
      pointLine('iterations', t, 1, { scenario: 'default', group: '' }),
    );
  }
  return lines.join('\n') + '\n';
}

void test('no HTTP request got a response: fail, exit 5, the reason says so (also without any threshold)', async () => {
  const d = tmp();
  writeFileSync(join(d, 'out.json'), refusedRun(40));
  const r = await buildReport({ runDir: d, historyDir: false });
  assert.deepEqual([r.verdict, r.exitCode], ['fail', 5]);
  const verdict = JSON.parse(readFileSync(join(d, 'verdict.json'), 'utf8')) as { reasons: string[] };
  assert.ok(
    verdict.reasons.some((x) => /none of the 40 HTTP request\(s\) got a response/.test(x)),
    verdict.reasons.join('; '),
  );
  // The check can pass: answered requests (even 500s) are a measured run.
  const ok = tmp();
  writeFileSync(join(ok, 'out.json'), httpRun({ n: 40, latency: () => 5, errEvery: 2 }));
  assert.deepEqual([(await buildReport({ runDir: ok, historyDir: false })).exitCode], [0]);
});

void test('a run that did nothing (no iteration, no request, no message): fail, exit 5', async () => {
  const d = tmp();
  const t = Date.UTC(2026, 0, 1, 12, 0, 0);
  writeFileSync(
    join(d, 'out.json'),
    [metricLine('vus', 'gauge'), pointLine('vus', t, 1, {}), pointLine('vus', t + 1000, 1, {})].join('\n') + '\n',
  );
  const r = await buildReport({ runDir: d, historyDir: false });
  assert.deepEqual([r.verdict, r.exitCode], ['fail', 5]);
  assert.match(readFileSync(join(d, 'junit.xml'), 'utf8'), /<failure message="[^"]*the run measured nothing/);
});

void test('input that is not k6 output: one line, exit 2, no file written next to it', async () => {
  const d = tmp();
  copyFileSync(join(ROOT, 'README.md'), join(d, 'README.md'));
  const readme = io();
  assert.equal(await reportMain([join(d, 'README.md'), '--no-history'], readme.io), 2);
  assert.equal(readme.err.length, 1, readme.err.join('\n'));
  assert.match(readme.err[0] ?? '', /^report: .*README\.md is not k6 JSON output \(no line of it is a k6 Metric or Point\)/);
  writeFileSync(join(d, 'random.json.gz'), randomBytes(4096));
  const random = io();
  assert.equal(await reportMain([join(d, 'random.json.gz'), '--no-history'], random.io), 2);
  assert.equal(random.err.length, 1);
  assert.deepEqual(readdirSync(d).sort(), ['README.md', 'random.json.gz'], 'no report file was written');
});

void test('report files go into run folders only: a k6 output elsewhere needs --out', async () => {
  const d = tmp();
  writeFileSync(join(d, 'results.json'), httpRun({ n: 10, latency: () => 5 }));
  writeFileSync(join(d, 'report.html'), 'not ours');
  const refused = io();
  assert.equal(await reportMain([join(d, 'results.json'), '--no-history'], refused.io), 2);
  assert.match(refused.err[0] ?? '', /is not a run folder \(no run\.json, no out\.json\[\.gz\]\): pass --out DIR/);
  assert.equal(readFileSync(join(d, 'report.html'), 'utf8'), 'not ours', 'nothing overwritten');
  const out = tmp();
  const placed = io();
  assert.equal(await reportMain([join(d, 'results.json'), '--out', out, '--no-history'], placed.io), 0, placed.err.join('\n'));
  assert.ok(readdirSync(out).includes('report.html'));
  // A run folder's own output still gets its report beside it.
  const run = tmp();
  writeFileSync(join(run, 'out.json'), httpRun({ n: 10, latency: () => 5 }));
  assert.equal(await reportMain([join(run, 'out.json'), '--no-history'], io().io), 0);
  assert.ok(readdirSync(run).includes('junit.xml'));
});

void test('junit.xml fails when the run failed: stopped from outside (105), aborted by the script (108)', async () => {
  for (const code of [105, 108]) {
    const d = tmp();
    writeFileSync(join(d, 'out.json'), httpRun({ n: 20, latency: () => 5, thresholds: ['p(95)<100'] }));
    writeFileSync(
      join(d, 'run.json'),
      JSON.stringify({ schema: 'agentload.run/1', scenario: { name: 'api' }, engineExitCode: code, exitCode: code }),
    );
    const r = await buildReport({ runDir: d, historyDir: false, interrupted: code === 105 });
    assert.equal(r.verdict, 'fail');
    const junit = readFileSync(join(d, 'junit.xml'), 'utf8');
    assert.match(junit, /<testsuites name="agentload api" tests="\d+" failures="1"/, junit);
    assert.match(
      junit,
      new RegExp(
        `<testcase classname="run" name="api: verdict"[^>]*>[\\s\\S]*<failure message="the run itself ended with exit code ${String(code)}`,
      ),
    );
  }
  const passed = tmp();
  writeFileSync(join(passed, 'out.json'), httpRun({ n: 20, latency: () => 5, thresholds: ['p(95)<100'] }));
  await buildReport({ runDir: passed, historyDir: false });
  assert.match(readFileSync(join(passed, 'junit.xml'), 'utf8'), /failures="0"/, 'a passing run has no failure');
});

void test("the run's own exit code is the one summary.md, verdict.json, report.html and index.html show (107 with crossed thresholds too)", async () => {
  const reports = join(tmp(), 'reports');
  const d = join(reports, 'api-20260101-120000');
  mkdirSync(d, { recursive: true });
  // Thresholds crossed (p95 ≈ 95 ms > 10) and the engine ended with 107 (a script exception): the run command exits 107.
  writeFileSync(join(d, 'out.json'), httpRun({ n: 50, latency: (i) => 50 + i, thresholds: ['p(95)<10'] }));
  writeFileSync(
    join(d, 'run.json'),
    JSON.stringify({
      schema: 'agentload.run/1',
      scenario: { name: 'api' },
      startedAt: '2026-01-01T12:00:00.000Z',
      engineExitCode: 107,
      exitCode: 107,
    }),
  );
  const r = await buildReport({ runDir: d, historyDir: reports, now: () => new Date('2026-01-01T12:05:00Z') });
  assert.deepEqual([r.verdict, r.exitCode], ['fail', 107]);
  const verdict = JSON.parse(readFileSync(join(d, 'verdict.json'), 'utf8')) as { exitCode: number; reasons: string[] };
  assert.equal(verdict.exitCode, 107);
  assert.ok(
    verdict.reasons.some((x) => /threshold\(s\) crossed/.test(x)) && verdict.reasons.some((x) => /exit code 107/.test(x)),
    verdict.reasons.join('; '),
  );
  assert.match(readFileSync(join(d, 'summary.md'), 'utf8'), /FAIL \(exit 107\)/);
  assert.match(readFileSync(join(d, 'report.html'), 'utf8'), /<span>exit code 107<\/span>/);
  assert.match(readFileSync(join(reports, 'index.html'), 'utf8'), /<td>107<\/td>/);
  // The engine judged its thresholds crossed (99) where the report's percentiles did not: the run exited 99, so does the report.
  const e = tmp();
  writeFileSync(join(e, 'out.json'), httpRun({ n: 50, latency: () => 5, thresholds: ['p(95)<100'] }));
  writeFileSync(
    join(e, 'run.json'),
    JSON.stringify({ schema: 'agentload.run/1', scenario: { name: 'api' }, engineExitCode: 99, exitCode: 99 }),
  );
  assert.equal((await buildReport({ runDir: e, historyDir: false })).exitCode, 99);
});
