/**
 * The engine thread's side of the synchronous VU mode: a `ThreadVu` is a VirtualUser whose script runs
 * on its own worker thread (vu-thread.ts) and whose I/O — k6/http requests with their cookie jars,
 * k6/ws sessions — runs here, on this thread's event loop, with the engine's own modules. The thread
 * blocks while its call runs, as a k6 VU blocks on Go's I/O.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname } from 'node:path';
import type { IterationContext, IterationResult, Tags } from '../contracts.ts';
import type { EngineIterationContext, EngineModuleContext, Interruptible, IterationInterruption } from '../modules/context.ts';
import { createHttpModule, type Response } from '../modules/http.ts';
import { WsSession, type WsEvent } from '../modules/ws.ts';
import { EngineError, EXIT_CODES, TestAbortedError } from '../runtime/errors.ts';
import type { LoadedScript } from '../runtime/loader.ts';
import type { PooledVu } from '../runtime/pool.ts';
import { connectRefusalOf, type VuHost } from '../runtime/vu.ts';
import { entryBoot, workerArgv } from '../runtime/workers.ts';
import {
  CTL_WORDS,
  ANSWERED,
  INTERRUPT,
  REPLY,
  toWireError,
  type CallReply,
  type CallState,
  type HostMessage,
  type SharedArrayData,
  type ThreadInit,
  type ThreadMessage,
  type WireError,
} from './protocol.ts';

const VU_THREAD = fileURLToPath(new URL('./vu-thread.ts', import.meta.url));
const VU_THREAD_TSX = new URL('./vu-thread-boot.mjs', import.meta.url);
/** How long an interrupted VU thread may keep running script code before the thread is stopped (k6 interrupts at once). */
export const INTERRUPT_GRACE_MS = 1000;

/** What every ThreadVu of an engine instance shares. */
export interface ThreadVuShared {
  readonly script: LoadedScript;
  readonly host: VuHost;
  readonly sharedArrays: readonly SharedArrayData[];
  readonly exports: () => Readonly<Record<string, unknown>>;
}

/** Packs SharedArrays VU 0 built (its `shared` map) for the threads: JSON per element, read on access. */
export function packSharedArrays(shared: ReadonlyMap<string, unknown>): SharedArrayData[] {
  const out: SharedArrayData[] = [];
  const encoder = new TextEncoder();
  for (const [key, value] of shared) {
    if (!key.startsWith('k6/data:') || !Array.isArray(value)) continue;
    const parts = value.map((v: unknown) => encoder.encode((JSON.stringify(v) as string | undefined) ?? 'null'));
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const bytes = new SharedArrayBuffer(total);
    const offsets = new SharedArrayBuffer((parts.length + 1) * 8);
    const b = new Uint8Array(bytes);
    const o = new Float64Array(offsets);
    let at = 0;
    parts.forEach((p, i) => {
      o[i] = at;
      b.set(p, at);
      at += p.byteLength;
    });
    o[parts.length] = at;
    out.push({ name: key.slice('k6/data:'.length), bytes, offsets });
  }
  return out;
}

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

/** The interruption of a lifecycle call (its signal). */
function interruptionOf(signal: AbortSignal): IterationInterruption {
  const hooks = new Map<Interruptible, () => void>();
  return {
    get aborted() {
      return signal.aborted;
    },
    add(h) {
      const l = (): void => {
        h.interrupt(signal.reason);
      };
      hooks.set(h, l);
      signal.addEventListener('abort', l, { once: true });
    },
    delete(h) {
      const l = hooks.get(h);
      if (l !== undefined) {
        hooks.delete(h);
        signal.removeEventListener('abort', l);
      }
    },
  };
}

