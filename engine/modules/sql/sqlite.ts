/**
 * SQLite driver for `k6/x/sql` on the embedded engine, on better-sqlite3. Placeholders are `?` (or `?NNN`).
 *
 * better-sqlite3 is synchronous: `exec`/`query` run on the engine's thread (fast; a slow statement holds the
 * event loop like it holds a k6 VU). The *WithTimeout variants run on a worker thread with its own
 * connection to the same file, so the deadline can fire; on timeout the worker is abandoned (it ends when
 * the statement does: SQLite cannot be interrupted from another thread here) and the call rejects with
 * "context deadline exceeded". `:memory:` databases cannot use the timeout variants (the worker would see
 * a different, empty database).
 *
 * DSN: a file path, `:memory:`, or a `file:` URI with `mode=ro|rw|rwc|memory` and `_busy_timeout`/`_timeout` (ms).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DEADLINE_EXCEEDED, SqlError, driverError, maskDsn } from './errors.ts';
import type { DriverDatabase, ExecOutcome, Row } from './types.ts';

interface SqliteTarget {
  readonly file: string;
  readonly readonly: boolean;
  readonly fileMustExist: boolean;
  readonly memory: boolean;
  readonly busyTimeoutMs: number;
}

export function parseSqliteDsn(dsn: string): SqliteTarget {
  const text = dsn.trim();
  const bad = (why: string): SqlError =>
    new SqlError(
      'sql-bad-dsn',
      `sqlite3 DSN ${JSON.stringify(maskDsn(dsn))} is not valid (${why}): use a file path like "./data.db", ":memory:" or "file:data.db?mode=rwc"`,
    );
  if (text === '') throw bad('empty');
  if (text === ':memory:') return { file: ':memory:', readonly: false, fileMustExist: false, memory: true, busyTimeoutMs: 5000 };
  if (!text.startsWith('file:')) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw bad(`a ${text.slice(0, text.indexOf(':'))} URL is not a SQLite file`);
    return { file: text, readonly: false, fileMustExist: false, memory: false, busyTimeoutMs: 5000 };
  }
  const q = text.indexOf('?');
  const path = decodeURIComponent(text.slice('file:'.length, q < 0 ? undefined : q).replace(/^\/\/(?=\/)/, ''));
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const mode = params.get('mode') ?? 'rwc';
  if (!['ro', 'rw', 'rwc', 'memory'].includes(mode)) throw bad(`mode=${mode}; use ro, rw, rwc or memory`);
  const busyRaw = params.get('_busy_timeout') ?? params.get('_timeout') ?? '5000';
  const busy = Number(busyRaw);
  if (!Number.isFinite(busy) || busy < 0) throw bad(`_busy_timeout=${busyRaw}`);
  const memory = mode === 'memory' || path === ':memory:' || path === '';
  return {
    file: memory ? ':memory:' : path,
    readonly: mode === 'ro',
    fileMustExist: mode === 'ro' || mode === 'rw',
    memory,
    busyTimeoutMs: busy,
  };
}

function toSqliteArg(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v) && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return JSON.stringify(v);
  return v;
}

function fromSqliteValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) {
    const out = new ArrayBuffer(v.length);
    new Uint8Array(out).set(v);
    return out;
  }
  return v;
}

function toRows(raw: readonly unknown[]): Row[] {
  return raw.map((r) => {
    const row: Row = {};
    for (const [k, v] of Object.entries(r as Record<string, unknown>)) row[k] = fromSqliteValue(v);
    return row;
  });
}

const MULTI_STATEMENT = /more than one statement/i;
const STATEMENT_CACHE_SIZE = 256;

/** Runs one exec/query on an open connection; shared by the main thread and the worker (same logic). */
/** A prepared statement and whether it uses numbered placeholders (`?N`), which better-sqlite3 binds from an object. */
interface Prepared {
  readonly stmt: Database.Statement;
  readonly numbered: boolean;
}
type Prepare = (query: string) => Prepared;

/** Positional args as better-sqlite3 wants them: a list, or `{1: a, 2: b}` for numbered placeholders. */
function bindArgs(bound: unknown[], numbered: boolean): unknown[] {
  if (!numbered) return bound;
  const byIndex: Record<number, unknown> = {};
  bound.forEach((v, i) => {
    byIndex[i + 1] = v;
  });
  return [byIndex];
}

/**
 * Rewrites `$1`-style placeholders to SQLite's positional `?1` (mattn/go-sqlite3, under xk6-sql, binds
 * `$N` by position; better-sqlite3 would treat it as a named parameter). Quoted text and comments are left alone.
 */
export function positionalPlaceholders(query: string): string {
  return numberPlaceholders(query).sql;
}

