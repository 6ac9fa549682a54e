/**
 * A scenario split over worker threads: its parts' stats merge into what one thread would show
 * (mergeScenarioStats), and worker reports carry their times across threads as wall time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeScenarioStats } from '../../../engine/execution/index.ts';
import { newScenarioStats, type ScenarioStats } from '../../../engine/executors/index.ts';
import { fromReport, reportScenarios } from '../../../engine/runtime/workers.ts';
import type { Clock } from '../../../engine/contracts.ts';

const part = (status: ScenarioStats['status'], more: Partial<ScenarioStats> = {}): ScenarioStats => ({
  ...newScenarioStats(),
  status,
  ...more,
});

void test('counts, VUs and rates add up; started at the first start, ended at the last end (none while a part runs)', () => {
  const m = mergeScenarioStats([
    part('done', {
      startedAt: 120,
      endedAt: 900,
      completed: 3,
      interrupted: 1,
      dropped: 2,
      activeVUs: 0,
      heldVUs: 2,
      currentRate: 5,
      unplannedInits: 1,
    }),
    part('done', {
      startedAt: 100,
      endedAt: 950,
      completed: 4,
      interrupted: 0,
      dropped: 1,
      activeVUs: 0,
      heldVUs: 3,
      currentRate: 7,
      unplannedInits: 2,
    }),
  ]);
  assert.deepEqual(m, {
    ...newScenarioStats(),
    status: 'done',
    startedAt: 100,
    endedAt: 950,
    completed: 7,
    interrupted: 1,
    dropped: 3,
    heldVUs: 5,
    currentRate: 12,
    unplannedInits: 3,
  });
  const running = mergeScenarioStats([part('done', { startedAt: 100, endedAt: 900 }), part('running', { startedAt: 110, activeVUs: 2 })]);
  assert.equal(running.status, 'running');
  assert.ok(Number.isNaN(running.endedAt), 'not ended while a part runs');
  assert.equal(running.activeVUs, 2);
});

void test('status over the parts', () => {
  const cases: Array<[ScenarioStats['status'][], ScenarioStats['status']]> = [
    [['waiting', 'waiting'], 'waiting'],
    [['waiting', 'running'], 'running'],
    [['done', 'waiting'], 'running'],
    [['stopping', 'done'], 'stopping'],
    [['running', 'stopping'], 'running'],
    [['done', 'done'], 'done'],
    [['done', 'interrupted'], 'interrupted'],
    [['interrupted'], 'interrupted'],
  ];
  for (const [statuses, want] of cases) assert.equal(mergeScenarioStats(statuses.map((s) => part(s))).status, want, statuses.join('+'));
  const none = mergeScenarioStats([]);
  assert.equal(none.status, 'waiting');
  assert.ok(Number.isNaN(none.startedAt));
});

void test('a worker report crosses threads as wall time: the receiving clock gets the same age back', () => {
  const clock = (monoOrigin: number, wallOrigin: number, at: number): Clock => ({
    now: () => at - monoOrigin,
    wallNow: () => wallOrigin + at,
    sleep: () => Promise.resolve(),
  });
  // The worker's monotonic clock started 5 s after the main thread's; both read the same instant `at`.
  const worker = clock(5000, 1_700_000_000_000, 20_000);
  const main = clock(0, 1_700_000_000_000, 20_000);
  const [r] = reportScenarios(['api', 'other'], [part('running', { startedAt: worker.now() - 1500 })], worker);
  assert.ok(r !== undefined);
  assert.equal(r.name, 'api');
  const back = fromReport(r, main);
  assert.equal(main.now() - back.startedAt, 1500, 'started 1.5 s ago on either clock');
  assert.ok(Number.isNaN(back.endedAt));
  assert.equal(reportScenarios(['api', 'other'], [part('done')], worker).length, 1, 'no stats yet for a scenario: not reported');
});