export class ThreadVu implements PooledVu {
  readonly idInTest: number;
  readonly idInInstance: number;
  readonly #shared: ThreadVuShared;
  #worker!: Worker;
  #ctl!: Int32Array;
  #port!: MessageChannel['port1'];
  #dataText: string | undefined;
  /** The I/O host's view of this VU (what its calls say), for its http module. */
  readonly #state = { stage: 'init' as CallState['stage'], iterInVu: 0, tags: {} as Tags, sent: 0, received: 0 };
  #interruption: IterationInterruption | undefined;
  #iteration: IterationContext | undefined;
  readonly #http: Record<string, unknown>;
  readonly #jars = new Map<number, unknown>();
  #nextJar = 1;
  readonly #ws = new Map<number, WsState>();
  #nextWs = 1;
  #pending: { resolve: (m: ThreadMessage) => void } | undefined;
  #dead = false;
  #ready: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  private constructor(shared: ThreadVuShared, idInTest: number, idInInstance: number, dataText: string | undefined) {
    this.#shared = shared;
    this.idInTest = idInTest;
    this.idInInstance = idInInstance;
    this.#dataText = dataText;
    this.#http = createHttpModule(this.#ioContext());
  }

  /** Starts the VU's thread and runs its init code there. Init exceptions → EngineError 107. */
  static async create(shared: ThreadVuShared, idInTest: number, idInInstance: number, dataText: string | undefined): Promise<ThreadVu> {
    const vu = new ThreadVu(shared, idInTest, idInInstance, dataText);
    await vu.#start();
    return vu;
  }

  get exports(): Readonly<Record<string, unknown>> {
    return this.#shared.exports();
  }

  async #start(): Promise<void> {
    const { script, host, sharedArrays } = this.#shared;
    const boot = await entryBoot(VU_THREAD);
    const ctl = new SharedArrayBuffer(CTL_WORDS * 4);
    this.#ctl = new Int32Array(ctl);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const init: ThreadInit = {
      source: script.source,
      imports: script.imports,
      idInTest: this.idInTest,
      idInInstance: this.idInInstance,
      env: host.env,
      options: host.options(),
      runTags: host.runTags(),
      ctl,
      calls: port2,
      shared: sharedArrays,
      metrics: host.registry?.() ?? [],
      dataText: this.#dataText,
      allowedHosts: host.hostPolicy?.allowed,
    };
    const entry = boot.kind === 'bundle' ? pathToFileURL(boot.file) : VU_THREAD_TSX;
    this.#worker = new Worker(entry, {
      workerData: init,
      transferList: [port2],
      execArgv: workerArgv(boot.kind === 'tsx'),
      stdout: false,
      stderr: false,
    });
    this.#dead = false;
    port1.on('message', (m: ThreadMessage) => {
      this.#onMessage(m);
    });
    const ready = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    this.#worker.on('error', (e) => {
      this.#ready?.reject(
        new EngineError('init-exception', EXIT_CODES.genericEngine, `VU ${String(this.idInInstance)}'s thread failed: ${e.message}`),
      );
      this.#died();
    });
    this.#worker.on('exit', () => {
      // What the thread said before it ended (an initFailed with its exit code) may still wait on the port.
      for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1))
        this.#onMessage(m.message as ThreadMessage);
      this.#ready?.reject(
        new EngineError('init-exception', EXIT_CODES.genericEngine, `VU ${String(this.idInInstance)}'s thread ended during init`),
      );
      this.#died();
    });
    await ready;
    this.#ready = undefined;
  }

  #died(): void {
    this.#dead = true;
    this.#port.close();
    this.#pending?.resolve({ t: 'iterDone', kind: 'interrupted' });
    this.#pending = undefined;
  }

  /** The module context the I/O host's k6/http and k6/ws use for this VU. */
  #ioContext(): EngineModuleContext {
    const host = this.#shared.host;
    const st = this.#state;
    return {
      vu: { idInTest: this.idInTest, idInInstance: this.idInInstance },
      emit: (s) => {
        host.sink.add(s);
      },
      currentTags: () => st.tags,
      iterationSignal: () => this.#iteration?.signal,
      iterationInterruption: () => this.#interruption,
      trackPending: () => undefined,
      trackAwaitable: () => undefined,
      clock: host.clock,
      env: host.env,
      stage: () => st.stage,
      iteration: () => this.#iteration,
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
      scriptDir: dirname(this.#shared.script.path),
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

  #takeBytes(): readonly [number, number] | undefined {
    const st = this.#state;
    if (st.sent === 0 && st.received === 0) return undefined;
    const b = [st.sent, st.received] as const;
    st.sent = 0;
    st.received = 0;
    return b;
  }

  #onMessage(m: ThreadMessage): void {
    const host = this.#shared.host;
    switch (m.t) {
      case 'call':
      case 'asyncCall': {
        if (m.samples !== undefined) host.sink.add(m.samples);
        this.#state.stage = m.state.stage;
        this.#state.iterInVu = m.state.iterInVu;
        if (m.state.tags !== undefined) this.#state.tags = m.state.tags;
        const done = (reply: CallReply): void => {
          if (this.#dead) return;
          if (m.t === 'call') {
            this.#port.postMessage(reply);
            Atomics.store(this.#ctl, REPLY, 1);
            Atomics.notify(this.#ctl, REPLY);
          } else {
            this.#post({ t: 'async', id: m.id, ok: reply.ok, value: reply.ok ? { value: reply.value, bytes: reply.bytes } : reply.error });
          }
        };
        this.#handle(m.op, m.args).then(
          (value) => {
            const bytes = this.#takeBytes();
            done(bytes === undefined ? { ok: true, value } : { ok: true, value, bytes });
          },
          (e: unknown) => {
            const bytes = this.#takeBytes();
            const error: WireError =
              (e as { code?: unknown }).code === 'interrupted' || this.#interruption?.aborted === true
                ? { ...toWireError(e), kind: 'interrupted' }
                : toWireError(e);
            done(bytes === undefined ? { ok: false, error } : { ok: false, error, bytes });
          },
        );
        break;
      }
      case 'samples':
        host.sink.add(m.samples);
        break;
      case 'log':
        host.logger.out.write(m.text);
        break;
      case 'warnOnce':
        host.logger.warnOnce(m.key, m.message);
        break;
      case 'define':
        try {
          host.defineMetric(m.name, m.type, m.contains);
        } catch {
          /* the thread's own registry reported it */
        }
        break;
      case 'abort':
        host.abortTest(m.reason);
        break;
      case 'fail':
        host.failTest(m.reason);
        break;
      case 'ready':
        this.#ready?.resolve();
        break;
      case 'initFailed':
        this.#ready?.reject(
          new EngineError(
            'init-exception',
            m.code === EXIT_CODES.scriptException ? EXIT_CODES.scriptException : EXIT_CODES.genericEngine,
            m.message,
          ),
        );
        break;
      case 'iterDone':
      case 'lifeDone': {
        if (m.samples !== undefined) host.sink.add(m.samples);
        const p = this.#pending;
        this.#pending = undefined;
        p?.resolve(m);
        break;
      }
    }
  }

  async #handle(op: string, args: unknown): Promise<unknown> {
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
        return this.#shared.host.instanceStats();
      case 'progress':
        return this.#iteration?.scenario.progress() ?? 0;
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
    const { session, response } = await WsSession.open(this.#ioContext(), url, params);
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
    const interrupted = (): boolean => this.#interruption?.aborted === true;
    if (st.queue.length === 0 && !interrupted()) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, waitMs);
        const hook: Interruptible = {
          interrupt: () => {
            done();
          },
        };
        this.#interruption?.add(hook);
        function done(): void {
          clearTimeout(t);
          st.wake = undefined;
          resolve();
        }
        st.wake = () => {
          this.#interruption?.delete(hook);
          done();
        };
      });
    }
    st.session.countBytes();
    const events = st.queue.splice(0);
    return interrupted() ? { events, interrupted: true } : { events };
  }

  #post(m: HostMessage): void {
    if (!this.#dead) this.#worker.postMessage(m);
  }

  #interrupt(): void {
    Atomics.store(this.#ctl, INTERRUPT, 1);
    Atomics.notify(this.#ctl, INTERRUPT);
    this.#post({ t: 'interrupt' });
    for (const w of this.#ws.values()) w.wake?.();
    // Script code that never blocks (a tight loop) cannot see the flag: stop its thread.
    const pending = this.#pending;
    if (pending !== undefined) {
      setTimeout(() => {
        if (this.#pending === pending && !this.#dead && Atomics.load(this.#ctl, ANSWERED) === 0) void this.#worker.terminate();
      }, INTERRUPT_GRACE_MS).unref();
    }
  }

  async #restartIfDead(): Promise<void> {
    if (this.#dead) await this.#start();
  }

  /** Waits for the thread's answer to a started iteration or lifecycle call. */
  #await(): Promise<ThreadMessage> {
    return new Promise((resolve) => {
      this.#pending = { resolve };
    });
  }

  async runIteration(it: IterationContext): Promise<IterationResult> {
    await this.#restartIfDead();
    const intr = (it as EngineIterationContext).interruption ?? interruptionOf(it.signal);
    this.#iteration = it;
    this.#interruption = intr;
    this.#state.stage = 'iteration';
    Atomics.store(this.#ctl, INTERRUPT, 0);
    Atomics.store(this.#ctl, ANSWERED, 0);
    const hook: Interruptible = {
      interrupt: () => {
        this.#interrupt();
      },
    };
    const done = this.#await();
    this.#post({
      t: 'iter',
      it: {
        scenario: {
          name: it.scenario.name,
          executor: it.scenario.executor,
          exec: it.scenario.exec,
          tags: it.scenario.tags,
          env: it.scenario.env,
          startWall: this.#shared.host.clock.wallNow() - (this.#shared.host.clock.now() - it.scenario.startTime),
        },
        iterationInInstance: it.iterationInInstance,
        iterationInTest: it.iterationInTest,
      },
    });
    if (intr.aborted) this.#interrupt();
    else intr.add(hook);
    const m = await done;
    intr.delete(hook);
    this.#iteration = undefined;
    this.#interruption = undefined;
    if (m.t !== 'iterDone') return { kind: 'interrupted' };
    if (m.kind === 'failed') return { kind: 'failed', error: new Error(m.error ?? '') };
    return { kind: m.kind };
  }

  /** Runs setup/teardown/handleSummary on the thread; `signal` interrupts it (its time limit, a stop). */
  async callLifecycle(
    name: 'setup' | 'teardown' | 'handleSummary',
    stage: 'setup' | 'teardown' | 'summary',
    arg?: unknown,
    signal?: AbortSignal,
    extra?: unknown,
  ): Promise<unknown> {
    await this.#restartIfDead();
    this.#interruption = signal === undefined ? undefined : interruptionOf(signal);
    this.#state.stage = stage;
    Atomics.store(this.#ctl, INTERRUPT, 0);
    Atomics.store(this.#ctl, ANSWERED, 0);
    const onAbort = (): void => {
      this.#interrupt();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = this.#await();
    this.#post({
      t: 'life',
      name,
      stage,
      argText: arg === undefined ? undefined : JSON.stringify(arg),
      extraText: extra === undefined ? undefined : JSON.stringify(extra),
    });
    try {
      const m = await done;
      if (m.t !== 'lifeDone') throw new Error(`${name}() was interrupted`);
      if (m.ok) return m.value;
      const w = m.error ?? { name: 'Error', message: 'unknown error' };
      if (w.kind === 'aborted') throw new TestAbortedError(w.message);
      const e = new Error(w.message);
      e.name = w.name;
      if (w.stack !== undefined) e.stack = w.stack;
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#interruption = undefined;
    }
  }

  setData(data: unknown): void {
    this.#dataText = data === undefined ? undefined : JSON.stringify(data);
    this.#post({ t: 'data', text: this.#dataText });
  }

  async close(): Promise<void> {
    for (const w of this.#ws.values()) w.session.close(1001);
    this.#ws.clear();
    (this.#http[Symbol.for('agentload.close') as unknown as string] as (() => void) | undefined)?.();
    if (!this.#dead) {
      this.#dead = true;
      this.#port.close();
      await this.#worker.terminate();
    }
  }
}