/** The rewrite above, plus whether the statement has numbered placeholders (`$N` or `?N`) outside quotes. */
export function numberPlaceholders(query: string): { sql: string; numbered: boolean } {
  if (!query.includes('$') && !/\?[0-9]/.test(query)) return { sql: query, numbered: false };
  let numbered = false;
  let out = '';
  let i = 0;
  while (i < query.length) {
    const c = query[i] ?? '';
    const close = c === "'" ? "'" : c === '"' ? '"' : c === '`' ? '`' : c === '[' ? ']' : undefined;
    if (close !== undefined) {
      const end = query.indexOf(close, i + 1);
      const stop = end < 0 ? query.length : end + 1;
      out += query.slice(i, stop);
      i = stop;
    } else if (c === '-' && query[i + 1] === '-') {
      const end = query.indexOf('\n', i);
      const stop = end < 0 ? query.length : end;
      out += query.slice(i, stop);
      i = stop;
    } else if (c === '/' && query[i + 1] === '*') {
      const end = query.indexOf('*/', i + 2);
      const stop = end < 0 ? query.length : end + 2;
      out += query.slice(i, stop);
      i = stop;
    } else if (c === '$' && /[0-9]/.test(query[i + 1] ?? '') && !/[A-Za-z0-9_]/.test(query[i - 1] ?? '')) {
      let j = i + 1;
      while (/[0-9]/.test(query[j] ?? '')) j++;
      out += `?${query.slice(i + 1, j)}`;
      numbered = true;
      i = j;
    } else {
      if (c === '?' && /[0-9]/.test(query[i + 1] ?? '')) numbered = true;
      out += c;
      i++;
    }
  }
  return { sql: out, numbered };
}

function runExec(db: Database.Database, prepare: Prepare, query: string, args: readonly unknown[]): ExecOutcome {
  const bound = args.map(toSqliteArg);
  let prepared: Prepared;
  try {
    prepared = prepare(query);
  } catch (e) {
    if (bound.length === 0 && e instanceof RangeError && MULTI_STATEMENT.test(e.message)) {
      db.exec(query);
      const info = db.prepare('SELECT changes() AS c, last_insert_rowid() AS id').get() as { c: number; id: number };
      return { rowsAffected: info.c, lastInsertId: info.id };
    }
    throw e;
  }
  const { stmt, numbered } = prepared;
  const values = bindArgs(bound, numbered);
  if (stmt.reader) {
    stmt.all(...values);
    return { rowsAffected: 0, lastInsertId: Number(db.prepare('SELECT last_insert_rowid() AS id').pluck().get()) };
  }
  const info = stmt.run(...values);
  return { rowsAffected: info.changes, lastInsertId: Number(info.lastInsertRowid) };
}

function runQuery(prepare: Prepare, query: string, args: readonly unknown[]): Row[] {
  const { stmt, numbered } = prepare(query);
  const values = bindArgs(args.map(toSqliteArg), numbered);
  if (!stmt.reader) {
    stmt.run(...values);
    return [];
  }
  return toRows(stmt.all(...values));
}

function openConnection(t: SqliteTarget): Database.Database {
  const db = new Database(t.file, { readonly: t.readonly, fileMustExist: t.fileMustExist, timeout: t.busyTimeoutMs });
  return db;
}

const require = createRequire(import.meta.url);

/**
 * Worker source (plain CommonJS, so it runs without the TypeScript loader): the same exec/query rules as
 * runExec/runQuery above, on the worker's own connection. Arguments arrive already converted by toSqliteArg.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const t = workerData.target;
const db = new Database(t.file, { readonly: t.readonly, fileMustExist: t.fileMustExist, timeout: t.busyTimeoutMs });
const out = (v) => typeof v === 'bigint' ? Number(v) : Buffer.isBuffer(v) ? new Uint8Array(v).buffer : v;
function exec(query, args) {
  let stmt;
  try { stmt = db.prepare(query); } catch (e) {
    if (args.length === 0 && e instanceof RangeError && /more than one statement/i.test(e.message)) {
      db.exec(query);
      const info = db.prepare('SELECT changes() AS c, last_insert_rowid() AS id').get();
      return { rowsAffected: info.c, lastInsertId: info.id };
    }
    throw e;
  }
  if (stmt.reader) {
    stmt.all(...args);
    return { rowsAffected: 0, lastInsertId: Number(db.prepare('SELECT last_insert_rowid()').pluck().get()) };
  }
  const info = stmt.run(...args);
  return { rowsAffected: info.changes, lastInsertId: Number(info.lastInsertRowid) };
}
function query(q, args) {
  const stmt = db.prepare(q);
  if (!stmt.reader) { stmt.run(...args); return []; }
  return stmt.all(...args).map((r) => { const o = {}; for (const k of Object.keys(r)) o[k] = out(r[k]); return o; });
}
parentPort.on('message', (m) => {
  try {
    const result = m.kind === 'exec' ? exec(m.query, m.args) : query(m.query, m.args);
    parentPort.postMessage({ id: m.id, ok: true, result });
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, message: e && e.message ? e.message : String(e), code: e && typeof e.code === 'string' ? e.code : undefined });
  }
});
`;

interface WorkerReply {
  id: number;
  ok: boolean;
  result?: unknown;
  message?: string;
  code?: string;
}

class TimeoutWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;
  #dead = false;

  constructor(target: SqliteTarget) {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driverPath: require.resolve('better-sqlite3'), target },
    });
    this.#worker.unref();
    this.#worker.on('message', (m: WorkerReply) => {
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new SqlError('sql-error', m.message ?? 'sqlite3 error', m.code));
    });
    this.#worker.on('error', (e) => {
      this.#abandon(driverError(e));
    });
    this.#worker.on('exit', () => {
      this.#abandon(new SqlError('sql-error', 'sqlite3 worker exited'));
    });
  }

  get dead(): boolean {
    return this.#dead;
  }

  call(kind: 'exec' | 'query', query: string, args: readonly unknown[], timeoutMs: number): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#abandon(new SqlError('sql-timeout', DEADLINE_EXCEEDED));
        reject(new SqlError('sql-timeout', DEADLINE_EXCEEDED));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#worker.ref();
      const { sql, numbered } = numberPlaceholders(query);
      const bound = args.map(toSqliteArg);
      this.#worker.postMessage({ id, kind, query: sql, args: numbered ? bindArgs(bound, true) : bound });
    }).finally(() => {
      if (this.#pending.size === 0 && !this.#dead) this.#worker.unref();
    });
  }

  /** Stops using this worker: pending calls reject, the thread ends once its running statement returns. */
  #abandon(err: SqlError): void {
    if (this.#dead) return;
    this.#dead = true;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#worker.unref();
    void this.#worker.terminate();
  }

  close(): Promise<unknown> {
    this.#abandon(new SqlError('sql-closed', 'sql: database is closed'));
    return Promise.resolve();
  }
}

