/** Worker threads: the auto rule, and a real two-worker run whose merged results equal one process's. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chooseWorkers } from '../../../engine/runtime/workers.ts';
import { startReferenceServer, type ReferenceServer } from '../../support/reference-server.ts';
import { REFERENCE, runScript, tempDir } from '../conformance/run-helpers.ts';

void test('auto: one worker below 200 max VUs, then one per 100 VUs up to the core count; explicit N wins', () => {
  assert.deepEqual(chooseWorkers(undefined, { maxVUs: 13 }, 8), { workers: 1 });
  assert.deepEqual(chooseWorkers('auto', { maxVUs: 199 }, 8), { workers: 1 });
  assert.deepEqual(chooseWorkers(undefined, { maxVUs: 450 }, 8), { workers: 4 });
  assert.deepEqual(chooseWorkers(undefined, { maxVUs: 5000 }, 2), { workers: 2 });
  assert.deepEqual(chooseWorkers('3', { maxVUs: 1 }, 2), { workers: 3 });
  assert.match(chooseWorkers('zero', { maxVUs: 1 }, 2).issue ?? '', /positive whole number or "auto", got "zero"/);
  assert.match(chooseWorkers('0', { maxVUs: 1 }, 2).issue ?? '', /got "0"/);
});

let server: ReferenceServer;
before(async () => { server = await startReferenceServer(); });
after(async () => { await server.close(); });

void test('segments.js on 2 workers: merged iterations equal the reference whole run, JSON lines match the aggregate', async () => {
  const dir = tempDir();
  const run = await runScript('segments.js', ['-q', '--no-summary', '--workers', '2', '--summary-export', join(dir, 's.json'), '--out', `json=${join(dir, 'o.json')}`], { BASE_URL: server.url });
  assert.equal(run.code, 0, run.stderr);
  const ours = (JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { metrics: Record<string, { count?: number; value?: number }> }).metrics;
  const ref = (JSON.parse(readFileSync(join(REFERENCE, 'segments.full.summary-export.json'), 'utf8')) as { metrics: Record<string, { count?: number }> }).metrics;
  const total = Number(ours.iterations?.count) + (ours.dropped_iterations?.count ?? 0);
  assert.ok(Math.abs(total - Number(ref.iterations?.count)) <= 1, `iterations ${String(total)} vs ${String(ref.iterations?.count)}`);
  const points = readFileSync(join(dir, 'o.json'), 'utf8').split('\n').filter((l) => l.includes('"metric":"http_reqs","type":"Point"'));
  assert.equal(points.length, ours.http_reqs?.count, 'every sample of every worker reached the JSON output');
  assert.equal(server.hits.get('/health') !== undefined, true);
});
