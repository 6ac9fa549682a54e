/**
 * One VU's k6 WebSocket on top of `ws` (engine/modules/websockets.ts has the semantics copied from k6):
 * connection, events, sends, pings, close, and the VU's set of sockets that an interrupted iteration or a
 * closed VU closes. Its handlers are kept by listeners.ts, its metrics by session-metrics.ts.
 */
import { Blob as NodeBlob } from 'node:buffer';
import type { Socket } from 'node:net';
import WS from 'ws';
import { toError } from '../../../shared/errors.ts';
import type { ModuleContext } from '../../contracts.ts';
import {
  binaryPayload,
  byteCounter,
  byteLength,
  isBlob,
  iterationFailer,
  refusedSocket,
  toArrayBuffer,
  toBuffer,
  type ByteCounter,
} from './frames.ts';
import {
  CLOSED,
  CLOSING,
  CONNECTING,
  EVENT_TYPES,
  OPEN,
  WebSocketError,
  parseParams,
  parseProtocols,
  parseWebSocketUrl,
  type EventType,
  type Listener,
  type ReadyState,
  type WebSocketEvent,
} from './params.ts';
import { SessionMetrics } from './session-metrics.ts';
import { SocketListeners } from './listeners.ts';

/** How long an interrupted iteration waits for a close handshake before dropping the TCP connection. */
const INTERRUPT_CLOSE_GRACE_MS = 1000;

/** A k6 WebSocket of one VU (each VU's module subclasses it, bound to the VU). */
export class VuWebSocket {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;

  readonly url: string;
  readonly #vu: VuSockets;
  readonly #ctx: ModuleContext;
  #readyState: ReadyState = CONNECTING;
  #binaryType: 'blob' | 'arraybuffer' = 'blob';
  #protocol = '';
  #extensions = '';
  #bufferedAmount = 0;
  readonly #ws: WS;
  readonly #handlers = new SocketListeners();
  readonly #metrics: SessionMetrics;
  #socket: Socket | undefined;
  #closeRequested = false;
  #opened = false;
  #pingCounter = 0;
  readonly #pings = new Map<string, number>();
  #sendChain: Promise<void> | undefined;
  #settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  #failure: unknown;
  #interruptTimer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;

  /** Called once per iteration signal for all of that iteration's open sockets (one listener, not one per socket). */
  static interruptAll(sockets: Iterable<VuWebSocket>): void {
    for (const s of [...sockets]) s.#interrupt();
  }

  /** Drops every socket at once (VU closed). */
  static terminateAll(sockets: Iterable<VuWebSocket>): void {
    for (const s of [...sockets]) {
      s.#closeRequested = true;
      s.#ws.terminate();
    }
  }

  constructor(vu: VuSockets, url: unknown, protocols?: unknown, params?: unknown) {
    this.#vu = vu;
    this.#ctx = vu.ctx;
    const stage = this.#ctx.stage();
    if (stage === 'init') {
      throw new WebSocketError(
        'ws-in-init',
        'new WebSocket() was called in init code: open sockets inside the default function, setup() or teardown()',
      );
    }
    const parsed = parseWebSocketUrl(url);
    const p = parseParams(params);
    const subprotocols = parseProtocols(protocols);
    this.url = parsed.href;
    const iterTags = this.#ctx.currentTags();
    const tags: Record<string, string> = { ...iterTags, ...p.tags };
    tags.url = tags.name ?? this.url;
    vu.live.add(this);
    this.#metrics = new SessionMetrics(this.#ctx, vu.counter, iterTags, tags);
    this.#ws = this.#connect(parsed, subprotocols, p);
    this.#listen();
    this.#holdIteration();
  }

