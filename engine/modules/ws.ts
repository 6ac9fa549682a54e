/**
 * `k6/ws`: k6's original WebSocket API, `ws.connect(url, params?, (socket) => { ... })`, which runs the
 * socket's own event loop until it closes and returns the handshake response (grafana/k6
 * js/modules/k6/ws/ws.go, read for its semantics):
 *
 * - `ws_sessions` and `ws_connecting` at the dial (also a failed one), `ws_session_duration` when
 *   connect() returns, `ws_msgs_sent` per send, `ws_msgs_received` per message, `ws_ping` per pong to
 *   socket.ping(); tags: the VU's tags + params.tags + `url`, `status`, `subproto`;
 * - the setup function runs first, then `open`; `message` (text), `binaryMessage` (ArrayBuffer), `ping`,
 *   `pong`, `error` and `close` (with the code) follow; socket.close(code = 1001) sends the close frame,
 *   fires `close` and ends connect(); a close from the server does the same with its code;
 * - a failed dial fires `error` and returns `{ url, status, headers, body, error }` (status 0 when there
 *   was no HTTP answer); an exception in a handler or timer closes the socket and is thrown from connect();
 * - an interrupted iteration closes the socket (1001).
 *
 * In k6 connect() blocks. In the engine's synchronous VU mode (engine/sync) it blocks too: the
 * session below runs on the engine thread and the VU thread waits for its events. In the async mode,
 * connect() returns a promise of the response (await it).
 */
import WS from 'ws';
import type { Sample, Tags } from '../contracts.ts';
import { awaitable, type Awaitable } from './awaitable.ts';
import { DEFAULT_USER_AGENT } from './http.ts';
import type { EngineModuleContext } from './context.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';
import { toError } from '../../shared/errors.ts';

/** What connect() returns (k6's HTTPResponse of the handshake). */
export interface WsResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  error: string;
}

export type WsEvent =
  | { readonly type: 'message'; readonly data: string }
  | { readonly type: 'binaryMessage'; readonly data: ArrayBuffer }
  | { readonly type: 'ping' | 'pong' }
  | { readonly type: 'error'; readonly error: string }
  | { readonly type: 'close'; readonly code: number };

export interface WsConnectParams {
  headers: Record<string, string>;
  tags: Record<string, string>;
  compression: boolean;
}

