/**
 * The k6 modules of a VU thread (synchronous VU mode). Calls that block in k6 block here too:
 * `sleep()` waits on the thread, `http.*` and `ws.connect()` wait for the I/O host, which runs them
 * with the engine's own k6/http and k6/ws code (so requests, cookies, redirects, tags and metrics are
 * the async mode's). Everything else is the engine's module, running in the thread.
 */
import type { EngineModuleContext } from '../modules/context.ts';
import { createCryptoModule } from '../modules/crypto.ts';
import { createCsvModule } from '../modules/csv.ts';
import { createDataModule } from '../modules/data.ts';
import { createEncodingModule } from '../modules/encoding.ts';
import { createExecutionModule } from '../modules/execution.ts';
import { createFsModule } from '../modules/fs.ts';
import { createHtmlModule } from '../modules/html/index.ts';
import { FileData, Response, urlTemplate, type ResponseWire } from '../modules/http.ts';
import { createK6Module, ModuleUsageError } from '../modules/k6.ts';
import { createMetricsModule } from '../modules/metrics.ts';
import { createTimersModule } from '../modules/timers.ts';
import { createWebSocketsModule } from '../modules/websockets.ts';
import { WsSocketBase, binaryArg, closeCode, parseConnectParams, timerDelay, type WsEvent, type WsResponse } from '../modules/ws.ts';
import type { SharedArrayData } from './protocol.ts';
import { InterruptedError, type ThreadIo } from './thread-io.ts';

type Factory = (ctx: EngineModuleContext) => Record<string, unknown>;

/** Markers for values a structured clone would lose (class instances): the host turns them back. */
export interface WireFile {
  readonly __agentloadFile: { readonly data: string | ArrayBuffer; readonly filename: string; readonly content_type: string };
}
export interface WireJar {
  readonly __agentloadJar: number;
}
export interface WireExpected {
  readonly __agentloadExpected: readonly unknown[];
}

/** A params/body value as it crosses to the host. */
export function toWire(v: unknown): unknown {
  if (v instanceof FileData)
    return { __agentloadFile: { data: v.data, filename: v.filename, content_type: v.content_type } } satisfies WireFile;
  if (v instanceof ThreadJar) return { __agentloadJar: v.id } satisfies WireJar;
  if (v instanceof ExpectedStatuses) return { __agentloadExpected: v.specs } satisfies WireExpected;
  if (v === null || typeof v !== 'object' || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(toWire);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'function') out[k] = toWire(x);
  return out;
}

class ExpectedStatuses {
  constructor(readonly specs: readonly unknown[]) {}
}

/** `http.cookieJar()` / `new http.CookieJar()` in a VU thread: the jar lives on the host; id 0 is the VU's own. */
class ThreadJar {
  constructor(
    readonly id: number,
    readonly io: ThreadIo,
  ) {}
  cookiesForURL(url: unknown): unknown {
    return this.io.call('jar', { id: this.id, op: 'cookiesForURL', args: [url] });
  }
  set(...args: unknown[]): unknown {
    return this.io.call('jar', { id: this.id, op: 'set', args: toWire(args) });
  }
  clear(url: unknown): unknown {
    return this.io.call('jar', { id: this.id, op: 'clear', args: [url] });
  }
  delete(url: unknown, name: unknown): unknown {
    return this.io.call('jar', { id: this.id, op: 'delete', args: [url, name] });
  }
}

function reviveResponses(v: unknown): unknown {
  if (Array.isArray(v)) return (v as ResponseWire[]).map((w) => Response.fromWire(w));
  return Object.fromEntries(Object.entries(v as Record<string, ResponseWire>).map(([k, w]) => [k, Response.fromWire(w)]));
}

