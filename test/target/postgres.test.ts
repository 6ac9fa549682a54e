// The storage-backed route tests again, on a real PostgreSQL server (Debian's `postgresql` package),
// plus migrations being idempotent against an existing database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDb } from '../../target/db/db.ts';
import { MIGRATIONS } from '../../target/db/migrations.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { at, req, start } from './helpers.ts';
import { storageSuite } from './suite.ts';

void describe('PostgreSQL', () => {
  let pg: PostgresServer;
  before(async () => {
    pg = await startPostgres('agentload_target');
  });
  after(async () => {
    await pg.stop();
  });

  storageSuite('postgres', () => ({ DATABASE_URL: pg.url, DB_POOL_MAX: '4' }));

  void it('migrations are recorded once and a restart keeps the data', async () => {
    const db = await openDb({ databaseUrl: pg.url, sqlitePath: ':memory:', poolMax: 2 });
    try {
      const rows = await db.all('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        rows.map((r) => Number(r.version)),
        MIGRATIONS.map((m) => m.version),
      );
      const type = await db.all(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'knowledge_nodes' AND column_name = 'properties'",
      );
      assert.equal(at(type[0], 'data_type'), 'jsonb');
    } finally {
      await db.close();
    }
    const t = await start({ DATABASE_URL: pg.url });
    try {
      const r = await req(t.url, 'GET', '/api/agents?limit=1000');
      assert.ok(Number(at(r.body, 'total')) >= 7, 'agents from the first run are still there, not re-seeded');
    } finally {
      await t.close();
    }
  });

  void it('an operation that gets no pooled connection within DB_POOL_TIMEOUT_MS fails and is counted (db_pool_errors_total)', async () => {
    const warm = await openDb({ databaseUrl: pg.url, sqlitePath: ':memory:', poolMax: 1, poolTimeoutMs: 5000 });
    await warm.close(); // migrations done: the next pool only has to connect
    const db = await openDb({ databaseUrl: pg.url, sqlitePath: ':memory:', poolMax: 1, poolTimeoutMs: 300 });
    try {
      assert.equal(db.pool().errors, 0);
      const holder = db.tx(async (q) => {
        await q.all('SELECT pg_sleep(1)');
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(db.pool().waiting, 0);
      const starved = db.all('SELECT 1 AS one');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(db.pool().waiting, 1, 'the second operation waits for the only connection');
      await assert.rejects(starved, /timeout exceeded when trying to connect/);
      assert.equal(db.pool().errors, 1);
      await holder;
    } finally {
      await db.close();
    }
  });
});
