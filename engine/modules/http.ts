/**
 * `k6/http` on the engine's own HTTP/1.1 client (`http/client.ts`). Each VU has its own connection
 * pool (like k6's per-VU transport). Every request returns a promise (async first); the timing
 * breakdown: blocked = until the request got a connection (includes connecting), sending = until
 * the request was written, waiting = until the first response byte, receiving = until the end.
 * A failing target is measured as an error sample (status 0, k6's error_code), never a crash.
 */
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import type { Sample, Tags } from '../contracts.ts';
import { Awaitable, awaitable, deferredAwaitable, forgotAwaitMessage } from './awaitable.ts';
import type { EngineModuleContext } from './context.ts';
import { toArrayBuffer, toBuffer } from './crypto.ts';
import { ConnectionPool, headerValue, requestHead, type ClientRequest, type Exchange } from './http/client.ts';
import { digestAuthorization, maskCredentials, parseDigestChallenge } from './http/digest.ts';
import { proxyFromEnv, type ProxyChoice } from './http/proxy.ts';
import {
  VuCookieJar, cookieHeaderFor, jarForIteration, jarForRequest, requestCookies, responseCookies, storeResponseCookies,
  type RequestCookie, type ResponseCookie,
} from './http/cookies.ts';
import { ModuleUsageError } from './k6.ts';
import { HOST_NOT_ALLOWED_ERROR_CODE } from '../net/host-policy.ts';
import { responseHtml, type Selection } from './html.ts';
import { gjsonGet } from './http/gjson.ts';

/**
 * k6's default User-Agent, `k6/<version> (https://k6.io/)`, for the k6 release the engine is compared
 * with (v1.2.3): the same header bytes, so `data_sent` matches k6's. Scripts set their own with
 * `options.userAgent`.
 */
export const DEFAULT_USER_AGENT = 'k6/1.2.3 (https://k6.io/)';

type Body = string | ArrayBuffer | ArrayBufferView | Record<string, unknown> | null | undefined;

export interface HttpParams {
  headers?: Record<string, string | number>;
  tags?: Record<string, string>;
  timeout?: string | number;
  responseType?: 'text' | 'binary' | 'none';
  redirects?: number;
  responseCallback?: ResponseCallback | null;
  /** Request-local cookies: { name: 'v' } or { name: { value: 'v', replace: true } }. */
  cookies?: unknown;
  /** The cookie jar for this request (default: the VU's). */
  jar?: unknown;
  /** With credentials in the URL: 'basic' (also the default) or 'digest' (k6's NTLM is not supported). Scripts may pass anything. */
  auth?: unknown;
  /** Compress the body: 'gzip', 'deflate', 'br' or a comma-separated list (k6's `compression`). */
  compression?: unknown;
}

interface ResponseCallback { readonly __expected: (status: number) => boolean }

export interface Timings {
  blocked: number; connecting: number; tls_handshaking: number; sending: number; waiting: number; receiving: number; duration: number;
}

const METRICS = {
  reqs: 'http_reqs', duration: 'http_req_duration', blocked: 'http_req_blocked', connecting: 'http_req_connecting',
  tls: 'http_req_tls_handshaking', sending: 'http_req_sending', waiting: 'http_req_waiting', receiving: 'http_req_receiving',
  failed: 'http_req_failed',
} as const;

/** k6 error codes (lib/netext/httpext/error_codes.go) for what Node's sockets and our client report. */
export function errorCodeOf(err: unknown): { code: number; message: string } {
  const e = err as { code?: string; message?: string; cause?: unknown; name?: string };
  const inner = (e.cause ?? e) as { code?: string; message?: string; address?: string; port?: number };
  const code = inner.code ?? e.code ?? '';
  const addr = inner.address !== undefined ? `${inner.address}:${String(inner.port ?? '')}` : '';
  switch (code) {
    case 'ECONNREFUSED': return { code: 1212, message: `dial tcp ${addr}: connect: connection refused` };
    case 'ETIMEDOUT': return { code: 1211, message: `dial tcp ${addr}: i/o timeout` };
    case 'ENOTFOUND': case 'EAI_AGAIN': return { code: 1101, message: `lookup: no such host` };
    case 'ECONNRESET': return { code: 1220, message: 'read: connection reset by peer' };
    case 'EPIPE': return { code: 1201, message: 'write: broken pipe' };
    case 'EHOSTUNREACH': case 'ENETUNREACH': return { code: 1210, message: `dial tcp ${addr}: connect: ${String(inner.message)}` };
    case 'request-timeout': return { code: 1050, message: 'request timeout' };
    case 'host-not-allowed': return { code: HOST_NOT_ALLOWED_ERROR_CODE, message: e.message ?? 'hostname is not allowed' };
    case 'invalid-url': return { code: 1020, message: e.message ?? 'invalid URL' };
    default:
      if (code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.includes('SSL')) return { code: 1300, message: `tls: ${String(inner.message)}` };
      return { code: 1000, message: String(inner.message ?? e.message ?? err) };
  }
}

/** Go's textproto canonical header name: content-type → Content-Type. */
function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

