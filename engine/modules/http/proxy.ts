/**
 * Which forward proxy a request goes through, by the rules k6 inherits from Go's
 * http.ProxyFromEnvironment (golang.org/x/net/http/httpproxy): HTTPS_PROXY for https:// URLs,
 * HTTP_PROXY for http:// ones (upper case first, then lower case), NO_PROXY exempts hosts, and
 * localhost and loopback addresses never use a proxy. Pure: the environment is passed in.
 *
 * NO_PROXY is a comma-separated list of `*` (no proxy at all), IP addresses and CIDR ranges, and
 * domain names (optionally with `:port`): `example.com` matches it and its subdomains,
 * `.example.com` and `*.example.com` only subdomains.
 */
import { BlockList, isIP } from 'node:net';
import { CodedError } from '../../../shared/errors.ts';

/** A forward proxy (http:// only: CONNECT for https targets, absolute-form requests for http ones). */
export interface ProxyTarget {
  readonly hostname: string;
  readonly port: number;
  /** `Proxy-Authorization` value when the proxy URL has credentials (Basic, as Go sends). */
  readonly authorization: string | undefined;
  /** Identifies the proxy in connection-pool keys (credentials left out). */
  readonly key: string;
}

/** A proxy variable the engine cannot use: the request fails with this message (never showing credentials). */
export class ProxyConfigError extends CodedError<'proxy-config'> {
  constructor(message: string) {
    super('proxy-config', message);
    this.name = 'Error';
  }
}

export type ProxyChoice = ProxyTarget | ProxyConfigError | undefined;

interface Matchers {
  readonly all: boolean;
  readonly ips: BlockList;
  /** IP entries with a port (`10.0.0.1:8080`): matched by address and port. */
  readonly ipPorts: readonly { readonly ip: string; readonly port: string }[];
  readonly domains: readonly { readonly suffix: string; readonly port: string; readonly matchHost: boolean }[];
}

function firstSet(env: Readonly<Record<string, string | undefined>>, ...names: string[]): string {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

/**
 * Go's parseProxy: a value without a scheme (`proxy:3128`) is taken as http://. A value that does not
 * parse is ignored (Go's config.init keeps no proxy then: requests go direct).
 */
function parseProxy(raw: string, variable: string): ProxyChoice {
  let u: URL;
  let authorization: string | undefined;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    if (u.hostname === '') return undefined;
    authorization =
      u.username === '' && u.password === ''
        ? undefined
        : `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:')
    return new ProxyConfigError(`${variable}: the embedded engine supports http:// proxies only, got ${u.protocol}//`);
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? 80 : Number(u.port);
  return { hostname, port, authorization, key: `http://${u.host}` };
}

function parseNoProxy(raw: string): Matchers {
  const ips = new BlockList();
  const ipPorts: { ip: string; port: string }[] = [];
  const domains: { suffix: string; port: string; matchHost: boolean }[] = [];
  for (const entry of raw.split(',')) {
    const p = entry.trim().toLowerCase();
    if (p === '') continue;
    if (p === '*') return { all: true, ips, ipPorts: [], domains: [] };
    const cidr = /^(.+)\/(\d{1,3})$/.exec(p);
    const cidrFamily = cidr?.[1] === undefined ? 0 : isIP(cidr[1]);
    // A prefix longer than the address is not a CIDR for Go either (the entry then counts as a name).
    if (cidr?.[1] !== undefined && cidrFamily !== 0 && Number(cidr[2]) <= (cidrFamily === 6 ? 128 : 32)) {
      ips.addSubnet(cidr[1], Number(cidr[2]), cidrFamily === 6 ? 'ipv6' : 'ipv4');
      continue;
    }
    // host:port, [v6]:port, or a bare host (a bare IPv6 address has colons but no port).
    let host = p;
    let port = '';
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(p);
    const withPort = /^([^:]+):(\d+)$/.exec(p);
    if (bracketed?.[1] !== undefined) {
      host = bracketed[1];
      port = bracketed[2] ?? '';
    } else if (withPort?.[1] !== undefined && withPort[2] !== undefined) {
      host = withPort[1];
      port = withPort[2];
    }
    if (isIP(host) !== 0) {
      if (port === '') ips.addAddress(host, isIP(host) === 6 ? 'ipv6' : 'ipv4');
      else ipPorts.push({ ip: host, port });
      continue;
    }
    if (host === '') continue;
    if (host.startsWith('*.')) host = host.slice(1);
    const matchHost = !host.startsWith('.');
    domains.push({ suffix: matchHost ? `.${host}` : host, port, matchHost });
  }
  return { all: false, ips, ipPorts, domains };
}

/** Go's IP.IsLoopback: 127/8, ::1, and 127/8 mapped into IPv6 (::ffff:127.x.x.x). */
const isLoopback = (ip: string): boolean =>
  isIP(ip) === 4 ? ip.startsWith('127.') : ip === '::1' || /^::ffff:127\./i.test(ip) || /^::ffff:7f[0-9a-f]{2}:/i.test(ip);

/**
 * The proxy choice for URLs from this environment (read once, as Go's ProxyFromEnvironment does):
 * `choose(tls, hostname, port)` gives the proxy, undefined for a direct connection, or the error
 * a request through a malformed proxy variable fails with.
 */
export function proxyFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): (tls: boolean, hostname: string, port: number) => ProxyChoice {
  const httpRaw = firstSet(env, 'HTTP_PROXY', 'http_proxy');
  const httpsRaw = firstSet(env, 'HTTPS_PROXY', 'https_proxy');
  if (httpRaw === '' && httpsRaw === '') return () => undefined;
  const httpProxy = httpRaw === '' ? undefined : parseProxy(httpRaw, 'HTTP_PROXY');
  const httpsProxy = httpsRaw === '' ? undefined : parseProxy(httpsRaw, 'HTTPS_PROXY');
  const no = parseNoProxy(firstSet(env, 'NO_PROXY', 'no_proxy'));
  // Go's CGI rule: under a web server (REQUEST_METHOD set) HTTP_PROXY may come from a client's Proxy header.
  const cgi = (env.REQUEST_METHOD ?? '') !== '';
  return (tls, hostname, port) => {
    const proxy = tls ? httpsProxy : httpProxy;
    if (proxy === undefined) return undefined;
    if (!tls && cgi) return new ProxyConfigError('refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy');
    if (no.all) return undefined;
    const host = hostname.toLowerCase();
    if (host === 'localhost') return undefined;
    const portText = String(port);
    const family = isIP(host);
    if (family !== 0) {
      if (isLoopback(host)) return undefined;
      if (no.ips.check(host, family === 6 ? 'ipv6' : 'ipv4')) return undefined;
      if (no.ipPorts.some((m) => m.ip === host && m.port === portText)) return undefined;
    }
    for (const d of no.domains) {
      if ((host.endsWith(d.suffix) || (d.matchHost && host === d.suffix.slice(1))) && (d.port === '' || d.port === portText))
        return undefined;
    }
    return proxy;
  };
}
