import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport } from '../../src/reporting/index.ts';
import { httpRun, tmp } from './helpers.ts';

function run(reports: string, name: string, startedAt: string, scale: number): string {
  const dir = join(reports, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'out.json'), httpRun({ n: 50, latency: (i) => (10 + (i % 7)) * scale }));
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      scenario: 'api',
      engine: { name: 'embedded', version: '0.1.0' },
      startedAt,
      endedAt: startedAt,
      exitCode: 0,
      args: ['-e', 'TOKEN=secret-value'],
    }),
  );
  return dir;
}

void test('history: index.html lists runs per scenario with sparklines; runs past retention are removed, baselines never', async () => {
  const reports = join(tmp(), 'reports');
  mkdirSync(join(reports, 'baselines'), { recursive: true });
  writeFileSync(join(reports, 'baselines', 'keep.json'), '{}');
  mkdirSync(join(reports, 'not-a-run'));
  const now = new Date('2026-06-01T00:00:00Z');
  const old = run(reports, 'api-20260101T000000Z', '2026-01-01T00:00:00Z', 1);
  await buildReport({ runDir: old, historyDir: false });
  run(reports, 'api-20260520T000000Z', '2026-05-20T00:00:00Z', 1);
  const last = run(reports, 'api-20260531T000000Z', '2026-05-31T00:00:00Z', 1.5);
  await buildReport({ runDir: join(reports, 'api-20260520T000000Z'), now: () => now });
  assert.ok(!existsSync(old), 'the 151-day-old run is gone');
  const res = await buildReport({ runDir: last, now: () => now });
  assert.ok(res.files.includes(join(reports, 'index.html')));
  const html = readFileSync(join(reports, 'index.html'), 'utf8');
  assert.match(html, /<h2>api <small>2 run\(s\)<\/small>/);
  assert.match(html, /<polyline/);
  assert.match(html, /href="api-20260531T000000Z\/report.html"/);
  assert.ok(existsSync(join(reports, 'baselines', 'keep.json')));
  assert.ok(existsSync(join(reports, 'not-a-run')));
  // Secrets in run.json args never reach the outputs.
  for (const f of ['report.html', 'verdict.json', 'summary.md', 'junit.xml'])
    assert.ok(!readFileSync(join(last, f), 'utf8').includes('secret-value'), f);
  // A longer retention keeps runs.
  const kept = run(reports, 'api-20260301T000000Z', '2026-03-01T00:00:00Z', 1);
  await buildReport({ runDir: kept, now: () => now, retentionDays: 365 });
  assert.ok(existsSync(kept));
});

void test('history: a target column, one trend per scenario and target (runs against two systems are not mixed)', async () => {
  const reports = join(tmp(), 'reports');
  const now = new Date('2026-06-01T00:00:00Z');
  const runOn = (name: string, startedAt: string, url: string): string => {
    const dir = join(reports, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'out.json'), httpRun({ n: 50, latency: (i) => 10 + (i % 7) }));
    writeFileSync(
      join(dir, 'run.json'),
      JSON.stringify({ scenario: { name: 'api' }, startedAt, engineExitCode: 0, exitCode: 0, target: { kind: 'external', url } }),
    );
    return dir;
  };
  await buildReport({ runDir: runOn('api-1', '2026-05-30T00:00:00Z', 'http://staging.example:8080'), now: () => now });
  await buildReport({ runDir: runOn('api-2', '2026-05-30T01:00:00Z', 'http://user:pw@prod.example/api?x=1'), now: () => now });
  await buildReport({ runDir: runOn('api-3', '2026-05-30T02:00:00Z', 'http://staging.example:8080'), now: () => now });
  const html = readFileSync(join(reports, 'index.html'), 'utf8');
  assert.match(html, /<th class="t">target<\/th>/);
  assert.match(html, /<section data-scenario="api" data-target="prod.example"><h2>api <small>on prod.example, 1 run\(s\)/);
  assert.match(html, /<section data-scenario="api" data-target="staging.example:8080"><h2>api <small>on staging.example:8080, 2 run\(s\)/);
  assert.match(html, /<td class="t">staging.example:8080<\/td>/);
  assert.doesNotMatch(html, /pw|\/api\?x/, 'host only: no credentials, path or query');
  const verdict = JSON.parse(readFileSync(join(reports, 'api-2', 'verdict.json'), 'utf8')) as { run: { target: string } };
  assert.equal(verdict.run.target, 'prod.example');
});

void test('history: the bundled platform (a new loopback port each run) is one target, one trend, not one per port', async () => {
  const reports = join(tmp(), 'reports');
  const now = new Date('2026-06-01T00:00:00Z');
  const runOn = (name: string, startedAt: string, kind: string, url: string): string => {
    const dir = join(reports, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'out.json'), httpRun({ n: 50, latency: (i) => 10 + (i % 7) }));
    writeFileSync(
      join(dir, 'run.json'),
      JSON.stringify({ scenario: { name: 'api' }, startedAt, engineExitCode: 0, exitCode: 0, target: { kind, url } }),
    );
    return dir;
  };
  await buildReport({ runDir: runOn('api-1', '2026-05-30T00:00:00Z', 'bundled', 'http://127.0.0.1:39717'), now: () => now });
  await buildReport({ runDir: runOn('api-2', '2026-05-30T01:00:00Z', 'bundled', 'http://127.0.0.1:41203'), now: () => now });
  await buildReport({ runDir: runOn('api-3', '2026-05-30T02:00:00Z', 'external', 'http://127.0.0.1:8080'), now: () => now });
  const html = readFileSync(join(reports, 'index.html'), 'utf8');
  assert.equal(html.match(/<section /g)?.length, 2, 'the two bundled runs are one series; the user system on loopback another');
  assert.match(html, /<section data-scenario="api" data-target="bundled platform"><h2>api <small>on bundled platform, 2 run\(s\)/);
  assert.match(html, /<section data-scenario="api" data-target="127.0.0.1:8080"><h2>api <small>on 127.0.0.1:8080, 1 run\(s\)/);
  const verdict = JSON.parse(readFileSync(join(reports, 'api-1', 'verdict.json'), 'utf8')) as {
    run: { target: string; targetKind: string };
  };
  assert.deepEqual([verdict.run.target, verdict.run.targetKind], ['127.0.0.1:39717', 'bundled']);
});
