/**
 * `k6/x/sql` (xk6-sql's API) and its driver modules `k6/x/sql/driver/postgres` and
 * `k6/x/sql/driver/sqlite3` on the embedded engine.
 *
 *   import sql from 'k6/x/sql';
 *   import driver from 'k6/x/sql/driver/postgres';     // default export: the driver's Symbol
 *   const db = sql.open(driver, dsn, { max_open_conns: 4 });   // per VU, in init code
 *   const r = await db.exec('INSERT ...', a, b);  r.rowsAffected(); r.lastInsertId();
 *   const rows = await db.query('SELECT ...', a);             // plain objects keyed by column
 *   await db.execWithTimeout('2s', ...);  await db.queryWithTimeout('500ms', ...);
 *   await db.close();
 *
 * Differences from k6 (where these calls block): exec/query/close return promises, so scripts await them
 * (awaiting k6's plain return value is harmless). Pending calls keep the iteration open.
 */
import type { ModuleContext, ModuleFactory } from '../contracts.ts';
import { awaitable } from './awaitable.ts';
import type { EngineModuleContext } from './context.ts';
import { postgresDsnHosts } from './sql/dsn.ts';
import { toError } from '../../shared/errors.ts';
import { SqlError, parseGoDuration } from './sql/errors.ts';
import { PostgresDatabase } from './sql/postgres.ts';
import { SqliteDatabase } from './sql/sqlite.ts';
import type { DriverDatabase, ExecOutcome, PoolOptions, Row } from './sql/types.ts';

export { SqlError, maskDsn, parseGoDuration } from './sql/errors.ts';
export type { PoolOptions, Row } from './sql/types.ts';

export type SqlDriverName = 'postgres' | 'sqlite3';

/** The runtime calls a module's `Symbol.for('agentload.close')` export when the VU is closed. */
const MODULE_CLOSE = Symbol.for('agentload.close') as unknown as string;

function isEngineContext(ctx: ModuleContext): ctx is EngineModuleContext {
  return 'trackAwaitable' in ctx && 'callSite' in ctx;
}

/** One Symbol per driver for the whole process, as xk6-sql's driver modules export (their description is the name). */
const DRIVER_SYMBOLS: Readonly<Record<SqlDriverName, symbol>> = {
  postgres: Symbol('postgres'),
  sqlite3: Symbol('sqlite3'),
};

/** `k6/x/sql/driver/<name>`: `export default <driver symbol>`. */
export function createSqlDriverModule(driver: SqlDriverName): ModuleFactory {
  const id = DRIVER_SYMBOLS[driver];
  // __esModule: ESM-to-CommonJS interop (the runtime's loader) then gives `import driver from ...` the symbol itself.
  return () => ({ __esModule: true, default: id });
}

function driverOf(value: unknown): SqlDriverName {
  let sym: symbol | undefined;
  if (typeof value === 'symbol') sym = value;
  else if (Object.prototype.toString.call(value) === '[object Symbol]') sym = Symbol.prototype.valueOf.call(value);
  if (sym === undefined) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value;
    throw new SqlError(
      'sql-bad-driver',
      `sql.open: unsupported database: invalid driver parameter type (${shown}): import the driver, e.g. \`import driver from "k6/x/sql/driver/postgres"\`, and pass it as the first argument`,
    );
  }
  for (const [name, s] of Object.entries(DRIVER_SYMBOLS) as [SqlDriverName, symbol][]) {
    if (s === sym) return name;
  }
  throw new SqlError(
    'sql-bad-driver',
    `sql.open: unsupported database: ${sym.description ?? 'unknown symbol'}: use k6/x/sql/driver/postgres or k6/x/sql/driver/sqlite3`,
  );
}

const OPTION_KEYS = ['conn_max_idle_time', 'conn_max_lifetime', 'max_idle_conns', 'max_open_conns'] as const;

/** Validates xk6-sql's `open()` options; every problem is reported in one error. */
export function parsePoolOptions(raw: unknown): PoolOptions {
  const opts: { connMaxIdleTime: number; connMaxLifetime: number; maxIdleConns: number; maxOpenConns: number } = {
    connMaxIdleTime: 0,
    connMaxLifetime: 0,
    maxIdleConns: 2,
    maxOpenConns: 0,
  };
  if (raw === undefined || raw === null) return opts;
  if (typeof raw !== 'object') {
    throw new SqlError('sql-bad-options', `sql.open options must be an object like { max_open_conns: 10 }, got ${typeof raw}`);
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      problems.push(`unknown option "${key}" (known: ${OPTION_KEYS.join(', ')})`);
      continue;
    }
    if (key === 'conn_max_idle_time' || key === 'conn_max_lifetime') {
      const ms = typeof value === 'string' ? parseGoDuration(value) : undefined;
      if (ms === undefined) problems.push(`${key} must be a duration string like "30s" or "1h10m", got ${JSON.stringify(value)}`);
      else if (key === 'conn_max_idle_time') opts.connMaxIdleTime = Math.max(0, ms);
      else opts.connMaxLifetime = Math.max(0, ms);
    } else if (typeof value !== 'number' || !Number.isInteger(value)) {
      problems.push(`${key} must be an integer, got ${JSON.stringify(value)}`);
    } else if (key === 'max_idle_conns') {
      opts.maxIdleConns = Math.max(0, value);
    } else {
      opts.maxOpenConns = Math.max(0, value);
    }
  }
  if (problems.length > 0) throw new SqlError('sql-bad-options', `sql.open options: ${problems.join('; ')}`);
  if (opts.maxOpenConns > 0 && opts.maxIdleConns > opts.maxOpenConns) opts.maxIdleConns = opts.maxOpenConns;
  return opts;
}

