/**
 * The HTTP/1.1 client under `k6/http`: keep-alive connections on `node:net`/`node:tls`, responses
 * parsed by http-parser-js. One `ConnectionPool` per VU (k6 gives each VU its own transport).
 *
 * Why not undici: a load generator's cost per request is the client's cost. Measured on this
 * project's 2-core machine (docs/engine.md), undici's dispatch path cost about 2.5x the CPU per
 * request of a plain socket + parser, and the engine could not reach half of autocannon's
 * requests per CPU-second on it. This client does only what k6's transport does for HTTP/1.1:
 * reuse idle connections (last in, first out), open a new one when none is idle, time every
 * phase, retry once on a fresh connection when a reused one was closed under a replayable request
 * (Go's net/http rule), and never throw: every failure is a result with an error.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { HTTPParser } from 'http-parser-js';
import type { Interruptible, IterationInterruption } from '../context.ts';
import type { ClientHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { H2Session } from './h2.ts';
import { ProxyConfigError, type ProxyChoice, type ProxyTarget } from './proxy.ts';
import { toError } from '../../../shared/errors.ts';

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

/**
 * One TLS context for every connection: building one per connection (what tls.connect does when given
 * none) loads the root store again each time. Verification, SNI and ALPN are per connection options.
 */
let sharedSecureContext: SecureContext | undefined;

/** The proxy a request is sent through (a ProxyConfigError never gets as far as a connection). */
const proxyOf = (req: ClientRequest): ProxyTarget | undefined => (req.proxy instanceof ProxyConfigError ? undefined : req.proxy);

/** `host:port` of the target (IPv6 in brackets), the authority of a CONNECT or an absolute-form URL. */
function authority(req: ClientRequest, defaultPort: number): string {
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
  rawHeaders: readonly string[] = [];
  chunks: Buffer[] = [];
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
  stream: ClientHttp2Stream | undefined;
  retried = false;
  keepAlive = true;
  settled = false;
  /** The TCP socket of an https connection still being set up, destroyed if the request fails first. */
  dialing: Socket | undefined;
  /** The TCP socket of this request's https connection, for the byte count when it failed before the connection was up. */
  dialingRaw: Socket | undefined;
  /** TLS bytes of an attempt on a reused connection that died (the request was sent again). */
  carried = { sent: 0, received: 0 };
  /** When the request times out (`now()` reading): the pool's timer checks it (no timer per request). */
  deadline = 0;
  constructor(
    readonly pool: ConnectionPool,
    readonly req: ClientRequest,
    readonly t0: number,
    readonly resolve: (ex: Exchange) => void,
    readonly intr: IterationInterruption | undefined,
  ) {}
  interrupt(): void {
    this.pool.fail(this, Object.assign(new Error('request interrupted'), { code: 'interrupted' }));
  }
}

/** A timer that fires this close to a deadline (ms) counts it as reached: Node's timers have 1 ms granularity. */
const TIMER_SLACK_MS = 1;

/** Methods Go's transport may send again on a fresh connection (net/http isReplayable). */
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** An idle connection older than this is closed instead of reused (k6's transport: 90 s in Go's default, 60 s is safe for common servers). */
const IDLE_TIMEOUT_MS = 60_000;

