import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

let pg: PostgresServer;
before(async () => {
  pg = await startPostgres('agentload_state');
});
after(async () => {
  await pg.stop();
});

const short = { WRITE_DURATION: '3s', RATE: '20', RAMP_DURATION: '4s', MONITOR_MS: '200' };

void test('state-store passes on PostgreSQL: saves within the objective, the pool never errors while savers ramp past its size', async () => {
  // 15 closed-loop savers on a 10-connection pool: past the pool size, so requests queue for connections. Their
  // latency is queueing on a shared 2-core machine (PostgreSQL, platform and engine on it): objective x5 here.
  const r = await runHealthy('state-store', {
    env: { ...short, RAMP_TO: '15', LATENCY_SCALE: '5' },
    targetEnv: { DATABASE_URL: pg.url, DB_POOL_MAX: '10' },
  });
  assertPassed(r);
  const m = r.summary?.metrics ?? {};
  assert.ok(((m.state_write_failed as { fails?: number } | undefined)?.fails ?? 0) > 50, 'saves were made and timed');
  assert.ok(m.state_write_duration !== undefined);
  assert.ok(m.db_pool_waiting !== undefined, 'the pool waiting gauge was sampled from /metrics');
});

void test('state-store fails (99) on db_pool_waiting with a one-connection pool (savers queue for it)', async () => {
  const r = await runScenario('state-store', { env: { ...short, RAMP_TO: '80' }, targetEnv: { DATABASE_URL: pg.url, DB_POOL_MAX: '1' } });
  assertCrossed(r, 'db_pool_waiting');
});
