/** Endpoint rows: setup()/teardown() requests apart from the load's, and an SLO badge that judges errors too. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, loadRun } from '../../src/reporting/index.ts';
import { metricLine, pointLine, tmp } from './helpers.ts';

/** 30 load requests to GET /api/agents (every `errEvery`-th failing) and 2 made by setup() to the same URL. */
function runDir(errEvery: number): string {
  const dir = join(tmp(), 'api-latency');
  mkdirSync(dir, { recursive: true });
  const start = Date.UTC(2026, 0, 1, 12, 0, 0);
  const lines = [
    metricLine('http_reqs', 'counter'),
    metricLine('http_req_duration', 'trend'),
    metricLine('http_req_failed', 'rate', 'default', ['rate<0.05']),
  ];
  const point = (t: number, ms: number, failed: boolean, tags: Record<string, string>): void => {
    const all = {
      method: 'GET',
      name: '/api/agents',
      status: failed ? '503' : '200',
      expected_response: failed ? 'false' : 'true',
      ...tags,
    };
    lines.push(
      pointLine('http_reqs', t, 1, all),
      pointLine('http_req_duration', t, ms, all),
      pointLine('http_req_failed', t, failed ? 1 : 0, all),
    );
  };
  point(start, 400, false, { group: '::setup', scenario: '' });
  point(start + 5, 420, false, { group: '::setup', scenario: '' });
  for (let i = 0; i < 30; i++)
    point(start + 100 + i * 50, 5, i % errEvery === 0, { group: '', scenario: 'agents_list', endpoint: 'agents_list' });
  writeFileSync(join(dir, 'out.json'), lines.join('\n') + '\n');
  return dir;
}

void test('endpoints: requests made in setup() get their own row, apart from the load on the same URL', async () => {
  const m = await loadRun(runDir(1000));
  const rows = m.endpoints.map((e) => ({ key: e.key, count: e.count, phase: e.phase, endpoint: e.endpoint }));
  assert.deepEqual(rows, [
    { key: 'GET /api/agents', count: 30, phase: undefined, endpoint: 'agents_list' },
    { key: 'GET /api/agents [setup]', count: 2, phase: 'setup', endpoint: undefined },
  ]);
  assert.ok((m.endpoints[0]?.p95 ?? 0) < 10, 'the load row is not mixed with the slow setup calls');
});

void test('endpoints: the SLO badge judges errors against the run\'s error-rate limit (33 % errors is not "SLO ok")', async () => {
  const bad = runDir(3);
  await buildReport({ runDir: bad, historyDir: false });
  const html = readFileSync(join(bad, 'report.html'), 'utf8');
  assert.match(html, /SLO fail: 33\.33 % errors/);
  assert.doesNotMatch(html, /SLO ok/);
  const good = runDir(1000);
  await buildReport({ runDir: good, historyDir: false });
  const fine = readFileSync(join(good, 'report.html'), 'utf8');
  assert.match(fine, /SLO ok/);
  assert.equal((fine.match(/SLO (ok|fail)/g) ?? []).length, 1, 'the setup row carries no SLO badge');
});