export class SqliteDatabase implements DriverDatabase {
  readonly #target: SqliteTarget;
  readonly #dsn: string;
  #db: Database.Database | undefined;
  #worker: TimeoutWorker | undefined;
  #closed = false;
  /** Prepared statements by SQL text, least recently used dropped first. */
  readonly #statements = new Map<string, Prepared>();
  readonly #prepare: Prepare = (query) => {
    const cached = this.#statements.get(query);
    if (cached !== undefined) {
      this.#statements.delete(query);
      this.#statements.set(query, cached);
      return cached;
    }
    const { sql, numbered } = numberPlaceholders(query);
    const stmt: Prepared = { stmt: this.#conn().prepare(sql), numbered };
    this.#statements.set(query, stmt);
    if (this.#statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next();
      if (oldest.done !== true) this.#statements.delete(oldest.value);
    }
    return stmt;
  };

  constructor(dsn: string) {
    this.#dsn = dsn;
    this.#target = parseSqliteDsn(dsn);
  }

  exec(query: string, args: readonly unknown[], timeoutMs?: number): Promise<ExecOutcome> {
    if (timeoutMs !== undefined) return this.#viaWorker('exec', query, args, timeoutMs) as Promise<ExecOutcome>;
    return this.#now(() => runExec(this.#conn(), this.#prepare, query, args));
  }

  query(query: string, args: readonly unknown[], timeoutMs?: number): Promise<Row[]> {
    if (timeoutMs !== undefined) return this.#viaWorker('query', query, args, timeoutMs) as Promise<Row[]>;
    return this.#now(() => {
      this.#conn();
      return runQuery(this.#prepare, query, args);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#statements.clear();
    this.#db?.close();
    this.#db = undefined;
    void this.#worker?.close();
    this.#worker = undefined;
    return Promise.resolve();
  }

  #now<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(driverError(e));
    }
  }

  #conn(): Database.Database {
    if (this.#closed) throw new SqlError('sql-closed', 'sql: database is closed: do not use a database after db.close()');
    if (this.#db === undefined) {
      try {
        this.#db = openConnection(this.#target);
      } catch (e) {
        const err = driverError(e);
        throw new SqlError('sql-open', `sqlite3: cannot open ${JSON.stringify(maskDsn(this.#dsn))}: ${err.message}`, err.driverCode);
      }
    }
    return this.#db;
  }

  async #viaWorker(kind: 'exec' | 'query', query: string, args: readonly unknown[], timeoutMs: number): Promise<unknown> {
    if (this.#closed) throw new SqlError('sql-closed', 'sql: database is closed: do not use a database after db.close()');
    if (this.#target.memory) {
      throw new SqlError(
        'sql-unsupported',
        `sqlite3 ${kind}WithTimeout on ":memory:" is not supported on the embedded engine: use a database file`,
      );
    }
    if (timeoutMs <= 0) throw new SqlError('sql-timeout', DEADLINE_EXCEEDED);
    this.#conn(); // surfaces open errors (and creates the file) the same way the plain calls do
    if (this.#worker === undefined || this.#worker.dead) this.#worker = new TimeoutWorker(this.#target);
    return this.#worker.call(kind, query, args, timeoutMs);
  }
}