/** k6's parseConnectArgs: params headers, tags, compression ('deflate' only); `jar` is accepted. */
export function parseConnectParams(raw: unknown): WsConnectParams {
  const out: WsConnectParams = { headers: {}, tags: {}, compression: false };
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object')
    throw new ModuleUsageError(
      'ws-bad-params',
      `ws.connect(url, params, fn): params must be an object like { headers, tags }, got ${typeof raw}`,
    );
  const p = raw as Record<string, unknown>;
  for (const key of ['headers', 'tags'] as const) {
    const v = p[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object')
      throw new ModuleUsageError('ws-bad-params', `ws.connect(): params.${key} must be an object, got ${typeof v}`);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[key][k] = String(x);
  }
  const c = typeof p.compression === 'string' ? p.compression.trim() : p.compression;
  if (c !== undefined && c !== null && c !== '') {
    if (c !== 'deflate')
      throw new ModuleUsageError(
        'ws-bad-params',
        `unsupported compression algorithm '${typeof c === 'string' ? c : JSON.stringify(c)}', supported algorithm is 'deflate'`,
      );
    out.compression = true;
  }
  return out;
}

/** k6's socket.setTimeout/setInterval argument check: ms > 0. */
export function timerDelay(kind: 'setTimeout' | 'setInterval', ms: unknown): number {
  const d = Number(ms);
  if (!(d > 0))
    throw new ModuleUsageError(
      'ws-bad-timer',
      `${kind} requires a >0 timeout parameter, received ${Number.isNaN(d) ? 'NaN' : d.toFixed(2)}`,
    );
  return d;
}

const toArrayBuffer = (b: Buffer): ArrayBuffer => {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
};

function rawToBuffer(data: WS.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}

/**
 * One k6/ws connection on the engine thread: dials, measures, and hands every event to `onEvent`.
 * Used by both VU modes.
 */
export class WsSession {
  #ws: WS | undefined;
  #tags: Tags;
  readonly #ctx: EngineModuleContext;
  readonly #startWall: number;
  readonly #startMono: number;
  #pingCounter = 0;
  readonly #pings = new Map<string, number>();
  #ended = false;
  #bytesCounted = { sent: 0, received: 0 };
  onEvent: (e: WsEvent) => void = () => undefined;

  private constructor(ctx: EngineModuleContext, tags: Tags) {
    this.#ctx = ctx;
    this.#tags = tags;
    this.#startWall = ctx.clock.wallNow();
    this.#startMono = ctx.clock.now();
  }

  /** Dials `url`; resolves with the session (undefined when the dial failed) and the handshake response. */
  static open(
    ctx: EngineModuleContext,
    urlIn: unknown,
    params: WsConnectParams,
  ): Promise<{ session: WsSession | undefined; response: WsResponse }> {
    if (ctx.stage() === 'init')
      throw new ModuleUsageError(
        'ws-in-init',
        'using websockets in the init context is not supported; call ws.connect() in the default function, setup() or teardown()',
      );
    const url = String(urlIn);
    const tags: Record<string, string> = { ...ctx.currentTags(), ...params.tags, url };
    const s = new WsSession(ctx, tags);
    const headers: Record<string, string> = { 'User-Agent': userAgentOf(ctx), ...params.headers };
    const response: WsResponse = { url, status: 0, headers: {}, body: '', error: '' };
    return new Promise((resolve) => {
      // The run's host allowlist (engine/net/host-policy.ts): a refused host fails like a dial that failed.
      let refused: string | undefined;
      try {
        refused = ctx.connectRefusal(new URL(url).hostname);
      } catch {
        refused = undefined; // not a URL: the constructor below says so
      }
      if (refused !== undefined) {
        response.error = refused;
        s.#connected('', '');
        s.#end();
        resolve({ session: undefined, response });
        return;
      }
      let ws: WS;
      try {
        ws = new WS(url, { headers, perMessageDeflate: params.compression, handshakeTimeout: 60_000, followRedirects: false });
      } catch (e) {
        response.error = (e as Error).message;
        s.#connected('', '');
        s.#end();
        resolve({ session: undefined, response });
        return;
      }
      s.#ws = ws;
      const fail = (message: string, status: number): void => {
        response.error = message;
        response.status = status;
        s.#connected(status === 0 ? '' : String(status), '');
        s.#end();
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        resolve({ session: undefined, response });
      };
      ws.on('unexpected-response', (_req, res) => {
        response.headers = headersOf(res.headers);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          response.body = Buffer.concat(chunks).toString('utf8');
          fail('websocket: bad handshake', res.statusCode ?? 0);
        });
        res.on('error', () => {
          fail('websocket: bad handshake', res.statusCode ?? 0);
        });
      });
      ws.on('upgrade', (res) => {
        response.status = res.statusCode ?? 101;
        response.headers = headersOf(res.headers);
      });
      ws.once('error', (err) => {
        fail(dialError(err, url), response.status);
      });
      ws.once('open', () => {
        ws.removeAllListeners('error');
        s.#connected(String(response.status), ws.protocol);
        s.#listen(ws);
        resolve({ session: s, response });
      });
    });
  }

  #connected(status: string, subproto: string): void {
    const tags = { ...this.#tags, status, subproto };
    this.#tags = tags;
    const time = this.#startWall;
    this.#ctx.emit([
      { metric: 'ws_sessions', time, value: 1, tags },
      { metric: 'ws_connecting', time, value: this.#ctx.clock.now() - this.#startMono, tags },
    ]);
  }

  #listen(ws: WS): void {
    ws.on('message', (data, isBinary) => {
      this.#emit('ws_msgs_received', 1);
      const buf = rawToBuffer(data);
      this.onEvent(isBinary ? { type: 'binaryMessage', data: toArrayBuffer(buf) } : { type: 'message', data: buf.toString('utf8') });
    });
    ws.on('ping', () => {
      this.onEvent({ type: 'ping' });
    });
    ws.on('pong', (data) => {
      const sent = this.#pings.get(data.toString('utf8'));
      if (sent !== undefined) this.#emit('ws_ping', this.#ctx.clock.now() - sent);
      this.onEvent({ type: 'pong' });
    });
    ws.on('error', (err) => {
      this.onEvent({ type: 'error', error: err.message });
    });
    ws.on('close', (code) => {
      // k6 closes a connection the server closed with the server's code (1006 when it just went away: 1001).
      if (!this.#ended) this.onEvent({ type: 'close', code: code === 1005 || code === 1006 ? 1001 : code });
    });
  }

  #emit(metric: string, value: number): void {
    const s: Sample = { metric, time: this.#ctx.clock.wallNow(), value, tags: this.#tags };
    this.#ctx.emit([s]);
  }

  get open(): boolean {
    return !this.#ended && this.#ws?.readyState === WS.OPEN;
  }

  send(data: string | ArrayBuffer): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WS.OPEN) {
      this.onEvent({ type: 'error', error: 'websocket: close sent' });
      return;
    }
    ws.send(typeof data === 'string' ? data : Buffer.from(data), { binary: typeof data !== 'string' });
    this.#emit('ws_msgs_sent', 1);
  }

  ping(): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WS.OPEN) return;
    const id = String(this.#pingCounter++);
    this.#pings.set(id, this.#ctx.clock.now());
    ws.ping(id);
  }

  /** k6's closeConnection: the close frame (code, no reason), then the session ends (connect() returns). */
  close(code: number): void {
    const ws = this.#ws;
    if (ws !== undefined && (ws.readyState === WS.OPEN || ws.readyState === WS.CONNECTING)) {
      try {
        ws.close(code >= 1000 && code <= 4999 && code !== 1004 && code !== 1005 && code !== 1006 ? code : 1001);
      } catch {
        ws.terminate();
      }
      // k6 drops the connection right after the close frame; give the frame a moment to leave.
      setTimeout(() => {
        ws.terminate();
      }, 200).unref();
    }
    this.#end();
  }

  /** Ends the session: `ws_session_duration` and the connection's bytes for the iteration (once). */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#ctx.emit([
      { metric: 'ws_session_duration', time: this.#startWall, value: this.#ctx.clock.now() - this.#startMono, tags: this.#tags },
    ]);
    this.countBytes();
  }

  /** Adds the bytes the connection moved since the last count to the VU's data_sent/data_received. */
  countBytes(): void {
    const sock = (this.#ws as unknown as { _socket?: { bytesWritten?: number; bytesRead?: number } | null } | undefined)?._socket;
    if (sock === undefined || sock === null) return;
    const sent = sock.bytesWritten ?? 0;
    const received = sock.bytesRead ?? 0;
    this.#ctx.countBytes(sent - this.#bytesCounted.sent, received - this.#bytesCounted.received);
    this.#bytesCounted = { sent, received };
  }
}