  /** The `ws` client; the run's host allowlist makes a refused host fail like a connection that could not be made (error, then close). */
  #connect(parsed: URL, subprotocols: string[], p: ReturnType<typeof parseParams>): WS {
    const refused = this.#ctx.connectRefusal(parsed.hostname);
    return new WS(this.url, subprotocols, {
      headers: p.headers,
      perMessageDeflate: p.compression,
      handshakeTimeout: 60_000,
      followRedirects: false,
      ...(refused === undefined ? {} : { createConnection: () => refusedSocket(refused) }),
    });
  }

  /** The `ws` events, turned into k6's events and metrics. */
  #listen(): void {
    this.#ws.on('upgrade', (res) => {
      this.#socket = res.socket;
    });
    this.#ws.on('unexpected-response', (_req, res) => {
      this.#socket = res.socket;
      this.#metrics.connected(String(res.statusCode), '');
      res.resume();
      this.#closed(new Error(`websocket: bad handshake (HTTP ${res.statusCode})`), 1006, '', false);
      this.#ws.terminate();
    });
    this.#ws.on('open', () => {
      this.#onOpen();
    });
    this.#ws.on('message', (data, isBinary) => {
      this.#onMessage(data, isBinary);
    });
    this.#ws.on('ping', () => {
      this.#dispatch(this.#event('ping'));
    });
    this.#ws.on('pong', (data) => {
      this.#onPong(data);
    });
    this.#ws.on('error', (err) => {
      this.#metrics.connected('', '');
      this.#closed(err, 1006, '', false);
    });
    this.#ws.on('close', (code, reason) => {
      const clean = code === 1000 || code === 1001;
      const err =
        this.#closeRequested || clean
          ? undefined
          : new Error(`websocket: close ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''}`);
      this.#closed(err, code, reason.toString(), code !== 1006);
    });
  }

  /** The iteration (or setup/teardown) stays open until this socket has closed; an interrupted one closes it. */
  #holdIteration(): void {
    const pending = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    pending.catch(() => undefined); // the failure is logged; never an unhandled rejection
    this.#ctx.trackPending(pending);
    const signal = this.#ctx.iterationSignal();
    if (signal !== undefined) {
      if (signal.aborted)
        queueMicrotask(() => {
          this.#interrupt();
        });
      else {
        this.#signal = signal;
        this.#vu.openSockets(signal).add(this);
      }
    }
  }

  get readyState(): ReadyState {
    return this.#readyState;
  }
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }
  get protocol(): string {
    return this.#protocol;
  }
  get extensions(): string {
    return this.#extensions;
  }
  get binaryType(): string {
    return this.#binaryType;
  }
  set binaryType(v: string) {
    if (v !== 'blob' && v !== 'arraybuffer') {
      throw new WebSocketError(
        'ws-bad-binary-type',
        `unknown binaryType ${JSON.stringify(v)}: the supported ones are "blob" and "arraybuffer"`,
      );
    }
    this.#binaryType = v;
  }

  get onopen(): Listener | null {
    return this.#handlers.on('open');
  }
  set onopen(f: unknown) {
    this.#handlers.setOn('open', f);
  }
  get onmessage(): Listener | null {
    return this.#handlers.on('message');
  }
  set onmessage(f: unknown) {
    this.#handlers.setOn('message', f);
  }
  get onerror(): Listener | null {
    return this.#handlers.on('error');
  }
  set onerror(f: unknown) {
    this.#handlers.setOn('error', f);
  }
  get onclose(): Listener | null {
    return this.#handlers.on('close');
  }
  set onclose(f: unknown) {
    this.#handlers.setOn('close', f);
  }
  get onping(): Listener | null {
    return this.#handlers.on('ping');
  }
  set onping(f: unknown) {
    this.#handlers.setOn('ping', f);
  }
  get onpong(): Listener | null {
    return this.#handlers.on('pong');
  }
  set onpong(f: unknown) {
    this.#handlers.setOn('pong', f);
  }

  addEventListener(type: string, handler: unknown): void {
    if (!this.#handlers.add(type, handler)) {
      this.#ctx.log(
        'warn',
        `can't add event handler: unknown WebSocket event type ${JSON.stringify(type)}; known: ${EVENT_TYPES.join(', ')}`,
      );
    }
  }

  send(data: unknown): void {
    this.#assertOpen('send');
    if (typeof data === 'string') {
      this.#write(data, Buffer.byteLength(data), false);
      return;
    }
    const bin = binaryPayload(data);
    if (bin !== undefined) {
      this.#write(bin, bin.length, true);
      return;
    }
    if (isBlob(data)) {
      const blob = data;
      this.#bufferedAmount += blob.size;
      const previous = this.#sendChain ?? Promise.resolve();
      const next = previous.then(async () => {
        const buf = Buffer.from(await blob.arrayBuffer());
        this.#bufferedAmount -= blob.size;
        if (this.#readyState === OPEN) this.#write(buf, buf.length, true);
      });
      this.#sendChain = next.catch((e: unknown) => {
        this.#fail(e);
      });
      return;
    }
    throw new WebSocketError(
      'ws-bad-send',
      `unsupported send type ${data === null ? 'null' : typeof data}: send a string, an ArrayBuffer, a typed array/DataView or a Blob`,
    );
  }

  ping(): void {
    this.#assertOpen('ping');
    const id = String(this.#pingCounter++);
    this.#pings.set(id, this.#ctx.clock.now());
    this.#ws.ping(id);
  }

  close(code?: number, reason?: string): void {
    if (this.#readyState === CLOSED || this.#readyState === CLOSING) return;
    const c = code === undefined || code === 0 ? 1000 : code;
    if (c !== 1000 && (c < 3000 || c > 4999)) {
      throw new WebSocketError('ws-bad-close-code', `WebSocket close code ${c} is not allowed: use 1000 or a code from 3000 to 4999`);
    }
    const r = reason ?? '';
    if (Buffer.byteLength(r) > 123) {
      throw new WebSocketError('ws-bad-close-reason', `WebSocket close reason is ${Buffer.byteLength(r)} bytes: keep it at most 123 bytes`);
    }
    this.#closeRequested = true;
    if (this.#readyState === CONNECTING) {
      this.#readyState = CLOSING;
      this.#ws.terminate();
      return;
    }
    this.#readyState = CLOSING;
    this.#ws.close(c, r);
  }

  #assertOpen(what: string): void {
    if (this.#readyState !== OPEN) {
      const state = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'][this.#readyState] ?? String(this.#readyState);
      throw new WebSocketError(
        'ws-invalid-state',
        `InvalidStateError: WebSocket.${what}() called while the socket is ${state}: wait for the open event and do not use a closed socket`,
      );
    }
  }

  #write(data: string | Buffer, size: number, binary: boolean): void {
    this.#bufferedAmount += size;
    this.#ws.send(data, { binary }, (err) => {
      this.#bufferedAmount -= size;
      if (!(err instanceof Error)) this.#metrics.emit('ws_msgs_sent', 1);
    });
  }

  #event(type: EventType, extra?: Partial<WebSocketEvent>): WebSocketEvent {
    return { type, target: this, timestamp: this.#ctx.clock.wallNow(), ...extra };
  }

  #onOpen(): void {
    this.#metrics.connected('101', this.#ws.protocol);
    this.#protocol = this.#ws.protocol;
    this.#extensions = this.#ws.extensions;
    if (this.#readyState !== CONNECTING) return;
    this.#opened = true;
    this.#readyState = OPEN;
    this.#dispatch(this.#event('open'));
  }

  #onMessage(data: WS.RawData, isBinary: boolean): void {
    if (this.#readyState !== OPEN) return;
    this.#metrics.emit('ws_msgs_received', 1);
    let payload: unknown;
    if (!isBinary) payload = toBuffer(data).toString('utf8');
    else if (this.#binaryType === 'arraybuffer') payload = toArrayBuffer(toBuffer(data));
    else payload = new NodeBlob([toBuffer(data)]);
    this.#dispatch(this.#event('message', { data: payload, origin: this.url }));
  }

  #onPong(data: Buffer): void {
    const id = data.toString();
    const sent = this.#pings.get(id);
    if (sent !== undefined) {
      this.#pings.delete(id);
      this.#metrics.emit('ws_ping', this.#ctx.clock.now() - sent);
    } else if (byteLength(data) > 0) {
      this.#ctx.warnOnce(`ws-unknown-pong:${this.url}`, `received pong for unknown ping ID ${JSON.stringify(id)} on ${this.url}`);
    }
    this.#dispatch(this.#event('pong'));
  }

  /** Calls `on<type>` then the added listeners; a throwing (or rejecting) listener closes the socket and fails the iteration. */
  #dispatch(ev: WebSocketEvent): boolean {
    for (const fn of this.#handlers.handlers(ev.type)) {
      try {
        const r = fn.call(undefined, ev);
        if (r instanceof Promise)
          r.catch((e: unknown) => {
            this.#fail(e);
          });
      } catch (e) {
        this.#fail(e);
        return false;
      }
    }
    return true;
  }

  #fail(e: unknown): void {
    if (this.#failure === undefined) {
      const err = toError(e);
      this.#failure = err;
      // Under the engine the iteration fails with the error and the runtime logs it (with source
      // mapping) once; elsewhere (a bare ModuleContext) it is logged here.
      const failer = this.#ctx.stage() === 'iteration' ? iterationFailer(this.#ctx) : undefined;
      if (failer !== undefined) failer.failIteration(err);
      else this.#ctx.log('error', `WebSocket ${this.url} event handler threw: ${err.stack ?? err.message}`);
    }
    if (this.#readyState !== CLOSED) {
      this.#ws.terminate();
      this.#closed(undefined, 1006, '', false);
    } else {
      this.#finish();
    }
  }

  #interrupt(): void {
    if (this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#closeRequested = true;
      this.#ws.terminate();
      return;
    }
    if (this.#readyState === OPEN) this.close(1000, '');
    this.#interruptTimer = setTimeout(() => {
      this.#ws.terminate();
    }, INTERRUPT_CLOSE_GRACE_MS);
    this.#interruptTimer.unref();
  }

  #closed(err: Error | undefined, code: number, reason: string, wasClean: boolean): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#vu.live.delete(this);
    if (this.#signal !== undefined) this.#vu.byIteration.get(this.#signal)?.delete(this);
    if (this.#interruptTimer !== undefined) clearTimeout(this.#interruptTimer);
    if (this.#opened) this.#metrics.sessionEnded();
    else if (!this.#closeRequested) this.#metrics.connected('', '');
    this.#metrics.traffic(this.#socket);
    if (err !== undefined && !(!this.#opened && this.#closeRequested)) {
      if (!this.#dispatch(this.#event('error', { error: err.message }))) return;
    }
    this.#dispatch(this.#event('close', { code, reason, wasClean }));
    this.#finish();
  }

  #finish(): void {
    const settle = this.#settle;
    if (settle === undefined) return;
    this.#settle = undefined;
    const done = (): void => {
      if (this.#failure !== undefined) settle.reject(this.#failure);
      else settle.resolve();
    };
    if (this.#sendChain !== undefined) void this.#sendChain.then(done);
    else done();
  }
}

/** One VU's sockets: those not closed yet, and those open per iteration (closed together when it is interrupted). */
export class VuSockets {
  readonly counter: ByteCounter | undefined;
  /** Every socket of this VU that is not closed yet. */
  readonly live = new Set<VuWebSocket>();
  /** Open sockets per iteration signal, closed together when the iteration is interrupted. */
  readonly byIteration = new WeakMap<AbortSignal, Set<VuWebSocket>>();

  constructor(readonly ctx: ModuleContext) {
    this.counter = byteCounter(ctx);
  }

  openSockets(signal: AbortSignal): Set<VuWebSocket> {
    let set = this.byIteration.get(signal);
    if (set === undefined) {
      const created = new Set<VuWebSocket>();
      set = created;
      this.byIteration.set(signal, created);
      signal.addEventListener(
        'abort',
        () => {
          VuWebSocket.interruptAll(created);
        },
        { once: true },
      );
    }
    return set;
  }

  /** Drops every socket at once (VU closed). */
  terminateAll(): void {
    VuWebSocket.terminateAll(this.live);
  }
}