/** Bounded memo: a Map that starts over when it holds `max` entries (hot keys come back at once). */
class Memo<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly max: number) {}
  get(key: string): V | undefined {
    return this.#map.get(key);
  }
  set(key: string, value: V): V {
    if (this.#map.size >= this.max) this.#map.clear();
    this.#map.set(key, value);
    return value;
  }
  clear(): void {
    this.#map.clear();
  }
}

/** Response header name as received → canonical name, shared by every VU. */
const headerNames = new Memo<string>(1024);

function canonicalHeader(text: string): string {
  return headerNames.get(text) ?? headerNames.set(text, canonical(text.toLowerCase()));
}

/**
 * k6's timing breakdown of one exchange (ms), as its tracer computes it (lib/netext/httpext/tracer.go,
 * Tracer.Done): blocked until a connection was obtained (0 when none was); sending until the request was
 * written; waiting from then until the first response byte, or, when none came (a timeout, a reset), until
 * the request gave up, so a server that hangs shows its hang in http_req_duration; receiving from the first
 * byte to the end. Phases never reached are 0.
 */
function timingsOf(ex: Exchange): Timings {
  const t: Timings = {
    blocked: ex.tConn > 0 ? Math.max(0, ex.tConn - ex.t0) : 0,
    connecting: ex.newConn?.connecting ?? 0,
    tls_handshaking: ex.newConn?.tls ?? 0,
    sending: ex.tSent > 0 && ex.tConn > 0 ? Math.max(0, ex.tSent - ex.tConn) : 0,
    waiting: ex.tSent > 0 ? Math.max(0, (ex.tFirst > 0 ? ex.tFirst : ex.tEnd) - ex.tSent) : 0,
    receiving: ex.tFirst > 0 ? Math.max(0, ex.tEnd - ex.tFirst) : 0,
    duration: 0,
  };
  t.duration = t.sending + t.waiting + t.receiving;
  return t;
}

/** What a request needs of its URL, parsed once per distinct URL text. */
interface ParsedUrl {
  readonly href: string; readonly origin: string; readonly path: string; readonly url: URL;
  readonly tls: boolean; readonly hostname: string; readonly port: number; readonly host: string;
  /** The forward proxy from HTTP_PROXY/HTTPS_PROXY/NO_PROXY (proxy.ts), or the error a bad proxy variable gives. */
  readonly proxy: ProxyChoice;
  /** Request heads by method, for requests with the VU's default headers and no body (see doRequest). */
  readonly heads: Map<string, string>;
  /** The tags of the last request to this URL, reused while everything they depend on is the same. */
  lastTags: TagCacheEntry | undefined;
}

interface TagCacheEntry {
  readonly base: Tags; readonly status: number; readonly proto: string; readonly method: string; readonly urlTag: string;
  readonly name: string; readonly error: string; readonly errorCode: number; readonly expected: boolean | undefined; readonly tags: Tags;
}

function parseUrl(text: string, method: string, proxyFor: ReturnType<typeof proxyFromEnv>): ParsedUrl {
  let u: URL;
  try {
    u = new URL(text);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol scheme "${u.protocol.replace(':', '')}"`);
  } catch (e) {
    throw new ModuleUsageError('invalid-url', `k6/http: invalid URL ${JSON.stringify(maskCredentials(text))} in ${method}: ${(e as Error).message}; use an absolute http:// or https:// URL`);
  }
  const tls = u.protocol === 'https:';
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  return { href: u.href, origin: u.origin, path: u.pathname + u.search, url: u, tls, hostname, port, host: u.host, proxy: proxyFor(tls, hostname, port), heads: new Map(), lastTags: undefined };
}

/** Go's isDomainOrSubdomain: `sub` is `parent` or one of its subdomains (never for IPv6 literals). */
function isDomainOrSubdomain(sub: string, parent: string): boolean {
  if (sub === parent) return true;
  if (sub.includes(':') || sub.includes('[')) return false;
  return sub.endsWith(`.${parent}`);
}

/** Decoded user and password of a URL with credentials (undefined without); a bad %-escape is an invalid URL. */
function credentialsOf(u: URL, text: string, method: string): { readonly name: string; readonly password: string } | undefined {
  if (u.username === '' && u.password === '') return undefined;
  try {
    return { name: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {
    throw new ModuleUsageError('invalid-url', `k6/http: invalid URL ${JSON.stringify(maskCredentials(text))} in ${method}: bad %-escape in its credentials`);
  }
}

/** A copy of `headers` without any Authorization header, whatever its case. */
function withoutAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) if (k.length !== 13 || k.toLowerCase() !== 'authorization') out[k] = headers[k] ?? '';
  return out;
}

/** A plain object body: sent as a form, which adds a Content-Type header. */
function isFormBody(body: Body): boolean {
  return typeof body === 'object' && body !== null && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body);
}

/** The URL text of a request's url argument: a string, or an `http.url` template result `{ url, name }`. */
function urlTextOf(urlIn: unknown): string {
  return typeof urlIn === 'object' && urlIn !== null && 'url' in urlIn ? String(urlIn.url) : String(urlIn);
}