function userAgentOf(ctx: EngineModuleContext): string {
  const ua = ctx.options().userAgent;
  return typeof ua === 'string' ? ua : DEFAULT_USER_AGENT;
}

function headersOf(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function dialError(err: Error & { code?: string; address?: string; port?: number }, url: string): string {
  if (err.code === 'ECONNREFUSED') return `dial tcp ${String(err.address)}:${String(err.port)}: connect: connection refused`;
  if (err.code === 'ENOTFOUND') return `dial tcp: lookup ${new URL(url).hostname}: no such host`;
  return err.message;
}

type Handler = (...args: unknown[]) => unknown;

/** The `socket` a connect() setup function gets: handlers and timers; the transport is the subclass's. */
export abstract class WsSocketBase {
  readonly #handlers = new Map<string, Handler[]>();
  on(event: unknown, handler: unknown): void {
    if (typeof handler !== 'function') return;
    const name = String(event);
    const list = this.#handlers.get(name) ?? [];
    list.push(handler as Handler);
    this.#handlers.set(name, list);
  }
  /** Runs the handlers of an event (an exception propagates: connect() closes the socket and throws it). */
  protected fire(event: string, ...args: unknown[]): void {
    for (const h of this.#handlers.get(event) ?? []) h(...args);
  }
  protected dispatch(e: WsEvent): void {
    switch (e.type) {
      case 'message':
      case 'binaryMessage':
        this.fire(e.type, e.data);
        break;
      // k6 hands the handler the Go error: an object whose error() method gives the message.
      case 'error': {
        const message = e.error;
        this.fire('error', { error: () => message, toString: () => message });
        break;
      }
      case 'close':
        this.fire('close', e.code);
        break;
      default:
        this.fire(e.type);
    }
  }
  abstract send(message: unknown): void;
  abstract sendBinary(message: unknown): void;
  abstract ping(): void;
  abstract close(code?: unknown): void;
  abstract setTimeout(fn: unknown, ms: unknown): void;
  abstract setInterval(fn: unknown, ms: unknown): void;
}

/** k6's SendBinary argument check: an ArrayBuffer. */
export function binaryArg(message: unknown): ArrayBuffer {
  if (message instanceof ArrayBuffer) return message;
  const kind =
    message === null || message === undefined
      ? String(message)
      : ((message as { constructor?: { name?: string } }).constructor?.name ?? typeof message);
  throw new ModuleUsageError('ws-bad-binary', `expected ArrayBuffer as argument, received: ${kind}`);
}

export const closeCode = (code: unknown): number => (code === undefined ? 1001 : Math.trunc(Number(code)));

/** The async mode's socket: events and timers on the engine thread's event loop. */
class AsyncSocket extends WsSocketBase {
  readonly #session: WsSession;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #done: (e?: unknown) => void;
  #closed = false;
  constructor(session: WsSession, done: (e?: unknown) => void) {
    super();
    this.#session = session;
    this.#done = done;
    session.onEvent = (e) => {
      if (this.#closed) return;
      this.#guard(() => {
        if (e.type === 'close') this.#finish(e.code);
        else this.dispatch(e);
      });
    };
  }
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#finish(1001, { err });
    }
  }
  /** Ends the socket: the close frame, the `close` handlers (not after a failure), then connect() settles. */
  #finish(code: number, failure?: { readonly err: unknown }): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#session.close(code);
    if (failure !== undefined) {
      this.#done(failure.err);
      return;
    }
    try {
      this.fire('close', code);
    } catch (err) {
      this.#done(err);
      return;
    }
    this.#done();
  }
  start(): void {
    this.#guard(() => {
      this.fire('open');
    });
  }
  send(message: unknown): void {
    this.#session.send(String(message));
  }
  sendBinary(message: unknown): void {
    this.#session.send(binaryArg(message));
  }
  ping(): void {
    this.#session.ping();
  }
  close(code?: unknown): void {
    this.#finish(closeCode(code));
  }
  setTimeout(fn: unknown, ms: unknown): void {
    const d = timerDelay('setTimeout', ms);
    if (typeof fn !== 'function') return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#closed)
        this.#guard(() => {
          (fn as Handler)();
        });
    }, d);
    this.#timers.add(t);
  }
  setInterval(fn: unknown, ms: unknown): void {
    const d = timerDelay('setInterval', ms);
    if (typeof fn !== 'function') return;
    const t = setInterval(() => {
      if (!this.#closed)
        this.#guard(() => {
          (fn as Handler)();
        });
    }, d);
    this.#timers.add(t);
  }
  interrupt(): void {
    this.#finish(1001);
  }
}