function createBlockingHttp(ctx: EngineModuleContext, io: ThreadIo): Record<string, unknown> {
  const request = (method: string, url: unknown, body: unknown, params: unknown): Response =>
    Response.fromWire(io.call('http.request', { method, url: toWire(url), body: toWire(body), params: toWire(params) }) as ResponseWire);
  return {
    request: (method: unknown, url: unknown, body?: unknown, params?: unknown) => request(String(method), url, body ?? null, params),
    asyncRequest: (method: unknown, url: unknown, body?: unknown, params?: unknown) => {
      const p = io
        .callAsync('http.request', { method: String(method), url: toWire(url), body: toWire(body ?? null), params: toWire(params) })
        .then((w) => Response.fromWire(w as ResponseWire));
      ctx.trackPending(p);
      return p;
    },
    get: (url: unknown, params?: unknown) => request('GET', url, null, params),
    head: (url: unknown, params?: unknown) => request('HEAD', url, null, params),
    post: (url: unknown, body?: unknown, params?: unknown) => request('POST', url, body ?? null, params),
    put: (url: unknown, body?: unknown, params?: unknown) => request('PUT', url, body ?? null, params),
    patch: (url: unknown, body?: unknown, params?: unknown) => request('PATCH', url, body ?? null, params),
    del: (url: unknown, body?: unknown, params?: unknown) => request('DELETE', url, body ?? null, params),
    options: (url: unknown, body?: unknown, params?: unknown) => request('OPTIONS', url, body ?? null, params),
    batch: (requests: unknown) => reviveResponses(io.call('http.batch', toWire(requests))),
    expectedStatuses: (...specs: unknown[]) => {
      io.call('http.expectedStatuses', specs);
      return new ExpectedStatuses(specs);
    },
    setResponseCallback: (cb: unknown) => {
      io.call('http.setResponseCallback', toWire(cb));
    },
    CookieJar: class extends ThreadJar {
      constructor() {
        super(io.call('jar.new', null) as number, io);
      }
    },
    cookieJar: () => {
      if (ctx.stage() === 'init')
        throw new ModuleUsageError(
          'cookie-jar-in-init',
          'http.cookieJar(): making cookie jars in the init context is not supported; call it in setup() or the default function (new http.CookieJar() works anywhere)',
        );
      return new ThreadJar(0, io);
    },
    file: (data: unknown, filename?: unknown, contentType?: unknown) => new FileData(data, filename, contentType),
    url: urlTemplate,
  };
}

/** k6/ws's socket in a VU thread: the connection is the host's; its events come back through blocking waits. */
class ThreadSocket extends WsSocketBase {
  readonly #io: ThreadIo;
  readonly #sid: number;
  readonly #timers: { due: number; every: number; fn: () => unknown }[] = [];
  closed = false;
  constructor(io: ThreadIo, sid: number) {
    super();
    this.#io = io;
    this.#sid = sid;
  }
  send(message: unknown): void {
    this.#io.call('ws.send', { sid: this.#sid, data: String(message) });
  }
  sendBinary(message: unknown): void {
    this.#io.call('ws.send', { sid: this.#sid, data: binaryArg(message) });
  }
  ping(): void {
    this.#io.call('ws.ping', { sid: this.#sid });
  }
  close(code?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const c = closeCode(code);
    this.#io.call('ws.close', { sid: this.#sid, code: c });
    this.fire('close', c);
  }
  setTimeout(fn: unknown, ms: unknown): void {
    const d = timerDelay('setTimeout', ms);
    if (typeof fn === 'function') this.#timers.push({ due: performance.now() + d, every: 0, fn: fn as () => unknown });
  }
  setInterval(fn: unknown, ms: unknown): void {
    const d = timerDelay('setInterval', ms);
    if (typeof fn === 'function') this.#timers.push({ due: performance.now() + d, every: d, fn: fn as () => unknown });
  }
  /** connect()'s loop: `open`, then events and timers until the socket closes. */
  run(): void {
    this.fire('open');
    while (!this.closed) {
      const now = performance.now();
      let next = Number.POSITIVE_INFINITY;
      for (const t of this.#timers) next = Math.min(next, t.due);
      const waitMs = Number.isFinite(next) ? Math.max(0, next - now) : 60_000;
      const r = this.#io.call('ws.next', { sid: this.#sid, waitMs }) as { events: WsEvent[]; interrupted?: boolean };
      for (const e of r.events) {
        if (this.closed) break;
        if (e.type === 'close') {
          this.closed = true;
          this.#io.call('ws.close', { sid: this.#sid, code: e.code });
          this.fire('close', e.code);
        } else {
          this.dispatch(e);
        }
      }
      if (r.interrupted === true && !this.closed) {
        this.close(1001);
        throw new InterruptedError();
      }
      const due = performance.now();
      for (const t of [...this.#timers]) {
        if (this.closed || t.due > due) continue;
        if (t.every > 0) t.due += t.every * Math.max(1, Math.ceil((due - t.due) / t.every));
        else this.#timers.splice(this.#timers.indexOf(t), 1);
        t.fn();
      }
    }
  }
}

function createBlockingWs(ctx: EngineModuleContext, io: ThreadIo): Record<string, unknown> {
  function connect(url: unknown, ...args: unknown[]): WsResponse {
    if (args.length === 0 || args.length > 2) throw new ModuleUsageError('ws-bad-args', 'invalid number of arguments to ws.connect');
    const [paramsIn, fn] = args.length === 2 ? [args[0], args[1]] : [undefined, args[0]];
    if (typeof fn !== 'function') throw new ModuleUsageError('ws-bad-args', 'last argument to ws.connect must be a function');
    if (ctx.stage() === 'init')
      throw new ModuleUsageError(
        'ws-in-init',
        'using websockets in the init context is not supported; call ws.connect() in the default function, setup() or teardown()',
      );
    const params = parseConnectParams(paramsIn);
    const { sid, response } = io.call('ws.open', { url: String(url), params }) as { sid: number | undefined; response: WsResponse };
    if (sid === undefined) return response;
    const socket = new ThreadSocket(io, sid);
    try {
      (fn as (s: unknown) => unknown)(socket);
      socket.run();
    } catch (e) {
      if (!socket.closed) {
        socket.closed = true;
        io.call('ws.close', { sid, code: 1001 });
      }
      throw e;
    }
    return response;
  }
  return { connect };
}

/** k6's SharedArray over bytes VU 0 shared: each element parsed (and frozen) when read. */
function sharedArrayView(d: SharedArrayData): readonly unknown[] {
  const bytes = new Uint8Array(d.bytes);
  const offsets = new Float64Array(d.offsets);
  const length = offsets.length - 1;
  const decoder = new TextDecoder();
  const freeze = (v: unknown): unknown => {
    if (typeof v === 'object' && v !== null) {
      for (const k of Object.keys(v)) freeze((v as Record<string, unknown>)[k]);
      Object.freeze(v);
    }
    return v;
  };
  const target = Object.freeze(new Array<unknown>(length));
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'string' && /^(0|[1-9]\d*)$/.test(key)) {
        const i = Number(key);
        if (i >= length) return undefined;
        return freeze(JSON.parse(decoder.decode(bytes.subarray(offsets[i] ?? 0, offsets[i + 1] ?? 0))) as unknown);
      }
      return Reflect.get(t, key, receiver) as unknown;
    },
    has(t, key) {
      if (typeof key === 'string' && /^(0|[1-9]\d*)$/.test(key)) return Number(key) < length;
      return Reflect.has(t, key);
    },
  });
}

