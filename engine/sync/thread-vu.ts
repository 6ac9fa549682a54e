/**
 * The engine thread's side of the synchronous VU mode: a `ThreadVu` is a VirtualUser whose script runs
 * on its own worker thread (vu-thread.ts) and whose I/O — k6/http requests with their cookie jars,
 * k6/ws sessions — runs here, on this thread's event loop, with the engine's own modules (io-host.ts).
 * The thread blocks while its call runs, as a k6 VU blocks on Go's I/O.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { IterationContext, IterationResult } from '../contracts.ts';
import type { EngineIterationContext, Interruptible } from '../modules/context.ts';
import { EngineError, EXIT_CODES, TestAbortedError } from '../runtime/errors.ts';
import type { LoadedScript } from '../runtime/loader.ts';
import type { PooledVu } from '../runtime/pool.ts';
import { interruptionOf } from '../runtime/interruption.ts';
import type { VuHost } from '../runtime/vu-host.ts';
import { entryBoot, workerArgv } from '../runtime/workers.ts';
import {
  CTL_WORDS,
  ANSWERED,
  INTERRUPT,
  REPLY,
  toWireError,
  type CallReply,
  type HostMessage,
  type SharedArrayData,
  type ThreadInit,
  type ThreadMessage,
  type WireError,
} from './protocol.ts';
import { VuIoHost } from './io-host.ts';

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

export class ThreadVu implements PooledVu {
  readonly idInTest: number;
  readonly idInInstance: number;
  readonly #shared: ThreadVuShared;
  #worker!: Worker;
  #ctl!: Int32Array;
  #port!: MessageChannel['port1'];
  #dataText: string | undefined;
  /** The VU's I/O on this thread, and what its calls say about it. */
  readonly #io: VuIoHost;
  #pending: { resolve: (m: ThreadMessage) => void } | undefined;
  #dead = false;
  #ready: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** Resolves close()'s wait for the thread's `drained`. */
  #drained: (() => void) | undefined;

  private constructor(shared: ThreadVuShared, idInTest: number, idInInstance: number, dataText: string | undefined) {
    this.#shared = shared;
    this.idInTest = idInTest;
    this.idInInstance = idInInstance;
    this.#dataText = dataText;
    this.#io = new VuIoHost(shared.host, shared.script.path, idInTest, idInInstance);
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
    const worker = new Worker(entry, {
      workerData: init,
      transferList: [port2],
      execArgv: workerArgv(boot.kind === 'tsx'),
      stdout: false,
      stderr: false,
    });
    this.#worker = worker;
    this.#dead = false;
    port1.on('message', (m: ThreadMessage) => {
      this.#onMessage(m);
    });
    const ready = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    // A thread that failed ('error') is replaced at the VU's next call, possibly before its 'exit' arrives: the
    // events of a replaced thread must not end its successor (which would be left running, holding the run's end).
    worker.on('error', (e) => {
      if (this.#worker !== worker) return;
      this.#ready?.reject(
        new EngineError('init-exception', EXIT_CODES.genericEngine, `VU ${String(this.idInInstance)}'s thread failed: ${e.message}`),
      );
      this.#died();
    });
    worker.on('exit', () => {
      if (this.#worker !== worker) return;
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

  #onMessage(m: ThreadMessage): void {
    const host = this.#shared.host;
    switch (m.t) {
      case 'call':
      case 'asyncCall': {
        if (m.samples !== undefined) host.sink.add(m.samples);
        this.#io.state.stage = m.state.stage;
        this.#io.state.iterInVu = m.state.iterInVu;
        if (m.state.tags !== undefined) this.#io.state.tags = m.state.tags;
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
        this.#io.handle(m.op, m.args).then(
          (value) => {
            const bytes = this.#io.takeBytes();
            done(bytes === undefined ? { ok: true, value } : { ok: true, value, bytes });
          },
          (e: unknown) => {
            const bytes = this.#io.takeBytes();
            const error: WireError =
              (e as { code?: unknown }).code === 'interrupted' || this.#io.interruption?.aborted === true
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
      case 'drained':
        this.#drained?.();
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

  #post(m: HostMessage): void {
    if (!this.#dead) this.#worker.postMessage(m);
  }

  #interrupt(): void {
    Atomics.store(this.#ctl, INTERRUPT, 1);
    Atomics.notify(this.#ctl, INTERRUPT);
    this.#post({ t: 'interrupt' });
    this.#io.wakeSockets();
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
    this.#io.iteration = it;
    this.#io.interruption = intr;
    this.#io.state.stage = 'iteration';
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
    this.#io.iteration = undefined;
    this.#io.interruption = undefined;
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
    this.#io.interruption = signal === undefined ? undefined : interruptionOf(signal);
    this.#io.state.stage = stage;
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
      this.#io.interruption = undefined;
    }
  }

  setData(data: unknown): void {
    this.#dataText = data === undefined ? undefined : JSON.stringify(data);
    this.#post({ t: 'data', text: this.#dataText });
  }

  async close(): Promise<void> {
    if (!this.#dead && this.#pending === undefined && this.#ready === undefined) {
      // What the thread's last macrotask left to report (an unhandled rejection's log line) arrives first; 1 s at most.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = setTimeout(resolve, 1000);
        this.#post({ t: 'drain' });
      });
      clearTimeout(timer);
      this.#drained = undefined;
    }
    this.#io.close();
    if (!this.#dead) {
      this.#dead = true;
      this.#port.close();
      await this.#worker.terminate();
    }
  }
}
