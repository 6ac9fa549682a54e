/**
 * What a `k6/http` request is made of before it is sent: params, URLs, bodies (forms, multipart,
 * compression), expected statuses, and the tags of its samples.
 */
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Tags } from '../../contracts.ts';
import { toArrayBuffer, toBuffer } from '../crypto.ts';
import { ModuleUsageError } from '../k6.ts';
import { maskCredentials } from './digest.ts';
import type { proxyFromEnv, ProxyChoice } from './proxy.ts';
import { poolKey } from './exchange.ts';
import type { Response } from './response.ts';

/**
 * k6's default User-Agent, `k6/<version> (https://k6.io/)`, for the k6 release the engine is compared
 * with (v1.2.3): the same header bytes, so `data_sent` matches k6's. Scripts set their own with
 * `options.userAgent`.
 */
export const DEFAULT_USER_AGENT = 'k6/1.2.3 (https://k6.io/)';

export type Body = string | ArrayBuffer | ArrayBufferView | Record<string, unknown> | null | undefined;

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

export interface ResponseCallback {
  readonly __expected: (status: number) => boolean;
}

/** What a request needs of its URL, parsed once per distinct URL text. */
export interface ParsedUrl {
  readonly href: string;
  readonly origin: string;
  readonly path: string;
  readonly url: URL;
  readonly tls: boolean;
  readonly hostname: string;
  readonly port: number;
  readonly host: string;
  /** The forward proxy from HTTP_PROXY/HTTPS_PROXY/NO_PROXY (proxy.ts), or the error a bad proxy variable gives. */
  readonly proxy: ProxyChoice;
  /** The connection pool's key for it (exchange.ts poolKey). */
  readonly key: string;
  /** The URL has a user or a password. */
  readonly userInfo: boolean;
  /** The `url` tag of its requests: the URL as written for a bare origin (`http://h` stays without its `/`), else its href; credentials masked. */
  readonly tag: string;
  /** Request heads by method, for requests with the VU's default headers and no body (see doRequest). */
  readonly heads: Map<string, string>;
  /** The tags of the last request to this URL, reused while everything they depend on is the same. */
  lastTags: TagCacheEntry | undefined;
}

export interface TagCacheEntry {
  readonly base: Tags;
  readonly status: number;
  readonly proto: string;
  readonly method: string;
  readonly urlTag: string;
  readonly name: string;
  readonly error: string;
  readonly errorCode: number;
  readonly expected: boolean | undefined;
  readonly tags: Tags;
}

export function parseUrl(text: string, method: string, proxyFor: ReturnType<typeof proxyFromEnv>): ParsedUrl {
  let u: URL;
  try {
    u = new URL(text);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol scheme "${u.protocol.replace(':', '')}"`);
  } catch (e) {
    throw new ModuleUsageError(
      'invalid-url',
      `k6/http: invalid URL ${JSON.stringify(maskCredentials(text))} in ${method}: ${(e as Error).message}; use an absolute http:// or https:// URL`,
    );
  }
  const tls = u.protocol === 'https:';
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  const proxy = proxyFor(tls, hostname, port);
  const userInfo = u.username !== '' || u.password !== '';
  const bareOrigin = u.pathname === '/' && u.search === '' && u.hash === '';
  const shown = bareOrigin && !text.endsWith('/') ? text : u.href;
  return {
    href: u.href,
    origin: u.origin,
    path: u.pathname + u.search,
    url: u,
    tls,
    hostname,
    port,
    host: u.host,
    proxy,
    key: poolKey({ tls, hostname, port, proxy }),
    userInfo,
    tag: userInfo ? maskCredentials(shown) : shown,
    heads: new Map(),
    lastTags: undefined,
  };
}

/** Go's isDomainOrSubdomain: `sub` is `parent` or one of its subdomains (never for IPv6 literals). */
export function isDomainOrSubdomain(sub: string, parent: string): boolean {
  if (sub === parent) return true;
  if (sub.includes(':') || sub.includes('[')) return false;
  return sub.endsWith(`.${parent}`);
}

/** Decoded user and password of a URL with credentials (undefined without); a bad %-escape is an invalid URL. */
export function credentialsOf(u: URL, text: string, method: string): { readonly name: string; readonly password: string } | undefined {
  if (u.username === '' && u.password === '') return undefined;
  try {
    return { name: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {
    throw new ModuleUsageError(
      'invalid-url',
      `k6/http: invalid URL ${JSON.stringify(maskCredentials(text))} in ${method}: bad %-escape in its credentials`,
    );
  }
}

/** A copy of `headers` without any Authorization header, whatever its case. */
export function withoutAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) if (k.length !== 13 || k.toLowerCase() !== 'authorization') out[k] = headers[k] ?? '';
  return out;
}

/** A plain object body: sent as a form, which adds a Content-Type header. */
export function isFormBody(body: Body): boolean {
  return typeof body === 'object' && body !== null && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body);
}

/** The URL text of a request's url argument: a string, or an `http.url` template result `{ url, name }`. */
export function urlTextOf(urlIn: unknown): string {
  return typeof urlIn === 'object' && urlIn !== null && 'url' in urlIn ? String(urlIn.url) : String(urlIn);
}

