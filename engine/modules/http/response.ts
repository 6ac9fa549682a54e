/** A `k6/http` Response: built from a finished exchange, with k6's error codes, timings and header names. */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { HOST_NOT_ALLOWED_ERROR_CODE } from '../../net/host-policy.ts';
import { Awaitable } from '../awaitable.ts';
import { toArrayBuffer } from '../crypto.ts';
import { responseHtml, type Selection } from '../html/index.ts';
import { ModuleUsageError } from '../k6.ts';
import type { Exchange } from './exchange.ts';
import { requestCookies, type RequestCookie, type ResponseCookie } from './cookies.ts';
import { maskCredentials } from './digest.ts';
import { gjsonGet } from './gjson.ts';

export interface Timings {
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
}

/** k6 error codes (lib/netext/httpext/error_codes.go) for what Node's sockets and our client report. */
export function errorCodeOf(err: unknown): { code: number; message: string } {
  const e = err as { code?: string; message?: string; cause?: unknown; name?: string };
  const inner = (e.cause ?? e) as { code?: string; message?: string; address?: string; port?: number };
  const code = inner.code ?? e.code ?? '';
  const addr = inner.address !== undefined ? `${inner.address}:${String(inner.port ?? '')}` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return { code: 1212, message: `dial tcp ${addr}: connect: connection refused` };
    case 'ETIMEDOUT':
      return { code: 1211, message: `dial tcp ${addr}: i/o timeout` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code: 1101, message: `lookup: no such host` };
    case 'ECONNRESET':
      return { code: 1220, message: 'read: connection reset by peer' };
    case 'EPIPE':
      return { code: 1201, message: 'write: broken pipe' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { code: 1210, message: `dial tcp ${addr}: connect: ${String(inner.message)}` };
    case 'request-timeout':
      return { code: 1050, message: 'request timeout' };
    case 'host-not-allowed':
      return { code: HOST_NOT_ALLOWED_ERROR_CODE, message: e.message ?? 'hostname is not allowed' };
    case 'invalid-url':
      return { code: 1020, message: e.message ?? 'invalid URL' };
    default:
      if (code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.includes('SSL'))
        return { code: 1300, message: `tls: ${String(inner.message)}` };
      return { code: 1000, message: String(inner.message ?? e.message ?? err) };
  }
}

/** Go's textproto canonical header name: content-type → Content-Type. */
function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

