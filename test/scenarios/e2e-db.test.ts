import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

function tempDb(): { dsn: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-db-'));
  return { dsn: join(dir, 'kg.sqlite'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

void test('db passes at smoke size on SQLite: every query class within its objective', async () => {
  const db = tempDb();
  try {
    assertPassed(await runHealthy('db', { env: { DB_DSN: db.dsn, DURATION: '5s' } }));
  } finally {
    db.done();
  }
});

void test('db fails (99) on db_query_failed when the schema is missing (DB_PREPARE=false on an empty database)', async () => {
  const db = tempDb();
  try {
    assertCrossed(await runScenario('db', { env: { DB_DSN: db.dsn, DURATION: '3s', DB_PREPARE: 'false' } }), 'db_query_failed');
  } finally {
    db.done();
  }
});
