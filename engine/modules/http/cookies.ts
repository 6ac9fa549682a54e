/**
 * k6's cookie handling for `k6/http`: per-VU cookie jars, `params.cookies`, `Response.cookies`.
 *
 * k6 stores cookies in Go's `net/http/cookiejar` (no public-suffix list) and parses `Set-Cookie` with
 * `net/http`; this module reproduces those semantics on tough-cookie's synchronous in-memory store
 * (tough-cookie does the domain/path matching, ordering and storage; the Go-specific parsing and
 * delete rules are here).
 *
 * API (called by engine/modules/http.ts):
 *   new VuCookieJar() / createCookieJar()     the script-facing `http.CookieJar`; also each VU's own jar
 *     .cookiesForURL(url) → { name: [values] }   (cookies a request to `url` would send, in sending order)
 *     .set(url, name, value, [{ domain, path, expires, max_age, secure, http_only }]) → true
 *     .clear(url) / .delete(url, name) → undefined
 *   cookieHeaderFor(jar, url, params.cookies, userCookieHeader) → Cookie header value to send, or undefined
 *     (~10 ns while the jar is empty and there are no params.cookies; the jar's pairs are cached per
 *     scheme+host+path until the jar changes or one of them expires)
 *   storeResponseCookies(jar, requestUrl, setCookieLines)      after every response, redirects included
 *   responseCookies(url, setCookieLines) → Response.cookies       (final response only)
 *   requestCookies(cookieHeader) → Response.request.cookies
 *   jarForRequest(params.jar, vuJar) → the jar a request uses (validates params.jar)
 *   jarForIteration(previousVuJar, options.noCookiesReset) → the VU jar for the next iteration (k6: a fresh one each time)
 *
 * Beside it: cookie-syntax.ts (Go's Cookie/Set-Cookie syntax and cookie dates), cookie-args.ts (the
 * script's arguments checked: CookieJar URLs and set() options, params.cookies).
 *
 * k6 facts reproduced (grafana/k6 js/modules/k6/http, lib/netext/httpext):
 * - Cookie header = the user's own Cookie header, then `params.cookies` (object order), then the jar's
 *   cookies for the URL (longest path first, then oldest) minus names marked `replace: true`; joined
 *   with "; ". Values are sanitised like Go's `Request.AddCookie` (bytes outside 0x20-0x7e and `"`, `;`,
 *   `\` dropped; a value with a space or comma is double-quoted).
 * - Only http and https URLs get or store cookies; Secure cookies are sent to https only; HttpOnly
 *   cookies are sent (no browser rules, no SameSite, no __Host-/__Secure- prefix checks, no public-suffix
 *   list: `Domain=` must only domain-match the host).
 * - Max-Age > 0 sets an absolute expiry at store time; Max-Age <= 0, or Expires not in the future,
 *   deletes the stored cookie with the same domain, path and name.
 * - clear(url) and delete(url, name) delete, like k6's jar, the cookies stored under the URL's host and
 *   the URL's default path (the directory of its path: "/cookies" → "/", "/a/b" → "/a").
 * - Response.cookies fields come from the raw attributes: `domain`/`path` as written ("" when absent),
 *   `max_age` 0 when absent and -1 for "Max-Age <= 0", `expires` in ms since the epoch computed like Go's
 *   `Expires.UnixNano() / 1e6` (so a cookie without a parseable Expires reports -6795364578871, as k6 does).
 */
import { Cookie, CookieJar, MemoryCookieStore, PrefixSecurityEnum, canonicalDomain, defaultPath, domainMatch } from 'tough-cookie';
import { ModuleUsageError } from '../k6.ts';
import { appendParamsCookies, applySetOptions, defineKey, getOwn, parseUrl, show } from './cookie-args.ts';
import { appendCookie, goUnixMillis, isToken, parseCookieValue, parseSetCookie, type GoCookie } from './cookie-syntax.ts';

export interface ResponseCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  http_only: boolean;
  secure: boolean;
  max_age: number;
  expires: number;
}
export interface RequestCookie {
  name: string;
  value: string;
  replace: boolean;
}
export type RequestCookiesParam = Record<string, string | { value: string; replace?: boolean }>;

// ---------------------------------------------------------------------------------------------------
// The jar

/** The jar's cookies for one URL key as Cookie header pairs, valid until the jar changes or one of them expires. */
interface SendEntry {
  names: string[];
  pairs: string[];
  joined: string;
  validUntil: number;
}

interface JarState {
  tough: CookieJar | undefined;
  store: MemoryCookieStore | undefined;
  hasCookies: boolean;
  /** Cookies to send per scheme+host+path, dropped whenever the jar changes (bounded: SEND_CACHE_MAX keys). */
  send: Map<string, SendEntry>;
}

