/**
 * HTTP/2 for https, as k6 speaks it (Go's transport with http2.ConfigureTransport): offered by ALPN,
 * used when the server picks `h2`, one session per VU and origin, its streams multiplexed (an
 * `http.batch` to one host shares the connection). Built on `node:http2` over the TLS socket the
 * pool opened, so timings and wire byte counts come from the same place as for HTTP/1.1.
 */
import { AsyncResource } from 'node:async_hooks';
import { STATUS_CODES } from 'node:http';
import {
  connect as h2connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { ClientRequest, Exchange } from './exchange.ts';
import { toError } from '../../../shared/errors.ts';

/** What an HTTP/2 session needs of the pool. */
export interface H2Host {
  now(): number;
  fail(ex: Exchange, err: Error): void;
  settle(ex: Exchange): void;
  /** Sends `ex` again from the start (a refused stream). */
  start(ex: Exchange): void;
  /** `s` takes no new requests; `gone`: it is closed for good. */
  forgetH2(s: H2Session, gone: boolean): void;
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2); Go's transport leaves them out too. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

export class H2Session {
  readonly streams = new Set<Exchange>();
  closed = false;
  idleSince = 0;
  /** The TCP socket's counters when the last exchange settled (as Conn's, for data_sent/data_received). */
  rawRead = 0;
  rawWritten = 0;
  readonly session: ClientHttp2Session;
  /** The peer's address, read once (the socket is connected when the session starts). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The headers of the last bodyless request and what they were made from (#headersOf). */
  #lastHeaders:
    | {
        readonly from: ClientRequest['headers'];
        readonly method: string;
        readonly path: string;
        readonly host: string;
        readonly out: OutgoingHttpHeaders;
      }
    | undefined;

  constructor(
    readonly host: H2Host,
    readonly key: string,
    readonly socket: Socket,
    readonly raw: Socket,
    origin: string,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    // Go's flow-control windows (4 MiB per stream, 1 GiB per connection), not Node's 64 KiB: a
    // download is not held to a window per round trip.
    this.session = h2connect(origin, {
      createConnection: () => socket,
      settings: { initialWindowSize: 4 * 1024 * 1024 },
      maxSessionMemory: 64,
    });
    this.session.once('connect', () => {
      if (!this.session.destroyed) this.session.setLocalWindowSize(1024 * 1024 * 1024);
    });
    this.session.unref();
    this.session.on('error', () => {
      /* reaches the streams, which fail their exchanges */
    });
    this.session.on('goaway', () => {
      this.retire();
    });
    this.session.on('close', () => {
      this.retire();
      host.forgetH2(this, true);
      this.failStreams('HTTP/2 connection closed before the response ended');
    });
  }

  /** No new streams: gone from the pool (running streams may still finish). */
  retire(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.forgetH2(this, false);
  }

  failStreams(message: string): void {
    for (const ex of [...this.streams]) this.host.fail(ex, Object.assign(new Error(message), { code: 'ECONNRESET' }));
  }

  usable(now: number, idleTimeoutMs: number): boolean {
    if (this.closed || this.session.destroyed || this.session.closed) return false;
    if (this.streams.size === 0 && now - this.idleSince > idleTimeoutMs) {
      this.close();
      return false;
    }
    return true;
  }

  close(): void {
    this.retire();
    this.failStreams('HTTP/2 connection closed before the response ended');
    if (!this.session.destroyed) this.session.destroy();
  }

  /** Sends `ex` as a new stream; the stream's events go to the listeners below, shared by every stream. */
  send(ex: Exchange): void {
    const { req } = ex;
    const host = this.host;
    this.streams.add(ex);
    ex.h2 = this;
    ex.tConn = host.now();
    ex.remoteAddress = this.remoteAddress;
    ex.remotePort = this.remotePort;
    const body = req.body;
    const empty = body === undefined || body.length === 0;
    let stream: OwnStream;
    try {
      stream = openStream(this.session, this.#headersOf(req), empty ? END_STREAM : MORE_TO_COME);
    } catch (e) {
      host.fail(ex, toError(e));
      return;
    }
    stream[EXCHANGE] = ex;
    ex.stream = stream;
    // Sent once the body is handed to the session (the end callback), as HTTP/1.1's write callback.
    if (!empty)
      stream.end(body, () => {
        if (ex.tSent === 0) ex.tSent = host.now();
      });
    else ex.tSent = host.now(); // the headers are handed to the session: sent, as HTTP/1.1 after its write
    stream.on('response', onResponse);
    stream.on('data', onData); // flowing: the body is read (and counted) whether it is kept or not
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  }

  /**
   * The request's headers as HTTP/2 sends them. The last one is kept and given again while a VU repeats
   * the same request (same headers object, method, path and authority, no body): node:http2 copies what it
   * is given, so one object serves every such stream.
   */
  #headersOf(req: ClientRequest): OutgoingHttpHeaders {
    const last = this.#lastHeaders;
    if (
      req.body === undefined &&
      last !== undefined &&
      last.from === req.headers &&
      last.method === req.method &&
      last.path === req.path &&
      last.host === req.host
    )
      return last.out;
    const out = headersOf(req);
    this.#lastHeaders = req.body === undefined ? { from: req.headers, method: req.method, path: req.path, host: req.host, out } : undefined;
    return out;
  }

  /** The stream ended without a whole response: an error, or (refused, nothing received) sent once more, as Go's transport does. */
  lost(ex: Exchange, stream: ClientHttp2Stream, err: () => Error): void {
    if (ex.settled || ex.stream !== stream) return;
    if (rstCodeOf(stream) === constants.NGHTTP2_REFUSED_STREAM && !ex.retried && ex.status === 0) {
      ex.retried = true;
      this.done(ex);
      ex.h2 = undefined;
      ex.stream = undefined;
      ex.clearChunks();
      this.host.start(ex);
      return;
    }
    this.host.fail(ex, err());
  }

  /** The response ended (its 'end' event): settled, unless the stream was reset or the session died first. */
  ended(ex: Exchange, stream: ClientHttp2Stream): void {
    // Node also ends the readable side when the stream is reset or the session dies before END_STREAM:
    // that is no response (Go reports a stream error), not a complete one.
    const rst = rstCodeOf(stream);
    if (ex.status === 0 || (rst !== undefined && rst !== constants.NGHTTP2_NO_ERROR) || this.session.destroyed) {
      this.lost(ex, stream, () =>
        Object.assign(new Error(`HTTP/2 stream ended before a complete response (code ${String(rst ?? 0)})`), { code: 'ECONNRESET' }),
      );
      return;
    }
    ex.tEnd = this.host.now();
    this.done(ex, ex.tEnd);
    // noConnectionReuse, or a session that lost the race to be the origin's: closed once unused.
    if (ex.req.close === true || (this.closed && this.streams.size === 0)) this.close();
    this.host.settle(ex);
  }

  /** The exchange no longer uses a stream here (`at`: a `now()` reading the caller already has, the idle time when it was the last). */
  done(ex: Exchange, at?: number): void {
    this.streams.delete(ex);
    if (this.streams.size === 0) this.idleSince = at ?? this.host.now();
  }

  /** A failed or interrupted exchange: its stream is cancelled, the session lives on. */
  cancel(ex: Exchange): void {
    this.done(ex);
    const stream = ex.stream;
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    if (this.closed && this.streams.size === 0) this.close();
  }
}

/** A stream this client opened, with the exchange it carries (the shared listeners read it from `this`). */
const EXCHANGE = Symbol('exchange');
interface OwnStream extends ClientHttp2Stream {
  [EXCHANGE]?: Exchange;
}

/** request() options, one object each (node:http2 copies them): the request ends with its headers, or a body follows. */
const END_STREAM = Object.freeze({ endStream: true });
const MORE_TO_COME = Object.freeze({ endStream: false });

/** The exchange a stream's event is for, undefined once it is settled or runs on another stream (a refused stream sent again). */
function exchangeOf(stream: OwnStream): Exchange | undefined {
  const ex = stream[EXCHANGE];
  return ex === undefined || ex.settled || ex.stream !== stream ? undefined : ex;
}

/** The stream's RST_STREAM code, undefined while it is open. */
const rstCodeOf = (stream: ClientHttp2Stream): number | undefined => (stream as { rstCode?: number }).rstCode;

function onResponse(this: OwnStream, headers: IncomingHttpHeaders): void {
  const ex = exchangeOf(this);
  if (ex === undefined) return;
  if (ex.tFirst === 0) ex.tFirst = ex.h2?.host.now() ?? 0;
  ex.status = Number(headers[':status']);
  ex.statusText = goStatusText(ex.status); // HTTP/2 has no reason phrase: Go makes one
  ex.versionMajor = 2;
  ex.versionMinor = 0;
  ex.rawHeaders = flatten(headers);
}

function onData(this: OwnStream, chunk: Buffer): void {
  const ex = this[EXCHANGE];
  if (ex?.req.keepBody === true && ex.stream === this) ex.addChunk(chunk);
}

function onEnd(this: OwnStream): void {
  const ex = exchangeOf(this);
  ex?.h2?.ended(ex, this);
}

function onError(this: OwnStream, err: Error): void {
  const ex = exchangeOf(this);
  ex?.h2?.lost(ex, this, () => err);
}

/** Closed without an 'end' that settled the exchange (reset, or the session went away). */
function onClose(this: OwnStream): void {
  const ex = exchangeOf(this);
  ex?.h2?.lost(ex, this, () =>
    Object.assign(new Error(`HTTP/2 stream closed (code ${String(rstCodeOf(this) ?? 0)}) before the response ended`), {
      code: 'ECONNRESET',
    }),
  );
}

/**
 * `session.request()` with a plain `AsyncResource.bind` in place while it runs. Node 20's request() binds
 * its connect callback to an AsyncResource, and Node's `bind` also defines the deprecated `asyncResource`
 * accessors (DEP0172) on the bound function: two `deprecate()` wrappers and a property redefinition per
 * request, about a quarter of a bare node:http2 client's CPU per request (docs/engine.md, "Known gaps"). Nothing
 * reads that property from request()'s private callback; the callback still runs in the resource's async
 * scope. Node's own `bind` is back before this returns, whatever request() does.
 */
function openStream(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  options: { readonly endStream: boolean },
): ClientHttp2Stream {
  const proto = AsyncResource.prototype;
  proto.bind = plainBind;
  try {
    return session.request(headers, options);
  } finally {
    proto.bind = nodeBind;
  }
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back on the prototype
const nodeBind = AsyncResource.prototype.bind;
/** `fn` run in the resource's async scope, with `thisArg` or else the caller's `this` (Node's bind without the DEP0172 accessors). */
const plainBind = function bind(this: AsyncResource, fn: (...args: unknown[]) => unknown, thisArg?: unknown) {
  // eslint-disable-next-line @typescript-eslint/no-this-alias -- the bound function's own `this` is the caller's
  const resource = this;
  return function (this: unknown, ...args: unknown[]): unknown {
    return resource.runInAsyncScope(fn, thisArg === undefined ? this : thisArg, ...args);
  };
} as AsyncResource['bind'];

/** Where Go's http.StatusText differs from Node's STATUS_CODES. */
const GO_STATUS_TEXT: Readonly<Record<number, string>> = {
  413: 'Request Entity Too Large',
  414: 'Request URI Too Long',
  416: 'Requested Range Not Satisfiable',
  418: "I'm a teapot",
  509: '',
};
const goStatusText = (status: number): string => GO_STATUS_TEXT[status] ?? STATUS_CODES[status] ?? '';

function headersOf(req: ClientRequest): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':scheme': 'https', ':authority': req.host };
  for (const name in req.headers) {
    const lower = name.toLowerCase();
    if (!DROPPED.has(lower)) out[lower] = req.headers[name];
  }
  if (req.body !== undefined) out['content-length'] = String(req.body.length);
  return out;
}

/** Response headers as alternating names and values (pseudo-headers left out), like HTTP/1.1's raw headers. */
function flatten(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  // for-in, not Object.entries: no [name, value] array per header on every response.
  for (const name in headers) {
    const value = headers[name];
    if (name.charCodeAt(0) === 0x3a || value === undefined) continue; // ':status' and other pseudo-headers
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}