function createThreadDataModule(shared: ReadonlyMap<string, SharedArrayData>): Factory {
  return (ctx) => {
    const local = createDataModule(ctx) as { SharedArray: (name: unknown, make: () => unknown) => readonly unknown[] };
    function SharedArray(name: unknown, make: () => unknown): readonly unknown[] {
      const d = typeof name === 'string' ? shared.get(name) : undefined;
      if (d === undefined) return local.SharedArray(name, make);
      if (ctx.stage() !== 'init')
        throw new ModuleUsageError(
          'shared-array-outside-init',
          `new SharedArray("${String(name)}") must be created in the init context, not in ${ctx.stage()} code`,
        );
      const key = `k6/data:${String(name)}`;
      const view = (ctx.shared.get(key) as readonly unknown[] | undefined) ?? sharedArrayView(d);
      ctx.shared.set(key, view);
      return view;
    }
    return { SharedArray };
  };
}

/** The module table of one VU thread; `k6/x/sql` is loaded only by scripts that import it. */
export async function threadModules(
  io: ThreadIo,
  imports: readonly string[],
  shared: readonly SharedArrayData[],
): Promise<Record<string, Factory>> {
  const table: Record<string, Factory> = {
    k6: (ctx) => ({
      ...createK6Module(ctx),
      sleep: (seconds: unknown) => {
        io.sleep(Math.max(0, Number(seconds) * 1000));
      },
    }),
    'k6/http': (ctx) => createBlockingHttp(ctx, io),
    'k6/ws': (ctx) => createBlockingWs(ctx, io),
    'k6/html': createHtmlModule,
    'k6/metrics': createMetricsModule,
    'k6/execution': createExecutionModule,
    'k6/data': createThreadDataModule(new Map(shared.map((d) => [d.name, d]))),
    'k6/crypto': createCryptoModule,
    'k6/encoding': createEncodingModule,
    'k6/timers': createTimersModule,
    'k6/websockets': createWebSocketsModule,
    'k6/experimental/websockets': createWebSocketsModule,
    'k6/experimental/fs': createFsModule,
    'k6/experimental/csv': createCsvModule,
  };
  if (imports.some((i) => i.startsWith('k6/x/sql'))) {
    const sql = await import('../modules/sql.ts');
    table['k6/x/sql'] = sql.createSqlModule;
    table['k6/x/sql/driver/postgres'] = sql.createSqlDriverModule('postgres');
    table['k6/x/sql/driver/sqlite3'] = sql.createSqlDriverModule('sqlite3');
  }
  return table;
}