/** One connection: a socket, its parser, and the exchange it carries (at most one: no pipelining). */
class Conn {
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
   */
  constructor(
    readonly pool: ConnectionPool,
    readonly key: string,
    readonly socket: Socket,
    readonly raw?: Socket,
  ) {
    const p = this.parser;
    p[HTTPParser.kOnHeadersComplete] = (info) => {
      const ex = this.ex;
      if (ex === undefined || (info.statusCode < 200 && info.statusCode !== 101)) return 0; // 1xx: the real response follows
      ex.status = info.statusCode;
      ex.statusText = info.statusMessage;
      ex.rawHeaders = info.headers;
      ex.versionMajor = info.versionMajor;
      ex.versionMinor = info.versionMinor;
      ex.keepAlive = info.shouldKeepAlive;
      return this.head ? 1 : 0;
    };
    p[HTTPParser.kOnHeaders] = (headers) => {
      // Trailers (or headers split over packets in the parser's slow path) arrive here.
      const ex = this.ex;
      if (ex !== undefined && ex.status === 0) ex.rawHeaders = [...ex.rawHeaders, ...headers];
    };
    p[HTTPParser.kOnBody] = (chunk, offset, length) => {
      const ex = this.ex;
      if (ex?.req.keepBody === true) ex.chunks.push(chunk.subarray(offset, offset + length));
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      const ex = this.ex;
      if (ex === undefined || ex.status === 0) return; // end of a 1xx message
      this.pool.complete(this, ex);
    };
    socket.on('data', (chunk: Buffer) => {
      this.onData(chunk);
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

  onData(chunk: Buffer): void {
    const ex = this.ex;
    if (ex === undefined) {
      this.destroy();
      return;
    } // bytes on an idle connection: not HTTP we understand
    if (ex.tFirst === 0) ex.tFirst = this.pool.now();
    ex.received += chunk.length;
    const r = this.parser.execute(chunk);
    if (r instanceof Error && this.ex === ex) {
      this.pool.fail(ex, Object.assign(new Error(`malformed HTTP response: ${r.message}`), { code: 'HPE_INVALID' }));
    }
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
        ex.carried = {
          sent: ex.carried.sent + this.raw.bytesWritten - this.rawWritten,
          received: ex.carried.received + this.raw.bytesRead - this.rawRead,
        };
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

export interface PoolOptions {
  readonly now: () => number;
  /** Verify TLS certificates; a function is asked at each new connection (options may be known only later). */
  readonly rejectUnauthorized: boolean | (() => boolean);
  /** Offer HTTP/2 by ALPN on https (default true; k6 users turn it off with GODEBUG=http2client=0). */
  readonly http2?: boolean;
  /**
   * Why the request's target host may not be reached (the run's host allowlist), else undefined. Asked
   * for every request, redirect hops included; through a proxy it is the target that is asked about.
   */
  readonly refuse?: (hostname: string) => string | undefined;
}

/** Keep-alive connections of one VU, keyed by scheme, host and port. */
export class ConnectionPool {
  readonly now: () => number;
  readonly #rejectUnauthorized: boolean | (() => boolean);
  readonly #alpn: readonly string[];
  readonly #refuse: ((hostname: string) => string | undefined) | undefined;
  readonly #idle = new Map<string, Conn[]>();
  readonly #all = new Set<Conn>();
  /** TCP sockets of https connections still being set up (connecting, or waiting for a proxy's CONNECT answer). */
  readonly #dialing = new Set<Socket>();
  /** HTTP/2 sessions by pool key: one per origin, shared by concurrent requests. */
  readonly #h2 = new Map<string, H2Session>();
  /** Every live HTTP/2 session, also those no longer taking requests (GOAWAY, single-use, race losers). */
  readonly #h2All = new Set<H2Session>();
  /** Requests not settled yet, each with its deadline. */
  readonly #inflight = new Set<Exchange>();
  /**
   * One timer for all of them, armed for the earliest deadline it knows of (`#timerAt`) and re-armed
   * when it fires early for the rest: a request costs a set entry, not a timer of its own. Referenced
   * (keeps the process alive) only while requests are in flight, as a timer per request would be.
   */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.now();
    let next = Infinity;
    for (const ex of [...this.#inflight]) {
      if (ex.deadline - now < TIMER_SLACK_MS) this.fail(ex, Object.assign(new Error('request timeout'), { code: 'request-timeout' }));
      else if (ex.deadline < next) next = ex.deadline;
    }
    if (next !== Infinity) this.#arm(next, now);
  };

  constructor(opts: PoolOptions) {
    this.now = opts.now;
    this.#rejectUnauthorized = opts.rejectUnauthorized;
    this.#alpn = opts.http2 === false ? ['http/1.1'] : ['h2', 'http/1.1'];
    this.#refuse = opts.refuse;
  }

  /** Sends one request; `done` is called once with the outcome (a failure is `ex.error`). */
  request(req: ClientRequest, intr: IterationInterruption | undefined, done: (ex: Exchange) => void): void {
    const t0 = this.now();
    const ex = new Exchange(this, req, t0, done, intr);
    ex.deadline = t0 + req.timeoutMs;
    const inflight = this.#inflight;
    inflight.add(ex);
    if (ex.deadline < this.#timerAt) this.#arm(ex.deadline, t0);
    else if (inflight.size === 1) this.#timer?.ref();
    if (intr !== undefined) {
      if (intr.aborted) {
        ex.interrupt();
        return;
      }
      intr.add(ex);
    }
    this.start(ex);
  }

  /** Arms the timeout timer for `at` (a `now()` reading). */
  #arm(at: number, now: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, at - now));
  }

  /** `request` as a promise. */
  requestAsync(req: ClientRequest, intr: IterationInterruption | undefined): Promise<Exchange> {
    return new Promise<Exchange>((resolve) => {
      this.request(req, intr, resolve);
    });
  }

  /** Puts `ex` on an idle connection, or opens one. */
  start(ex: Exchange): void {
    const { req } = ex;
    const refused = this.#refuse?.(req.hostname);
    if (refused !== undefined) {
      this.fail(ex, Object.assign(new Error(refused), { code: 'host-not-allowed' }));
      return;
    }
    if (req.proxy instanceof ProxyConfigError) {
      this.fail(ex, req.proxy);
      return;
    }
    const key = req.key ?? poolKey(req);
    const t = this.now();
    const h2 = this.#h2.get(key);
    if (h2?.usable(t, IDLE_TIMEOUT_MS) === true) {
      h2.send(ex);
      return;
    }
    const idle = this.#idle.get(key);
    while (idle !== undefined && idle.length > 0) {
      const conn = idle.pop();
      if (conn === undefined || conn.closed) continue;
      if (t - conn.idleSince > IDLE_TIMEOUT_MS) {
        conn.destroy();
        continue;
      }
      this.send(conn, ex);
      return;
    }
    this.open(key, ex);
  }

  open(key: string, ex: Exchange): void {
    const { req } = ex;
    const proxy = proxyOf(req);
    const t0 = this.now();
    let tcp: Socket;
    try {
      tcp = netConnect(proxy === undefined ? { host: req.hostname, port: req.port } : { host: proxy.hostname, port: proxy.port });
    } catch (e) {
      this.fail(ex, toError(e));
      return;
    }
    tcp.setNoDelay(true);
    tcp.unref(); // in-flight requests keep the process alive through their timeout timer
    if (!req.tls) {
      this.attach(key, ex, tcp, undefined, t0);
      return;
    }
    // TLS is wrapped around the socket only once it is connected: while connecting, Node may swap the
    // socket's handle (Happy Eyeballs tries each address of a dual-stack host), and TLS bound to the
    // old handle crashes the process. Until then the pool owns the socket as `dialing`.
    ex.dialing = tcp;
    ex.dialingRaw = tcp;
    this.#dialing.add(tcp);
    let tTcp = 0;
    let head = '';
    const cleanup = (): void => {
      tcp.off('connect', onConnect);
      tcp.off('data', onData);
      tcp.off('error', onError);
      tcp.off('close', onClose);
      this.#dialing.delete(tcp);
      if (ex.dialing === tcp) ex.dialing = undefined;
    };
    const onError = (err: Error): void => {
      cleanup();
      tcp.destroy();
      this.fail(ex, err);
    };
    const onClose = (): void => {
      cleanup();
      this.fail(
        ex,
        Object.assign(
          new Error(proxy === undefined ? 'connection closed before TLS started' : 'proxy closed the connection before answering CONNECT'),
          { code: 'ECONNRESET' },
        ),
      );
    };
    const secure = (tunnelDone: number): void => {
      cleanup();
      if (ex.settled) {
        tcp.destroy();
        return;
      }
      const tls = this.tlsOver(tcp, req);
      ex.dialing = tls;
      this.#dialing.add(tls);
      const done = (): void => {
        tls.off('secureConnect', onSecure);
        tls.off('error', onTlsError);
        tls.off('close', onTlsClose);
        this.#dialing.delete(tls);
        if (ex.dialing === tls) ex.dialing = undefined;
      };
      const onTlsError = (err: Error): void => {
        done();
        tls.destroy();
        this.fail(ex, err);
      };
      const onTlsClose = (): void => {
        done();
        this.fail(ex, Object.assign(new Error('connection closed during the TLS handshake'), { code: 'ECONNRESET' }));
      };
      const onSecure = (): void => {
        done();
        const end = this.now();
        const times = { connecting: tTcp - t0, tls: end - (tunnelDone === 0 ? tTcp : tunnelDone) };
        if (ex.settled) {
          tls.destroy();
          return;
        }
        // The server chose by ALPN: HTTP/2 (k6's transport offers h2 first), else HTTP/1.1.
        if (tls.alpnProtocol === 'h2') this.attachH2(key, ex, tls, tcp, times);
        else this.attach(key, ex, tls, tcp, t0, times);
      };
      tls.once('secureConnect', onSecure);
      tls.on('error', onTlsError);
      tls.on('close', onTlsClose);
    };
    // https through a proxy: CONNECT host:port first, then TLS inside the tunnel.
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16_384) onError(Object.assign(new Error('proxy CONNECT response head too large'), { code: 'proxy-connect' }));
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})(?: ([^\r]*))?/.exec(head);
      if (status?.[1] !== '200') {
        onError(
          Object.assign(
            new Error(`proxy CONNECT: ${status === null ? 'malformed response' : `${status[1] ?? ''} ${status[2] ?? ''}`.trim()}`),
            { code: 'proxy-connect' },
          ),
        );
        return;
      }
      secure(this.now());
    };
    const onConnect = (): void => {
      tTcp = this.now();
      if (proxy === undefined) {
        secure(0);
        return;
      }
      const target = authority(req, -1);
      const auth = proxy.authorization === undefined ? '' : `Proxy-Authorization: ${proxy.authorization}\r\n`;
      tcp.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`, 'latin1');
    };
    tcp.once('connect', onConnect);
    tcp.on('data', onData);
    tcp.on('error', onError);
    tcp.on('close', onClose);
  }

  /** TLS over a TCP socket of our own: its counters see the encrypted bytes (errors reach the TLS socket). */
  tlsOver(tcp: Socket, req: ClientRequest): TLSSocket {
    const reject = this.#rejectUnauthorized;
    const tls = tlsConnect({
      socket: tcp,
      secureContext: (sharedSecureContext ??= createSecureContext()),
      servername: isIP(req.hostname) === 0 ? req.hostname : undefined,
      rejectUnauthorized: typeof reject === 'function' ? reject() : reject,
      ALPNProtocols: [...this.#alpn],
    });
    tls.setNoDelay(true);
    tls.unref();
    return tls;
  }

  /**
   * A new HTTP/1.1 connection for `ex` on `socket` (`raw`: the TCP socket under TLS): plain http waits
   * for the TCP connect (timed from `t0`); https comes connected, with its set-up `times`.
   */
  attach(key: string, ex: Exchange, socket: Socket, raw: Socket | undefined, t0: number, times?: ConnTimes): void {
    const conn = new Conn(this, key, socket, raw);
    this.#all.add(conn);
    conn.ex = ex; // a connect failure fails this exchange (onClose, never replayed: not reused)
    ex.conn = conn;
    if (times !== undefined) {
      ex.newConn = times;
      this.send(conn, ex);
      return;
    }
    socket.once('connect', () => {
      ex.newConn = { connecting: this.now() - t0, tls: 0 };
      if (!ex.settled) this.send(conn, ex);
    });
  }

  /** A new HTTP/2 session for `ex`; later requests to the origin share it (one that raced it keeps its own for this request only). */
  attachH2(key: string, ex: Exchange, tls: TLSSocket, raw: Socket, times: ConnTimes): void {
    const session = new H2Session(this, key, tls, raw, `https://${authority(ex.req, 443)}`);
    this.#h2All.add(session);
    ex.newConn = times;
    const existing = this.#h2.get(key);
    // Not shared: a session for noConnectionReuse (Go's singleUse), or one that lost the race to an origin's live session.
    if (ex.req.close !== true && existing?.usable(this.now(), IDLE_TIMEOUT_MS) !== true) this.#h2.set(key, session);
    else session.retire();
    session.send(ex);
  }

  forgetH2(s: H2Session, gone: boolean): void {
    if (this.#h2.get(s.key) === s) this.#h2.delete(s.key);
    if (gone) this.#h2All.delete(s);
  }

  send(conn: Conn, ex: Exchange): void {
    const { req } = ex;
    conn.ex = ex;
    ex.conn = conn;
    conn.head = req.method === 'HEAD';
    ex.tConn = this.now();
    if (conn.remoteAddress === undefined) {
      conn.remoteAddress = conn.socket.remoteAddress ?? '';
      conn.remotePort = conn.socket.remotePort ?? 0;
    }
    ex.remoteAddress = conn.remoteAddress;
    ex.remotePort = conn.remotePort;
    const head = req.head ?? requestHead(req);
    const body = req.body;
    const s = conn.socket;
    if (body === undefined || body.length === 0) {
      ex.sent = Buffer.byteLength(head, 'latin1');
      s.write(head, 'latin1');
    } else {
      const headBuf = Buffer.from(head, 'latin1');
      ex.sent = headBuf.length + body.length;
      s.write(Buffer.concat([headBuf, body], ex.sent));
    }
    // A small write leaves the socket at once; a large one is sent when its bytes are flushed.
    if (s.writableLength === 0) ex.tSent = this.now();
    else
      s.write('', () => {
        if (ex.tSent === 0) ex.tSent = this.now();
      });
  }

  complete(conn: Conn, ex: Exchange): void {
    ex.tEnd = this.now();
    conn.ex = undefined;
    const reusable = ex.keepAlive && !conn.closed && ex.status !== 101 && ex.req.close !== true && !closeRequested(ex.req.headers);
    if (reusable) {
      conn.reused = true;
      conn.idleSince = ex.tEnd;
      let idle = this.#idle.get(conn.key);
      if (idle === undefined) {
        idle = [];
        this.#idle.set(conn.key, idle);
      }
      idle.push(conn);
    } else {
      conn.destroy();
    }
    this.settle(ex);
  }

  fail(ex: Exchange, err: Error): void {
    if (ex.settled) return;
    if (ex.dialing !== undefined) {
      ex.dialing.destroy();
      this.#dialing.delete(ex.dialing);
      ex.dialing = undefined;
    }
    ex.error = err;
    ex.tEnd = this.now();
    const conn = ex.conn;
    if (conn?.ex === ex) {
      conn.ex = undefined;
      conn.destroy();
    }
    ex.h2?.cancel(ex);
    this.settle(ex);
  }

  settle(ex: Exchange): void {
    if (ex.settled) return;
    ex.settled = true;
    const link = ex.conn ?? ex.h2;
    const raw = link?.raw ?? ex.dialingRaw;
    if (raw !== undefined) {
      // On TLS the wire bytes since the previous exchange on the connection (the handshake and any
      // CONNECT go to its first request; HTTP/2 streams running at once share them out by end time),
      // plus what an attempt on a connection that died wrote and read.
      ex.sent = ex.carried.sent + raw.bytesWritten - (link?.rawWritten ?? 0);
      ex.received = ex.carried.received + raw.bytesRead - (link?.rawRead ?? 0);
      if (link !== undefined) {
        link.rawWritten = raw.bytesWritten;
        link.rawRead = raw.bytesRead;
      }
    }
    const inflight = this.#inflight;
    inflight.delete(ex);
    if (inflight.size === 0) this.#timer?.unref();
    ex.intr?.delete(ex);
    ex.resolve(ex);
  }

  /** Drops a closed connection from the idle lists. */
  forget(conn: Conn): void {
    this.#all.delete(conn);
    const idle = this.#idle.get(conn.key);
    if (idle === undefined) return;
    const i = idle.indexOf(conn);
    if (i !== -1) idle.splice(i, 1);
  }

  /** Closes the connections no request is using (k6's noVUConnectionReuse, at each new iteration). */
  closeIdle(): void {
    for (const list of this.#idle.values()) for (const conn of list) conn.destroy();
    this.#idle.clear();
    for (const s of [...this.#h2All]) if (s.streams.size === 0) s.close();
  }

  /** Closes every connection (the VU is discarded); in-flight requests fail. */
  close(): void {
    for (const s of [...this.#dialing]) s.destroy();
    this.#dialing.clear();
    for (const s of [...this.#h2All]) s.close();
    this.#h2All.clear();
    this.#h2.clear();
    for (const conn of [...this.#all]) conn.destroy();
    this.#idle.clear();
  }
}

/** The value of the header named `lower` (lower case) whatever its case in `headers`; undefined when absent. */
export function headerValue(headers: Readonly<Record<string, string>>, lower: string): string | undefined {
  for (const name in headers) if (name.length === lower.length && name.toLowerCase() === lower) return headers[name];
  return undefined;
}

function closeRequested(headers: Readonly<Record<string, string>>): boolean {
  return headerValue(headers, 'connection')?.toLowerCase() === 'close';
}