/** k6's `compression` param: the body compressed by each algorithm in order, Content-Encoding set to the list. */
export function compressBody(body: Buffer, compression: unknown): { body: Buffer; encoding: string } {
  const algos = String(compression)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  let out = body;
  for (const a of algos) {
    switch (a) {
      case 'gzip':
        out = gzipSync(out);
        break;
      case 'deflate':
        out = deflateSync(out);
        break;
      case 'br':
        out = brotliCompressSync(out);
        break;
      default:
        throw new ModuleUsageError(
          'invalid-compression',
          `k6/http: unknown compression algorithm ${JSON.stringify(a)}; use gzip, deflate or br (or a list like "gzip, br")`,
        );
    }
  }
  return { body: out, encoding: algos.join(', ') };
}

export function parseDuration(v: string | number | undefined, fallback: number): number {
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
    throw new ModuleUsageError(
      'invalid-timeout',
      `k6/http: timeout must be a duration like "30s" or milliseconds, got ${JSON.stringify(v)}`,
    );
  }
  return total;
}

/** `http.url\`...\``: the URL, and the template with `${}` placeholders as its name (credentials masked). */
export function urlTemplate(strings: TemplateStringsArray, ...values: unknown[]): { url: string; name: string } {
  let url = '';
  let name = '';
  strings.forEach((s, i) => {
    url += s;
    name += s;
    if (i < values.length) {
      url += String(values[i]);
      name += '${}';
    }
  });
  // k6 shows the URL with its credentials masked as the name; masked here whatever the placeholders.
  return { url, name: maskCredentials(name) };
}

/** `http.file(data, filename?, contentType?)`: a file part of a multipart/form-data body. */
export class FileData {
  readonly data: string | ArrayBuffer;
  readonly filename: string;
  readonly content_type: string;
  constructor(data: unknown, filename: unknown, contentType: unknown) {
    if (typeof data === 'string' || data instanceof ArrayBuffer) this.data = data;
    else if (ArrayBuffer.isView(data)) this.data = toArrayBuffer(toBuffer(data));
    else if (Array.isArray(data) && data.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255))
      this.data = toArrayBuffer(Buffer.from(data as number[]));
    else
      throw new ModuleUsageError(
        'invalid-file-data',
        `http.file(data): data must be a string, an ArrayBuffer or an array of bytes, got ${typeof data}`,
      );
    if (filename !== undefined && filename !== null && typeof filename !== 'string')
      throw new ModuleUsageError('invalid-file-data', `http.file(data, filename): filename must be a string, got ${typeof filename}`);
    if (contentType !== undefined && contentType !== null && typeof contentType !== 'string')
      throw new ModuleUsageError(
        'invalid-file-data',
        `http.file(data, filename, contentType): contentType must be a string, got ${typeof contentType}`,
      );
    this.filename = filename ?? '';
    this.content_type = contentType === undefined || contentType === null || contentType === '' ? 'application/octet-stream' : contentType;
  }
  bytes(): Buffer {
    return typeof this.data === 'string' ? Buffer.from(this.data, 'utf8') : Buffer.from(this.data);
  }
}

/** A request body as bytes: a string as UTF-8, bytes as they are, an object as a form (multipart with any http.file()), setting Content-Type when the request has none. */
export function encodeBody(body: Body, headers: Record<string, string>): Buffer | undefined {
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
          parts.push(
            Buffer.from(
              `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${v.content_type}\r\n\r\n`,
              'utf8',
            ),
            v.bytes(),
            Buffer.from('\r\n'),
          );
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

/** `http.expectedStatuses(...)`: statuses and { min, max } ranges that count as expected. */
export function expectedStatuses(...specs: (number | { min: number; max: number })[]): ResponseCallback {
  const ranges = specs.map((s) => {
    if (typeof s === 'number' && Number.isInteger(s)) return { min: s, max: s };
    if (typeof s === 'object' && Number.isInteger(s.min) && Number.isInteger(s.max)) return s;
    throw new ModuleUsageError(
      'invalid-expected-statuses',
      `http.expectedStatuses: arguments must be integers or { min, max } objects, got ${JSON.stringify(s)}`,
    );
  });
  return { __expected: (st: number) => ranges.some((r) => st >= r.min && st <= r.max) };
}

/** Request tags; a request with the same inputs as the last one to its URL shares that one's frozen object. */
export function requestTags(
  url: ParsedUrl,
  base: Tags,
  res: Response,
  method: string,
  urlTag: string,
  name: string,
  expected: boolean | undefined,
  extra: Record<string, string> | undefined,
): Tags {
  const last = url.lastTags;
  if (
    extra === undefined &&
    last !== undefined &&
    last.base === base &&
    last.status === res.status &&
    last.proto === res.proto &&
    last.method === method &&
    last.urlTag === urlTag &&
    last.name === name &&
    last.error === res.error &&
    last.errorCode === res.error_code &&
    last.expected === expected
  ) {
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
    url.lastTags = {
      base,
      status: res.status,
      proto: res.proto,
      method,
      urlTag,
      name,
      error: res.error,
      errorCode: res.error_code,
      expected,
      tags: t,
    };
  }
  return t;
}
