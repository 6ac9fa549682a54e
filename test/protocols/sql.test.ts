import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { SqlError, createSqlDriverModule, createSqlModule, maskDsn, parseGoDuration, parsePoolOptions } from '../../engine/modules/sql.ts';
import { positionalPlaceholders } from '../../engine/modules/sql/sqlite.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { createTestContext, type TestContext } from './context.ts';

interface Result {
  lastInsertId(): number;
  rowsAffected(): number;
}
interface Db {
  exec(q: string, ...args: unknown[]): Promise<Result>;
  query(q: string, ...args: unknown[]): Promise<Record<string, unknown>[]>;
  execWithTimeout(t: unknown, q: string, ...args: unknown[]): Promise<Result>;
  queryWithTimeout(t: unknown, q: string, ...args: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
interface Sql {
  open(driver: unknown, dsn: unknown, options?: unknown): Db;
}

function sqlFor(ctx: TestContext): { sql: Sql; postgres: unknown; sqlite3: unknown } {
  return {
    sql: createSqlModule(ctx).default as Sql,
    postgres: createSqlDriverModule('postgres')(ctx).default,
    sqlite3: createSqlDriverModule('sqlite3')(ctx).default,
  };
}

const hasCode =
  (code: string) =>
  (e: unknown): boolean => {
    assert.ok(e instanceof SqlError, `expected SqlError, got ${String(e)}`);
    assert.equal(e.code, code, `code (message: ${e.message})`);
    return true;
  };

/** A slow SQLite statement: counts to 3 million in a recursive CTE (about a second). */
const SLOW_SQLITE = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) AS n FROM c';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) =>
    srv.close(() => {
      r();
    }),
  );
  return port;
}

void describe('k6/x/sql helpers', () => {
  void it('parses Go durations as xk6-sql does', () => {
    const table: [string, number | undefined][] = [
      ['300ms', 300],
      ['1.5s', 1500],
      ['1h10m10s', 4_210_000],
      ['0', 0],
      ['2m', 120_000],
      ['10us', 0.01],
      ['-1s', -1000],
      ['', undefined],
      ['10', undefined],
      ['1 s', undefined],
      ['s', undefined],
      ['1d', undefined],
    ];
    for (const [text, want] of table) assert.equal(parseGoDuration(text), want, JSON.stringify(text));
  });

  void it('rewrites $N placeholders for SQLite outside quotes and comments', () => {
    assert.equal(positionalPlaceholders('SELECT * FROM t WHERE a = $1 AND b = $12'), 'SELECT * FROM t WHERE a = ?1 AND b = ?12');
    assert.equal(positionalPlaceholders('SELECT \'$1\', "$2", x$3 -- $4\n, $5 /* $6 */'), 'SELECT \'$1\', "$2", x$3 -- $4\n, ?5 /* $6 */');
    assert.equal(positionalPlaceholders('SELECT ?'), 'SELECT ?');
  });

  void it('masks passwords in DSNs', () => {
    assert.equal(maskDsn('postgres://app:s3cret@db:5432/x?sslmode=disable'), 'postgres://app:***@db:5432/x?sslmode=disable');
    assert.equal(maskDsn("host=db user=app password='s3 cret' dbname=x"), 'host=db user=app password=*** dbname=x');
    assert.equal(maskDsn('host=db password=s3cret'), 'host=db password=***');
    assert.equal(maskDsn('./data.db'), './data.db');
  });

  void it('validates pool options with xk6-sql names, reporting every problem', () => {
    assert.deepEqual(parsePoolOptions(undefined), { connMaxIdleTime: 0, connMaxLifetime: 0, maxIdleConns: 2, maxOpenConns: 0 });
    assert.deepEqual(parsePoolOptions({ conn_max_idle_time: '2s', conn_max_lifetime: '1h', max_idle_conns: 3, max_open_conns: 10 }), {
      connMaxIdleTime: 2000,
      connMaxLifetime: 3_600_000,
      maxIdleConns: 3,
      maxOpenConns: 10,
    });
    assert.throws(
      () => parsePoolOptions({ max_open: 3, conn_max_lifetime: 5, max_idle_conns: 'x' }),
      (e: unknown) => {
        hasCode('sql-bad-options')(e);
        const msg = (e as Error).message;
        assert.match(msg, /unknown option "max_open"/);
        assert.match(msg, /conn_max_lifetime must be a duration/);
        assert.match(msg, /max_idle_conns must be an integer/);
        return true;
      },
    );
  });

  void it('open() takes the driver module default export (a Symbol, or a Symbol object) and nothing else', () => {
    const ctx = createTestContext();
    ctx.setStage('init');
    const { sql, sqlite3 } = sqlFor(ctx);
    assert.equal(typeof sqlite3, 'symbol');
    assert.throws(() => sql.open('sqlite3', ':memory:'), hasCode('sql-bad-driver'));
    assert.throws(() => sql.open(Symbol('sqlite3'), ':memory:'), hasCode('sql-bad-driver'));
    assert.throws(() => sql.open(sqlite3, 42), hasCode('sql-bad-dsn'));
    const db = sql.open(Object(sqlite3), ':memory:');
    assert.equal(typeof db.query, 'function');
  });
});