/** Bounded memo: a Map that starts over when it holds `max` entries (hot keys come back at once). */
export class Memo<V> {
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
 * written (or, when it was never written, until it gave up: a request that timed out in the outbox,
 * outbox.ts); waiting from then until the first response byte, or, when none came (a timeout, a reset), until
 * the request gave up, so a server that hangs shows its hang in http_req_duration; receiving from the first
 * byte to the end. Phases never reached are 0.
 */
export function timingsOf(ex: Exchange): Timings {
  const t: Timings = {
    blocked: ex.tConn > 0 ? Math.max(0, ex.tConn - ex.t0) : 0,
    connecting: ex.newConn?.connecting ?? 0,
    tls_handshaking: ex.newConn?.tls ?? 0,
    // Not written when it ended (a timeout or reset while it waited in the outbox, or a body never flushed): sending until it gave up.
    sending: ex.tConn > 0 ? Math.max(0, (ex.tSent > 0 ? ex.tSent : ex.tEnd) - ex.tConn) : 0,
    waiting: ex.tSent > 0 ? Math.max(0, (ex.tFirst > 0 ? ex.tFirst : ex.tEnd) - ex.tSent) : 0,
    receiving: ex.tFirst > 0 ? Math.max(0, ex.tEnd - ex.tFirst) : 0,
    duration: 0,
  };
  t.duration = t.sending + t.waiting + t.receiving;
  return t;
}

/** Decodes a body sent with Content-Encoding gzip, deflate, br or zstd, a list undone last first (as k6). */
export function decode(buf: Buffer, encoding: string): Buffer {
  let out = buf;
  for (const coding of encoding.split(',').reverse()) {
    switch (coding.trim().toLowerCase()) {
      case 'gzip':
      case 'x-gzip':
        out = gunzipSync(out);
        break;
      case 'deflate':
        try {
          out = inflateSync(out);
        } catch {
          out = inflateRawSync(out);
        }
        break;
      case 'br':
        out = brotliDecompressSync(out);
        break;
      // Node 20 has no zstd: fzstd decodes it (k6's Go client does too).
      case 'zstd': {
        const z = zstdDecompress(out);
        out = Buffer.from(z.buffer, z.byteOffset, z.byteLength);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** A Response as plain data (see Response.wire). */
export interface ResponseWire {
  status: number;
  status_text: string;
  proto: string;
  url: string;
  body: string | ArrayBuffer | null;
  headers: Record<string, string>;
  cookies: Record<string, ResponseCookie[]>;
  error: string;
  error_code: number;
  remote_ip: string;
  remote_port: number;
  timings: Timings;
  req: { method: string; url: string; headers: Record<string, string>; body: Uint8Array | undefined };
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
  timings: Timings;
  // The request as sent, for `request` and `wire()`.
  readonly #method: string;
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #body: Buffer | undefined;
  #request:
    { method: string; url: string; headers: Record<string, string[]>; body: string; cookies: Record<string, RequestCookie[]> } | undefined;
  #json: unknown;
  #parsed = false;
  constructor(method: string, url: string, headers: Record<string, string>, body: Buffer | undefined, timings?: Timings) {
    this.url = url;
    this.timings = timings ?? { blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0, duration: 0 };
    this.#method = method;
    this.#url = url;
    this.#headers = headers;
    this.#body = body;
  }
  /** The request as sent (built on first access: most scripts never read it). */
  get request(): {
    method: string;
    url: string;
    headers: Record<string, string[]>;
    body: string;
    cookies: Record<string, RequestCookie[]>;
  } {
    this.#request ??= {
      method: this.#method,
      url: this.#url,
      headers: Object.fromEntries(Object.entries(this.#headers).map(([k, v]) => [canonical(k), [v]])),
      body: this.#body?.toString('utf8') ?? '',
      cookies: requestCookies(this.#headers.Cookie),
    };
    return this.#request;
  }
  /** Everything the script can read, as plain data (the synchronous VU mode sends it to the VU thread). */
  wire(): ResponseWire {
    const body = this.#body;
    return {
      status: this.status,
      status_text: this.status_text,
      proto: this.proto,
      url: this.url,
      body: this.body,
      headers: this.headers,
      cookies: this.cookies,
      error: this.error,
      error_code: this.error_code,
      remote_ip: this.remote_ip,
      remote_port: this.remote_port,
      timings: this.timings,
      req: { method: this.#method, url: this.#url, headers: this.#headers, body: body === undefined ? undefined : new Uint8Array(body) },
    };
  }
  /** The Response `wire()` described (the same methods, the same request). */
  static fromWire(w: ResponseWire): Response {
    const res = new Response(w.req.method, w.req.url, w.req.headers, w.req.body === undefined ? undefined : Buffer.from(w.req.body));
    Object.assign(res, {
      status: w.status,
      status_text: w.status_text,
      proto: w.proto,
      url: w.url,
      body: w.body,
      headers: w.headers,
      cookies: w.cookies,
      error: w.error,
      error_code: w.error_code,
      remote_ip: w.remote_ip,
      remote_port: w.remote_port,
      timings: w.timings,
    });
    return res;
  }
  json(selector?: string): unknown {
    if (!this.#parsed) {
      const text = typeof this.body === 'string' ? this.body : this.body === null ? '' : Buffer.from(this.body).toString('utf8');
      if (this.body === null)
        throw new ModuleUsageError(
          'no-body',
          `cannot parse the JSON of the response to ${this.#method} ${maskCredentials(this.url)}: the body was discarded (responseType none); set responseType: 'text'`,
        );
      try {
        this.#json = JSON.parse(text);
      } catch (e) {
        throw new ModuleUsageError(
          'invalid-json',
          `cannot parse the response of ${this.#method} ${maskCredentials(this.url)} as JSON: ${(e as Error).message}`,
        );
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

/** The promise http.* returns: touching response fields on it (a forgotten await) warns once per call site. */
export class ResponsePromise extends Awaitable<Response> {
  /** Set by the http module that made it (one function per VU, not one per request). */
  warnField: ((p: ResponsePromise, field: string) => void) | undefined;
}
for (const field of [
  'status',
  'body',
  'headers',
  'timings',
  'error',
  'error_code',
  'url',
  'json',
  'html',
  'status_text',
  'cookies',
  'request',
  'proto',
  'remote_ip',
  'remote_port',
] as const) {
  void Object.defineProperty(ResponsePromise.prototype, field, {
    get(this: ResponsePromise) {
      this.warnField?.(this, field);
      return undefined;
    },
  });
}

/** The response's Set-Cookie lines, one per header (undefined when none: the common case costs no array). */
export function setCookieLines(ex: Exchange): string[] | undefined {
  if (ex.error !== undefined) return undefined;
  let lines: string[] | undefined;
  const raw = ex.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (name.length === 10 && name.toLowerCase() === 'set-cookie') (lines ??= []).push(raw[i + 1] ?? '');
  }
  return lines;
}

/** `status_text` by status code, as last built: the same text comes back with nearly every response. */
const statusLines = new Map<number, { readonly reason: string; readonly line: string }>();

/** k6's `status_text`: `200 OK`. */
function statusLine(status: number, reason: string): string {
  const last = statusLines.get(status);
  if (last?.reason === reason) return last.line;
  const line = `${String(status)} ${reason}`;
  if (statusLines.size < 1000) statusLines.set(status, { reason, line });
  return line;
}

/** The script's Response for a finished exchange (throws when the iteration was interrupted); `countBytes` gets the bytes sent and received. */
export function responseOf(
  countBytes: (sent: number, received: number) => void,
  ex: Exchange,
  method: string,
  href: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  responseType: string,
): Response {
  countBytes(ex.sent, ex.received);
  const res = new Response(method, href, headers, body, timingsOf(ex));
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
  res.status_text = statusLine(ex.status, ex.statusText);
  if (ex.versionMinor !== 1 || ex.versionMajor !== 1) res.proto = `HTTP/${String(ex.versionMajor)}.${String(ex.versionMinor)}`;
  const raw = ex.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = canonicalHeader(raw[i] ?? '');
    const v = raw[i + 1] ?? '';
    const prev = res.headers[k];
    res.headers[k] = prev === undefined ? v : `${prev}, ${v}`;
  }
  if (responseType !== 'none') {
    let buf = ex.chunks.length === 1 ? (ex.chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(ex.chunks);
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