/** Decodes a body sent with Content-Encoding gzip, deflate, br or zstd, a list undone last first (as k6). */
function decode(buf: Buffer, encoding: string): Buffer {
  let out = buf;
  for (const coding of encoding.split(',').reverse()) {
    switch (coding.trim().toLowerCase()) {
      case 'gzip': case 'x-gzip': out = gunzipSync(out); break;
      case 'deflate':
        try { out = inflateSync(out); } catch { out = inflateRawSync(out); }
        break;
      case 'br': out = brotliDecompressSync(out); break;
      // Node 20 has no zstd: fzstd decodes it (k6's Go client does too).
      case 'zstd': { const z = zstdDecompress(out); out = Buffer.from(z.buffer, z.byteOffset, z.byteLength); break; }
      default: break;
    }
  }
  return out;
}

/** k6's `compression` param: the body compressed by each algorithm in order, Content-Encoding set to the list. */
function compressBody(body: Buffer, compression: unknown): { body: Buffer; encoding: string } {
  const algos = String(compression).split(',').map((a) => a.trim()).filter((a) => a !== '');
  let out = body;
  for (const a of algos) {
    switch (a) {
      case 'gzip': out = gzipSync(out); break;
      case 'deflate': out = deflateSync(out); break;
      case 'br': out = brotliCompressSync(out); break;
      default:
        throw new ModuleUsageError('invalid-compression', `k6/http: unknown compression algorithm ${JSON.stringify(a)}; use gzip, deflate or br (or a list like "gzip, br")`);
    }
  }
  return { body: out, encoding: algos.join(', ') };
}

function parseDuration(v: string | number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return v;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|us|µs)/g;
  let total = 0;
  let matched = '';
  for (const m of v.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : unit === 'h' ? n * 3_600_000 : n / 1000;
    matched += m[0];
  }
  if (matched !== v) {
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
    throw new ModuleUsageError('invalid-timeout', `k6/http: timeout must be a duration like "30s" or milliseconds, got ${JSON.stringify(v)}`);
  }
  return total;
}

/** A Response as plain data (see Response.wire). */
export interface ResponseWire {
  status: number; status_text: string; proto: string; url: string; body: string | ArrayBuffer | null; headers: Record<string, string>;
  cookies: Record<string, ResponseCookie[]>; error: string; error_code: number; remote_ip: string; remote_port: number; timings: Timings;
  req: { method: string; url: string; headers: Record<string, string>; body: Uint8Array | undefined };
}

/** `http.url\`...\``: the URL, and the template with `${}` placeholders as its name (credentials masked). */
export function urlTemplate(strings: TemplateStringsArray, ...values: unknown[]): { url: string; name: string } {
  let url = '';
  let name = '';
  strings.forEach((s, i) => { url += s; name += s; if (i < values.length) { url += String(values[i]); name += '${}'; } });
  // k6 shows the URL with its credentials masked as the name; masked here whatever the placeholders.
  return { url, name: maskCredentials(name) };
}

