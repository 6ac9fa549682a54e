/**
 * The engine thread's half of one synchronous VU's I/O: the thread's k6/http calls (with their cookie jars)
 * and k6/ws sessions run here, on the engine's own modules and event loop, while the thread blocks.
 * `state` is what the thread's calls say about it (stage, iteration, tags) and the bytes its I/O counted.
 */
import { dirname } from 'node:path';
import type { IterationContext, Tags } from '../contracts.ts';
import type { EngineModuleContext, Interruptible, IterationInterruption } from '../modules/context.ts';
import { addRowTo } from '../metrics/index.ts';
import { createHttpModule, type Response } from '../modules/http.ts';
import { WsSession, type WsEvent } from '../modules/ws/session.ts';
import { TestAbortedError } from '../runtime/errors.ts';
import { connectRefusalOf, type VuHost } from '../runtime/vu-host.ts';
import type { CallState } from './protocol.ts';

interface WsState {
  readonly session: WsSession;
  readonly queue: WsEvent[];
  wake: (() => void) | undefined;
}

function fromWire(v: unknown, http: Record<string, unknown>, jars: Map<number, unknown>): unknown {
  if (v === null || typeof v !== 'object' || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map((x) => fromWire(x, http, jars));
  const o = v as Record<string, unknown>;
  if ('__agentloadFile' in o) {
    const f = o.__agentloadFile as { data: unknown; filename: unknown; content_type: unknown };
    return (http.file as (d: unknown, n: unknown, t: unknown) => unknown)(f.data, f.filename, f.content_type);
  }
  if ('__agentloadJar' in o) {
    const id = Number(o.__agentloadJar);
    return id === 0 ? (http.cookieJar as () => unknown)() : jars.get(id);
  }
  if ('__agentloadExpected' in o) return (http.expectedStatuses as (...a: unknown[]) => unknown)(...(o.__agentloadExpected as unknown[]));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = fromWire(x, http, jars);
  return out;
}

export class VuIoHost {
  /** The I/O host's view of the VU (what its calls say), for its http module; bytes counted since the last answer. */
  readonly state = { stage: 'init' as CallState['stage'], iterInVu: 0, tags: {} as Tags, sent: 0, received: 0 };
  /** The running iteration and what interrupts it (a lifecycle call has only the latter). */
  iteration: IterationContext | undefined;
  interruption: IterationInterruption | undefined;
  readonly idInTest: number;
  readonly idInInstance: number;
  readonly #host: VuHost;
  readonly #scriptDir: string;
  readonly #http: Record<string, unknown>;
  readonly #jars = new Map<number, unknown>();
  #nextJar = 1;
  readonly #ws = new Map<number, WsState>();
  #nextWs = 1;

  constructor(host: VuHost, scriptPath: string, idInTest: number, idInInstance: number) {
    this.#host = host;
    this.#scriptDir = dirname(scriptPath);
    this.idInTest = idInTest;
    this.idInInstance = idInInstance;
    this.#http = createHttpModule(this.#context());
  }

  /** The module context the I/O host's k6/http and k6/ws use for this VU. */
  #context(): EngineModuleContext {
    const host = this.#host;
    const st = this.state;
    return {
      vu: { idInTest: this.idInTest, idInInstance: this.idInInstance },
      emit: (s) => {
        host.sink.add(s);
      },
      emitRow: (row) => {
        addRowTo(host.sink, row);
      },
      currentTags: () => st.tags,
      iterationSignal: () => this.iteration?.signal,
      iterationInterruption: () => this.interruption,
      trackPending: () => undefined,
      trackAwaitable: () => undefined,
      clock: host.clock,
      env: host.env,
      stage: () => st.stage,
      iteration: () => this.iteration,
      options: () => host.options(),
      vuTags: {},
      groupPath: () => st.tags.group ?? '',
      setGroupPath: () => undefined,
      defineMetric: (n, t, c) => host.defineMetric(n, t, c),
      abortTest: (reason?: string): never => {
        throw new TestAbortedError(reason ?? '');
      },
      warnOnce: (k, m) => {
        host.logger.warnOnce(k, m);
      },
      log: (level, m) => {
        host.logger.log(level, m, { source: 'console' });
      },
      countBytes: (sent, received) => {
        st.sent += sent;
        st.received += received;
      },
      discardResponseBodies: () => host.discardResponseBodies(),
      callSite: () => '',
      captureSite: () => () => '',
      wantSites: () => false,
      shared: host.shared,
      scriptDir: this.#scriptDir,
      instanceStats: () => host.instanceStats(),
      iterationInScenario: () => 0,
      iterationInVu: () => st.iterInVu,
      failTest: (r) => {
        host.failTest(r);
      },
      failIteration: () => undefined,
      connectRefusal: connectRefusalOf(host),
    };
  }

  /** The bytes counted since the last answer (reset), for the thread's data_sent / data_received. */
  takeBytes(): readonly [number, number] | undefined {
    const st = this.state;
    if (st.sent === 0 && st.received === 0) return undefined;
    const b = [st.sent, st.received] as const;
    st.sent = 0;
    st.received = 0;
    return b;
  }

  /** Runs one call the VU's thread made (`op`: http.*, jar*, ws.*, stats, progress) and resolves its wire value. */
  async handle(op: string, args: unknown): Promise<unknown> {
    const http = this.#http;
    const a = args as Record<string, unknown>;
    switch (op) {
      case 'http.request': {
        const res = await (http.request as (m: unknown, u: unknown, b: unknown, p: unknown) => Promise<Response>)(
          a.method,
          a.url,
          fromWire(a.body, http, this.#jars),
          fromWire(a.params, http, this.#jars),
        );
        return res.wire();
      }
      case 'http.batch': {
        const out = await (http.batch as (r: unknown) => Promise<Response[] | Record<string, Response>>)(fromWire(args, http, this.#jars));
        return Array.isArray(out) ? out.map((r) => r.wire()) : Object.fromEntries(Object.entries(out).map(([k, r]) => [k, r.wire()]));
      }
      case 'http.expectedStatuses':
        (http.expectedStatuses as (...s: unknown[]) => unknown)(...(args as unknown[]));
        return null;
      case 'http.setResponseCallback':
        (http.setResponseCallback as (cb: unknown) => void)(fromWire(args, http, this.#jars));
        return null;
      case 'jar.new': {
        const id = this.#nextJar++;
        this.#jars.set(id, new (http.CookieJar as new () => unknown)());
        return id;
      }
      case 'jar': {
        const jar = (a.id === 0 ? (http.cookieJar as () => unknown)() : this.#jars.get(Number(a.id))) as
          Record<string, (...x: unknown[]) => unknown> | undefined;
        const fn = jar?.[String(a.op)];
        if (jar === undefined || typeof fn !== 'function') throw new Error(`unknown cookie jar operation ${String(a.op)}`);
        return fn.apply(jar, fromWire(a.args, http, this.#jars) as unknown[]);
      }
      case 'stats':
        return this.#host.instanceStats();
      case 'progress':
        return this.iteration?.scenario.progress() ?? 0;
      case 'ws.open':
        return this.#wsOpen(String(a.url), a.params as Parameters<typeof WsSession.open>[2]);
      case 'ws.send':
        this.#wsOf(a.sid).session.send(a.data as string | ArrayBuffer);
        return null;
      case 'ws.ping':
        this.#wsOf(a.sid).session.ping();
        return null;
      case 'ws.close': {
        const w = this.#ws.get(Number(a.sid));
        if (w !== undefined) {
          this.#ws.delete(Number(a.sid));
          w.session.close(Number(a.code));
        }
        return null;
      }
      case 'ws.next':
        return this.#wsNext(this.#wsOf(a.sid), Number(a.waitMs));
      default:
        throw new Error(`unknown VU thread call ${op}`);
    }
  }

  #wsOf(sid: unknown): WsState {
    const w = this.#ws.get(Number(sid));
    if (w === undefined) throw new Error('websocket: the connection is closed');
    return w;
  }

  async #wsOpen(url: string, params: Parameters<typeof WsSession.open>[2]): Promise<unknown> {
    const { session, response } = await WsSession.open(this.#context(), url, params);
    if (session === undefined) return { sid: undefined, response };
    const sid = this.#nextWs++;
    const st: WsState = { session, queue: [], wake: undefined };
    session.onEvent = (e) => {
      st.queue.push(e);
      st.wake?.();
    };
    this.#ws.set(sid, st);
    return { sid, response };
  }

  /** Waits up to `waitMs` for the session's next events (at once when some are queued or the VU is interrupted). */
  async #wsNext(st: WsState, waitMs: number): Promise<{ events: WsEvent[]; interrupted?: boolean }> {
    const interrupted = (): boolean => this.interruption?.aborted === true;
    if (st.queue.length === 0 && !interrupted()) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, waitMs);
        const hook: Interruptible = {
          interrupt: () => {
            done();
          },
        };
        this.interruption?.add(hook);
        function done(): void {
          clearTimeout(t);
          st.wake = undefined;
          resolve();
        }
        st.wake = () => {
          this.interruption?.delete(hook);
          done();
        };
      });
    }
    st.session.countBytes();
    const events = st.queue.splice(0);
    return interrupted() ? { events, interrupted: true } : { events };
  }

  /** An interruption: every session waiting for events answers at once. */
  wakeSockets(): void {
    for (const w of this.#ws.values()) w.wake?.();
  }

  /** The VU closes: its sessions (1001, going away) and its http module's connections. */
  close(): void {
    for (const w of this.#ws.values()) w.session.close(1001);
    this.#ws.clear();
    (this.#http[Symbol.for('agentload.close') as unknown as string] as (() => void) | undefined)?.();
  }
}
