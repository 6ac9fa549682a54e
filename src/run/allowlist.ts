/**
 * Load goes only where the user points it: loopback by default; any other host named by a target variable
 * must be listed in AGENTLOAD_ALLOWED_HOSTS, or the run refuses to start (exit 104). Every target variable
 * is read as the script will see it, wherever it comes from (`-e`/`--env` flags over the environment over
 * `.env`), and parsed the way its consumer parses it: URLs by WHATWG URL, PostgreSQL DSNs by pg's own parser
 * (every host they may connect to, `?host=` and `key=value` forms included), k6's `K6_HOSTS` overrides by
 * their target. The check is by name (no DNS): predictable, and nothing is contacted before the decision.
 * The host rules themselves are the engine's (engine/net/host-policy.ts), which checks every connection
 * again while the embedded engine runs; for a k6 binary, `k6BlockedRanges` gives k6 an IP block list.
 */
import { isIP } from 'node:net';
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import { ALLOWED_HOSTS_VAR, canonicalHost, hostAllowed, isLoopbackHost, parseAllowedHosts } from '../../engine/net/host-policy.ts';
import { isPostgresDsn, postgresDsnHosts } from '../../engine/modules/sql/dsn.ts';
import { envView, type EnvSource, type EnvView } from './env.ts';

export { ALLOWED_HOSTS_VAR, hostAllowed, isLoopbackHost, parseAllowedHosts };

/** Variables holding a URL that load (or a load-generating connection) goes to. */
export const TARGET_URL_VARS = [
  'BASE_URL',
  'WS_URL',
  'SLACK_EVENTS_URL',
  'SLACK_API_URL',
  'SLACK_SINK_URL',
  'LLM_URL',
  'LLM_BASE_URL',
  'METRICS_URL',
  'AMQP_URL',
  'REDIS_URL',
  'TARGET_REDIS_URL',
  'TARGET_AMQP_URL',
  'FAULTS_URL',
] as const;

/**
 * Variables holding a database DSN: a postgres URL or `key=value` string (hosts checked), another URL
 * (its host checked) or a file path (SQLite: this machine). TARGET_DATABASE_URL is the bundled platform's
 * database: it migrates and seeds into it, so it may not leave the allowlist either.
 */
export const TARGET_DSN_VARS = ['DB_DSN', 'DATABASE_URL', 'TARGET_DATABASE_URL'] as const;

/** k6's DNS overrides (`hosts` option from the environment): a loopback name may be sent elsewhere by it. */
export const K6_HOSTS_VAR = 'K6_HOSTS';

/**
 * URL variables that say where results go, not where load goes (k6's Prometheus remote-write receiver):
 * not checked, like the HTTP proxy, they are infrastructure the user configured.
 */
export const OUTPUT_URL_VARS: readonly string[] = ['K6_PROMETHEUS_RW_SERVER_URL'];

/** Every variable the pre-flight check reads. */
export const TARGET_VARS: readonly string[] = [...TARGET_URL_VARS, ...TARGET_DSN_VARS, K6_HOSTS_VAR];

/** One place a run sends load to, as run.json records it: the host only (never a path, query or credentials). */
export interface TargetHost {
  readonly variable: string;
  readonly source: EnvSource | 'set by agentload';
  /** `host` or `host:port` (IPv6 in brackets); a Unix socket path for a local PostgreSQL socket. */
  readonly host: string;
}

/** What a variable's value points at: network hosts, or a local file (SQLite) with no host. */
type Reach = { readonly hosts: readonly { readonly hostname: string; readonly port: string }[] } | { readonly file: true };

function invalid(name: string, source: EnvSource, what: string, fix: string): AgentloadError {
  return new AgentloadError('invalid-url', EXIT_CODES.invalidConfig, `${name}${sourceNote(source)} is not ${what}: ${fix}`);
}

function sourceNote(source: EnvSource): string {
  return source === 'environment' ? '' : ` (from ${source})`;
}