void describe('k6/x/sql with sqlite3', { timeout: 60_000 }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentload-sqlite-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  void it('creates, inserts, selects and updates with lastInsertId/rowsAffected and ? placeholders', async () => {
    const ctx = createTestContext();
    const { sql, sqlite3 } = sqlFor(ctx);
    const db = sql.open(sqlite3, join(dir, 'crud.db'));
    await db.exec(`CREATE TABLE roster (id INTEGER PRIMARY KEY AUTOINCREMENT, given_name TEXT NOT NULL, family_name TEXT NOT NULL, score REAL, raw BLOB);
                   CREATE INDEX roster_family ON roster (family_name);`);
    const one = await db.exec('INSERT INTO roster (given_name, family_name, score) VALUES (?, ?, ?)', 'Peter', 'Pan', 1.5);
    assert.equal(one.lastInsertId(), 1);
    assert.equal(one.rowsAffected(), 1);
    const many = await db.exec(
      "INSERT INTO roster (given_name, family_name) VALUES ('Wendy', 'Darling'), ('Tinker', 'Bell'), ('James', 'Hook')",
    );
    assert.equal(many.rowsAffected(), 3);
    assert.equal(many.lastInsertId(), 4);
    await db.exec('UPDATE roster SET raw = ? WHERE id = ?', new Uint8Array([1, 2, 3]), 1);
    const rows = await db.query('SELECT id, given_name, family_name, score, raw FROM roster WHERE given_name = ?', 'Peter');
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.ok(row !== undefined);
    assert.equal(Object.getPrototypeOf(row), Object.prototype, 'rows are plain objects');
    assert.equal(row.id, 1);
    assert.equal(row.family_name, 'Pan');
    assert.equal(row.score, 1.5);
    assert.ok(row.raw instanceof ArrayBuffer, 'BLOBs come back as ArrayBuffer');
    assert.deepEqual([...new Uint8Array(row.raw)], [1, 2, 3]);
    const upd = await db.exec('UPDATE roster SET score = ? WHERE score IS NULL', 0);
    assert.equal(upd.rowsAffected(), 3);
    const count = await db.query('SELECT count(*) AS n FROM roster WHERE score >= ?', 0);
    assert.deepEqual(count, [{ n: 4 }]);
    assert.deepEqual(await db.query('SELECT * FROM roster WHERE id = ?', 999), [], 'no rows is an empty array');
    assert.deepEqual(
      await db.query("SELECT given_name FROM roster WHERE family_name = $1 AND given_name <> '$2' AND id < $2", 'Darling', 10),
      [{ given_name: 'Wendy' }],
      '$N placeholders bind by position, as under xk6-sql',
    );
    await db.close();
    await assert.rejects(db.query('SELECT 1'), hasCode('sql-closed'));
  });

  void it("reports a syntax error as an exception carrying SQLite's message", async () => {
    const { sql, sqlite3 } = sqlFor(createTestContext());
    const db = sql.open(sqlite3, join(dir, 'syntax.db'));
    await assert.rejects(
      db.query('SELEC 1'),
      (e: unknown) =>
        hasCode('sql-error')(e) && /near "SELEC": syntax error/.test((e as Error).message) && (e as SqlError).driverCode === 'SQLITE_ERROR',
    );
    await assert.rejects(
      db.exec('INSERT INTO missing VALUES (1)'),
      (e: unknown) => hasCode('sql-error')(e) && /no such table: missing/.test((e as Error).message),
    );
    await db.close();
  });

  void it('reports bad DSNs: malformed at open(), unopenable at first use', async () => {
    const { sql, sqlite3 } = sqlFor(createTestContext());
    assert.throws(() => sql.open(sqlite3, ''), hasCode('sql-bad-dsn'));
    assert.throws(() => sql.open(sqlite3, 'http://example.com/db'), hasCode('sql-bad-dsn'));
    assert.throws(() => sql.open(sqlite3, 'file:x.db?mode=bogus'), hasCode('sql-bad-dsn'));
    const noDir = sql.open(sqlite3, join(dir, 'no', 'such', 'dir', 'x.db'));
    await assert.rejects(
      noDir.query('SELECT 1'),
      (e: unknown) => hasCode('sql-open')(e) && /directory does not exist/.test((e as Error).message),
    );
    const roMissing = sql.open(sqlite3, `file:${join(dir, 'missing.db')}?mode=ro`);
    await assert.rejects(roMissing.query('SELECT 1'), hasCode('sql-open'));
  });

  void it('execWithTimeout/queryWithTimeout: finish within the deadline, reject with "context deadline exceeded" past it', async () => {
    const ctx = createTestContext();
    const { sql, sqlite3 } = sqlFor(ctx);
    const db = sql.open(sqlite3, join(dir, 'timeout.db'));
    await db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)');
    const r = await db.execWithTimeout('5s', 'INSERT INTO kv VALUES (?, ?)', 'a', '1');
    assert.equal(r.rowsAffected(), 1);
    assert.deepEqual(await db.queryWithTimeout('5s', 'SELECT v FROM kv WHERE k = ?', 'a'), [{ v: '1' }]);
    assert.deepEqual(await db.query('SELECT v FROM kv WHERE k = ?', 'a'), [{ v: '1' }], 'visible to the plain calls too (same file)');
    await assert.rejects(
      db.queryWithTimeout('50ms', SLOW_SQLITE),
      (e: unknown) => hasCode('sql-timeout')(e) && (e as Error).message.startsWith('context deadline exceeded'),
    );
    await assert.rejects(db.execWithTimeout('50ms', SLOW_SQLITE), hasCode('sql-timeout'));
    assert.deepEqual(await db.queryWithTimeout('5s', 'SELECT count(*) AS n FROM kv'), [{ n: 1 }], 'usable again after a timeout');
    await assert.rejects(db.queryWithTimeout('soon', 'SELECT 1'), hasCode('sql-bad-timeout'));
    const mem = sql.open(sqlite3, ':memory:');
    await assert.rejects(mem.queryWithTimeout('1s', 'SELECT 1'), hasCode('sql-unsupported'));
    await db.close();
  });

  void it('keeps the iteration open while a call is pending, without failing it when the script handles the error', async () => {
    const ctx = createTestContext();
    const { sql, sqlite3 } = sqlFor(ctx);
    const db = sql.open(sqlite3, join(dir, 'pending.db'));
    let done = false;
    void db.queryWithTimeout('5s', 'SELECT 1 AS one').then(() => {
      done = true;
    });
    db.query('SELEC').catch(() => undefined);
    await ctx.settled();
    assert.equal(done, true, 'settled() waited for the worker call');
    await db.close();
  });
});