/** `Result` of exec(): the methods xk6-sql exposes (Go's sql.Result). */
export class Result {
  readonly #outcome: ExecOutcome;
  constructor(outcome: ExecOutcome) {
    this.#outcome = outcome;
  }
  lastInsertId(): number {
    if (this.#outcome.lastInsertId === undefined) {
      throw new SqlError(
        'sql-unsupported',
        'LastInsertId is not supported by this driver: on postgres use INSERT ... RETURNING id with db.query()',
      );
    }
    return this.#outcome.lastInsertId;
  }
  rowsAffected(): number {
    return this.#outcome.rowsAffected;
  }
}

function timeoutOf(method: string, value: unknown): number {
  const ms = typeof value === 'string' ? parseGoDuration(value) : undefined;
  if (ms === undefined) {
    throw new SqlError(
      'sql-bad-timeout',
      `db.${method}: timeout must be a duration string like "500ms" or "2s" as the first argument, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

function queryText(method: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new SqlError('sql-bad-query', `db.${method}: the query must be a string, got ${typeof value}`);
  }
  return value;
}

export const createSqlModule: ModuleFactory = (ctx: ModuleContext) => {
  const engine = isEngineContext(ctx) ? ctx : undefined;
  /** Every database this VU opened, closed when the VU is closed. */
  const opened = new Set<DriverDatabase>();
  /**
   * Keeps the iteration open until the call settles and never lets a rejection go unhandled; on the
   * engine's runtime, a call the script never awaited is reported (forgotten `await`).
   */
  const track = <T>(call: string, p: Promise<T>): Promise<T> => {
    if (engine !== undefined) return awaitable(engine, call, p);
    if (ctx.stage() !== 'init') ctx.trackPending(p.catch(() => undefined));
    return p;
  };
  const safely = <T>(call: string, fn: () => Promise<T>): Promise<T> => {
    let work: Promise<T>;
    try {
      work = fn();
    } catch (e) {
      work = Promise.reject(toError(e));
    }
    return track(call, work);
  };

  /** Database handle returned by `sql.open`: a pool of connections, one per VU that opened it. */
  class Database {
    readonly #db: DriverDatabase;
    constructor(db: DriverDatabase) {
      this.#db = db;
    }

    exec(query: unknown, ...args: unknown[]): Promise<Result> {
      return safely(
        'db.exec(...)',
        async () => new Result(await this.#db.exec(queryText('exec', query), args, undefined, ctx.iterationSignal())),
      );
    }
    query(query: unknown, ...args: unknown[]): Promise<Row[]> {
      return safely('db.query(...)', () => this.#db.query(queryText('query', query), args, undefined, ctx.iterationSignal()));
    }
    execWithTimeout(timeout: unknown, query: unknown, ...args: unknown[]): Promise<Result> {
      return safely(
        'db.execWithTimeout(...)',
        async () =>
          new Result(
            await this.#db.exec(queryText('execWithTimeout', query), args, timeoutOf('execWithTimeout', timeout), ctx.iterationSignal()),
          ),
      );
    }
    queryWithTimeout(timeout: unknown, query: unknown, ...args: unknown[]): Promise<Row[]> {
      return safely('db.queryWithTimeout(...)', () =>
        this.#db.query(queryText('queryWithTimeout', query), args, timeoutOf('queryWithTimeout', timeout), ctx.iterationSignal()),
      );
    }
    close(): Promise<void> {
      opened.delete(this.#db);
      return safely('db.close()', () => this.#db.close());
    }
  }

  function open(driver: unknown, dsn: unknown, options?: unknown): Database {
    const name = driverOf(driver);
    if (typeof dsn !== 'string') {
      throw new SqlError('sql-bad-dsn', `sql.open: the data source name must be a string, got ${typeof dsn}`);
    }
    const opts = parsePoolOptions(options);
    if (name === 'postgres') refuseHosts(dsn);
    const db: DriverDatabase = name === 'postgres' ? new PostgresDatabase(dsn, opts) : new SqliteDatabase(dsn);
    opened.add(db);
    return new Database(db);
  }

  /** The run's host allowlist, before the pool may connect: every host the DSN names (or pg's PGHOST/localhost default). */
  function refuseHosts(dsn: string): void {
    const where = postgresDsnHosts(dsn, process.env);
    if (!where.ok) return; // the driver reports the malformed DSN in its own words
    for (const host of where.hosts) {
      if (host.startsWith('/')) continue; // a Unix socket: this machine
      const why = ctx.connectRefusal(host);
      if (why !== undefined) throw new SqlError('sql-host-not-allowed', `sql.open: ${why}`);
    }
  }

  /** Called by the runtime when the VU is done: closes the pools the script left open. */
  const closeAll = async (): Promise<void> => {
    const all = [...opened];
    opened.clear();
    await Promise.all(all.map((db) => db.close().catch(() => undefined)));
  };

  return { open, default: { open }, [MODULE_CLOSE]: closeAll };
};
