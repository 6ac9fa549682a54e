/**
 * Load goes only where the user points it: loopback by default; any other host named in a target variable
 * must be listed in AGENTLOAD_ALLOWED_HOSTS, or the run refuses to start. The check is by name (no DNS):
 * predictable, and nothing is contacted before the decision.
 */
import { isIP } from 'node:net';
import { AgentloadError, EXIT_CODES } from '../cli/errors.ts';

/** Variables that point load (or load-generating connections) at a system. */
export const TARGET_URL_VARS = [
  'BASE_URL',
  'WS_URL',
  'SLACK_EVENTS_URL',
  'SLACK_API_URL',
  'LLM_URL',
  'LLM_BASE_URL',
  'METRICS_URL',
  'DATABASE_URL',
  'DB_DSN',
  'AMQP_URL',
  'REDIS_URL',
  'TARGET_REDIS_URL',
  'TARGET_AMQP_URL',
  'FAULTS_URL',
] as const;

export const ALLOWED_HOSTS_VAR = 'AGENTLOAD_ALLOWED_HOSTS';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** `a.example.com, *.staging.example.com b.test` → lower-cased patterns. */
export function parseAllowedHosts(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase().replace(/^\[|\]$/g, ''))
    .filter((s) => s !== '');
}

export function hostAllowed(hostname: string, allowed: readonly string[]): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (isLoopbackHost(h)) return true;
  return allowed.some((pattern) => {
    if (pattern.startsWith('*.')) return h.endsWith(pattern.slice(1));
    return h === pattern;
  });
}

/** Throws `host-not-allowed` (exit 104) for the first target variable whose host is neither loopback nor listed. */
export function checkTargetHosts(env: Readonly<Record<string, string | undefined>>): void {
  const allowed = parseAllowedHosts(env[ALLOWED_HOSTS_VAR]);
  for (const name of TARGET_URL_VARS) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      if (name === 'DATABASE_URL' || name === 'DB_DSN') continue; // a file path (SQLite), not a host
      throw new AgentloadError(
        'invalid-url',
        EXIT_CODES.invalidConfig,
        `${name} is not a URL (got ${JSON.stringify(redactUrl(raw))}): use a full URL like http://127.0.0.1:3000`,
      );
    }
    if (url.hostname === '' && (name === 'DATABASE_URL' || name === 'DB_DSN')) continue; // e.g. file:data.db
    if (!hostAllowed(url.hostname, allowed)) {
      throw new AgentloadError(
        'host-not-allowed',
        EXIT_CODES.invalidConfig,
        `${name} host "${url.hostname}" is not loopback and not in ${ALLOWED_HOSTS_VAR}: to load-test it on purpose, set ${ALLOWED_HOSTS_VAR}=${url.hostname}`,
      );
    }
  }
}

/** A URL without credentials, query or fragment (for messages and manifests). */
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
