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
 * session (ws/session.ts) runs on the engine thread and the VU thread waits for its events. In the async mode,
 * connect() returns a promise of the response (await it).
 */
import { awaitable, type Awaitable } from './awaitable.ts';
import type { EngineModuleContext } from './context.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';
import { toError } from '../../shared/errors.ts';
import { WsSession, type WsConnectParams, type WsEvent, type WsResponse } from './ws/session.ts';

export type { WsConnectParams, WsEvent, WsResponse };

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
