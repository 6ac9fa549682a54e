/**
 * One k6/ws connection on the engine thread (engine/modules/ws.ts has k6's semantics): the dial and its
 * handshake response, the session's metrics and tags, and every event handed to one `onEvent`. Both VU
 * modes use it: the async socket in ws.ts and the synchronous VU's host (engine/sync/io-host.ts).
 */
import WS from 'ws';
import type { Sample, Tags } from '../../contracts.ts';
import { DEFAULT_USER_AGENT } from '../http.ts';
import type { EngineModuleContext } from '../context.ts';
import { ModuleUsageError } from '../k6.ts';
import { toArrayBuffer, toBuffer } from '../websockets/frames.ts';

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
      const buf = toBuffer(data);
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