const SEND_CACHE_MAX = 64;

let stateOf: (jar: VuCookieJar) => JarState;

/**
 * A k6 cookie jar. Scripts see only cookiesForURL/set/clear/delete; the tough-cookie jar is created on the
 * first stored cookie, and `hasCookies` lets a request skip the jar entirely while it is empty.
 * JSON.stringify gives {} (as k6's jar returned from setup()).
 */
export class VuCookieJar {
  readonly #s: JarState = { tough: undefined, store: undefined, hasCookies: false, send: new Map() };

  static {
    stateOf = (jar) => jar.#s;
  }

  /** Cookies a request to `url` would send: { name: [value, ...] } in sending order. */
  cookiesForURL(url: unknown): Record<string, string[]> {
    const u = parseUrl('cookiesForURL', url);
    const out: Record<string, string[]> = {};
    for (const c of jarCookies(this, u)) {
      const list = getOwn(out, c.key);
      if (list === undefined) defineKey(out, c.key, [c.value]);
      else list.push(c.value);
    }
    return out;
  }

  /** Stores a cookie as if `url` had answered with it. Returns true (as k6), also when the jar ignores it (domain mismatch). */
  set(url: unknown, name: unknown, value: unknown, options?: unknown): boolean {
    const u = parseUrl('set', url);
    if (typeof name !== 'string' || name === '') {
      throw new ModuleUsageError(
        'invalid-cookie-name',
        `CookieJar.set(url, name, value): name must be a non-empty string, got ${show(name)}`,
      );
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ModuleUsageError(
        'invalid-cookie-value',
        `CookieJar.set(url, "${name}", value): value must be a string, got ${show(value)}`,
      );
    }
    const cookie: GoCookie = {
      name,
      value: String(value),
      domain: '',
      path: '',
      secure: false,
      httpOnly: false,
      maxAge: 0,
      expiresSec: undefined,
    };
    if (options !== undefined && options !== null) applySetOptions(cookie, options);
    storeCookie(this, u, cookie);
    return true;
  }

  /** Deletes the cookies this URL would get that are stored under its host and default path (k6's rule). */
  clear(url: unknown): void {
    const u = parseUrl('clear', url);
    const names = new Set(jarCookies(this, u).map((c) => c.key));
    for (const name of names) removeAt(this, u, name);
    refreshHasCookies(this);
  }

  /** Deletes the cookie `name` stored under the URL's host and default path (k6's rule). */
  delete(url: unknown, name: unknown): void {
    const u = parseUrl('delete', url);
    if (typeof name !== 'string' || name === '') {
      throw new ModuleUsageError('invalid-cookie-name', `CookieJar.delete(url, name): name must be a non-empty string, got ${show(name)}`);
    }
    removeAt(this, u, name);
    refreshHasCookies(this);
  }
}

/** Creates a jar (the engine's `new http.CookieJar()` and each VU's own jar). */
export function createCookieJar(): VuCookieJar {
  return new VuCookieJar();
}

/**
 * The VU jar for the next iteration (or setup/teardown call): k6 starts every one with an empty jar
 * unless `options.noCookiesReset` is true, which keeps the VU's jar across iterations.
 */
export function jarForIteration(previous: VuCookieJar | undefined, noCookiesReset: boolean | undefined): VuCookieJar {
  return noCookiesReset === true && previous !== undefined ? previous : new VuCookieJar();
}

/**
 * The jar a request uses: `params.jar` when given (must be a CookieJar), else the VU's jar.
 * (k6 ignores a params.jar that is not a jar; here it is an error so the mistake is seen.)
 */
export function jarForRequest(paramsJar: unknown, vuJar: VuCookieJar | undefined): VuCookieJar | undefined {
  if (paramsJar === undefined || paramsJar === null) return vuJar;
  if (paramsJar instanceof VuCookieJar) return paramsJar;
  throw new ModuleUsageError(
    'invalid-cookie-jar',
    `params.jar must be a cookie jar from http.cookieJar() or new http.CookieJar(), got ${show(paramsJar)}`,
  );
}

function toughOf(jar: VuCookieJar): { tough: CookieJar; store: MemoryCookieStore } {
  const s = stateOf(jar);
  if (s.tough === undefined || s.store === undefined) {
    s.store = new MemoryCookieStore();
    // Go's cookiejar.New(nil): no public-suffix list, Secure only over https, no cookie-prefix rules.
    s.tough = new CookieJar(s.store, {
      rejectPublicSuffixes: false,
      allowSecureOnLocal: false,
      enforceSecureOriginOnStorage: false,
      prefixSecurity: PrefixSecurityEnum.DISABLED,
      looseMode: false,
      allowSpecialUseDomain: true,
    });
  }
  return { tough: s.tough, store: s.store };
}

