/**
 * Where load may go: loopback, plus the hosts a run lists in AGENTLOAD_ALLOWED_HOSTS (exact names or
 * addresses, `*.example.com` for subdomains). Decided by name, never by DNS: predictable, and nothing is
 * contacted before the decision. The toolkit checks every target variable with these rules before a
 * run (src/run/allowlist.ts); the embedded engine asks `HostPolicy.refusal()` again wherever a connection
 * is made (k6/http with its redirects and proxies, WebSockets, SQL), so no URL built by a script gets
 * around the check. docs/safety.md lists the rules and the tests that hold them.
 */
import { isIP } from 'node:net';

/** The variable that lists the non-loopback hosts load may go to. */
export const ALLOWED_HOSTS_VAR = 'AGENTLOAD_ALLOWED_HOSTS';

/** k6's error code for a request to a blocked hostname (lib/netext/httpext/error_codes.go, BlockedHostnameErrorCode). */
export const HOST_NOT_ALLOWED_ERROR_CODE = 1112;

/**
 * A host name in the form URLs give it: lower case, no IPv6 brackets, IPv4 in dotted decimal (WHATWG URL
 * host parsing turns `127.1`, `0x7f.0.0.1` and `2130706433` into `127.0.0.1`, as the resolver would).
 */
export function canonicalHost(hostname: string): string {
  const h = hostname
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === '' || h.includes(':') || isIP(h) !== 0) return h;
  try {
    return new URL(`http://${h}/`).hostname;
  } catch {
    return h;
  }
}

/** `localhost` (and `*.localhost`), 127.0.0.0/8, ::1, and IPv4-mapped 127.x in either IPv6 spelling. */
export function isLoopbackHost(hostname: string): boolean {
  const h = canonicalHost(hostname);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    return (
      h === '::1' ||
      h === '0:0:0:0:0:0:0:1' ||
      /^(::|0:0:0:0:0:)ffff:127\./.test(h) ||
      /^(::|0:0:0:0:0:)ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h)
    );
  }
  return false;
}

/** `a.example.com, *.staging.example.com b.test` → canonical patterns. */
export function parseAllowedHosts(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(/[\s,]+/)
    .map((s) => (s.startsWith('*.') ? `*.${canonicalHost(s.slice(2))}` : canonicalHost(s)))
    .filter((s) => s !== '');
}

export function hostAllowed(hostname: string, allowed: readonly string[]): boolean {
  const h = canonicalHost(hostname);
  if (isLoopbackHost(h)) return true;
  return allowed.some((pattern) => (pattern.startsWith('*.') ? h.endsWith(pattern.slice(1)) : h === pattern));
}

/** The engine's side of the allowlist: one policy per run, asked before every connection. */
export class HostPolicy {
  readonly allowed: readonly string[];
  constructor(allowed: readonly string[]) {
    this.allowed = [...allowed];
  }

  /** Answers by host name, asked for every request: a run talks to few hosts (bounded, cleared when full). */
  readonly #answers = new Map<string, string | undefined>();

  /** Undefined when load may go to `hostname`; else the one-line reason (also the error the script sees). */
  refusal(hostname: string): string | undefined {
    const answers = this.#answers;
    if (answers.has(hostname)) return answers.get(hostname);
    if (answers.size >= 1024) answers.clear();
    let why: string | undefined;
    if (!hostAllowed(hostname, this.allowed)) {
      const h = canonicalHost(hostname);
      why = `hostname (${h}) is not allowed: load goes only to loopback and to hosts listed in ${ALLOWED_HOSTS_VAR}; to load-test it on purpose, set ${ALLOWED_HOSTS_VAR}=${h}`;
    }
    answers.set(hostname, why);
    return why;
  }
}
