import { CodedError, toError } from '../../../shared/errors.ts';

/** Errors `k6/x/sql` throws into scripts. Tests branch on `code`; `message` carries the driver's own text. */
export class SqlError extends CodedError {
  /** PostgreSQL SQLSTATE (e.g. `42601`) or SQLite result code (e.g. `SQLITE_ERROR`) when the driver gave one. */
  readonly driverCode: string | undefined;
  constructor(code: string, message: string, driverCode?: string) {
    super(code, message);
    this.name = 'SqlError';
    this.driverCode = driverCode;
  }
}

/** Go's `context.DeadlineExceeded` text, which xk6-sql's *WithTimeout calls report. */
export const DEADLINE_EXCEEDED = 'context deadline exceeded';

/** Wraps a driver error as `SqlError` code `sql-error`, keeping the driver's message and code. */
export function driverError(e: unknown): SqlError {
  if (e instanceof SqlError) return e;
  const err = toError(e);
  const raw = (err as { code?: unknown }).code;
  return new SqlError('sql-error', err.message, typeof raw === 'string' ? raw : undefined);
}

/** A DSN with its password replaced by `***`, for messages. Never put a raw DSN in an error or log. */
export function maskDsn(dsn: string): string {
  const kv = dsn.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
  if (kv !== dsn) return kv;
  try {
    const u = new URL(dsn);
    if (u.password !== '') u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.href;
  } catch {
    return dsn.replace(/:\/\/([^:/@]*):[^@]*@/, '://$1:***@');
  }
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration string (`"300ms"`, `"1.5s"`, `"1h10m10s"`, `"0"`) to milliseconds; undefined if invalid. */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([+-]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (m === null) return undefined;
  let total = 0;
  for (const part of (m[2] ?? '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? 0);
  }
  return m[1] === '-' ? -total : total;
}