export class Response {
  status = 0;
  status_text = '';
  proto = 'HTTP/1.1';
  url: string;
  body: string | ArrayBuffer | null = null;
  headers: Record<string, string> = {};
  cookies: Record<string, ResponseCookie[]> = {};
  error = '';
  error_code = 0;
  remote_ip = '';
  remote_port = 0;
  timings: Timings = { blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0, duration: 0 };
  readonly #req: { method: string; url: string; headers: Record<string, string>; body: Buffer | undefined };
  #request: { method: string; url: string; headers: Record<string, string[]>; body: string; cookies: Record<string, RequestCookie[]> } | undefined;
  #json: unknown;
  #parsed = false;
  constructor(method: string, url: string, headers: Record<string, string>, body: Buffer | undefined) {
    this.url = url;
    this.#req = { method, url, headers, body };
  }
  /** The request as sent (built on first access: most scripts never read it). */
  get request(): { method: string; url: string; headers: Record<string, string[]>; body: string; cookies: Record<string, RequestCookie[]> } {
    const r = this.#req;
    this.#request ??= { method: r.method, url: r.url, headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [canonical(k), [v]])), body: r.body?.toString('utf8') ?? '', cookies: requestCookies(r.headers.Cookie) };
    return this.#request;
  }
  /** Everything the script can read, as plain data (the synchronous VU mode sends it to the VU thread). */
  wire(): ResponseWire {
    const r = this.#req;
    return {
      status: this.status, status_text: this.status_text, proto: this.proto, url: this.url, body: this.body, headers: this.headers,
      cookies: this.cookies, error: this.error, error_code: this.error_code, remote_ip: this.remote_ip, remote_port: this.remote_port,
      timings: this.timings, req: { method: r.method, url: r.url, headers: r.headers, body: r.body === undefined ? undefined : new Uint8Array(r.body) },
    };
  }
  /** The Response `wire()` described (the same methods, the same request). */
  static fromWire(w: ResponseWire): Response {
    const res = new Response(w.req.method, w.req.url, w.req.headers, w.req.body === undefined ? undefined : Buffer.from(w.req.body));
    Object.assign(res, { status: w.status, status_text: w.status_text, proto: w.proto, url: w.url, body: w.body, headers: w.headers, cookies: w.cookies, error: w.error, error_code: w.error_code, remote_ip: w.remote_ip, remote_port: w.remote_port, timings: w.timings });
    return res;
  }
  json(selector?: string): unknown {
    if (!this.#parsed) {
      const text = typeof this.body === 'string' ? this.body : this.body === null ? '' : Buffer.from(this.body).toString('utf8');
      if (this.body === null) throw new ModuleUsageError('no-body', `cannot parse the JSON of the response to ${this.#req.method} ${maskCredentials(this.url)}: the body was discarded (responseType none); set responseType: 'text'`);
      try {
        this.#json = JSON.parse(text);
      } catch (e) {
        throw new ModuleUsageError('invalid-json', `cannot parse the response of ${this.#req.method} ${maskCredentials(this.url)} as JSON: ${(e as Error).message}`);
      }
      this.#parsed = true;
    }
    if (selector === undefined || selector === '') return this.#json;
    // k6 answers selectors with GJSON (http/gjson.ts): no match is undefined.
    return gjsonGet(this.#json, selector);
  }
  html(selector?: string): Selection {
    return responseHtml(this.body, this.url, selector);
  }
}

/** `http.file(data, filename?, contentType?)`: a file part of a multipart/form-data body. */
export class FileData {
  readonly data: string | ArrayBuffer;
  readonly filename: string;
  readonly content_type: string;
  constructor(data: unknown, filename: unknown, contentType: unknown) {
    if (typeof data === 'string' || data instanceof ArrayBuffer) this.data = data;
    else if (ArrayBuffer.isView(data)) this.data = toArrayBuffer(toBuffer(data));
    else if (Array.isArray(data) && data.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) this.data = toArrayBuffer(Buffer.from(data as number[]));
    else throw new ModuleUsageError('invalid-file-data', `http.file(data): data must be a string, an ArrayBuffer or an array of bytes, got ${typeof data}`);
    if (filename !== undefined && filename !== null && typeof filename !== 'string') throw new ModuleUsageError('invalid-file-data', `http.file(data, filename): filename must be a string, got ${typeof filename}`);
    if (contentType !== undefined && contentType !== null && typeof contentType !== 'string') throw new ModuleUsageError('invalid-file-data', `http.file(data, filename, contentType): contentType must be a string, got ${typeof contentType}`);
    this.filename = filename ?? '';
    this.content_type = contentType === undefined || contentType === null || contentType === '' ? 'application/octet-stream' : contentType;
  }
  bytes(): Buffer {
    return typeof this.data === 'string' ? Buffer.from(this.data, 'utf8') : Buffer.from(this.data);
  }
}

/** The promise http.* returns: touching response fields on it (a forgotten await) warns once per call site. */
export class ResponsePromise extends Awaitable<Response> {
  /** Set by the http module that made it (one function per VU, not one per request). */
  warnField: ((p: ResponsePromise, field: string) => void) | undefined;
}
for (const field of ['status', 'body', 'headers', 'timings', 'error', 'error_code', 'url', 'json', 'html', 'status_text', 'cookies', 'request', 'proto', 'remote_ip', 'remote_port'] as const) {
  void Object.defineProperty(ResponsePromise.prototype, field, {
    get(this: ResponsePromise) {
      this.warnField?.(this, field);
      return undefined;
    },
  });
}

export function createHttpModule(ctx: EngineModuleContext): Record<string, unknown> {
  const clock = ctx.clock;
  const now = (): number => clock.now();
  // Per-VU connections, like k6's per-VU transport.
  let defaultHeaders: Readonly<Record<string, string>> = Object.freeze({ 'User-Agent': DEFAULT_USER_AGENT });
  // Options are read when needed: VU 0 (setup/teardown) loads this module before the options are known.
  // HTTP/2 is offered on https unless GODEBUG=http2client=0, the switch Go (and so k6) honours.
  const http2 = !/(^|,)\s*http2client=0\s*(,|$)/.test(process.env.GODEBUG ?? '');
  const pool = new ConnectionPool({ now, rejectUnauthorized: () => ctx.options().insecureSkipTLSVerify !== true, http2, refuse: (host) => ctx.connectRefusal(host) });

  // The VU's cookie jar, asked for by every request: at its first use in an iteration (or setup/teardown)
  // k6 starts with an empty jar unless noCookiesReset, and with no idle connection under noVUConnectionReuse.
  let vuJar: VuCookieJar | undefined;
  let jarStage = '';
  let jarIter = -1;
  const currentJar = (): VuCookieJar => {
    const stage = ctx.stage();
    const iter = ctx.iterationInVu();
    if (vuJar === undefined || stage !== jarStage || iter !== jarIter) {
      vuJar = jarForIteration(vuJar, ctx.options().noCookiesReset === true);
      if (ctx.options().noVUConnectionReuse === true) pool.closeIdle();
      jarStage = stage;
      jarIter = iter;
    }
    return vuJar;
  };

  const urls = new Memo<ParsedUrl>(256);
  // k6 (Go's ProxyFromEnvironment) takes proxies from the process environment, not from -e variables.
  const proxyFor = proxyFromEnv(process.env);
  const parsed = (text: string, method: string): ParsedUrl => urls.get(text) ?? urls.set(text, parseUrl(text, method, proxyFor));
  /** The host a batch request counts against for batchPerHost ('' when the URL is invalid: the request reports it). */
  const hostOf = (urlIn: unknown): string => {
    try {
      return parsed(urlTextOf(urlIn), 'GET').host;
    } catch {
      return '';
    }
  };
  /** Request tags; a request with the same inputs as the last one to its URL shares that one's frozen object. */
  function requestTags(url: ParsedUrl, base: Tags, res: Response, method: string, urlTag: string, name: string, expected: boolean | undefined, extra: Record<string, string> | undefined): Tags {
    const last = url.lastTags;
    if (extra === undefined && last !== undefined && last.base === base && last.status === res.status && last.proto === res.proto && last.method === method
      && last.urlTag === urlTag && last.name === name && last.error === res.error && last.errorCode === res.error_code && last.expected === expected) {
      return last.tags;
    }
    const tags: Record<string, string> = { ...base };
    tags.proto = res.status === 0 ? '' : res.proto;
    tags.status = String(res.status);
    tags.method = method;
    tags.url = urlTag;
    tags.name = name;
    if (res.error !== '') tags.error = res.error;
    if (res.error_code !== 0) tags.error_code = String(res.error_code);
    if (expected !== undefined) tags.expected_response = String(expected);
    if (extra !== undefined) Object.assign(tags, extra);
    const t = Object.freeze(tags);
    if (extra === undefined) {
      url.lastTags = { base, status: res.status, proto: res.proto, method, urlTag, name, error: res.error, errorCode: res.error_code, expected, tags: t };
    }
    return t;
  }

  let responseCallback: ResponseCallback | null = expectedStatuses({ min: 200, max: 399 });

  function expectedStatuses(...specs: (number | { min: number; max: number })[]): ResponseCallback {
    const ranges = specs.map((s) => {
      if (typeof s === 'number' && Number.isInteger(s)) return { min: s, max: s };
      if (typeof s === 'object' && Number.isInteger(s.min) && Number.isInteger(s.max)) return s;
      throw new ModuleUsageError('invalid-expected-statuses', `http.expectedStatuses: arguments must be integers or { min, max } objects, got ${JSON.stringify(s)}`);
    });
    return { __expected: (st: number) => ranges.some((r) => st >= r.min && st <= r.max) };
  }

  function encodeBody(body: Body, headers: Record<string, string>): Buffer | undefined {
    if (body === null || body === undefined) return undefined;
    if (typeof body === 'string') return Buffer.from(body, 'utf8');
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return toBuffer(body);
    if (typeof body === 'object') {
      const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
      if (Object.values(body).some((v) => v instanceof FileData)) {
        // Any http.file() value makes it a multipart/form-data upload (k6's rule).
        const boundary = randomBytes(30).toString('hex');
        const parts: Buffer[] = [];
        for (const [k, v] of Object.entries(body)) {
          const name = k.replace(/["\\\r\n]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
          if (v instanceof FileData) {
            const filename = (v.filename === '' ? k : v.filename).replace(/["\\\r\n]/g, '_');
            parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${v.content_type}\r\n\r\n`, 'utf8'), v.bytes(), Buffer.from('\r\n'));
          } else {
            parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${String(v)}\r\n`, 'utf8'));
          }
        }
        parts.push(Buffer.from(`--${boundary}--\r\n`));
        if (!hasType) headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
        return Buffer.concat(parts);
      }
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) form.append(k, String(v));
      if (!hasType) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      return Buffer.from(form.toString(), 'utf8');
    }
    return Buffer.from(String(body), 'utf8');
  }

  /**
   * One request with its redirect hops; `done` gets the final response, `fail` an exception for the
   * script (bad arguments, an interrupted iteration), also one thrown while preparing the request.
   * Callbacks, not async: no promise per hop.
   */
  function request(methodIn: string, urlIn: unknown, body: Body, params: HttpParams | undefined, done: (res: Response) => void, fail: (err: unknown) => void): void {
    try {
      doRequest(methodIn, urlIn, body, params, done, fail);
    } catch (e) {
      fail(e);
    }
  }

  function doRequest(methodIn: string, urlIn: unknown, body: Body, params: HttpParams | undefined, done: (res: Response) => void, fail: (err: unknown) => void): void {
    const method = methodIn.toUpperCase();
    const urlText = urlTextOf(urlIn);
    const nameFromUrlObj = typeof urlIn === 'object' && urlIn !== null && 'name' in urlIn ? String((urlIn).name) : undefined;
    const p = params ?? {};
    const opts = ctx.options();
    const ua = typeof opts.userAgent === 'string' ? opts.userAgent : DEFAULT_USER_AGENT;
    if (defaultHeaders['User-Agent'] !== ua) {
      defaultHeaders = Object.freeze({ 'User-Agent': ua });
      urls.clear(); // cached request heads carry the old User-Agent
    }
    // Shared (frozen) while the request adds nothing to it: the common case allocates no headers.
    const headers: Record<string, string> = p.headers === undefined && p.compression === undefined && !isFormBody(body) ? defaultHeaders : { ...defaultHeaders };
    let hostOverride: string | undefined;
    let userCookie: string | undefined;
    if (p.headers !== undefined) {
      for (const k in p.headers) {
        const v = String(p.headers[k]);
        const lower = k.length === 4 || k.length === 6 || k.length === 14 ? k.toLowerCase() : '';
        if (lower === 'host') hostOverride = v; // Go sends it as the Host line
        else if (lower === 'cookie') userCookie = v; // merged with params.cookies and the jar below
        else if (lower !== 'content-length') headers[k] = v; // the client writes the body's real length
      }
    }
    // Credentials in the URL (Go's client): Basic on each hop whose URL has them, unless the request has
    // its own Authorization; with auth: 'digest', k6's exchange instead. An Authorization leaves for good
    // at a redirect to another domain (Go's shouldCopyHeaderOnRedirect, sticky as since Go 1.23.5).
    const auth = p.auth === undefined ? undefined : typeof p.auth === 'string' ? p.auth.toLowerCase() : JSON.stringify(p.auth);
    if (auth !== undefined && auth !== 'basic' && auth !== 'digest') {
      throw new ModuleUsageError('unsupported-auth', `k6/http: params.auth "${auth}" is not supported by the embedded engine; use "basic" or "digest" (NTLM needs the k6 binary)`);
    }
    const firstUrl = parsed(urlText, method).url;
    const user = credentialsOf(firstUrl, urlText, method);
    let digestPending = auth === 'digest' && user !== undefined;
    const ownAuthorization = headerValue(headers, 'authorization') !== undefined;
    let crossedDomain = false;
    const jar = jarForRequest(p.jar, currentJar());
    let payload = encodeBody(body, headers);
    if (p.compression !== undefined && p.compression !== null && p.compression !== '' && payload !== undefined) {
      const c = compressBody(payload, p.compression);
      payload = c.body;
      headers['Content-Encoding'] = c.encoding;
    }
    const timeout = parseDuration(p.timeout, 60_000);
    const discard = ctx.discardResponseBodies();
    const responseType = p.responseType ?? (discard ? 'none' : 'text');
    const cb = p.responseCallback === undefined ? responseCallback : p.responseCallback;
    const intr = ctx.iterationInterruption();
    const baseTags = ctx.currentTags();

    const maxRedirects = p.redirects ?? (typeof opts.maxRedirects === 'number' ? opts.maxRedirects : 10);
    const hop = (currentUrl: string, currentMethod: string, currentBody: Buffer | undefined, redirectsLeft: number, first: boolean, authorization?: string): void => {
      const url = parsed(currentUrl, method);
      // On a redirect k6 rebuilds the Cookie header from params.cookies and the jar alone.
      const cookie = cookieHeaderFor(jar, url.url, p.cookies, first ? userCookie : undefined);
      let hopHeaders = cookie === undefined ? headers : { ...headers, Cookie: cookie };
      if (!first && !crossedDomain && !isDomainOrSubdomain(url.url.hostname, firstUrl.hostname)) crossedDomain = true;
      const hopUser = first ? user : credentialsOf(url.url, currentUrl, method);
      const basic = hopUser === undefined || digestPending || (ownAuthorization && !crossedDomain) ? undefined : `Basic ${Buffer.from(`${hopUser.name}:${hopUser.password}`).toString('base64')}`;
      const hopAuthorization = authorization ?? basic;
      if (hopAuthorization !== undefined || (ownAuthorization && crossedDomain)) {
        hopHeaders = withoutAuthorization(hopHeaders);
        if (hopAuthorization !== undefined) hopHeaders.Authorization = hopAuthorization;
      }
      const req: ClientRequest = {
        method: currentMethod, tls: url.tls, hostname: url.hostname, port: url.port, host: hostOverride ?? url.host, path: url.path,
        headers: hopHeaders, body: currentBody, timeoutMs: timeout, keepBody: responseType !== 'none', proxy: url.proxy,
        close: opts.noConnectionReuse === true,
      };
      if (hopHeaders === defaultHeaders && currentBody === undefined && hostOverride === undefined) {
        const cached = url.heads.get(currentMethod);
        if (cached !== undefined) req.head = cached;
        else if (url.heads.size < 16) url.heads.set(currentMethod, req.head = requestHead(req));
      }
      pool.request(req, intr, (ex) => {
        try {
          const res = responseOf(ex, currentMethod, url.href, hopHeaders, currentBody, responseType);
          const setCookie = setCookieLines(ex);
          if (setCookie !== undefined) {
            storeResponseCookies(jar, url.url, setCookie);
            res.cookies = responseCookies(url.url, setCookie);
          }
          // Samples.
          const bareOrigin = url.url.pathname === '/' && url.url.search === '' && url.url.hash === '';
          const shownUrl = bareOrigin && !currentUrl.endsWith('/') ? currentUrl : url.href;
          const urlTag = url.url.username === '' && url.url.password === '' ? shownUrl : maskCredentials(shownUrl);
          // k6's digest: the unauthenticated first request is expected to get its 401.
          const digestProbe = digestPending;
          digestPending = false;
          const expected = cb === null ? undefined : digestProbe ? res.status === 401 : cb.__expected(res.status);
          const frozen = requestTags(url, baseTags, res, currentMethod, urlTag, nameFromUrlObj ?? urlTag, expected, p.tags);
          emitSamples(res.timings, frozen, expected);
          if (digestProbe && res.status === 401 && user !== undefined) {
            const challenge = parseDigestChallenge(res.headers['Www-Authenticate']);
            const answer = challenge === undefined ? undefined : digestAuthorization(challenge, { method: currentMethod, uri: url.path, username: user.name, password: user.password, body: currentBody });
            if (answer !== undefined) {
              hop(currentUrl, currentMethod, currentBody, redirectsLeft, first, answer);
              return;
            }
          }
          // Redirects: each hop is its own request in the metrics, like k6.
          const location = res.headers.Location;
          if (res.status >= 301 && res.status <= 308 && res.status !== 304 && res.status !== 305 && res.status !== 306 && location !== undefined) {
            if (redirectsLeft <= 0) {
              ctx.log('warn', `Stopped after ${String(maxRedirects)} redirects and returned the redirection; pass { redirects: n } in request params or set global maxRedirects option`);
              done(res);
              return;
            }
            const see = res.status === 303 || ((res.status === 301 || res.status === 302) && currentMethod === 'POST');
            hop(new URL(location, url.url).href, see ? 'GET' : currentMethod, see ? undefined : currentBody, redirectsLeft - 1, false);
            return;
          }
          done(res);
        } catch (e) {
          fail(e);
        }
      });
    };
    hop(urlText, method, payload, maxRedirects, true);
  }

  /** The response's Set-Cookie lines, one per header (undefined when none: the common case costs no array). */
  function setCookieLines(ex: Exchange): string[] | undefined {
    if (ex.error !== undefined) return undefined;
    let lines: string[] | undefined;
    const raw = ex.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] ?? '';
      if (name.length === 10 && name.toLowerCase() === 'set-cookie') (lines ??= []).push(raw[i + 1] ?? '');
    }
    return lines;
  }