/** `k6/ws` in the async VU mode: connect() returns a promise of the response, settled when the socket closes. */
export function createWsModule(ctx: EngineModuleContext): Record<string, unknown> {
  function connect(url: unknown, ...args: unknown[]): Awaitable<WsResponse> {
    const [paramsIn, fn] = args.length >= 2 ? [args[0], args[1]] : [undefined, args[0]];
    if (args.length === 0 || args.length > 2) throw new ModuleUsageError('ws-bad-args', 'invalid number of arguments to ws.connect');
    if (typeof fn !== 'function') throw new ModuleUsageError('ws-bad-args', 'last argument to ws.connect must be a function');
    const params = parseConnectParams(paramsIn);
    const work = WsSession.open(ctx, url, params).then(({ session, response }) => {
      if (session === undefined) return response;
      return new Promise<WsResponse>((resolve, reject) => {
        const signal = ctx.iterationSignal();
        const ref: { socket?: AsyncSocket } = {};
        const onAbort = (): void => {
          ref.socket?.interrupt();
        };
        const socket = new AsyncSocket(session, (err?: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          if (err === undefined) resolve(response);
          else reject(toError(err));
        });
        ref.socket = socket;
        if (signal !== undefined) {
          if (signal.aborted) {
            socket.interrupt();
            return;
          }
          signal.addEventListener('abort', onAbort, { once: true });
        }
        try {
          (fn as Handler)(socket);
        } catch (err) {
          socket.close(1001);
          reject(toError(err));
          return;
        }
        socket.start();
      });
    });
    return awaitable(ctx, 'ws.connect(...)', work);
  }
  return { connect } satisfies K6Module<typeof import('k6/ws')>;
}