function isHttp(u: URL): boolean {
  return u.protocol === 'http:' || u.protocol === 'https:';
}

function jarCookies(jar: VuCookieJar, u: URL): Cookie[] {
  const s = stateOf(jar);
  if (!s.hasCookies || s.tough === undefined || !isHttp(u)) return [];
  return s.tough.getCookiesSync(u, { sort: true });
}

let lastHost = '';
let lastCanonical = '';

/** The URL host as the store keys it (tough-cookie's canonical form; IPv6 without brackets). Memoised: a run talks to few hosts. */
function hostOf(u: URL): string {
  const hostname = u.hostname;
  if (hostname === lastHost) return lastCanonical;
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  lastCanonical = canonicalDomain(host) ?? host;
  lastHost = hostname;
  return lastCanonical;
}

function defaultPathOf(u: URL): string {
  let p = u.pathname;
  try {
    p = decodeURI(p);
  } catch {
    // keep the encoded path (as tough-cookie does)
  }
  return defaultPath(p);
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Go cookiejar's newEntry + setCookies for one cookie. */
function storeCookie(jar: VuCookieJar, u: URL, c: GoCookie): void {
  if (!isHttp(u)) return;
  const host = hostOf(u);
  const path = c.path.startsWith('/') ? c.path : defaultPathOf(u);
  let domain = host;
  let hostOnly = true;
  if (c.domain !== '') {
    let d = c.domain.startsWith('.') ? c.domain.slice(1) : c.domain;
    if (d === '' || d.startsWith('.') || d.endsWith('.')) return; // malformed: ignored, as Go's jar
    d = canonicalDomain(d) ?? d.toLowerCase();
    if (IPV4.test(host) || host.includes(':')) {
      if (d !== host) return; // an IP host only accepts its own address, as a host cookie
    } else {
      if (!domainMatch(host, d, false)) return; // another site's domain: ignored
      domain = d;
      hostOnly = false;
    }
  }
  const now = Date.now();
  let expires: Date | 'Infinity' = 'Infinity';
  if (c.maxAge < 0) {
    removeStored(jar, domain, path, c.name);
    return;
  }
  if (c.maxAge > 0) expires = new Date(now + c.maxAge * 1000);
  else if (c.expiresSec !== undefined) {
    const ms = c.expiresSec * 1000;
    if (ms <= now) {
      removeStored(jar, domain, path, c.name);
      return;
    }
    expires = new Date(ms);
  }
  // Validated above as Go's jar does, so the cookie goes straight into the store (tough-cookie's setCookie
  // would re-derive the same domain and path at several times the cost). A replaced cookie is updated in
  // place: it keeps its creation time and index, which order the Cookie header.
  const { store } = toughOf(jar);
  const s = stateOf(jar);
  let old: Cookie | undefined;
  store.findCookie(domain, path, c.name, (err, found) => {
    if (err === null && found) old = found;
  });
  if (old !== undefined) {
    const changed = old.value !== c.value || old.secure !== c.secure || old.httpOnly !== c.httpOnly || old.hostOnly !== hostOnly;
    const sooner = (expires === 'Infinity' ? Infinity : expires.getTime()) < (old.expiryTime() ?? Infinity);
    old.value = c.value;
    old.secure = c.secure;
    old.httpOnly = c.httpOnly;
    old.hostOnly = hostOnly;
    old.expires = expires;
    old.maxAge = null;
    // Only a new value/flag or an earlier expiry makes the cached Cookie headers wrong (a later expiry
    // merely ends their validity early), so a server that refreshes a cookie on every response keeps the cache.
    if (changed || sooner) s.send.clear();
    return;
  }
  const created = new Date(now);
  void store.putCookie(
    new Cookie({
      key: c.name,
      value: c.value,
      domain,
      path,
      hostOnly,
      expires,
      secure: c.secure,
      httpOnly: c.httpOnly,
      creation: created,
      lastAccessed: created,
    }),
  );
  s.hasCookies = true;
  s.send.clear();
}

function removeStored(jar: VuCookieJar, domain: string, path: string, name: string): void {
  const s = stateOf(jar);
  if (s.store === undefined) return;
  void s.store.removeCookie(domain, path, name);
  s.send.clear();
}

/** k6's delete: a Max-Age=-1 cookie for `url` → removes id host;defaultPath;name. */
function removeAt(jar: VuCookieJar, u: URL, name: string): void {
  if (!isHttp(u)) return;
  removeStored(jar, hostOf(u), defaultPathOf(u), name);
}

function refreshHasCookies(jar: VuCookieJar): void {
  const s = stateOf(jar);
  if (s.store === undefined) return;
  let any = false;
  s.store.getAllCookies((err, cookies) => {
    any = err === null && cookies !== undefined && cookies.length > 0;
  });
  s.hasCookies = any;
}

// ---------------------------------------------------------------------------------------------------
// Requests

/**
 * The Cookie header to send to `url`, or undefined when there is none. `userCookieHeader` is the
 * Cookie header from params.headers (first hop only: on a redirect k6 rebuilds the header from the jar and
 * params.cookies alone). Costs nothing while the jar is empty and the request has no cookies.
 */
export function cookieHeaderFor(
  jar: VuCookieJar | undefined,
  url: URL,
  requestCookies: unknown,
  userCookieHeader: string | undefined,
): string | undefined {
  const fromJar = jar !== undefined && stateOf(jar).hasCookies;
  if (!fromJar && (requestCookies === undefined || requestCookies === null)) return userCookieHeader;
  let header = userCookieHeader ?? '';
  let replaced: Set<string> | undefined;
  if (requestCookies !== undefined && requestCookies !== null) {
    const given = appendParamsCookies(header, requestCookies);
    header = given.header;
    replaced = given.replaced;
  }
  if (fromJar) {
    const sent = sendEntry(jar, url);
    if (replaced === undefined) {
      if (sent.joined !== '') header = header === '' ? sent.joined : `${header}; ${sent.joined}`;
    } else {
      for (let i = 0; i < sent.names.length; i++) {
        if (replaced.has(sent.names[i] ?? '')) continue;
        const pair = sent.pairs[i] ?? '';
        header = header === '' ? pair : `${header}; ${pair}`;
      }
    }
  }
  return header === '' ? userCookieHeader : header;
}

/** The jar's cookies for `url`, from the cache while the jar is unchanged and none of them has expired. */
function sendEntry(jar: VuCookieJar, url: URL): SendEntry {
  const s = stateOf(jar);
  const href = url.href;
  const q = href.indexOf('?');
  const h = href.indexOf('#');
  const cut = q < 0 ? h : h < 0 ? q : Math.min(q, h);
  const key = cut < 0 ? href : href.slice(0, cut);
  const hit = s.send.get(key);
  if (hit !== undefined && (hit.validUntil === Infinity || Date.now() < hit.validUntil)) return hit;
  const names: string[] = [];
  const pairs: string[] = [];
  let validUntil = Infinity;
  for (const c of jarCookies(jar, url)) {
    names.push(c.key);
    pairs.push(appendCookie('', c.key, c.value));
    const exp = c.expiryTime();
    if (exp !== undefined && exp < validUntil) validUntil = exp;
  }
  const entry: SendEntry = { names, pairs, joined: pairs.join('; '), validUntil };
  if (s.send.size >= SEND_CACHE_MAX) s.send.clear();
  s.send.set(key, entry);
  return entry;
}

/** Stores the Set-Cookie lines of a response (a redirect or the final one) against the URL that was requested. */
export function storeResponseCookies(jar: VuCookieJar | undefined, url: URL, setCookie: readonly string[]): void {
  if (jar === undefined || setCookie.length === 0) return;
  for (const line of setCookie) {
    const c = parseSetCookie(line);
    if (c !== undefined) storeCookie(jar, url, c);
  }
}

/** `Response.cookies`: { name: [cookie, ...] } from the final response's Set-Cookie lines (the URL does not change the result). */
export function responseCookies(_url: URL, setCookie: readonly string[]): Record<string, ResponseCookie[]> {
  const out: Record<string, ResponseCookie[]> = {};
  for (const line of setCookie) {
    const c = parseSetCookie(line);
    if (c === undefined) continue;
    const rc: ResponseCookie = {
      name: c.name,
      value: c.value,
      domain: c.domain,
      path: c.path,
      http_only: c.httpOnly,
      secure: c.secure,
      max_age: c.maxAge,
      expires: goUnixMillis(c.expiresSec),
    };
    const list = getOwn(out, c.name);
    if (list === undefined) defineKey(out, c.name, [rc]);
    else list.push(rc);
  }
  return out;
}

/** `Response.request.cookies`: the cookies of the Cookie header that was sent, { name: [{ name, value, replace: false }] }. */
export function requestCookies(cookieHeader: string | undefined): Record<string, RequestCookie[]> {
  const out: Record<string, RequestCookie[]> = {};
  if (cookieHeader === undefined || cookieHeader === '') return out;
  for (const part of cookieHeader.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim();
    if (!isToken(name)) continue;
    const value = parseCookieValue(eq < 0 ? '' : p.slice(eq + 1), true);
    if (value === undefined) continue;
    const list = getOwn(out, name);
    const rc: RequestCookie = { name, value, replace: false };
    if (list === undefined) defineKey(out, name, [rc]);
    else list.push(rc);
  }
  return out;
}