  /** The script's Response for a finished exchange (throws when the iteration was interrupted). */
  function responseOf(ex: Exchange, method: string, href: string, headers: Record<string, string>, body: Buffer | undefined, responseType: string): Response {
    ctx.countBytes(ex.sent, ex.received);
    const res = new Response(method, href, headers, body);
    res.timings = timingsOf(ex);
    res.remote_ip = ex.remoteAddress;
    res.remote_port = ex.remotePort;
    const sampleErr = ex.error;
    if (sampleErr?.code === 'interrupted') throw sampleErr;
    if (sampleErr !== undefined) {
      const ec = errorCodeOf(sampleErr);
      res.error = ec.message;
      res.error_code = ec.code;
      return res;
    }
    res.status = ex.status;
    res.status_text = `${String(ex.status)} ${ex.statusText}`;
    if (ex.versionMinor !== 1 || ex.versionMajor !== 1) res.proto = `HTTP/${String(ex.versionMajor)}.${String(ex.versionMinor)}`;
    const raw = ex.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = canonicalHeader(raw[i] ?? '');
      const v = raw[i + 1] ?? '';
      const prev = res.headers[k];
      res.headers[k] = prev === undefined ? v : `${prev}, ${v}`;
    }
    if (responseType !== 'none') {
      let buf = ex.chunks.length === 1 ? ex.chunks[0] ?? Buffer.alloc(0) : Buffer.concat(ex.chunks);
      const encoding = res.headers['Content-Encoding'];
      if (encoding !== undefined && buf.length > 0) {
        try {
          buf = decode(buf, encoding);
        } catch (e) {
          res.error = `error decompressing the ${encoding} response body: ${(e as Error).message}`;
          res.error_code = 1000;
        }
      }
      res.body = responseType === 'binary' ? toArrayBuffer(buf) : buf.toString('utf8');
    }
    if (ex.status >= 400) res.error_code = 1000 + ex.status;
    return res;
  }

  function emitSamples(t: Timings, tags: Tags, expected: boolean | undefined): void {
    const time = clock.wallNow();
    const samples: Sample[] = [
      { metric: METRICS.reqs, time, value: 1, tags },
      { metric: METRICS.duration, time, value: t.duration, tags },
      { metric: METRICS.blocked, time, value: t.blocked, tags },
      { metric: METRICS.connecting, time, value: t.connecting, tags },
      { metric: METRICS.tls, time, value: t.tls_handshaking, tags },
      { metric: METRICS.sending, time, value: t.sending, tags },
      { metric: METRICS.waiting, time, value: t.waiting, tags },
      { metric: METRICS.receiving, time, value: t.receiving, tags },
    ];
    if (expected !== undefined) samples.push({ metric: METRICS.failed, time, value: expected ? 0 : 1, tags });
    ctx.emit(samples);
  }

  /** request() as a promise (http.batch). */
  const requestPromise = (method: string, url: unknown, body: Body, params: HttpParams | undefined): Promise<Response> =>
    new Promise<Response>((resolve, reject) => { request(method, url, body, params, resolve, reject); });

  const warnField = (promise: ResponsePromise, field: string): void => {
    const where = ctx.callSite(3);
    const call = promise.call;
    // Keyed by where the field was read; the end-of-iteration check skips this promise.
    promise.warned = true;
    ctx.warnOnce(`forgot-await-field:${where !== '' ? where : call}`, forgotAwaitMessage(call, where, `\`.${field}\` was read from the promise`));
  };

  function start(call: string, method: string, url: unknown, body: Body, params: HttpParams | undefined): ResponsePromise {
    if (ctx.stage() === 'init') {
      throw new ModuleUsageError('http-in-init', `${call}: making HTTP requests in the init context is not supported; move it into setup() or the default function`);
    }
    const d = deferredAwaitable<Response, ResponsePromise>(ctx, call, ResponsePromise);
    d.promise.warnField = warnField;
    request(method, url, body, params, d.settle, d.fail);
    return d.promise;
  }

  type BatchItem = string | [string, unknown, Body?, HttpParams?] | { method?: string; url: unknown; body?: Body; params?: HttpParams };
  /**
   * k6's http.batch: every request runs in parallel, but at most `options.batch` (default 20) at once
   * and at most `options.batchPerHost` (default 6) per host; 0 lifts a limit. Results keep the
   * input's shape (array or object); the first thrown error (e.g. a bad URL) rejects the batch.
   */
  function batch(requests: BatchItem[] | Record<string, BatchItem>): Awaitable<Response[] | Record<string, Response>> {
    const entries: [string, BatchItem][] = Array.isArray(requests) ? requests.map((r, i) => [String(i), r]) : Object.entries(requests);
    const opts = ctx.options();
    const total = typeof opts.batch === 'number' ? opts.batch : 20;
    const perHost = typeof opts.batchPerHost === 'number' ? opts.batchPerHost : 6;
    const work = new Promise<Response[] | Record<string, Response>>((resolve, reject) => {
      const results: Response[] = [];
      const queue = entries.map(([, r], i) => {
        const [method, url, body, params] = typeof r === 'string' ? ['GET', r, null, undefined] as const
          : Array.isArray(r) ? [r[0], r[1], r[2] ?? null, r[3]] as const : [r.method ?? 'GET', r.url, r.body ?? null, r.params] as const;
        return { i, method, url, body, params, host: hostOf(url) };
      });
      const active = new Map<string, number>();
      let running = 0;
      let finished = 0;
      let failed = false;
      const finish = (): void => {
        if (Array.isArray(requests)) resolve(results);
        else resolve(Object.fromEntries(entries.map(([k], i) => [k, results[i] as Response])));
      };
      const pump = (): void => {
        for (let q = 0; q < queue.length && (total <= 0 || running < total);) {
          const item = queue[q];
          if (item === undefined) break;
          const onHost = active.get(item.host) ?? 0;
          if (perHost > 0 && onHost >= perHost) { q++; continue; }
          queue.splice(q, 1);
          running++;
          active.set(item.host, onHost + 1);
          requestPromise(item.method, item.url, item.body, item.params).then((res) => {
            results[item.i] = res;
            running--;
            active.set(item.host, (active.get(item.host) ?? 1) - 1);
            if (++finished === entries.length) finish();
            else if (!failed) pump();
          }, (e: unknown) => {
            failed = true;
            reject(e instanceof Error ? e : new Error(String(e)));
          });
        }
      };
      if (entries.length === 0) finish();
      else pump();
    });
    return awaitable(ctx, 'http.batch(...)', work);
  }

  return {
    request: (method: string, url: unknown, body?: Body, params?: HttpParams) => start('http.request(...)', method, url, body, params),
    asyncRequest: (method: string, url: unknown, body?: Body, params?: HttpParams) => start('http.asyncRequest(...)', method, url, body, params),
    get: (url: unknown, params?: HttpParams) => start('http.get(...)', 'GET', url, null, params),
    head: (url: unknown, params?: HttpParams) => start('http.head(...)', 'HEAD', url, null, params),
    post: (url: unknown, body?: Body, params?: HttpParams) => start('http.post(...)', 'POST', url, body, params),
    put: (url: unknown, body?: Body, params?: HttpParams) => start('http.put(...)', 'PUT', url, body, params),
    patch: (url: unknown, body?: Body, params?: HttpParams) => start('http.patch(...)', 'PATCH', url, body, params),
    del: (url: unknown, body?: Body, params?: HttpParams) => start('http.del(...)', 'DELETE', url, body, params),
    options: (url: unknown, body?: Body, params?: HttpParams) => start('http.options(...)', 'OPTIONS', url, body, params),
    batch,
    expectedStatuses,
    setResponseCallback: (cb: ResponseCallback | null) => { responseCallback = cb; },
    CookieJar: VuCookieJar,
    file: (data: unknown, filename?: unknown, contentType?: unknown) => new FileData(data, filename, contentType),
    cookieJar: () => {
      if (ctx.stage() === 'init') throw new ModuleUsageError('cookie-jar-in-init', 'http.cookieJar(): making cookie jars in the init context is not supported; call it in setup() or the default function (new http.CookieJar() works anywhere)');
      return currentJar();
    },
    url: urlTemplate,
    /** Closes this VU's connections (called by the runtime when the VU is discarded). */
    [Symbol.for('agentload.close')]: () => { pool.close(); },
  };
}
