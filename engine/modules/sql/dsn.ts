/**
 * Where a PostgreSQL DSN connects, read the way the driver reads it: URLs through pg's own parser
 * (pg-connection-string, so `?host=` overrides the URL's host as it does for pg), libpq `key=value`
 * strings through the same tokeniser the engine's driver uses, and a missing host as pg fills it in
 * (`PGHOST`, else `localhost`). Used by the toolkit's pre-flight allowlist check (src/run/allowlist.ts)
 * and by `sql.open` before the engine's driver connects, so both see the same hosts.
 */
import { parse as parsePgUrl } from 'pg-connection-string';

/** One `key=value` of a libpq connection string (values may be single-quoted with backslash escapes). */
export interface DsnPair {
  readonly key: string;
  readonly value: string;
}

/** Splits a libpq `key=value` string; undefined (with the position) when it cannot be read. */
export function keyValuePairs(text: string): { pairs: DsnPair[] } | { badAt: number } {
  const pairs: DsnPair[] = [];
  const re = /\s*([a-zA-Z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/y;
  let pos = 0;
  const trimmed = text.trimEnd();
  while (pos < trimmed.length) {
    re.lastIndex = pos;
    const m = re.exec(trimmed);
    if (m === null) return { badAt: pos };
    pos = re.lastIndex;
    let value = m[2] ?? '';
    if (value.startsWith("'")) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    pairs.push({ key: m[1] ?? '', value });
  }
  return { pairs };
}

/** A postgres DSN: a postgres:// or postgresql:// URL, or a libpq `key=value` string. */
export function isPostgresDsn(text: string): boolean {
  const t = text.trim();
  return /^postgres(ql)?:\/\//i.test(t) || /^[a-zA-Z_]+\s*=/.test(t);
}

export type DsnHosts = { readonly ok: true; readonly hosts: readonly string[] } | { readonly ok: false; readonly reason: string };

/**
 * Every host a postgres DSN may connect to: `host` (comma-separated lists count host by host, as libpq
 * drivers try each) and `hostaddr`, a missing host filled in from `PGHOST` or `localhost`. Unix socket
 * paths (starting with `/`) are returned as they are: callers treat them as local.
 */
export function postgresDsnHosts(dsn: string, env: Readonly<Record<string, string | undefined>>): DsnHosts {
  const text = dsn.trim();
  const named: string[] = [];
  if (/^postgres(ql)?:\/\//i.test(text)) {
    // pg-connection-string reads the files these parameters name while parsing; they never name a host.
    const withoutFiles = text.replace(/([?&])(sslcert|sslkey|sslrootcert)=[^&#]*&?/gi, '$1');
    let cfg: ReturnType<typeof parsePgUrl>;
    try {
      cfg = parsePgUrl(withoutFiles);
    } catch {
      return { ok: false, reason: 'not a URL pg can read' };
    }
    if (typeof cfg.host === 'string') named.push(cfg.host);
    if (typeof cfg.hostaddr === 'string') named.push(cfg.hostaddr);
  } else {
    const kv = keyValuePairs(text);
    if ('badAt' in kv) return { ok: false, reason: `cannot read "key=value" at position ${String(kv.badAt)}` };
    for (const { key, value } of kv.pairs) if (key === 'host' || key === 'hostaddr') named.push(value);
  }
  const hosts = named
    .flatMap((h) => h.split(','))
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hosts.length === 0) {
    const fallback = (env.PGHOST ?? '').trim();
    hosts.push(
      ...(fallback === ''
        ? ['localhost']
        : fallback
            .split(',')
            .map((h) => h.trim())
            .filter((h) => h !== '')),
    );
  }
  return { ok: true, hosts };
}
