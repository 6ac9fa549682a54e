/**
 * Types for xk6-sql (`k6/x/sql` and its driver modules), which @types/k6 does not ship.
 * Calls block in k6 and return promises on the embedded engine: type them as `T | Promise<T>` so
 * scripts `await` them on both.
 */
declare module 'k6/x/sql' {
  export interface Result {
    lastInsertId(): number;
    rowsAffected(): number;
  }
  export type Row = Record<string, unknown>;
  export interface Database {
    exec(query: string, ...args: unknown[]): Result | Promise<Result>;
    execWithTimeout(timeout: string, query: string, ...args: unknown[]): Result | Promise<Result>;
    query(query: string, ...args: unknown[]): Row[] | Promise<Row[]>;
    queryWithTimeout(timeout: string, query: string, ...args: unknown[]): Row[] | Promise<Row[]>;
    close(): void | Promise<void>;
  }
  export interface OpenOptions {
    conn_max_idle_time?: string;
    conn_max_lifetime?: string;
    max_idle_conns?: number;
    max_open_conns?: number;
  }
  export interface Sql {
    open(driver: symbol, dsn: string, options?: OpenOptions): Database;
  }
  const sql: Sql;
  export default sql;
}

declare module 'k6/x/sql/driver/postgres' {
  const driver: symbol;
  export default driver;
}

declare module 'k6/x/sql/driver/sqlite3' {
  const driver: symbol;
  export default driver;
}
