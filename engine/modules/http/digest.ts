/**
 * HTTP Digest access authentication (RFC 7616, and RFC 2617 without qop), for `params.auth: 'digest'`
 * with the credentials in the URL, as k6 does it: the request goes out without credentials, and a
 * 401 with a `Digest` challenge is answered by the same request with this Authorization header.
 * MD5, MD5-sess, SHA-256 and SHA-256-sess; qop `auth` (or `auth-int` when it is the only one offered).
 *
 * Written here rather than taken from npm: digest-header, the common client helper, splits
 * "user:password" on every colon (a password with a colon is cut) and knows only MD5.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: string;
  /** The qop to answer with ('' when the server offered none). */
  readonly qop: '' | 'auth' | 'auth-int';
}

/** The Digest challenge among a response's WWW-Authenticate values (k6 joins repeated headers with ", "), or undefined. */
export function parseDigestChallenge(header: string | undefined): DigestChallenge | undefined {
  if (header === undefined) return undefined;
  const at = header.search(/(^|[\s,])digest\s/i);
  if (at < 0) return undefined;
  const params = new Map<string, string>();
  const re = /([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/gi;
  re.lastIndex = header.toLowerCase().indexOf('digest', at) + 'digest'.length;
  for (let m = re.exec(header); m !== null; m = re.exec(header)) {
    const name = (m[1] ?? '').toLowerCase();
    if (params.has(name)) break; // the next challenge's parameters
    params.set(name, m[2] === undefined ? (m[3] ?? '') : m[2].replace(/\\(.)/g, '$1'));
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const offered = (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase());
  const qop = offered.includes('auth') ? 'auth' : offered.includes('auth-int') ? 'auth-int' : '';
  return { realm, nonce, opaque: params.get('opaque'), algorithm: params.get('algorithm') ?? 'MD5', qop };
}

const HASHES: Readonly<Record<string, string>> = { md5: 'md5', 'md5-sess': 'md5', 'sha-256': 'sha256', 'sha-256-sess': 'sha256' };

export interface DigestAnswer {
  readonly method: string;
  /** The request-target: path and query. */
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  readonly body?: Buffer | undefined;
  /** For tests (RFC vectors); a fresh random value by default. */
  readonly cnonce?: string;
  readonly nc?: number;
}

/** The Authorization header answering `c`, or undefined for an algorithm this does not know. */
export function digestAuthorization(c: DigestChallenge, a: DigestAnswer): string | undefined {
  const algorithm = c.algorithm.toLowerCase();
  const hashName = HASHES[algorithm];
  if (hashName === undefined) return undefined;
  const h = (s: string | Buffer): string => createHash(hashName).update(s).digest('hex');
  const cnonce = a.cnonce ?? randomBytes(16).toString('hex');
  const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
  let ha1 = h(`${a.username}:${c.realm}:${a.password}`);
  if (algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = c.qop === 'auth-int' ? h(`${a.method}:${a.uri}:${h(a.body ?? Buffer.alloc(0))}`) : h(`${a.method}:${a.uri}`);
  const response = c.qop === '' ? h(`${ha1}:${c.nonce}:${ha2}`) : h(`${ha1}:${c.nonce}:${nc}:${cnonce}:${c.qop}:${ha2}`);
  const quote = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;
  let out = `Digest username=${quote(a.username)}, realm=${quote(c.realm)}, nonce=${quote(c.nonce)}, uri=${quote(a.uri)}, algorithm=${c.algorithm}, response=${quote(response)}`;
  if (c.opaque !== undefined) out += `, opaque=${quote(c.opaque)}`;
  if (c.qop !== '') out += `, qop=${c.qop}, nc=${nc}, cnonce=${quote(cnonce)}`;
  return out;
}

/** k6's URL.Clean(): the URL as given with its credentials masked (`****:****@`, or `****@` without a password). */
export function maskCredentials(url: string): string {
  return url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i,
    (_m, scheme: string, userinfo: string) => `${scheme}${userinfo.includes(':') ? '****:****' : '****'}@`,
  );
}