void describe('k6/x/sql with postgres', { timeout: 120_000 }, () => {
  let server: PostgresServer;
  let admin: pg.Client;
  before(async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await server.stop();
  });

  void it('creates, inserts, selects and updates with $1 placeholders; lastInsertId is unsupported as in lib/pq', async () => {
    const { sql, postgres } = sqlFor(createTestContext());
    const db = sql.open(postgres, server.url, { max_open_conns: 4, max_idle_conns: 2, conn_max_idle_time: '30s', conn_max_lifetime: '5m' });
    await db.exec(
      'CREATE TABLE roster (id SERIAL PRIMARY KEY, given_name VARCHAR(50) NOT NULL, family_name VARCHAR(50) NOT NULL, meta JSONB)',
    );
    const ins = await db.exec(
      "INSERT INTO roster (given_name, family_name) VALUES ('Peter', 'Pan'), ('Wendy', 'Darling'), ('Tinker', 'Bell')",
    );
    assert.equal(ins.rowsAffected(), 3);
    assert.throws(
      () => ins.lastInsertId(),
      (e: unknown) => hasCode('sql-unsupported')(e) && /LastInsertId is not supported by this driver/.test((e as Error).message),
    );
    const returned = await db.query(
      'INSERT INTO roster (given_name, family_name, meta) VALUES ($1, $2, $3) RETURNING id',
      'James',
      'Hook',
      { ship: 'Jolly Roger' },
    );
    assert.deepEqual(returned, [{ id: 4 }]);
    const rows = await db.query('SELECT id, family_name, meta FROM roster WHERE given_name = $1', 'James');
    assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype, 'rows are plain objects');
    assert.deepEqual(rows, [{ id: 4, family_name: 'Hook', meta: { ship: 'Jolly Roger' } }]);
    const upd = await db.exec('UPDATE roster SET family_name = upper(family_name) WHERE id <= $1', 2);
    assert.equal(upd.rowsAffected(), 2);
    const count = await db.query('SELECT count(*) AS n FROM roster');
    assert.deepEqual(count, [{ n: 4 }], 'count(*) (int8) is a number, as Go int64 is in k6');
    await db.exec('DROP TABLE roster');
    await db.close();
  });

  void it("reports a syntax error with the server's message and SQLSTATE", async () => {
    const { sql, postgres } = sqlFor(createTestContext());
    const db = sql.open(postgres, server.url);
    await assert.rejects(
      db.query('SELEC 1'),
      (e: unknown) =>
        hasCode('sql-error')(e) && /syntax error at or near "SELEC"/.test((e as Error).message) && (e as SqlError).driverCode === '42601',
    );
    assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }], 'the connection is still usable');
    await db.close();
  });

  void it('accepts key=value DSNs, rejects malformed ones at open(), and never shows the password', async () => {
    const { sql, postgres } = sqlFor(createTestContext());
    const kv = sql.open(postgres, `host=127.0.0.1 port=${server.port} user=postgres dbname=agentload_test sslmode=disable`);
    assert.deepEqual(await kv.query('SELECT current_database() AS db'), [{ db: 'agentload_test' }]);
    await kv.close();
    assert.throws(
      () => sql.open(postgres, 'postgres://u:s3cret@127.0.0.1:notaport/db'),
      (e: unknown) => hasCode('sql-bad-dsn')(e) && !(e as Error).message.includes('s3cret'),
    );
    assert.throws(
      () => sql.open(postgres, 'mysql://u:s3cret@127.0.0.1/db'),
      (e: unknown) => hasCode('sql-bad-dsn')(e) && !(e as Error).message.includes('s3cret'),
    );
    assert.throws(() => sql.open(postgres, 'just some words'), hasCode('sql-bad-dsn'));
    const port = await freePort();
    const down = sql.open(postgres, `postgres://app:s3cret@127.0.0.1:${port}/db?sslmode=disable`);
    await assert.rejects(
      down.query('SELECT 1'),
      (e: unknown) => hasCode('sql-error')(e) && /ECONNREFUSED/.test((e as Error).message) && !(e as Error).message.includes('s3cret'),
    );
    await down.close();
  });

  void it('execWithTimeout/queryWithTimeout cancel the statement on the server past the deadline', async () => {
    const { sql, postgres } = sqlFor(createTestContext());
    const db = sql.open(postgres, server.url);
    assert.deepEqual(await db.queryWithTimeout('5s', 'SELECT 2 AS two'), [{ two: 2 }]);
    await assert.rejects(
      db.queryWithTimeout('100ms', 'SELECT pg_sleep(30)'),
      (e: unknown) => hasCode('sql-timeout')(e) && (e as Error).message.startsWith('context deadline exceeded'),
    );
    await assert.rejects(db.execWithTimeout('100ms', 'SELECT pg_sleep(30)'), hasCode('sql-timeout'));
    // The server must not keep sleeping: the cancel reaches it (poll, bounded).
    let sleeping = -1;
    for (let i = 0; i < 50; i++) {
      const r = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'",
      );
      sleeping = r.rows[0]?.n ?? -1;
      if (sleeping === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(sleeping, 0, 'timed-out statements were cancelled on the server');
    assert.deepEqual(await db.query('SELECT 3 AS three'), [{ three: 3 }], 'usable after a timeout');
    await db.close();
  });

  void it('an interrupted iteration cancels its running statement ("context canceled"), as xk6-sql does with the VU context', async () => {
    const ctx = createTestContext();
    const { sql, postgres } = sqlFor(ctx);
    const db = sql.open(postgres, `${server.url}?application_name=agentload_cancel_test`);
    const running = db.query('SELECT pg_sleep(30)');
    await new Promise((res) => setTimeout(res, 200));
    ctx.abort.abort();
    await assert.rejects(running, (e: unknown) => hasCode('sql-canceled')(e) && (e as Error).message === 'context canceled');
    let sleeping = -1;
    for (let i = 0; i < 50; i++) {
      const r = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'agentload_cancel_test' AND state = 'active'",
      );
      sleeping = r.rows[0]?.n ?? -1;
      if (sleeping === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(sleeping, 0, 'the statement no longer runs on the server');
    await db.close();
  });

  void it('max_open_conns bounds the connections a database opens', async () => {
    const { sql, postgres } = sqlFor(createTestContext());
    const db = sql.open(postgres, `${server.url}?application_name=agentload_pool_test`, { max_open_conns: 2 });
    const peak = { n: 0 };
    const probe = async (): Promise<void> => {
      const r = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'agentload_pool_test'",
      );
      peak.n = Math.max(peak.n, r.rows[0]?.n ?? 0);
    };
    const calls = Array.from({ length: 6 }, () => db.query('SELECT pg_sleep(0.2)'));
    const all = Promise.all(calls);
    let finished = false;
    void all.then(
      () => {
        finished = true;
      },
      () => {
        finished = true;
      },
    );
    while (!finished) {
      await probe();
      await new Promise((res) => setTimeout(res, 20));
    }
    await all;
    assert.equal(peak.n, 2, 'six concurrent queries share two connections');
    await db.close();
  });
});