function urlReach(name: string, source: EnvSource, raw: string): Reach {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AgentloadError(
      'invalid-url',
      EXIT_CODES.invalidConfig,
      `${name}${sourceNote(source)} is not a URL (got ${JSON.stringify(redactUrl(raw))}): use a full URL like http://127.0.0.1:3000`,
    );
  }
  if (url.hostname === '')
    throw invalid(name, source, `a URL with a host (got ${JSON.stringify(redactUrl(raw))})`, 'write the host, e.g. http://127.0.0.1:3000');
  return { hosts: [{ hostname: url.hostname, port: url.port }] };
}

function dsnReach(name: string, source: EnvSource, raw: string, pgEnv: Readonly<Record<string, string | undefined>>): Reach {
  if (isPostgresDsn(raw)) {
    const where = postgresDsnHosts(raw, pgEnv);
    if (!where.ok)
      throw invalid(
        name,
        source,
        `a PostgreSQL DSN pg can read (${where.reason})`,
        'use postgres://user:password@host:5432/db or host=127.0.0.1 port=5432 dbname=db',
      );
    return { hosts: where.hosts.map((hostname) => ({ hostname, port: '' })) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw.trim())) {
    let url: URL | undefined;
    try {
      url = new URL(raw.trim());
    } catch {
      url = undefined;
    }
    if (url !== undefined && url.hostname !== '') return { hosts: [{ hostname: url.hostname, port: url.port }] };
  }
  return { file: true }; // a SQLite file path (or file: URL): this machine
}

/** `K6_HOSTS` in k6's env form (`name:address,name:address:port`) or as JSON: every address it maps a name to. */
function k6HostsReach(name: string, source: EnvSource, raw: string): Reach {
  let targets: string[];
  const text = raw.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalid(name, source, 'valid JSON', 'write it as {"name": "address"} or name:address,name:address');
    }
    targets = typeof parsed === 'object' && parsed !== null ? Object.values(parsed as Record<string, unknown>).map(String) : [];
  } else {
    targets = text
      .split(',')
      .map((pair) => pair.slice(pair.indexOf(':') + 1))
      .filter((t) => t.trim() !== '');
  }
  return { hosts: targets.map((t) => splitHostPort(t.trim())) };
}

/** `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`, `name:80` → host and port. */
function splitHostPort(text: string): { hostname: string; port: string } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket !== null) return { hostname: bracket[1] ?? '', port: bracket[2] ?? '' };
  if (isIP(text) === 6) return { hostname: text, port: '' };
  const colon = text.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(text.slice(colon + 1))
    ? { hostname: text.slice(0, colon), port: text.slice(colon + 1) }
    : { hostname: text, port: '' };
}

function shownHost(hostname: string, port: string): string {
  const h = canonicalHost(hostname);
  const bracketed = h.includes(':') ? `[${h}]` : h;
  return port === '' ? bracketed : `${bracketed}:${port}`;
}

/**
 * Every target of a run, with where its variable came from, checked against the allowlist: throws
 * `host-not-allowed` (exit 104) for the first host that is neither loopback nor listed, `invalid-url` for a
 * value that cannot be read. Returns the targets for run.json.
 */
export function checkTargets(view: EnvView): TargetHost[] {
  const allowed = parseAllowedHosts(view.values[ALLOWED_HOSTS_VAR]);
  const out: TargetHost[] = [];
  for (const name of TARGET_VARS) {
    const raw = view.values[name];
    if (raw === undefined || raw.trim() === '') continue;
    const source = view.sources[name] ?? 'environment';
    const reach: Reach = (TARGET_DSN_VARS as readonly string[]).includes(name)
      ? dsnReach(name, source, raw, view.values)
      : name === K6_HOSTS_VAR
        ? k6HostsReach(name, source, raw)
        : urlReach(name, source, raw.trim());
    if ('file' in reach) continue;
    for (const { hostname, port } of reach.hosts) {
      if (hostname.startsWith('/')) {
        out.push({ variable: name, source, host: hostname }); // a local PostgreSQL socket
        continue;
      }
      if (!hostAllowed(hostname, allowed)) {
        const h = canonicalHost(hostname);
        throw new AgentloadError(
          'host-not-allowed',
          EXIT_CODES.invalidConfig,
          `${name}${sourceNote(source)} host "${h}" is not loopback and not in ${ALLOWED_HOSTS_VAR}: to load-test it on purpose, set ${ALLOWED_HOSTS_VAR}=${h}`,
        );
      }
      out.push({ variable: name, source, host: shownHost(hostname, port) });
    }
  }
  return out;
}

