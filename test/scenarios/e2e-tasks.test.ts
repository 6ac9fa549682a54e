import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('tasks passes at smoke size: every mode completes its tasks within the objective', async () => {
  assertPassed(await runHealthy('tasks', { env: { DURATION: '5s' } }));
});

void test('tasks fails (99) on task_failed when half the tasks fail', async () => {
  const r = await runScenario('tasks', {
    env: { DURATION: '4s', MODES: 'autonomous,collaborative' },
    targetEnv: { FAULT_TASK_FAILURE_RATE: '0.5' },
  });
  assertCrossed(r, 'task_failed');
});
