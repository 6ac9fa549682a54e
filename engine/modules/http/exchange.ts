/**
 * What the HTTP client is asked and what it answers: a `ClientRequest` (with its request head and the
 * key of the connections it may use) and the `Exchange` that records how one request went (phase
 * times, status, headers, body chunks, bytes, error). client.ts runs them; connection.ts and h2.ts
 * fill them in.
 */
import type { Socket } from 'node:net';
import type { Interruptible, IterationInterruption } from '../context.ts';
import type { Conn } from './connection.ts';
import type { H2Session, H2Stream } from './h2.ts';
import { ProxyConfigError, type ProxyChoice, type ProxyTarget } from './proxy.ts';

/** What an exchange needs of the pool that runs it. */
export interface ExchangeHost {
  fail(ex: Exchange, err: Error): void;
}

export interface ClientRequest {
  readonly method: string;
  readonly tls: boolean;
  /** Host name or IP address to connect to (no brackets around IPv6). */
  readonly hostname: string;
  readonly port: number;
  /** The Host header value (`host` or `host:port`). */
  readonly host: string;
  /** Path and query, e.g. `/a?b=1`. */
  readonly path: string;
  /** Request headers as given (name → value), sent in this order after Host. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | undefined;
  readonly timeoutMs: number;
  /** Keep the response body (false: count its bytes only). */
  readonly keepBody: boolean;
  /** Close the connection after this request (k6's noConnectionReuse: Go sends `Connection: close`). */
  readonly close?: boolean;
  /** The forward proxy it goes through (proxy.ts); none: a direct connection; an error: a proxy variable it cannot use (the request fails). */
  readonly proxy?: ProxyChoice;
  /** The request head as `requestHead(this)` writes it, when the caller cached it. */
  head?: string;
  /** `poolKey(this)`, when the caller cached it (it depends only on the URL and its proxy). */
  key?: string;
}

/**
 * The connections a request may use: scheme, host and port of the target (Go's connectMethodKey:
 * plain http through a proxy shares the proxy's connections whatever the target).
 */
export function poolKey(req: Pick<ClientRequest, 'tls' | 'hostname' | 'port' | 'proxy'>): string {
  const target = `${req.tls ? 'https' : 'http'}://${req.hostname}:${String(req.port)}`;
  const proxy = req.proxy instanceof ProxyConfigError ? undefined : req.proxy;
  return proxy === undefined ? target : req.tls ? `${proxy.key}|${target}` : `${proxy.key}|http`;
}

/** The proxy a request is sent through (a ProxyConfigError never gets as far as a connection). */
export const proxyOf = (req: ClientRequest): ProxyTarget | undefined => (req.proxy instanceof ProxyConfigError ? undefined : req.proxy);

/** `host:port` of the target (IPv6 in brackets), the authority of a CONNECT or an absolute-form URL. */
export function authority(req: ClientRequest, defaultPort: number): string {
  const host = req.hostname.includes(':') ? `[${req.hostname}]` : req.hostname;
  return req.port === defaultPort ? host : `${host}:${String(req.port)}`;
}

/** The request line and headers (with the blank line) for `req`. */
export function requestHead(req: ClientRequest): string {
  // Through a proxy, plain http asks for the absolute URL (and shows the proxy its credentials); https goes through a CONNECT tunnel.
  const proxy = req.tls ? undefined : proxyOf(req);
  const target = proxy === undefined ? req.path : `http://${authority(req, 80)}${req.path}`;
  let head = `${req.method} ${target} HTTP/1.1\r\nHost: ${req.host}\r\n`;
  if (proxy?.authorization !== undefined) head += `Proxy-Authorization: ${proxy.authorization}\r\n`;
  if (req.close === true && headerValue(req.headers, 'connection') === undefined) head += 'Connection: close\r\n';
  for (const name in req.headers) head += `${name}: ${req.headers[name] ?? ''}\r\n`;
  if (req.body !== undefined) return `${head}Content-Length: ${String(req.body.length)}\r\n\r\n`;
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') return `${head}Content-Length: 0\r\n\r\n`;
  return `${head}\r\n`;
}

/** A new connection's set-up times (ms). */
export interface ConnTimes {
  readonly connecting: number;
  readonly tls: number;
}

/** No response headers yet (shared: an exchange gets its own array with its response). */
const NO_HEADERS: readonly string[] = Object.freeze([]);

/** No body chunks yet (shared and frozen: `addChunk` gives an exchange its own array with its first chunk). */
const NO_CHUNKS = Object.freeze([]) as readonly Buffer[];

/** What one request ended with; times are `now()` readings, 0 when the phase was not reached. */
export class Exchange implements Interruptible {
  tConn = 0;
  tSent = 0;
  tFirst = 0;
  tEnd = 0;
  status = 0;
  statusText = '';
  versionMinor = 1;
  versionMajor = 1;
  /** Response header names and values, alternating, as received. */
  rawHeaders: readonly string[] = NO_HEADERS;
  /** The response body as it arrived (`addChunk`). */
  chunks: readonly Buffer[] = NO_CHUNKS;
  sent = 0;
  received = 0;
  error: (Error & { code?: string }) | undefined;
  /** Set when this request opened the connection it ran on. */
  newConn: ConnTimes | undefined;
  remoteAddress = '';
  remotePort = 0;
  conn: Conn | undefined;
  /** The HTTP/2 session and stream it runs on (https when the server chose h2). */
  h2: H2Session | undefined;
  stream: H2Stream | undefined;
  retried = false;
  keepAlive = true;
  settled = false;
  /** The TCP socket of an https connection still being set up, destroyed if the request fails first. */
  dialing: Socket | undefined;
  /** The TCP socket of this request's https connection, for the byte count when it failed before the connection was up. */
  dialingRaw: Socket | undefined;
  /** TLS bytes of an attempt on a reused connection that died (the request was sent again). */
  carriedSent = 0;
  carriedReceived = 0;
  /** When the request times out (`now()` reading): the pool's timer checks it (no timer per request). */
  deadline = 0;
  constructor(
    readonly pool: ExchangeHost,
    readonly req: ClientRequest,
    readonly t0: number,
    readonly resolve: (ex: Exchange) => void,
    readonly intr: IterationInterruption | undefined,
  ) {}
  /** Appends a piece of the response body. */
  addChunk(part: Buffer): void {
    if (this.chunks === NO_CHUNKS) this.chunks = [part];
    else (this.chunks as Buffer[]).push(part);
  }
  /** Drops the body received so far (a stream sent again). */
  clearChunks(): void {
    this.chunks = NO_CHUNKS;
  }
  interrupt(): void {
    this.pool.fail(this, Object.assign(new Error('request interrupted'), { code: 'interrupted' }));
  }
}

/** The value of the header named `lower` (lower case) whatever its case in `headers`; undefined when absent. */
export function headerValue(headers: Readonly<Record<string, string>>, lower: string): string | undefined {
  for (const name in headers) if (name.length === lower.length && sameName(name, lower)) return headers[name];
  return undefined;
}

/** `name.toLowerCase() === lower` for a name of the same length, without a lower-cased copy when it is ASCII (every request asks). */
function sameName(name: string, lower: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c > 0x7f) return name.toLowerCase() === lower;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

export function closeRequested(headers: Readonly<Record<string, string>>): boolean {
  return headerValue(headers, 'connection')?.toLowerCase() === 'close';
}
