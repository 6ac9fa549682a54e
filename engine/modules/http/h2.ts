/**
 * HTTP/2 for https, as k6 speaks it (Go's transport with http2.ConfigureTransport): offered by ALPN,
 * used when the server picks `h2`, one session per VU and origin, its streams multiplexed (an
 * `http.batch` to one host shares the connection, within the peer's MAX_CONCURRENT_STREAMS). The
 * engine speaks the protocol itself (RFC 9113 frames, flow control, HPACK in hpack.ts) over the TLS
 * socket the pool opened, as it speaks HTTP/1.1 itself: timings and wire byte counts come from the same
 * place for both, and a request costs a frame written and the response's frames read, not a Node stream
 * and nghttp2 callbacks per request (node:http2 cost about twice the CPU per request, docs/engine.md).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientRequest, Exchange } from './exchange.ts';
import { encodeHeaders, HpackDecoder, HpackError } from './hpack.ts';
import { writeFramesSoon } from './outbox.ts';
import { toError } from '../../../shared/errors.ts';

/** What an HTTP/2 session needs of the pool. */
export interface H2Host {
  now(): number;
  fail(ex: Exchange, err: Error): void;
  settle(ex: Exchange): void;
  /** Sends `ex` again from the start (a refused stream, or one a GOAWAY left unprocessed). */
  start(ex: Exchange): void;
  /** `s` takes no new requests; `gone`: it is closed for good. */
  forgetH2(s: H2Session, gone: boolean): void;
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2); Go's transport leaves them out too. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

// Frame types (RFC 9113 6).
const DATA = 0x0;
const HEADERS = 0x1;
const PRIORITY = 0x2;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;
// Flags.
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY_FLAG = 0x20;
// Error codes (RFC 9113 7), named as node:http2 (nghttp2) names them in its messages.
const NO_ERROR = 0x0;
const PROTOCOL_ERROR = 0x1;
const FLOW_CONTROL_ERROR = 0x3;
const FRAME_SIZE_ERROR = 0x6;
const REFUSED_STREAM = 0x7;
const CANCEL = 0x8;
const COMPRESSION_ERROR = 0x9;
const ENHANCE_YOUR_CALM = 0xb;
const ERROR_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** Go's receive windows (transportDefaultStreamFlow, transportDefaultConnFlow), not HTTP/2's 64 KiB: a download is not held to a window per round trip. */
export const STREAM_WINDOW = 4 * 1024 * 1024;
export const CONN_WINDOW = 1024 * 1024 * 1024;
/** A stream's window is given back once this much of it is used (Go's transportDefaultStreamMinRefresh); the connection's at half. */
const STREAM_REFRESH = 4 * 1024;
/** Go's default SETTINGS_MAX_HEADER_LIST_SIZE (http.Transport's MaxResponseHeaderBytes, 10 MiB). */
export const MAX_HEADER_LIST = 10 * 1024 * 1024;
/** The largest frame payload this client accepts (SETTINGS_MAX_FRAME_SIZE left at its default). */
const MAX_FRAME = 16_384;
const DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
const MAX_STREAM_ID = 2 ** 31 - 1;

/** A frame's 9-octet header, with room for `extra` octets after it. */
function frameHead(type: number, flags: number, id: number, len: number, extra = 0): Buffer {
  const b = Buffer.allocUnsafe(9 + extra);
  b[0] = len >>> 16;
  b[1] = (len >>> 8) & 0xff;
  b[2] = len & 0xff;
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(id, 5);
  return b;
}

/** A frame header and `payload` (the frame's length is the payload's). */
function frame(type: number, flags: number, id: number, payload: Buffer | undefined): Buffer {
  const len = payload?.length ?? 0;
  const b = frameHead(type, flags, id, len, len);
  payload?.copy(b, 9);
  return b;
}

function u32(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/**
 * What the client sends first: the preface, its SETTINGS as Go's transport sends them (no push, 4 MiB stream
 * windows, a 10 MiB header list), and the connection window raised to 1 GiB.
 */
const START = (() => {
  const settings = Buffer.alloc(18);
  [
    [0x2, 0], // SETTINGS_ENABLE_PUSH
    [0x4, STREAM_WINDOW], // SETTINGS_INITIAL_WINDOW_SIZE
    [0x6, MAX_HEADER_LIST], // SETTINGS_MAX_HEADER_LIST_SIZE
  ].forEach(([id = 0, value = 0], i) => {
    settings.writeUInt16BE(id, i * 6);
    settings.writeUInt32BE(value, i * 6 + 2);
  });
  return Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
    frame(SETTINGS, 0, 0, settings),
    frame(WINDOW_UPDATE, 0, 0, u32(CONN_WINDOW - DEFAULT_WINDOW)),
  ]);
})();
const SETTINGS_ACK = frame(SETTINGS, ACK, 0, undefined);

