/** The seam between `k6/x/sql` and its drivers (postgres via pg, sqlite3 via better-sqlite3). */

export type Row = Record<string, unknown>;

export interface ExecOutcome {
  readonly rowsAffected: number;
  /** undefined when the driver cannot report it (postgres): `lastInsertId()` then throws, as lib/pq does. */
  readonly lastInsertId: number | undefined;
}

/** Pool options as xk6-sql's `open(driver, dsn, options)` takes them, already validated. */
export interface PoolOptions {
  /** ms; 0 = connections are not closed for being idle. */
  readonly connMaxIdleTime: number;
  /** ms; 0 = connections are not closed for their age. */
  readonly connMaxLifetime: number;
  /** Idle connections kept; Go's default is 2. */
  readonly maxIdleConns: number;
  /** 0 = unlimited. */
  readonly maxOpenConns: number;
}

export interface DriverDatabase {
  /**
   * `timeoutMs` undefined = no deadline; `signal` = the running iteration's, aborting cancels the call
   * where the driver can (xk6-sql runs queries in the VU's context). Rejects with SqlError.
   */
  exec(query: string, args: readonly unknown[], timeoutMs?: number, signal?: AbortSignal): Promise<ExecOutcome>;
  query(query: string, args: readonly unknown[], timeoutMs?: number, signal?: AbortSignal): Promise<Row[]>;
  close(): Promise<void>;
}
