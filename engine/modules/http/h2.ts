/**
 * HTTP/2 for https, as k6 speaks it (Go's transport with http2.ConfigureTransport): offered by ALPN,
 * used when the server picks `h2`, one session per VU and origin, its streams multiplexed (an
 * `http.batch` to one host shares the connection). Built on `node:http2` over the TLS socket the
 * pool opened, so timings and wire byte counts come from the same place as for HTTP/1.1.
 */
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

  constructor(
    readonly host: H2Host,
    readonly key: string,
    readonly socket: Socket,
    readonly raw: Socket,
    origin: string,
  ) {
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

  /** Sends `ex` as a new stream. */
  send(ex: Exchange): void {
    const { req } = ex;
    const host = this.host;
    this.streams.add(ex);
    ex.h2 = this;
    ex.tConn = host.now();
    ex.remoteAddress = this.socket.remoteAddress ?? '';
    ex.remotePort = this.socket.remotePort ?? 0;
    const body = req.body;
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(headersOf(req), { endStream: body === undefined || body.length === 0 });
    } catch (e) {
      host.fail(ex, toError(e));
      return;
    }
    ex.stream = stream;
    // Sent once the body is handed to the session (the end callback), as HTTP/1.1's write callback.
    if (body !== undefined && body.length > 0)
      stream.end(body, () => {
        if (ex.tSent === 0) ex.tSent = host.now();
      });
    else ex.tSent = host.now();
    stream.on('response', (headers: IncomingHttpHeaders) => {
      if (ex.tFirst === 0) ex.tFirst = host.now();
      ex.status = Number(headers[':status']);
      ex.statusText = goStatusText(ex.status); // HTTP/2 has no reason phrase: Go makes one
      ex.versionMajor = 2;
      ex.versionMinor = 0;
      ex.rawHeaders = flatten(headers);
    });
    stream.on('data', (chunk: Buffer) => {
      if (req.keepBody) ex.chunks.push(chunk);
    });
    const rstCode = (): number | undefined => (stream as { rstCode?: number }).rstCode; // undefined while the stream is open
    /** The stream ended without a whole response: an error, or (refused, nothing received) sent once more, as Go's transport does. */
    const lost = (err: Error): void => {
      if (ex.settled || ex.stream !== stream) return;
      if (rstCode() === constants.NGHTTP2_REFUSED_STREAM && !ex.retried && ex.status === 0) {
        ex.retried = true;
        this.done(ex);
        ex.h2 = undefined;
        ex.stream = undefined;
        ex.chunks = [];
        host.start(ex);
        return;
      }
      host.fail(ex, err);
    };
    stream.on('end', () => {
      if (ex.settled) return;
      // Node also ends the readable side when the stream is reset or the session dies before END_STREAM:
      // that is no response (Go reports a stream error), not a complete one.
      const rst = rstCode();
      if (ex.status === 0 || (rst !== undefined && rst !== constants.NGHTTP2_NO_ERROR) || this.session.destroyed) {
        lost(Object.assign(new Error(`HTTP/2 stream ended before a complete response (code ${String(rst ?? 0)})`), { code: 'ECONNRESET' }));
        return;
      }
      ex.tEnd = host.now();
      this.done(ex);
      // noConnectionReuse, or a session that lost the race to be the origin's: closed once unused.
      if (req.close === true || (this.closed && this.streams.size === 0)) this.close();
      host.settle(ex);
    });
    stream.on('error', lost);
    stream.on('close', () => {
      lost(
        Object.assign(new Error(`HTTP/2 stream closed (code ${String(rstCode() ?? 0)}) before the response ended`), { code: 'ECONNRESET' }),
      );
    });
    stream.resume();
  }

  /** The exchange no longer uses a stream here. */
  done(ex: Exchange): void {
    this.streams.delete(ex);
    if (this.streams.size === 0) this.idleSince = this.host.now();
  }

  /** A failed or interrupted exchange: its stream is cancelled, the session lives on. */
  cancel(ex: Exchange): void {
    this.done(ex);
    const stream = ex.stream;
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    if (this.closed && this.streams.size === 0) this.close();
  }
}

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
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}