/** One request's stream on a session. */
export class H2Stream {
  /** What the peer lets this stream send (its SETTINGS_INITIAL_WINDOW_SIZE and WINDOW_UPDATEs). */
  sendWindow: number;
  /** What this client lets the peer send on it before a WINDOW_UPDATE. */
  recvWindow = STREAM_WINDOW;
  /** The request body still to send from `bodyAt`, undefined once it is all sent (or there was none). */
  body: Buffer | undefined;
  bodyAt = 0;
  /** The final response's headers arrived (1xx ones do not count). */
  answered = false;
  /** The response's content-length (-1: none), and the body octets received. */
  length = -1;
  got = 0;
  constructor(
    readonly ex: Exchange,
    readonly id: number,
    sendWindow: number,
  ) {
    this.sendWindow = sendWindow;
  }
}

/** An error as node:http2 reported a stream reset (what k6 scripts saw as error text before this client). */
function streamError(code: number): Error {
  return Object.assign(new Error(`Stream closed with error code NGHTTP2_${ERROR_NAMES[code] ?? 'UNKNOWN'}`), {
    code: 'ERR_HTTP2_STREAM_ERROR',
  });
}

const connectionGone = (): Error => Object.assign(new Error('HTTP/2 connection closed before the response ended'), { code: 'ECONNRESET' });

/** A header block being received in HEADERS then CONTINUATION frames. */
interface PartialBlock {
  readonly id: number;
  readonly endStream: boolean;
  readonly parts: Buffer[];
  size: number;
}

export class H2Session {
  /** Exchanges on this session: streams open, and those waiting for the peer's MAX_CONCURRENT_STREAMS. */
  readonly streams = new Set<Exchange>();
  closed = false;
  idleSince = 0;
  /** The TCP socket's counters when the last exchange settled (as Conn's, for data_sent/data_received). */
  rawRead = 0;
  rawWritten = 0;
  /** The peer's address, read once (the socket is connected when the session starts). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Open streams by id. */
  readonly #open = new Map<number, H2Stream>();
  /** Exchanges waiting for a stream (the peer's MAX_CONCURRENT_STREAMS reached), first come first served. */
  #waiting: Exchange[] = [];
  #nextId = 1;
  /** The peer said GOAWAY (or a connection error): no new streams. */
  #goingAway = false;
  #dead = false;
  /** A connection error's GOAWAY is being written before the socket closes. */
  #ending = false;
  // The peer's settings, HTTP/2's defaults until its SETTINGS frame; streams at once as Go's transport allows them
  // (100 until the first SETTINGS, 1000 if that does not say).
  #peerMaxStreams = 100;
  #seenSettings = false;
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrame = 16_384;
  #peerMaxHeaderList = Number.POSITIVE_INFINITY;
  /** The connection's send window (the peer's), and what is left of the receive window given to the peer. */
  #sendWindow = DEFAULT_WINDOW;
  #recvWindow = CONN_WINDOW;
  /** Streams that received DATA in this read (their windows are topped up at its end). */
  readonly #refresh = new Set<H2Stream>();
  /** The unparsed tail of the last read (a frame cut across reads). */
  #rest: Buffer | undefined;
  #block: PartialBlock | undefined;
  readonly #decoder = new HpackDecoder();
  /**
   * Frames gathered in this turn of the event loop, written together at its end (outbox.ts: a write wakes the
   * server, and writes one by one from inside response callbacks cost a wake-up each), and the exchanges whose
   * request is whole in them (sent once written).
   */
  #out: Buffer[] = [];
  #outSent: Exchange[] = [];
  #outQueued = false;
  /** The last bodyless request's header block and what it was made from (#blockOf). */
  #lastBlock:
    | {
        readonly from: ClientRequest['headers'];
        readonly method: string;
        readonly path: string;
        readonly host: string;
        readonly block: Buffer;
        readonly listSize: number;
      }
    | undefined;

  constructor(
    readonly host: H2Host,
    readonly key: string,
    readonly socket: Socket,
    readonly raw: Socket,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    socket.on('data', (chunk: Buffer) => {
      this.#onData(chunk);
    });
    socket.on('error', () => {
      /* 'close' follows and fails the streams */
    });
    socket.on('close', () => {
      this.#dead = true;
      this.retire();
      host.forgetH2(this, true);
      this.failStreams();
    });
    socket.write(START);
  }

