import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres } from './postgres.ts';

void test('startPostgres gives a real server that answers queries and stops cleanly', async () => {
  const server = await startPostgres();
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const r = await client.query<{ v: number }>('select 41 + 1 as v');
    assert.equal(r.rows[0]?.v, 42);
    await client.end();
  } finally {
    await server.stop();
  }
  const after = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 });
  await assert.rejects(after.connect(), 'server must be gone after stop()');
});
