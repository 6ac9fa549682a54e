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
 *
 * Here: the pool (idle lists, timeouts, dialing TCP, TLS and proxy tunnels, settling byte counts).
 * Beside it: exchange.ts (the request and its outcome), connection.ts (one HTTP/1.1 connection and its
 * parser), outbox.ts (requests written together at the end of the event loop's turn), h2.ts (an HTTP/2 session, spoken by the engine itself, when the server picks h2 by ALPN; hpack.ts its header compression).
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { IterationInterruption } from '../context.ts';
import { Conn, sharedReadBuffer } from './connection.ts';
import { authority, closeRequested, Exchange, poolKey, proxyOf, requestHead, type ClientRequest, type ConnTimes } from './exchange.ts';
import { H2Session } from './h2.ts';
import { writeSoon } from './outbox.ts';
import { ProxyConfigError } from './proxy.ts';
import { toError } from '../../../shared/errors.ts';

/**
 * One TLS context for every connection: building one per connection (what tls.connect does when given
 * none) loads the root store again each time. Verification, SNI and ALPN are per connection options.
 */
let sharedSecureContext: SecureContext | undefined;

/** A timer that fires this close to a deadline (ms) counts it as reached: Node's timers have 1 ms granularity. */
const TIMER_SLACK_MS = 1;

/** An idle connection older than this is closed instead of reused (k6's transport: 90 s in Go's default, 60 s is safe for common servers). */
const IDLE_TIMEOUT_MS = 60_000;

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
    this.start(ex, t0);
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

  /** Puts `ex` on an idle connection, or opens one (`t`: now, when the caller just read the clock). */
  start(ex: Exchange, t = this.now()): void {
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
    const to = proxy === undefined ? { host: req.hostname, port: req.port } : { host: proxy.hostname, port: proxy.port };
    // Plain http reads into the thread's shared buffer, straight to the connection's parser (TLS reads its socket itself).
    let conn: Conn | undefined;
    const onread = {
      buffer: sharedReadBuffer(),
      callback: (n: number, buf: Uint8Array): boolean => {
        conn?.onData(buf as Buffer, n);
        return true; // keep reading
      },
    };
    let tcp: Socket;
    try {
      tcp = netConnect(req.tls ? to : { ...to, onread });
    } catch (e) {
      this.fail(ex, toError(e));
      return;
    }
    tcp.setNoDelay(true);
    tcp.unref(); // in-flight requests keep the process alive through their timeout timer
    if (!req.tls) conn = this.attach(key, ex, tcp, undefined, t0);
    else this.#dialTls(key, ex, tcp, t0);
  }

  /**
   * https: TLS is wrapped around the socket only once it is connected (through a proxy: once the
   * proxy answered CONNECT). While connecting, Node may swap the socket's handle (Happy Eyeballs tries
   * each address of a dual-stack host), and TLS bound to the old handle crashes the process. Until
   * then the pool owns the socket as `dialing`.
   */
  #dialTls(key: string, ex: Exchange, tcp: Socket, t0: number): void {
    const { req } = ex;
    const proxy = proxyOf(req);
    ex.dialingRaw = tcp;
    let tTcp = 0;
    let head = '';
    const onError = (err: Error): void => {
      cleanup();
      tcp.destroy();
      this.fail(ex, err);
    };
    const secure = (tunnelDone: number): void => {
      cleanup();
      this.#handshake(key, ex, tcp, tTcp - t0, tunnelDone === 0 ? tTcp : tunnelDone);
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
    const closed = proxy === undefined ? 'connection closed before TLS started' : 'proxy closed the connection before answering CONNECT';
    const cleanup = this.#watchDialing(ex, tcp, closed, { connect: onConnect, data: onData });
  }

  /**
   * The TLS handshake over the connected `tcp` (`connecting`: the TCP connect's time; `tlsFrom`: when
   * the handshake began, after any CONNECT), then HTTP/2 or HTTP/1.1 as the server chose by ALPN.
   */
  #handshake(key: string, ex: Exchange, tcp: Socket, connecting: number, tlsFrom: number): void {
    if (ex.settled) {
      tcp.destroy();
      return;
    }
    const tls = this.tlsOver(tcp, ex.req);
    const onSecure = (): void => {
      done();
      const times = { connecting, tls: this.now() - tlsFrom };
      if (ex.settled) {
        tls.destroy();
        return;
      }
      // The server chose by ALPN: HTTP/2 (k6's transport offers h2 first), else HTTP/1.1.
      if (tls.alpnProtocol === 'h2') this.attachH2(key, ex, tls, tcp, times);
      else this.attach(key, ex, tls, tcp, 0, times);
    };
    const done = this.#watchDialing(ex, tls, 'connection closed during the TLS handshake', { secureConnect: onSecure });
  }

  /**
   * A socket being set up for `ex` (TCP before TLS, then the TLS handshake): the pool owns it as
   * `ex.dialing` (closing the pool or failing the request destroys it) while `listeners` wait on it; an
   * error or a close (`closed` says when) fails the request. The returned function removes the listeners
   * and the ownership once a listener decided (each calls it first).
   */
  #watchDialing(ex: Exchange, socket: Socket, closed: string, listeners: Readonly<Record<string, (arg: never) => void>>): () => void {
    const all: Record<string, (arg: never) => void> = {
      ...listeners,
      error: (err: Error): void => {
        stop();
        socket.destroy();
        this.fail(ex, err);
      },
      close: (): void => {
        stop();
        this.fail(ex, Object.assign(new Error(closed), { code: 'ECONNRESET' }));
      },
    };
    const stop = (): void => {
      for (const [event, fn] of Object.entries(all)) socket.off(event, fn as (arg: unknown) => void);
      this.#dialing.delete(socket);
      if (ex.dialing === socket) ex.dialing = undefined;
    };
    ex.dialing = socket;
    this.#dialing.add(socket);
    for (const [event, fn] of Object.entries(all)) socket.on(event, fn as (arg: unknown) => void);
    return stop;
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
  attach(key: string, ex: Exchange, socket: Socket, raw: Socket | undefined, t0: number, times?: ConnTimes): Conn {
    // Plain http (no TLS socket under it) reads through the shared buffer: open() passed `onread`.
    const conn = new Conn(this, key, socket, raw, raw === undefined);
    this.#all.add(conn);
    conn.ex = ex; // a connect failure fails this exchange (onClose, never replayed: not reused)
    ex.conn = conn;
    if (times !== undefined) {
      ex.newConn = times;
      this.send(conn, ex);
      return conn;
    }
    socket.once('connect', () => {
      ex.newConn = { connecting: this.now() - t0, tls: 0 };
      if (!ex.settled) this.send(conn, ex);
    });
    return conn;
  }

  /** A new HTTP/2 session for `ex`; later requests to the origin share it (one that raced it keeps its own for this request only). */
  attachH2(key: string, ex: Exchange, tls: TLSSocket, raw: Socket, times: ConnTimes): void {
    const session = new H2Session(this, key, tls, raw);
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
    writeSoon(conn, ex);
  }

  write(conn: Conn, ex: Exchange): void {
    if (ex.settled || ex.conn !== conn || conn.ex !== ex || conn.closed) return;
    const { req } = ex;
    const head = req.head ?? requestHead(req);
    const body = req.body;
    const s = conn.socket;
    if (body === undefined || body.length === 0) {
      ex.sent = head.length; // latin1: a byte per character
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
      ex.sent = ex.carriedSent + raw.bytesWritten - (link?.rawWritten ?? 0);
      ex.received = ex.carriedReceived + raw.bytesRead - (link?.rawRead ?? 0);
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