  /** Writes the frames gathered in this turn (outbox.ts calls it at the turn's end). */
  flushFrames(): void {
    this.#outQueued = false;
    const out = this.#out;
    if (out.length === 0) return;
    const sent = this.#outSent;
    this.#out = [];
    this.#outSent = [];
    if (this.#dead || this.socket.destroyed) return;
    this.socket.write(out.length === 1 ? (out[0] ?? Buffer.alloc(0)) : Buffer.concat(out));
    for (const ex of sent) if (!ex.settled && ex.h2 === this) this.#sent(ex);
  }

  /** No new streams: gone from the pool (running streams may still finish). */
  retire(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.forgetH2(this, false);
  }

  /** Fails every exchange on the session (the connection is gone). */
  failStreams(err: () => Error = connectionGone): void {
    for (const ex of [...this.streams]) this.host.fail(ex, err());
  }

  usable(now: number, idleTimeoutMs: number): boolean {
    if (this.closed || this.#dead || this.socket.destroyed) return false;
    if (this.streams.size === 0 && now - this.idleSince > idleTimeoutMs) {
      this.close();
      return false;
    }
    return true;
  }

  close(): void {
    this.retire();
    this.failStreams();
    this.#dead = true;
    // After a connection error the socket is ending with its GOAWAY (destroyed by #connectionError's timer if it hangs).
    if (!this.socket.destroyed && !this.#ending) this.socket.destroy();
  }

  /** Sends `ex` as a new stream, or queues it while the peer's MAX_CONCURRENT_STREAMS streams are open. */
  send(ex: Exchange): void {
    this.streams.add(ex);
    ex.h2 = this;
    ex.tConn = this.host.now();
    ex.remoteAddress = this.remoteAddress;
    ex.remotePort = this.remotePort;
    if (this.#open.size >= this.#peerMaxStreams) this.#waiting.push(ex);
    else this.#openStream(ex);
  }

  #openStream(ex: Exchange): void {
    const { req } = ex;
    const host = this.host;
    if (this.#goingAway || this.#dead || this.#nextId > MAX_STREAM_ID) {
      // No new stream here (a GOAWAY, or stream ids used up): another session takes it.
      this.retire();
      this.done(ex);
      ex.h2 = undefined;
      host.start(ex);
      return;
    }
    let block: Buffer;
    let listSize: number;
    try {
      ({ block, listSize } = this.#blockOf(req));
    } catch (e) {
      host.fail(ex, toError(e));
      return;
    }
    if (listSize > this.#peerMaxHeaderList) {
      host.fail(ex, new Error("http2: request header list larger than peer's advertised limit"));
      return;
    }
    const body = req.body !== undefined && req.body.length > 0 ? req.body : undefined;
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new H2Stream(ex, id, this.#peerInitialWindow);
    stream.body = body;
    this.#open.set(id, stream);
    ex.stream = stream;
    this.#write(this.#headerFrames(id, block, body === undefined));
    if (body === undefined) this.#outSent.push(ex);
    else this.#sendBody(stream);
  }

  /** HEADERS (and CONTINUATION when the block is larger than the peer's frame size) for stream `id`. */
  #headerFrames(id: number, block: Buffer, endStream: boolean): Buffer {
    const max = this.#peerMaxFrame;
    if (block.length <= max) return frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), id, block);
    const frames = [frame(HEADERS, endStream ? END_STREAM : 0, id, block.subarray(0, max))];
    for (let at = max; at < block.length; at += max) {
      const last = at + max >= block.length;
      frames.push(frame(CONTINUATION, last ? END_HEADERS : 0, id, block.subarray(at, at + max)));
    }
    return Buffer.concat(frames);
  }

  /** The request is on its way: sent, as HTTP/1.1's after its write (a large write: once flushed). */
  #sent(ex: Exchange): void {
    if (this.socket.writableLength === 0) ex.tSent = this.host.now();
    else
      this.socket.write('', () => {
        if (ex.tSent === 0) ex.tSent = this.host.now();
      });
  }

  /** DATA frames of the stream's body, as far as the peer's windows (the stream's and the connection's) allow. */
  #sendBody(stream: H2Stream): void {
    const body = stream.body;
    if (body === undefined || this.#dead) return;
    const parts: Buffer[] = [];
    while (stream.bodyAt < body.length) {
      const n = Math.min(body.length - stream.bodyAt, stream.sendWindow, this.#sendWindow, this.#peerMaxFrame);
      if (n <= 0) break;
      const last = stream.bodyAt + n === body.length;
      parts.push(frameHead(DATA, last ? END_STREAM : 0, stream.id, n), body.subarray(stream.bodyAt, stream.bodyAt + n));
      stream.bodyAt += n;
      stream.sendWindow -= n;
      this.#sendWindow -= n;
    }
    if (parts.length > 0) this.#write(Buffer.concat(parts));
    if (stream.bodyAt === body.length) {
      stream.body = undefined;
      this.#outSent.push(stream.ex);
    }
  }

  /** Gathers `b` for the write at the end of this turn. */
  #write(b: Buffer): void {
    if (this.#dead) return;
    this.#out.push(b);
    if (!this.#outQueued) {
      this.#outQueued = true;
      writeFramesSoon(this);
    }
  }

  /**
   * The request's header block. The last one is kept and given again while a VU repeats the same request
   * (same headers object, method, path and authority, no body): the block uses no dynamic table, so it is
   * the same bytes each time.
   */
  #blockOf(req: ClientRequest): { block: Buffer; listSize: number } {
    const last = this.#lastBlock;
    if (
      req.body === undefined &&
      last !== undefined &&
      last.from === req.headers &&
      last.method === req.method &&
      last.path === req.path &&
      last.host === req.host
    )
      return last;
    const list = headersOf(req);
    let listSize = 0;
    for (let i = 0; i < list.length; i += 2) listSize += 32 + (list[i]?.length ?? 0) + (list[i + 1]?.length ?? 0);
    const block = encodeHeaders(list);
    this.#lastBlock =
      req.body === undefined ? { from: req.headers, method: req.method, path: req.path, host: req.host, block, listSize } : undefined;
    return { block, listSize };
  }

  /** The exchange no longer uses a stream here (`at`: a `now()` reading the caller already has, the idle time when it was the last). */
  done(ex: Exchange, at?: number): void {
    this.streams.delete(ex);
    if (this.streams.size === 0) this.idleSince = at ?? this.host.now();
  }

  /** A failed or interrupted exchange: its stream is cancelled (RST_STREAM CANCEL), the session lives on. */
  cancel(ex: Exchange): void {
    this.done(ex);
    const waiting = this.#waiting.indexOf(ex);
    if (waiting !== -1) this.#waiting.splice(waiting, 1);
    const stream = ex.stream;
    if (stream !== undefined && this.#open.get(stream.id) === stream) {
      this.#open.delete(stream.id);
      this.#write(frame(RST_STREAM, 0, stream.id, u32(CANCEL)));
      this.#next();
    }
    if (this.closed && this.streams.size === 0) this.close();
  }

  /** A stream closed: the next waiting exchange gets its place. */
  #next(): void {
    while (this.#waiting.length > 0 && this.#open.size < this.#peerMaxStreams) {
      const ex = this.#waiting.shift();
      if (ex !== undefined && !ex.settled) this.#openStream(ex);
    }
  }

