// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- xk6-sql ships no types; a scenario type-checked alone must still see them
/// <reference path="./types/xk6-sql.d.ts" />
/** `k6/x/sql` (xk6-sql) with its postgres and sqlite3 drivers, opened by name. */
import sql from 'k6/x/sql';
import type { Database, OpenOptions } from 'k6/x/sql';
import postgres from 'k6/x/sql/driver/postgres';
import sqlite3 from 'k6/x/sql/driver/sqlite3';

export type { Database, Row } from 'k6/x/sql';

export type SqlDriver = 'postgres' | 'sqlite3';

/** Opens a database in init code (one handle per VU, with its own pool). */
export function openDb(driver: SqlDriver, dsn: string, options: OpenOptions = {}): Database {
  return sql.open(driver === 'postgres' ? postgres : sqlite3, dsn, options);
}
