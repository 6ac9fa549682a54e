import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

const short = { DURATION: '6s', INTERVALS: '2', CRONS: '2', EVERY_MS: '1000', CRON_EVERY_S: '2', WORK_MS: '300' };

void test('scheduler passes at smoke size: interval and cron runs start on time, none missed, none duplicated', async () => {
  const r = await runHealthy('scheduler', { env: short });
  assertPassed(r);
  const runs = (r.summary?.metrics.schedule_runs as { count?: number } | undefined)?.count ?? 0;
  assert.ok(runs >= 10, `runs were seen (${runs})`);
});

void test('scheduler fails (99) on schedule_start_drift when every run starts 1.5 s late', async () => {
  const r = await runScenario('scheduler', { env: short, targetEnv: { FAULT_SCHEDULER_DRIFT_MS: '1500' } });
  assertCrossed(r, 'schedule_start_drift');
});
