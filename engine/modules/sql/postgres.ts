/**
 * PostgreSQL driver for `k6/x/sql` on the embedded engine, on `pg`'s pool. Placeholders are `$1, $2, ...`.
 * Pool options follow Go's database/sql (which xk6-sql uses): max_open_conns = pool size (0 = unlimited),
 * max_idle_conns = connections kept idle after use (default 2), conn_max_idle_time and conn_max_lifetime.
 * A *WithTimeout call past its deadline cancels the statement on the server (pg_cancel_backend), drops
 * that connection and rejects with "context deadline exceeded", as Go's context deadline does.
 */
import pg from 'pg';
import { keyValuePairs } from './dsn.ts';
import { DEADLINE_EXCEEDED, SqlError, driverError, maskDsn } from './errors.ts';
import type { DriverDatabase, ExecOutcome, PoolOptions, Row } from './types.ts';

const INT8_OID = 20;

/** int8 (bigint, COUNT(*)) as numbers like Go's int64 does in k6, instead of pg's default strings. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary'): unknown => {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    const base = pg.types.getTypeParser as (id: number, fmt?: 'text' | 'binary') => unknown;
    return base(oid, format);
  },
};

/** Turns a libpq-style DSN (URL or `key=value` pairs) into pg client settings; throws `sql-bad-dsn`. */
export function parsePostgresDsn(dsn: string): pg.ClientConfig {
  const bad = (why: string): SqlError =>
    new SqlError(
      'sql-bad-dsn',
      `postgres DSN ${JSON.stringify(maskDsn(dsn))} is not valid (${why}): use "postgres://user:password@host:5432/db?sslmode=disable" or "host=127.0.0.1 port=5432 user=u dbname=db sslmode=disable"`,
    );
  const text = dsn.trim();
  if (text === '') throw bad('empty');
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw bad('not a URL');
    }
    if (url.port !== '' && !/^\d+$/.test(url.port)) throw bad(`port ${url.port}`);
    return { connectionString: text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw bad(`scheme ${text.slice(0, text.indexOf(':'))}`);
  const kv = keyValuePairs(text);
  if ('badAt' in kv) throw bad(`cannot read "key=value" at position ${String(kv.badAt)}`);
  const cfg: pg.ClientConfig = {};
  for (const { key, value } of kv.pairs) {
    switch (key) {
      case 'host':
        cfg.host = value;
        break;
      case 'port': {
        const port = Number(value);
        if (!Number.isInteger(port) || port <= 0 || port > 65535) throw bad(`port ${value}`);
        cfg.port = port;
        break;
      }
      case 'user':
        cfg.user = value;
        break;
      case 'password':
        cfg.password = value;
        break;
      case 'dbname':
        cfg.database = value;
        break;
      case 'sslmode':
        cfg.ssl =
          value === 'disable' || value === 'allow' || value === 'prefer'
            ? false
            : { rejectUnauthorized: value === 'verify-full' || value === 'verify-ca' };
        break;
      case 'connect_timeout':
        cfg.connectionTimeoutMillis = Number(value) * 1000;
        break;
      case 'application_name':
        cfg.application_name = value;
        break;
      default:
        break; // other libpq keys are accepted and ignored
    }
  }
  return cfg;
}

interface PgPoolClient extends pg.PoolClient {
  readonly processID?: number | null;
}

export class PostgresDatabase implements DriverDatabase {
  readonly #pool: pg.Pool;
  readonly #maxIdle: number;
  #closed = false;

  constructor(dsn: string, opts: PoolOptions) {
    const cfg = parsePostgresDsn(dsn);
    this.#maxIdle = opts.maxIdleConns;
    this.#pool = new pg.Pool({
      ...cfg,
      types,
      max: opts.maxOpenConns > 0 ? opts.maxOpenConns : Number.MAX_SAFE_INTEGER,
      idleTimeoutMillis: opts.connMaxIdleTime > 0 ? opts.connMaxIdleTime : 0,
      maxLifetimeSeconds: opts.connMaxLifetime > 0 ? Math.max(1, Math.ceil(opts.connMaxLifetime / 1000)) : 0,
      allowExitOnIdle: true,
    });
    // Idle clients that lose their server emit here; the next query reports the problem.
    this.#pool.on('error', () => undefined);
  }

  async exec(query: string, args: readonly unknown[], timeoutMs?: number, signal?: AbortSignal): Promise<ExecOutcome> {
    const res = await this.#run(query, args, timeoutMs, signal);
    const last = Array.isArray(res) ? res[res.length - 1] : res;
    return { rowsAffected: last?.rowCount ?? 0, lastInsertId: undefined };
  }

  async query(query: string, args: readonly unknown[], timeoutMs?: number, signal?: AbortSignal): Promise<Row[]> {
    const res = await this.#run(query, args, timeoutMs, signal);
    const last = Array.isArray(res) ? res[res.length - 1] : res;
    return (last?.rows ?? []) as Row[];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async #run(
    query: string,
    args: readonly unknown[],
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<pg.QueryResult | pg.QueryResult[]> {
    if (this.#closed) throw new SqlError('sql-closed', 'sql: database is closed: do not use a database after db.close()');
    if (timeoutMs !== undefined && timeoutMs <= 0) throw new SqlError('sql-timeout', DEADLINE_EXCEEDED);
    if (signal?.aborted === true) throw new SqlError('sql-canceled', CONTEXT_CANCELED);
    const stop = stopper(timeoutMs, signal);
    try {
      let client: PgPoolClient;
      const connecting = this.#pool.connect() as Promise<PgPoolClient>;
      try {
        client = await Promise.race([connecting, stop.promise]);
      } catch (e) {
        connecting.then(
          (c) => {
            c.release();
          },
          () => undefined,
        );
        throw driverError(e);
      }
      const values = args.length === 0 ? undefined : args.map(toPgValue);
      const work = client.query(query, values) as Promise<pg.QueryResult | pg.QueryResult[]>;
      let destroy = false;
      try {
        return await Promise.race([work, stop.promise]);
      } catch (e) {
        if (e instanceof SqlError && (e.code === 'sql-timeout' || e.code === 'sql-canceled')) {
          // Past the deadline or the iteration is over: stop the statement on the server, drop the connection.
          destroy = true;
          work.catch(() => undefined);
          this.#cancel(client.processID);
          throw e;
        }
        if (isConnectionError(e)) destroy = true;
        throw driverError(e);
      } finally {
        const keep = !destroy && this.#pool.idleCount < this.#maxIdle;
        client.release(keep ? undefined : true);
      }
    } finally {
      stop.dispose();
    }
  }

  /** Asks the server to stop the statement a timed-out connection is running (best effort). */
  #cancel(pid: number | null | undefined): void {
    if (typeof pid !== 'number' || this.#closed) return;
    this.#pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  }
}

/** Go's `context.Canceled` text: the VU's context ended (iteration interrupted) while the call ran. */
const CONTEXT_CANCELED = 'context canceled';

/** One promise that rejects at the deadline (`sql-timeout`) or when the signal aborts (`sql-canceled`). */
function stopper(timeoutMs: number | undefined, signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    if (timeoutMs !== undefined)
      timer = setTimeout(() => {
        reject(new SqlError('sql-timeout', DEADLINE_EXCEEDED));
      }, timeoutMs);
    if (signal !== undefined) {
      onAbort = () => {
        reject(new SqlError('sql-canceled', CONTEXT_CANCELED));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  promise.catch(() => undefined);
  return {
    promise,
    dispose: () => {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    },
  };
}

function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08');
}

function toPgValue(v: unknown): unknown {
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v) && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}
