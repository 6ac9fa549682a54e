/**
 * Queries per second through `k6/x/sql` (the embedded engine's module) against the raw driver, in the same run,
 * for sqlite3 (better-sqlite3) and postgres (pg).
 *
 *   npm run bench:sql                         # throw-away PostgreSQL from Debian's package, SQLite in a temp dir
 *   DATABASE_URL=postgres://... npm run bench:sql   # use an existing PostgreSQL instead
 *   SQL_BENCH_SECONDS=3 npm run bench:sql     # seconds per measurement (default 1.5; raw and module run twice each, best kept)
 *
 * Workload: a primary-key SELECT on a 1,000-row table, and single-row INSERTs. Postgres runs with 1 and
 * 8 calls in flight (pool of 8). Every measurement is bounded in time; loopback only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createSqlDriverModule, createSqlModule } from '../engine/modules/sql.ts';
import { benchModuleContext } from './module-context.ts';
import { startPostgres } from '../test/support/postgres.ts';

const SECONDS = Number(process.env.SQL_BENCH_SECONDS ?? 1.5);
const ROWS = 1000;

interface Db {
  exec(q: string, ...args: unknown[]): Promise<unknown>;
  query(q: string, ...args: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

/** Runs `op` with `inFlight` concurrent loops for SECONDS; returns operations per second. */
async function measure(op: (i: number) => Promise<unknown> | undefined, inFlight = 1): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const r = op(n++);
      if (r !== undefined) await r;
      else if ((n & 1023) === 0) await new Promise((res) => setImmediate(res)); // let timers run for sync ops
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, () => loop()));
  return n / ((performance.now() - t0) / 1000);
}

/** Raw and module alternately, twice each (warm-up and machine noise hit both), best of each. */
async function compare(
  label: string,
  rawOp: (i: number) => Promise<unknown> | undefined,
  modOp: (i: number) => Promise<unknown> | undefined,
  inFlight = 1,
): Promise<void> {
  let raw = 0;
  let mod = 0;
  for (let round = 0; round < 2; round++) {
    raw = Math.max(raw, await measure(rawOp, inFlight));
    mod = Math.max(mod, await measure(modOp, inFlight));
  }
  report(label, raw, mod);
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9);
const rows: string[] = [];
function report(label: string, raw: number, mod: number): void {
  rows.push(`${label.padEnd(38)} raw ${fmt(raw)} q/s   k6/x/sql ${fmt(mod)} q/s   (${((mod / raw) * 100).toFixed(0)} % of raw)`);
}

async function sqliteBench(dir: string): Promise<void> {
  const file = join(dir, 'bench.db');
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)');
  const ins = raw.prepare('INSERT INTO items (name, score) VALUES (?, ?)');
  raw.transaction(() => {
    for (let i = 0; i < ROWS; i++) ins.run(`item-${i}`, i / 10);
  })();

  const ctx = benchModuleContext();
  const sql = createSqlModule(ctx).default as { open(d: unknown, dsn: string): Db };
  const db = sql.open(createSqlDriverModule('sqlite3')(ctx).default, file);

  const select = 'SELECT id, name, score FROM items WHERE id = ?';
  const rawSelect = raw.prepare(select);
  await compare(
    'sqlite3 SELECT by id (prepared once)',
    (i) => {
      rawSelect.all((i % ROWS) + 1);
      return undefined;
    },
    (i) => db.query(select, (i % ROWS) + 1),
  );
  await compare(
    'sqlite3 SELECT by id (prepare per call)',
    (i) => {
      raw.prepare(select).all((i % ROWS) + 1);
      return undefined;
    },
    (i) => db.query(select, (i % ROWS) + 1),
  );
  const insert = 'INSERT INTO items (name, score) VALUES (?, ?)';
  const rawInsert = raw.prepare(insert);
  await compare(
    'sqlite3 INSERT one row',
    (i) => {
      rawInsert.run(`n${i}`, i);
      return undefined;
    },
    (i) => db.exec(insert, `n${i}`, i),
  );
  await db.close();
  raw.close();
}

async function postgresBench(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  pool.on('error', () => undefined); // idle clients cut by the server's shutdown
  await pool.query('DROP TABLE IF EXISTS bench_items');
  await pool.query('CREATE TABLE bench_items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, score REAL)');
  await pool.query(`INSERT INTO bench_items (name, score) SELECT 'item-' || g, g / 10.0 FROM generate_series(1, ${ROWS}) g`);

  const ctx = benchModuleContext();
  const sql = createSqlModule(ctx).default as { open(d: unknown, dsn: string, o?: unknown): Db };
  const db = sql.open(createSqlDriverModule('postgres')(ctx).default, url, { max_open_conns: 8, max_idle_conns: 8 });

  const select = 'SELECT id, name, score FROM bench_items WHERE id = $1';
  for (const inFlight of [1, 8]) {
    await compare(
      `postgres SELECT by id, ${inFlight} in flight`,
      (i) => pool.query(select, [(i % ROWS) + 1]),
      (i) => db.query(select, (i % ROWS) + 1),
      inFlight,
    );
  }
  const insert = 'INSERT INTO bench_items (name, score) VALUES ($1, $2)';
  await compare(
    'postgres INSERT one row, 8 in flight',
    (i) => pool.query(insert, [`n${i}`, i]),
    (i) => db.exec(insert, `n${i}`, i),
    8,
  );
  await pool.query('DROP TABLE bench_items');
  await db.close();
  await pool.end();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-bench-sql-'));
  try {
    await sqliteBench(dir);
    const external = process.env.DATABASE_URL;
    if (external !== undefined && external !== '') {
      await postgresBench(external);
    } else {
      const server = await startPostgres('agentload_bench');
      try {
        await postgresBench(server.url);
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `bench:sql  node ${process.version}, ${SECONDS} s per measurement, raw/module alternated twice (best kept), same process\n${rows.join('\n')}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:sql failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
