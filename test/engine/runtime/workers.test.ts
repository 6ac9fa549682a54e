/** Worker threads: the auto rule, and a real two-worker run whose merged results equal one process's. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseRunFlags } from '../../../engine/runtime/flags.ts';
import { planTest, type TestPlan } from '../../../engine/runtime/test-plan.ts';
import { chooseWorkers } from '../../../engine/runtime/workers.ts';
import { startReferenceServer, type ReferenceServer } from '../../support/reference-server.ts';
import { REFERENCE, runScript, tempDir } from '../conformance/run-helpers.ts';

const plan = (options: unknown): Pick<TestPlan, 'scenarios' | 'maxVUs'> =>
  planTest(options, parseRunFlags([]), {}, { default: () => undefined });

void test('auto: one worker per 25 VU-driven VUs from 50, one per 4000 arrival iterations/s, at most cores - 1 and the VUs', () => {
  assert.deepEqual(chooseWorkers(undefined, plan({ vus: 49, duration: '10s' }), 8), { workers: 1 });
  assert.deepEqual(chooseWorkers('auto', plan({ vus: 50, duration: '10s' }), 8), { workers: 2 });
  assert.deepEqual(chooseWorkers(undefined, plan({ vus: 110, duration: '10s' }), 8), { workers: 4 });
  assert.deepEqual(chooseWorkers(undefined, plan({ stages: [{ duration: '5s', target: 5000 }] }), 8), { workers: 7 }, 'one core left');
  assert.deepEqual(
    chooseWorkers(undefined, plan({ stages: [{ duration: '5s', target: 5000 }] }), 2),
    { workers: 1 },
    '2 cores: in process',
  );
  const car = (rate: number, timeUnit = '1s'): unknown => ({
    scenarios: { a: { executor: 'constant-arrival-rate', rate, timeUnit, duration: '10s', preAllocatedVUs: 50, maxVUs: 200 } },
  });
  assert.deepEqual(chooseWorkers(undefined, plan(car(2000)), 8), { workers: 1 }, 'maxVUs of arrival rates do not count as VU-driven');
  assert.deepEqual(chooseWorkers(undefined, plan(car(4001)), 8), { workers: 2 });
  assert.deepEqual(chooseWorkers(undefined, plan(car(600, '100ms')), 8), { workers: 2 }, '6000/s');
  assert.deepEqual(
    chooseWorkers(
      undefined,
      plan({
        scenarios: {
          r: {
            executor: 'ramping-arrival-rate',
            startRate: 100,
            preAllocatedVUs: 10,
            stages: [
              { duration: '5s', target: 9000 },
              { duration: '5s', target: 0 },
            ],
          },
        },
      }),
      8,
    ),
    { workers: 3 },
  );
  assert.deepEqual(chooseWorkers(undefined, plan(car(100000)), 4), { workers: 3 });
  const tiny = { scenarios: { a: { executor: 'constant-arrival-rate', rate: 9000, duration: '10s', preAllocatedVUs: 1, maxVUs: 2 } } };
  assert.deepEqual(chooseWorkers(undefined, plan(tiny), 8), { workers: 2 }, 'never more workers than VUs');
  assert.deepEqual(chooseWorkers('3', plan({ vus: 1, duration: '1s' }), 2), { workers: 3 });
  assert.match(chooseWorkers('zero', plan({}), 2).issue ?? '', /positive whole number or "auto", got "zero"/);
  assert.match(chooseWorkers('0', plan({}), 2).issue ?? '', /got "0"/);
});

let server: ReferenceServer;
before(async () => {
  server = await startReferenceServer();
});
after(async () => {
  await server.close();
});

void test('segments.js on 2 workers: merged iterations equal the reference whole run, JSON lines match the aggregate', async () => {
  const dir = tempDir();
  const run = await runScript(
    'segments.js',
    ['-q', '--no-summary', '--workers', '2', '--summary-export', join(dir, 's.json'), '--out', `json=${join(dir, 'o.json')}`],
    { BASE_URL: server.url },
  );
  assert.equal(run.code, 0, run.stderr);
  const ours = (JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { metrics: Record<string, { count?: number; value?: number }> })
    .metrics;
  const ref = (
    JSON.parse(readFileSync(join(REFERENCE, 'segments.full.summary-export.json'), 'utf8')) as {
      metrics: Record<string, { count?: number }>;
    }
  ).metrics;
  const total = Number(ours.iterations?.count) + (ours.dropped_iterations?.count ?? 0);
  assert.ok(Math.abs(total - Number(ref.iterations?.count)) <= 1, `iterations ${String(total)} vs ${String(ref.iterations?.count)}`);
  const points = readFileSync(join(dir, 'o.json'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"metric":"http_reqs","type":"Point"'));
  assert.equal(points.length, ours.http_reqs?.count, 'every sample of every worker reached the JSON output');
  assert.equal(server.hits.get('/health') !== undefined, true);
});
