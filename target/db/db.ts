/**
 * A small database boundary with two implementations: better-sqlite3 (default) and pg (DATABASE_URL).
 * SQL is written once with `?` placeholders; the PostgreSQL side renumbers them to `$1..$n`.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { DIALECTS, MIGRATIONS, type Dialect, type DialectName } from './migrations.ts';

export type Param = string | number | null;
export type Row = Record<string, unknown>;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  /** Operations that got no connection within the pool's acquire timeout, since start. */
  errors: number;
}

export interface Queryable {
  all(sql: string, params?: readonly Param[]): Promise<Row[]>;
  run(sql: string, params?: readonly Param[]): Promise<number>;
}

export interface Db extends Queryable {
  readonly dialect: Dialect;
  /** Runs `fn` in one transaction (one connection on PostgreSQL). */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** SQL expression reading `key` of a JSON column as text. `key` must be a plain identifier. */
  jsonText(column: string, key: string): string;
  pool(): PoolStats;
  queries(): number;
  close(): Promise<void>;
}

function toPg(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

class SqliteDb implements Db {
  readonly dialect = DIALECTS.sqlite;
  private count = 0;
  private readonly db: Database.Database;
  private readonly cache = new Map<string, Database.Statement>();
  private inTx = false;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      if (this.cache.size < 500) this.cache.set(sql, s);
    }
    return s;
  }

  all(sql: string, params: readonly Param[] = []): Promise<Row[]> {
    this.count += 1;
    return Promise.resolve(this.stmt(sql).all(...params) as Row[]);
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    this.count += 1;
    return Promise.resolve(this.stmt(sql).run(...params).changes);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    // better-sqlite3 is synchronous, so a transaction holds the thread as long as `fn` never
    // awaits anything but this database; nested calls join the outer transaction.
    if (this.inTx) return fn(this);
    this.inTx = true;
    this.db.exec('BEGIN');
    try {
      const out = await fn(this);
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    } finally {
      this.inTx = false;
    }
  }

  jsonText(column: string, key: string): string {
    return `CAST(json_extract(${column}, '$.${key}') AS TEXT)`;
  }

  pool(): PoolStats {
    return { total: 1, idle: this.inTx ? 0 : 1, waiting: 0, errors: 0 };
  }

  queries(): number {
    return this.count;
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

class PostgresDb implements Db {
  readonly dialect = DIALECTS.postgres;
  private count = 0;
  private poolErrors = 0;
  private readonly p: pg.Pool;

  constructor(Pool: typeof pg.Pool, url: string, max: number, acquireTimeoutMs: number) {
    this.p = new Pool({ connectionString: url, max, connectionTimeoutMillis: acquireTimeoutMs });
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    this.p.on('error', () => undefined);
  }

  /** pg's pool rejects with this message when no connection frees up within connectionTimeoutMillis. */
  private counted<T>(p: Promise<T>): Promise<T> {
    return p.catch((e: unknown) => {
      if (e instanceof Error && /timeout exceeded when trying to connect/i.test(e.message)) this.poolErrors += 1;
      throw e;
    });
  }

  private wrap(c: pg.Pool | pg.PoolClient): Queryable {
    return {
      all: async (sql, params = []) => {
        this.count += 1;
        return (await this.counted(c.query(toPg(sql), [...params]))).rows as Row[];
      },
      run: async (sql, params = []) => {
        this.count += 1;
        return (await this.counted(c.query(toPg(sql), [...params]))).rowCount ?? 0;
      },
    };
  }

  all(sql: string, params: readonly Param[] = []): Promise<Row[]> {
    return this.wrap(this.p).all(sql, params);
  }
  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.wrap(this.p).run(sql, params);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const c = await this.counted(this.p.connect());
    try {
      await c.query('BEGIN');
      const out = await fn(this.wrap(c));
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  jsonText(column: string, key: string): string {
    return `${column}->>'${key}'`;
  }

  pool(): PoolStats {
    return { total: this.p.totalCount, idle: this.p.idleCount, waiting: this.p.waitingCount, errors: this.poolErrors };
  }

  queries(): number {
    return this.count;
  }

  close(): Promise<void> {
    return this.p.end();
  }
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  sqlitePath: string;
  poolMax: number;
  /** How long an operation waits for a pooled connection before it fails (PostgreSQL), default 10 s. */
  poolTimeoutMs?: number;
}

export async function openDb(o: OpenOptions): Promise<Db> {
  // pg is loaded only for a PostgreSQL database (it costs a tenth of a second or more at every start).
  const db: Db =
    o.databaseUrl !== undefined
      ? new PostgresDb((await import('pg')).default.Pool, o.databaseUrl, o.poolMax, o.poolTimeoutMs ?? 10_000)
      : new SqliteDb(o.sqlitePath);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return db;
}

/** Applies every migration not yet recorded in `schema_migrations`, each in its own transaction. */
export async function migrate(db: Db): Promise<number[]> {
  await db.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  );
  const done = new Set((await db.all('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    await db.tx(async (q) => {
      for (const sql of m.up(db.dialect)) await q.run(sql);
      await q.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
    });
    applied.push(m.version);
  }
  return applied;
}

/** Multi-row INSERT in chunks (works on both dialects). */
export async function insertMany(
  q: Queryable,
  table: string,
  columns: readonly string[],
  rows: ReadonlyArray<readonly Param[]>,
): Promise<void> {
  const chunk = Math.max(1, Math.floor(900 / columns.length));
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    const values = part.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await q.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, part.flat());
  }
}

/** A JSON column value as read back: SQLite gives text, PostgreSQL a parsed value. */
export function readJson(v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v ?? null;
}

export type { DialectName };