/**
 * `checkTargets` on a plain environment (no `.env`) with the `-e`/`--env` flags among `k6Args` on top, as
 * the script will see them (the drop-in `agentload k6 run`).
 */
export function checkTargetHosts(env: Readonly<Record<string, string | undefined>>, k6Args: readonly string[] = []): TargetHost[] {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) values[k] = v;
  return checkTargets(envView({ env: values, dotenvNames: [], dotenvPath: undefined }, env, k6Args));
}

/** A URL's `host:port` only, for run.json. */
export function urlHost(raw: string): string | undefined {
  try {
    const host = new URL(raw).host;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/** A URL's origin only (`http://host:port`), for run.json: no path, query, fragment or credentials. */
export function urlOrigin(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    return u.host === '' ? undefined : `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

/** A URL without credentials, query or fragment (for messages). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username !== '' || u.password !== '') {
      u.username = '***';
      u.password = '';
    }
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return raw.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** `a.b.c.d/len` ranges as [first, last] integers (IPv4 as 32-bit, IPv6 as 128-bit), for the block list. */
interface Range {
  readonly first: bigint;
  readonly last: bigint;
}

function ipToBig(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const [head = '', tail] = ip.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const groups = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function bigToIp(n: bigint, bits: 32 | 128): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((n >> s) & 0xffffn).toString(16));
  return groups.join(':');
}

/** The fewest CIDR blocks covering [first, last] exactly. */
function cidrs(first: bigint, last: bigint, bits: 32 | 128): string[] {
  const out: string[] = [];
  let cur = first;
  while (cur <= last) {
    let size = 0n;
    // Grow the block while it stays aligned at `cur` and inside the range.
    while (size < BigInt(bits) && (cur & ((1n << (size + 1n)) - 1n)) === 0n && cur + (1n << (size + 1n)) - 1n <= last) size++;
    out.push(`${bigToIp(cur, bits)}/${String(BigInt(bits) - size)}`);
    cur += 1n << size;
  }
  return out;
}

/** The complement of `keep` (sorted, merged) in the whole address space of `bits`, as CIDR blocks. */
function complement(keep: readonly Range[], bits: 32 | 128): string[] {
  const sorted = [...keep].sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  const out: string[] = [];
  let next = 0n;
  const max = (1n << BigInt(bits)) - 1n;
  for (const r of sorted) {
    if (r.first > next) out.push(...cidrs(next, r.first - 1n, bits));
    if (r.last + 1n > next) next = r.last + 1n;
  }
  if (next <= max) out.push(...cidrs(next, max, bits));
  return out;
}

/**
 * For a k6 binary: the IP ranges k6 must refuse (its `blacklistIPs` option, given as K6_BLACKLIST_IPS),
 * i.e. everything but loopback and the allowlisted addresses, so k6 itself refuses a connection the
 * pre-flight could not see (a URL the script builds, a `hosts` override). Only when the allowlist holds
 * addresses alone: a listed host NAME resolves to addresses unknown before the run, which an IP block
 * list cannot leave open, so then k6 gets no block list and the pre-flight check is the only one.
 */
export function k6BlockedRanges(allowedRaw: string | undefined): string[] | undefined {
  const allowed = parseAllowedHosts(allowedRaw);
  if (allowed.some((a) => isIP(a) === 0)) return undefined;
  const v4: Range[] = [{ first: ipToBig('127.0.0.0'), last: ipToBig('127.255.255.255') }];
  const v6: Range[] = [{ first: 1n, last: 1n }];
  for (const a of allowed) {
    const n = ipToBig(a);
    (isIP(a) === 4 ? v4 : v6).push({ first: n, last: n });
  }
  return [...complement(v4, 32), ...complement(v6, 128)];
}