  /** Sends `ex` once more from the start (a refused stream, or one above a GOAWAY's last stream id), on whatever session the pool picks. */
  #again(ex: Exchange): void {
    ex.retried = true;
    this.done(ex);
    ex.h2 = undefined;
    ex.stream = undefined;
    ex.clearChunks();
    this.host.start(ex);
    if (this.closed && this.streams.size === 0) this.close();
  }

  /** A protocol error of the whole connection (RFC 9113 5.4.1): GOAWAY with `code`, the socket closed, every stream failed. */
  #connectionError(code: number, why: string): void {
    if (this.#dead) return;
    const lastPeerStream = u32(0, code);
    this.#out = [];
    this.#outSent = [];
    this.#ending = true;
    this.socket.end(frame(GOAWAY, 0, 0, lastPeerStream));
    this.#dead = true;
    this.#goingAway = true;
    this.retire();
    this.failStreams(() =>
      Object.assign(new Error(`HTTP/2 connection error ${ERROR_NAMES[code] ?? String(code)}: ${why}`), { code: 'ERR_HTTP2_SESSION_ERROR' }),
    );
    setTimeout(() => {
      this.socket.destroy();
    }, 1000).unref();
  }

  /** A protocol error of one stream (5.4.2): RST_STREAM with `code`, its exchange failed. */
  #streamError(stream: H2Stream, code: number): void {
    this.#open.delete(stream.id);
    this.#write(frame(RST_STREAM, 0, stream.id, u32(code)));
    this.#next();
    const ex = stream.ex;
    if (!ex.settled && ex.stream === stream) this.host.fail(ex, streamError(code));
  }

  #onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.#rest !== undefined) {
      buf = Buffer.concat([this.#rest, chunk]);
      this.#rest = undefined;
    }
    let p = 0;
    while (buf.length - p >= 9 && !this.#dead) {
      const len = ((buf[p] ?? 0) << 16) | ((buf[p + 1] ?? 0) << 8) | (buf[p + 2] ?? 0);
      if (len > MAX_FRAME) {
        this.#connectionError(FRAME_SIZE_ERROR, `a frame of ${String(len)} octets, above SETTINGS_MAX_FRAME_SIZE ${String(MAX_FRAME)}`);
        return;
      }
      if (buf.length - p < 9 + len) break;
      const type = buf[p + 3] ?? 0;
      const flags = buf[p + 4] ?? 0;
      const id = buf.readUInt32BE(p + 5) & 0x7fffffff;
      const start = p + 9;
      p = start + len;
      this.#frame(type, flags, id, buf, start, p);
    }
    if (this.#dead) return;
    if (p < buf.length) this.#rest = buf.subarray(p);
    this.#giveBack();
  }

  /** WINDOW_UPDATEs for what this read took of the windows (Go's refresh: a stream's once 4 KiB of it is used, the connection's at half). */
  #giveBack(): void {
    let updates: Buffer[] | undefined;
    if (this.#recvWindow < CONN_WINDOW / 2) {
      (updates ??= []).push(frame(WINDOW_UPDATE, 0, 0, u32(CONN_WINDOW - this.#recvWindow)));
      this.#recvWindow = CONN_WINDOW;
    }
    if (this.#refresh.size > 0) {
      for (const s of this.#refresh)
        if (this.#open.get(s.id) === s && s.recvWindow <= STREAM_WINDOW - STREAM_REFRESH) {
          (updates ??= []).push(frame(WINDOW_UPDATE, 0, s.id, u32(STREAM_WINDOW - s.recvWindow)));
          s.recvWindow = STREAM_WINDOW;
        }
      this.#refresh.clear();
    }
    if (updates !== undefined) this.#write(updates.length === 1 ? (updates[0] ?? Buffer.alloc(0)) : Buffer.concat(updates));
  }

  #frame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#block !== undefined && type !== CONTINUATION) {
      this.#connectionError(PROTOCOL_ERROR, 'a frame other than CONTINUATION inside a header block');
      return;
    }
    switch (type) {
      case DATA:
        this.#data(flags, id, buf, start, end);
        return;
      case HEADERS:
        this.#headers(flags, id, buf, start, end);
        return;
      case CONTINUATION:
        this.#continuation(flags, id, buf, start, end);
        return;
      case PRIORITY:
        if (id === 0) this.#connectionError(PROTOCOL_ERROR, 'PRIORITY on stream 0');
        return;
      case RST_STREAM:
        this.#rstStream(id, buf, start, end);
        return;
      case SETTINGS:
        this.#settings(flags, id, buf, start, end);
        return;
      case PUSH_PROMISE:
        this.#connectionError(PROTOCOL_ERROR, 'PUSH_PROMISE with SETTINGS_ENABLE_PUSH 0');
        return;
      case PING:
        if (end - start !== 8) this.#connectionError(FRAME_SIZE_ERROR, 'a PING that is not 8 octets');
        else if (id !== 0) this.#connectionError(PROTOCOL_ERROR, 'PING on a stream');
        else if ((flags & ACK) === 0) this.#write(frame(PING, ACK, 0, buf.subarray(start, end)));
        return;
      case GOAWAY:
        this.#goaway(id, buf, start, end);
        return;
      case WINDOW_UPDATE:
        this.#windowUpdate(id, buf, start, end);
        return;
      default:
        return; // unknown frame types are ignored (RFC 9113 4.1)
    }
  }

  /** Stream `id` is one this client never opened (idle, or even: servers cannot open streams with push off). */
  #neverOpened(id: number): boolean {
    return id % 2 === 0 || id >= this.#nextId;
  }

  /** The payload without its padding (the PADDED flag), or undefined after a connection error. */
  #unpadded(flags: number, buf: Buffer, start: number, end: number): [number, number] | undefined {
    if ((flags & PADDED) === 0) return [start, end];
    const pad = buf[start] ?? 0;
    if (start + 1 + pad > end) {
      this.#connectionError(PROTOCOL_ERROR, 'padding longer than the frame');
      return undefined;
    }
    return [start + 1, end - pad];
  }

  #data(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      this.#connectionError(PROTOCOL_ERROR, 'DATA on stream 0');
      return;
    }
    const len = end - start;
    this.#recvWindow -= len;
    if (this.#recvWindow < 0) {
      this.#connectionError(FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
      return;
    }
    const stream = this.#open.get(id);
    if (stream === undefined) {
      if (this.#neverOpened(id)) this.#connectionError(PROTOCOL_ERROR, `DATA on stream ${String(id)}, never opened`);
      return; // a stream this client cancelled or failed: its frames still count for the connection's window
    }
    const body = this.#unpadded(flags, buf, start, end);
    if (body === undefined) return;
    if (!stream.answered) {
      this.#streamError(stream, PROTOCOL_ERROR);
      return;
    }
    stream.recvWindow -= len;
    if (stream.recvWindow < 0) {
      this.#streamError(stream, FLOW_CONTROL_ERROR);
      return;
    }
    const ex = stream.ex;
    const n = body[1] - body[0];
    stream.got += n;
    // The body is read (and counted) whether it is kept or not.
    if (n > 0 && ex.req.keepBody && ex.stream === stream) ex.addChunk(buf.subarray(body[0], body[1]));
    if ((flags & END_STREAM) !== 0) this.#ended(stream);
    else this.#refresh.add(stream);
  }

  #headers(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      this.#connectionError(PROTOCOL_ERROR, 'HEADERS on stream 0');
      return;
    }
    const range = this.#unpadded(flags, buf, start, end);
    if (range === undefined) return;
    let [from] = range;
    const to = range[1];
    if ((flags & PRIORITY_FLAG) !== 0) from += 5;
    if (from > to) {
      this.#connectionError(FRAME_SIZE_ERROR, 'HEADERS too short for its priority fields');
      return;
    }
    const endStream = (flags & END_STREAM) !== 0;
    if ((flags & END_HEADERS) !== 0) this.#headerBlock(id, endStream, buf, from, to);
    else this.#block = { id, endStream, parts: [Buffer.from(buf.subarray(from, to))], size: to - from };
  }

  #continuation(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const block = this.#block;
    if (block?.id !== id) {
      this.#connectionError(PROTOCOL_ERROR, 'CONTINUATION without a header block in progress on its stream');
      return;
    }
    block.parts.push(Buffer.from(buf.subarray(start, end)));
    block.size += end - start;
    if (block.size > MAX_HEADER_LIST + MAX_FRAME) {
      this.#connectionError(ENHANCE_YOUR_CALM, 'a header block larger than SETTINGS_MAX_HEADER_LIST_SIZE');
      return;
    }
    if ((flags & END_HEADERS) === 0) return;
    this.#block = undefined;
    const whole = Buffer.concat(block.parts, block.size);
    this.#headerBlock(id, block.endStream, whole, 0, whole.length);
  }

  /** A whole header block for stream `id`: decoded (always: the decoder's table is the connection's), then the response's headers or trailers. */
  #headerBlock(id: number, endStream: boolean, buf: Buffer, start: number, end: number): void {
    const list: string[] = [];
    let listSize: number;
    try {
      listSize = this.#decoder.decode(buf, start, end, list);
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      this.#connectionError(COMPRESSION_ERROR, e.message);
      return;
    }
    const stream = this.#open.get(id);
    if (stream === undefined) {
      if (this.#neverOpened(id)) this.#connectionError(PROTOCOL_ERROR, `HEADERS on stream ${String(id)}, never opened`);
      return;
    }
    const ex = stream.ex;
    if (listSize > MAX_HEADER_LIST) {
      this.#open.delete(id);
      this.#write(frame(RST_STREAM, 0, id, u32(CANCEL)));
      this.#next();
      if (!ex.settled && ex.stream === stream) this.host.fail(ex, new Error('http2: response header list larger than advertised limit'));
      return;
    }
    if (stream.answered) {
      // Trailers: they end the stream (and are fields as a response's are, without pseudo-headers).
      if (!endStream || !validFields(list, 0)) this.#streamError(stream, PROTOCOL_ERROR);
      else this.#ended(stream);
      return;
    }
    const response = responseOf(list);
    if (response === undefined) {
      this.#streamError(stream, PROTOCOL_ERROR);
      return;
    }
    if (response.status < 200) {
      // 1xx: informational, the final response follows (one that ends the stream is malformed).
      if (endStream || response.status === 101) this.#streamError(stream, PROTOCOL_ERROR);
      return;
    }
    stream.answered = true;
    stream.length = response.length;
    if (ex.stream === stream && !ex.settled) {
      if (ex.tFirst === 0) ex.tFirst = this.host.now();
      ex.status = response.status;
      ex.statusText = goStatusText(response.status); // HTTP/2 has no reason phrase: Go makes one
      ex.versionMajor = 2;
      ex.versionMinor = 0;
      ex.rawHeaders = response.headers;
    }
    if (endStream) this.#ended(stream);
  }

  /** The peer ended the stream (END_STREAM): the response is whole, unless its body disagrees with its content-length. */
  #ended(stream: H2Stream): void {
    this.#open.delete(stream.id);
    // The response came before the whole request body: the rest is not sent (RFC 9113 8.1).
    if (stream.body !== undefined) {
      stream.body = undefined;
      this.#write(frame(RST_STREAM, 0, stream.id, u32(NO_ERROR)));
    }
    this.#next();
    const ex = stream.ex;
    if (ex.settled || ex.stream !== stream) return;
    const status = ex.status;
    if (stream.length !== -1 && stream.got !== stream.length && ex.req.method !== 'HEAD' && status !== 204 && status !== 304) {
      this.host.fail(ex, streamError(PROTOCOL_ERROR));
      return;
    }
    ex.tEnd = this.host.now();
    this.done(ex, ex.tEnd);
    // noConnectionReuse, or a session that lost the race to be the origin's: closed once unused.
    if (ex.req.close === true || (this.closed && this.streams.size === 0)) this.close();
    this.host.settle(ex);
  }

  #rstStream(id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) {
      this.#connectionError(FRAME_SIZE_ERROR, 'an RST_STREAM that is not 4 octets');
      return;
    }
    if (id === 0 || this.#neverOpened(id)) {
      this.#connectionError(PROTOCOL_ERROR, `RST_STREAM on stream ${String(id)}, never opened`);
      return;
    }
    const stream = this.#open.get(id);
    if (stream === undefined) return;
    this.#open.delete(id);
    this.#next();
    const code = buf.readUInt32BE(start);
    const ex = stream.ex;
    if (ex.settled || ex.stream !== stream) return;
    // Refused: the server did not process it; Go's transport sends it once more.
    if (code === REFUSED_STREAM && !ex.retried && ex.status === 0) {
      this.#again(ex);
      return;
    }
    // A reset before END_STREAM is never a whole response (NO_ERROR included).
    this.host.fail(
      ex,
      code === NO_ERROR || code === CANCEL
        ? Object.assign(new Error(`HTTP/2 stream closed (code ${String(code)}) before the response ended`), { code: 'ECONNRESET' })
        : streamError(code),
    );
  }

  #settings(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) {
      this.#connectionError(PROTOCOL_ERROR, 'SETTINGS on a stream');
      return;
    }
    if ((flags & ACK) !== 0) {
      if (end !== start) this.#connectionError(FRAME_SIZE_ERROR, 'a SETTINGS ACK with a payload');
      return;
    }
    if ((end - start) % 6 !== 0) {
      this.#connectionError(FRAME_SIZE_ERROR, 'a SETTINGS payload not a multiple of 6 octets');
      return;
    }
    if (!this.#seenSettings) {
      this.#seenSettings = true;
      this.#peerMaxStreams = 1000;
    }
    for (let p = start; p < end; p += 6) {
      const setting = buf.readUInt16BE(p);
      const value = buf.readUInt32BE(p + 2);
      switch (setting) {
        // ENABLE_PUSH: 0 or 1, as Go's transport checks it (RFC 9113 forbids a server's 1, RFC 7540 did not;
        // pushes stay off: this client's own 0 is what counts).
        case 0x2:
          if (value > 1) {
            this.#connectionError(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${String(value)} from a server`);
            return;
          }
          break;
        case 0x3: // MAX_CONCURRENT_STREAMS
          this.#peerMaxStreams = value;
          break;
        case 0x4: {
          // INITIAL_WINDOW_SIZE: every open stream's send window moves by the difference.
          if (value > MAX_WINDOW) {
            this.#connectionError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${String(value)}`);
            return;
          }
          const delta = value - this.#peerInitialWindow;
          this.#peerInitialWindow = value;
          for (const s of this.#open.values()) s.sendWindow += delta;
          break;
        }
        case 0x5: // MAX_FRAME_SIZE
          if (value < 16_384 || value > 16_777_215) {
            this.#connectionError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${String(value)}`);
            return;
          }
          this.#peerMaxFrame = value;
          break;
        case 0x6: // MAX_HEADER_LIST_SIZE
          this.#peerMaxHeaderList = value;
          break;
        default: // HEADER_TABLE_SIZE bounds a dynamic table this client's encoder does not use; unknown settings are ignored
          break;
      }
    }
    this.#write(SETTINGS_ACK);
    for (const s of [...this.#open.values()]) if (s.body !== undefined) this.#sendBody(s);
    this.#next();
  }

  #goaway(id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) {
      this.#connectionError(PROTOCOL_ERROR, 'GOAWAY on a stream');
      return;
    }
    if (end - start < 8) {
      this.#connectionError(FRAME_SIZE_ERROR, 'a GOAWAY shorter than 8 octets');
      return;
    }
    const last = buf.readUInt32BE(start) & 0x7fffffff;
    this.#goingAway = true;
    this.retire();
    // Streams above the last one the server processed were not acted on: sent again elsewhere (once), as Go does.
    for (const s of [...this.#open.values()])
      if (s.id > last) {
        this.#open.delete(s.id);
        const ex = s.ex;
        if (ex.settled || ex.stream !== s) continue;
        if (!ex.retried) this.#again(ex);
        else
          this.host.fail(
            ex,
            Object.assign(new Error('HTTP/2 stream not processed before the server went away (GOAWAY)'), { code: 'ECONNRESET' }),
          );
      }
    for (const ex of this.#waiting.splice(0)) if (!ex.settled) this.#openStream(ex);
    if (this.streams.size === 0) this.close();
  }

  #windowUpdate(id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) {
      this.#connectionError(FRAME_SIZE_ERROR, 'a WINDOW_UPDATE that is not 4 octets');
      return;
    }
    const inc = buf.readUInt32BE(start) & 0x7fffffff;
    if (id === 0) {
      if (inc === 0) this.#connectionError(PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0 for the connection');
      else if ((this.#sendWindow += inc) > MAX_WINDOW) this.#connectionError(FLOW_CONTROL_ERROR, 'the connection window above 2^31-1');
      else for (const s of [...this.#open.values()]) if (s.body !== undefined) this.#sendBody(s);
      return;
    }
    const stream = this.#open.get(id);
    if (stream === undefined) return;
    if (inc === 0) this.#streamError(stream, PROTOCOL_ERROR);
    else if ((stream.sendWindow += inc) > MAX_WINDOW) this.#streamError(stream, FLOW_CONTROL_ERROR);
    else if (stream.body !== undefined) this.#sendBody(stream);
  }
}

/**
 * The fields of `list` from `from` are regular ones HTTP/2 allows on the wire (Go's framer and nghttp2 reset the
 * stream otherwise): a name that is a token in lower case, a value without control characters but tab.
 */
function validFields(list: readonly string[], from: number): boolean {
  for (let i = from; i + 1 < list.length; i += 2) if (!lowerToken(list[i] ?? '') || hasControl(list[i + 1] ?? '')) return false;
  return true;
}

/** The characters of a lower-case token (TOKEN's), by char code below 128: a loop over them costs half TOKEN.test on every response header. */
const TOKEN_CHARS = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[c.charCodeAt(0)] = 1;

/** `name` is a token in lower case (Go's validWireHeaderFieldName). */
function lowerToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) if (TOKEN_CHARS[name.charCodeAt(i)] !== 1) return false;
  return true;
}

/** `value` holds a control character other than tab (Go's httpguts.ValidHeaderFieldValue refuses them). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** A response header block's status, content-length and other headers (alternating names and values), or undefined when it is malformed. */
function responseOf(list: readonly string[]): { status: number; length: number; headers: string[] } | undefined {
  let status = -1;
  let length = -1;
  const headers: string[] = [];
  let regular = false;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] ?? '';
    const value = list[i + 1] ?? '';
    if (name.charCodeAt(0) === 0x3a) {
      // Pseudo-headers: only :status, once, before the others.
      if (name !== ':status' || status !== -1 || regular || !/^\d{3}$/.test(value)) return undefined;
      status = Number(value);
      continue;
    }
    // From the first regular field on, every field is checked once (a pseudo-header among them is no token: malformed).
    if (!regular && !validFields(list, i)) return undefined;
    regular = true;
    if (name === 'content-length') {
      if (!/^\d+$/.test(value) || (length !== -1 && Number(value) !== length)) return undefined;
      length = Number(value);
    }
    headers.push(name, value);
  }
  return status === -1 ? undefined : { status, length, headers };
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

/** A header name as HTTP allows it (RFC 9110 token), and a value with no NUL, CR or LF (what node:http2 refused too). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const BAD_VALUE = /[\0\r\n]/;

/** The request's header list (pseudo-headers first, as Go sends them), names in lower case. */
function headersOf(req: ClientRequest): string[] {
  const out = [':authority', req.host, ':method', req.method, ':path', req.path, ':scheme', 'https'];
  for (const name in req.headers) {
    const lower = name.toLowerCase();
    if (DROPPED.has(lower)) continue;
    const value = String(req.headers[name]);
    if (!TOKEN.test(lower))
      throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${name}"]`), { code: 'ERR_INVALID_HTTP_TOKEN' });
    if (BAD_VALUE.test(value))
      throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: 'ERR_INVALID_CHAR' });
    out.push(lower, value);
  }
  // As Go's shouldSendReqContentLength: a body's length, and 0 for the methods that usually have one.
  const length = req.body?.length ?? 0;
  if (length > 0 || req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') out.push('content-length', String(length));
  return out;
}
