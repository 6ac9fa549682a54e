/**
 * One HTTP/1.1 connection of the pool (client.ts): a socket (TLS or plain), its http-parser-js parser
 * and the one exchange it carries (no pipelining). It fills the exchange in as the response arrives and
 * hands it back to the pool when it completes, fails, or must be sent again on a fresh connection
 * (a reused connection closed under a replayable request: Go's net/http rule).
 */
import type { Socket } from 'node:net';
import { HTTPParser } from 'http-parser-js';
import type { Exchange } from './exchange.ts';
import { readWholeResponse, type WholeResponse } from './whole-response.ts';

/** What a connection needs of the pool. */
export interface ConnHost {
  now(): number;
  complete(conn: Conn, ex: Exchange): void;
  fail(ex: Exchange, err: Error): void;
  /** Writes `ex` on `conn` now (outbox.ts calls it), unless it no longer belongs there: failed, timed out, or sent again on another connection. */
  write(conn: Conn, ex: Exchange): void;
  /** Sends `ex` again from the start (on another connection). */
  start(ex: Exchange): void;
  /** Drops a closed connection from the pool's lists. */
  forget(conn: Conn): void;
}

/** Methods Go's transport may send again on a fresh connection (net/http isReplayable). */
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Size of the read buffer plain-http sockets share (Node's own read size). */
const SHARED_READ_BYTES = 64 * 1024;
let sharedRead: Buffer | undefined;

/**
 * The one buffer every plain-http socket of this thread reads into (`net.connect`'s `onread`): a response
 * is parsed straight from it, without Node's readable-stream machinery or a Buffer per read. A read is
 * handled whole, synchronously, before the next can happen, so one buffer serves every connection; what
 * must outlive the read (body chunks) is copied out (`Conn.readsShared`).
 */
export function sharedReadBuffer(): Buffer {
  return (sharedRead ??= Buffer.allocUnsafe(SHARED_READ_BYTES));
}

/**
 * The parts of http-parser-js's state the fast path reads and sets (not in its types). If a version
 * names them otherwise, `state` is undefined and every response goes to the parser, as before.
 */
interface ParserInternals {
  state?: unknown;
  line?: unknown;
  headerSize?: unknown;
  /** Where execute() is in the read it was given, and where that read ends. */
  offset?: unknown;
  end?: unknown;
}

/** A response's status line and headers onto its exchange: the parser's kOnHeadersComplete and the whole-response path alike. */
function takeHead(ex: Exchange, head: Omit<WholeResponse, 'bodyStart' | 'bodyLength'>): void {
  ex.status = head.statusCode;
  ex.statusText = head.statusMessage;
  ex.rawHeaders = head.headers;
  ex.versionMajor = head.versionMajor;
  ex.versionMinor = head.versionMinor;
  ex.keepAlive = head.shouldKeepAlive;
}

/** readWholeResponse's answer (a read is handled whole before the next: one serves every connection). */
const whole: WholeResponse = {
  versionMajor: 1,
  versionMinor: 1,
  statusCode: 0,
  statusMessage: '',
  headers: [],
  shouldKeepAlive: false,
  bodyStart: 0,
  bodyLength: 0,
};

/** One connection: a socket, its parser, and the exchange it carries (at most one: no pipelining). */
export class Conn {
  readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  ex: Exchange | undefined;
  /** True once an exchange finished on it (a failure on a reused connection may be retried). */
  reused = false;
  closed = false;
  idleSince = 0;
  /** Response to a HEAD request: no body follows the headers. */
  head = false;
  /** TLS: the TCP socket's byte counters when the last exchange settled (the next one counts from there). */
  rawRead = 0;
  rawWritten = 0;
  /** The peer's address and port, read once the socket is connected (a connection's peer does not change). */
  remoteAddress: string | undefined;
  remotePort = 0;
  /**
   * `raw`: the TCP socket under a TLS socket. Its counters are the bytes on the wire, TLS records and
   * handshake included, which is what k6 counts in data_sent/data_received (a counting net.Conn).
   * `readsShared`: the socket reads into sharedReadBuffer() and hands the bytes to `onData` itself (no
   * 'data' events), so body chunks are copied.
   */
  constructor(
    readonly pool: ConnHost,
    readonly key: string,
    readonly socket: Socket,
    readonly raw?: Socket,
    readonly readsShared = false,
  ) {
    const p = this.parser;
    p[HTTPParser.kOnHeadersComplete] = (info) => {
      const ex = this.ex;
      if (ex === undefined || (info.statusCode < 200 && info.statusCode !== 101)) return 0; // 1xx: the real response follows
      takeHead(ex, info);
      // No body after HEAD, 204 or 304 whatever Content-Length says (Go's bodyAllowedForStatus): http-parser-js would wait for it.
      return this.head || info.statusCode === 204 || info.statusCode === 304 ? 1 : 0;
    };
    p[HTTPParser.kOnHeaders] = (headers) => {
      // Trailers (or headers split over packets in the parser's slow path) arrive here.
      const ex = this.ex;
      if (ex !== undefined && ex.status === 0) ex.rawHeaders = [...ex.rawHeaders, ...headers];
    };
    p[HTTPParser.kOnBody] = (chunk, offset, length) => {
      const ex = this.ex;
      if (ex?.req.keepBody !== true) return;
      const part = chunk.subarray(offset, offset + length);
      ex.addChunk(this.readsShared ? Buffer.from(part) : part);
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      const ex = this.ex;
      if (ex === undefined || ex.status === 0) return; // end of a 1xx message
      const at = p as unknown as ParserInternals;
      if (typeof at.offset === 'number' && typeof at.end === 'number' && at.offset < at.end) this.#unsolicited();
      this.pool.complete(this, ex);
    };
    if (!readsShared)
      socket.on('data', (chunk: Buffer) => {
        this.onData(chunk, chunk.length);
      });
    socket.on('error', (err: Error) => {
      this.onClose(err);
    });
    socket.on('close', () => {
      this.onClose(undefined);
    });
    socket.on('end', () => {
      this.onEnd();
    });
  }

  /** `length` bytes arrived at the start of `chunk`. */
  onData(chunk: Buffer, length: number): void {
    const ex = this.ex;
    if (ex === undefined) {
      this.destroy();
      return;
    } // bytes on an idle connection: not HTTP we understand
    if (ex.tFirst === 0) ex.tFirst = this.pool.now();
    ex.received += length;
    let start = 0;
    // Between messages, a response that arrived whole and plain is read here (whole-response.ts), else by the parser.
    const internals = this.parser as unknown as ParserInternals;
    if (internals.state === 'RESPONSE_LINE' && internals.line === '' && !this.head && ex.status === 0) {
      start = readWholeResponse(chunk, length, whole);
      if (start > 0) {
        // The parser's header-size count as its own execute() leaves it when a message ends in a read (the
        // whole read's bytes; execute() adds those after the message): none may carry over from earlier reads.
        internals.headerSize = start;
        if (start === length) {
          this.#completeWhole(ex, chunk);
          return;
        }
        this.#unsolicited();
        this.#completeWhole(ex, chunk);
        return;
      }
    }
    const r = this.parser.execute(chunk, start, length - start);
    if (r instanceof Error && this.ex === ex) {
      this.pool.fail(ex, Object.assign(new Error(`malformed HTTP response: ${r.message}`), { code: 'HPE_INVALID' }));
    }
  }

  /**
   * Bytes followed the response in its read: they answer no request (one at a time here), so they are an extra
   * response a misbehaving server sent (or a body longer than announced, or one after HEAD, 204 or 304). Go's
   * transport closes such a connection (persistConn.readLoopPeekFailLocked, "Unsolicited response received
   * on idle HTTP channel"); kept, it would hand the next request the rest of that response. Closed before the
   * response completes, so the pool does not keep it. The bytes were read: they count in the request's
   * data_received as k6's counting net.Conn counts every byte read (k6 sums them per iteration, not per request).
   */
  #unsolicited(): void {
    this.destroy();
  }

  /** What the parser's kOnHeadersComplete, kOnBody and kOnMessageComplete do, for the response in `whole`. */
  #completeWhole(ex: Exchange, chunk: Buffer): void {
    const w = whole;
    takeHead(ex, w);
    const n = w.bodyLength;
    if (n > 0 && ex.req.keepBody) {
      const from = w.bodyStart;
      let part: Buffer;
      if (this.readsShared) {
        part = Buffer.allocUnsafe(n);
        chunk.copy(part, 0, from, from + n);
      } else part = chunk.subarray(from, from + n);
      ex.addChunk(part);
    }
    this.pool.complete(this, ex);
  }

  /** The server closed its side: a read-until-close body ends here. */
  onEnd(): void {
    const ex = this.ex;
    if (ex !== undefined && ex.status !== 0) this.parser.finish();
    this.destroy();
  }

  onClose(err: Error | undefined): void {
    if (!this.closed) {
      this.closed = true;
      this.pool.forget(this);
    }
    const ex = this.ex;
    if (ex === undefined) return;
    this.ex = undefined;
    const replay = this.reused && ex.received === 0 && !ex.retried && REPLAYABLE.has(ex.req.method);
    if (replay) {
      if (this.raw !== undefined) {
        ex.carriedSent += this.raw.bytesWritten - this.rawWritten;
        ex.carriedReceived += this.raw.bytesRead - this.rawRead;
      }
      ex.retried = true;
      ex.conn = undefined;
      this.pool.start(ex);
      return;
    }
    this.pool.fail(ex, err ?? Object.assign(new Error('connection closed before the response ended'), { code: 'ECONNRESET' }));
  }

  destroy(): void {
    if (!this.closed) {
      this.closed = true;
      this.pool.forget(this);
    }
    this.socket.destroy();
  }
}
