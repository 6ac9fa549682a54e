/**
 * The script's arguments to cookie functions, checked the way cookies.ts reports mistakes (a
 * ModuleUsageError naming the argument, the type given and the fix): `CookieJar` URLs and `set()`
 * options, `params.cookies`, and the helpers that describe a value or fill a result object safely.
 */
import { ModuleUsageError } from '../k6.ts';
import { appendCookie, parseGoCookieDate, type GoCookie } from './cookie-syntax.ts';

export function parseUrl(method: string, url: unknown): URL {
  if (url instanceof URL) return url;
  if (typeof url === 'string' || (typeof url === 'object' && url !== null && typeof (url as { url?: unknown }).url === 'string')) {
    const s = typeof url === 'string' ? url : (url as { url: string }).url;
    try {
      return new URL(s);
    } catch {
      throw new ModuleUsageError(
        'invalid-cookie-url',
        `CookieJar.${method}: url must be an absolute URL like "https://example.com/", got ${JSON.stringify(s)}`,
      );
    }
  }
  throw new ModuleUsageError(
    'invalid-cookie-url',
    `CookieJar.${method}: url must be a string like "https://example.com/", got ${show(url)}`,
  );
}

const SET_OPTIONS = ['domain', 'path', 'expires', 'max_age', 'secure', 'http_only'];

export function applySetOptions(c: GoCookie, options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ModuleUsageError(
      'invalid-cookie-options',
      `CookieJar.set options must be an object like { domain, path, expires, max_age, secure, http_only }, got ${show(options)}`,
    );
  }
  for (const [key, v] of Object.entries(options as Record<string, unknown>)) {
    switch (key.toLowerCase()) {
      case 'domain':
        c.domain = v === undefined || v === null ? '' : scalar('CookieJar.set option domain', v, 'invalid-cookie-options');
        break;
      case 'path':
        c.path = v === undefined || v === null ? '' : scalar('CookieJar.set option path', v, 'invalid-cookie-options');
        break;
      case 'secure':
        c.secure = Boolean(v);
        break;
      case 'http_only':
        c.httpOnly = Boolean(v);
        break;
      case 'max_age': {
        const n = Number(v ?? 0);
        if (!Number.isFinite(n)) {
          throw new ModuleUsageError('invalid-cookie-options', `CookieJar.set option max_age must be a number of seconds, got ${show(v)}`);
        }
        c.maxAge = Math.trunc(n);
        break;
      }
      case 'expires': {
        const s = v === undefined || v === null ? '' : scalar('CookieJar.set option expires', v, 'invalid-cookie-options');
        if (s === '') {
          c.expiresSec = undefined;
          break;
        }
        const sec = parseGoCookieDate(s, false); // time.Parse(time.RFC1123, s), as k6
        if (sec === undefined) {
          throw new ModuleUsageError(
            'invalid-cookie-options',
            `CookieJar.set option expires must be an RFC 1123 date like "Mon, 02 Jan 2006 15:04:05 GMT" (new Date(ms).toUTCString()), got ${JSON.stringify(s)}`,
          );
        }
        c.expiresSec = sec;
        break;
      }
      default:
        throw new ModuleUsageError(
          'invalid-cookie-options',
          `CookieJar.set: unknown option "${key}"; the options are ${SET_OPTIONS.join(', ')}`,
        );
    }
  }
}

/**
 * Appends `params.cookies` (object order) to the Cookie header so far; `replaced` names the cookies
 * marked `replace: true` (the jar's cookies of those names are not sent).
 */
export function appendParamsCookies(headerSoFar: string, requestCookies: unknown): { header: string; replaced: Set<string> | undefined } {
  let header = headerSoFar;
  let replaced: Set<string> | undefined;
  if (typeof requestCookies !== 'object' || Array.isArray(requestCookies)) {
    const got =
      typeof requestCookies === 'string' ? 'a string (a whole Cookie header belongs in params.headers.Cookie)' : show(requestCookies);
    throw new ModuleUsageError(
      'invalid-cookies',
      `params.cookies must be an object like { session: 'abc' } or { session: { value: 'abc', replace: true } }, got ${got}`,
    );
  }
  for (const [name, raw] of Object.entries(requestCookies as Record<string, unknown>)) {
    if (raw === undefined || raw === null) continue;
    let value: string;
    if (typeof raw === 'object') {
      const o = raw as Record<string, unknown>;
      for (const key of Object.keys(o)) {
        if (key !== 'value' && key !== 'replace') {
          throw new ModuleUsageError('invalid-cookies', `params.cookies.${name}: unknown key "${key}"; use { value: 'v', replace: true }`);
        }
      }
      value = o.value === undefined || o.value === null ? '' : scalar(`params.cookies.${name}.value`, o.value);
      if (o.replace === true) (replaced ??= new Set()).add(name);
    } else {
      value = scalar(`params.cookies.${name}`, raw);
    }
    header = appendCookie(header, name, value);
  }
  return { header, replaced };
}

/** A string, number or boolean as a string; anything else is a usage error (the message names the type, never a value). */
export function scalar(what: string, v: unknown, code = 'invalid-cookies'): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new ModuleUsageError(code, `${what} must be a string, got ${show(v)}`);
}

export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    const proto: unknown = Object.getPrototypeOf(v);
    const ctor =
      typeof proto === 'object' && proto !== null && 'constructor' in proto && typeof proto.constructor === 'function'
        ? proto.constructor.name
        : '';
    return ctor === '' || ctor === 'Object' ? 'an object' : `a ${ctor}`;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return typeof v;
}

export function getOwn<T>(out: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(out, key) ? out[key] : undefined;
}

/** Sets out[key] without ever touching the prototype (a cookie may be named "__proto__"). */
export function defineKey<T>(out: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
