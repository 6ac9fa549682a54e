/**
 * A virtual user: one instance of the script (its own init code run and module state) plus the
 * per-VU ModuleContext the k6 modules use. Drives one iteration at a time for the executors.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { IterationContext, IterationResult, Tags, VirtualUser } from '../contracts.ts';
import { addRowTo } from '../metrics/index.ts';
import type { AwaitCheck, EngineIterationContext, EngineModuleContext, IterationInterruption } from '../modules/context.ts';
import { forgotAwaitMessage } from '../modules/awaitable.ts';
import { VuRandom, runAsVu, type RandomHost } from '../modules/k6.ts';
import { EngineError, EXIT_CODES, TestAbortedError, toError } from './errors.ts';
import { formatScriptException, type ScriptGlobals, type ScriptInstance } from './compile.ts';
import { formatArgs } from './console-text.ts';
import { interruptionOf } from './interruption.ts';
import { connectRefusalOf, type Stage, type VuHost } from './vu-host.ts';
import {
  afterRejectionsReported,
  enteredScript,
  registerOwner,
  rejectionText,
  UncaughtRejectionError,
  unregisterOwner,
  type RejectionOwner,
} from './rejections.ts';

/**
 * What an iteration's end emits, as a row (contracts.ts SampleRow): the bytes it moved, then, unless it was
 * interrupted, its duration and count (a lifecycle function's end: the bytes alone).
 */
const ITER_END_ROW = ['data_sent', 'data_received', 'iteration_duration', 'iterations'] as const;

const COMPLETED: IterationResult = Object.freeze({ kind: 'completed' });
const INTERRUPTED: IterationResult = Object.freeze({ kind: 'interrupted' });

/** exec.test.abort()'s error; false for a value `instanceof` cannot look at (a revoked Proxy the script threw). */
function isTestAbort(e: unknown): e is TestAbortedError {
  try {
    return e instanceof TestAbortedError;
  } catch {
    return false;
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class Vu implements VirtualUser, RejectionOwner {
  readonly idInTest: number;
  readonly idInInstance: number;
  readonly #host: VuHost;
  #stage: Stage = 'init';
  #iteration: IterationContext | undefined;
  #interruption: IterationInterruption | undefined;
  #group = '';
  #tags: Tags | undefined;
  /** What #tags was last built from: rebuilt only when one of these changed. */
  #tagsMemo: { run: Tags; scenario: IterationContext['scenario'] | undefined; group: string; version: number; tags: Tags } | undefined;
  #vuTagsVersion = 0;
  readonly #vuTags: Record<string, string>;
  /** Tracked work (module calls such as requests) not settled yet, and who waits for it all to settle. */
  #pending = 0;
  #idle: (() => void) | undefined;
  /** First failure reported by a module for the running iteration (e.g. a throwing WebSocket handler); `logged` when already logged (an unhandled rejection). */
  #failure: { readonly error: unknown; readonly logged?: boolean } | undefined;
  /** The scenario of the last iteration that ended: the fields of a rejection reported after its end. */
  #lastScenario: IterationContext['scenario'] | undefined;
  /** An unhandled rejection made by init code or a lifecycle function: it fails with it (k6's runFn error). */
  #outsideRejection: UncaughtRejectionError | undefined;
  /** Init code or a lifecycle function is running (or waiting for Node's report): a rejection fails it. */
  #outsideRunning = false;
  /** Promises the script should await, made in the running function: the first in its own slot (no array for an iteration's one request), the rest in a list. */
  #awaitable: AwaitCheck | undefined;
  #awaitables: AwaitCheck[] | undefined;
  #sent = 0;
  #received = 0;
  #iterInVu = 0;
  #iterInScenario = new Map<string, number>();
  #currentScenarioIter = 0;
  readonly #env: Record<string, string>;
  #envScenario = '';
  readonly #moduleCache = new Map<string, Record<string, unknown>>();
  #instance: ScriptInstance | undefined;
  /** The script's exports object, defined up front by the loader: readable also when its init code threw. */
  readonly #exports: Record<string, unknown> = {};
  readonly ctx: EngineModuleContext & RandomHost;
  /** This VU's Math.random source (k6's randomSeed seeds one VU's runtime). */
  readonly #random = new VuRandom();
  /** setup() data as JSON text; parsed fresh for every iteration's call like k6 does per VU. */
  #data: unknown;
  /** Aborted when the running lifecycle function (setup, teardown, handleSummary) runs out of time. */
  #lifecycleSignal: AbortSignal | undefined;

  constructor(host: VuHost, idInTest: number, idInInstance: number) {
    this.#host = host;
    this.idInTest = idInTest;
    this.idInInstance = idInInstance;
    this.#env = { ...host.env };
    registerOwner(this);
    const invalidate = (): void => {
      this.#tags = undefined;
      this.#vuTagsVersion++;
    };
    this.#vuTags = new Proxy<Record<string, string>>(
      {},
      {
        set: (t, k, v) => {
          Reflect.set(t, k, String(v));
          invalidate();
          return true;
        },
        deleteProperty: (t, k) => {
          Reflect.deleteProperty(t, k);
          invalidate();
          return true;
        },
      },
    );
    const clock = host.clock;
    this.ctx = {
      vu: { idInTest, idInInstance },
      emit: (samples) => {
        host.sink.add(samples);
      },
      emitRow: (row) => {
        addRowTo(host.sink, row);
      },
      currentTags: () => this.#currentTags(),
      iterationSignal: () => this.#iteration?.signal ?? this.#lifecycleSignal,
      iterationInterruption: () => this.#interruption,
      trackPending: (work: Promise<unknown>) => {
        this.#track(work);
      },
      clock,
      env: this.#env,
      stage: () => this.#stage,
      iteration: () => this.#iteration,
      options: () => host.options(),
      vuTags: this.#vuTags,
      groupPath: () => this.#group,
      setGroupPath: (path: string) => {
        this.#group = path;
        this.#tags = undefined;
      },
      defineMetric: (name, type, contains) => host.defineMetric(name, type, contains),
      abortTest: (reason?: string): never => {
        throw new TestAbortedError(reason ?? '');
      },
      warnOnce: (key, message) => {
        host.logger.warnOnce(key, message);
      },
      log: (level, message) => {
        host.logger.log(level, message, { source: 'console' });
      },
      connectRefusal: connectRefusalOf(host),
      countBytes: (sent, received) => {
        this.#sent += sent;
        this.#received += received;
      },
      discardResponseBodies: () => host.discardResponseBodies(),
      callSite: () => host.script.callSite(),
      captureSite: () => host.script.captureSite(),
      wantSites: () => host.awaitSites.wanted,
      shared: host.shared,
      scriptDir: resolve(host.script.path, '..'),
      instanceStats: () => host.instanceStats(),
      iterationInScenario: () => this.#currentScenarioIter,
      iterationInVu: () => this.#iterInVu,
      failTest: (reason: string) => {
        host.failTest(reason);
      },
      failIteration: (error: unknown) => {
        if (this.#stage === 'iteration') this.#failure ??= { error };
      },
      trackAwaitable: (p: AwaitCheck) => {
        if (this.#awaitable === undefined) this.#awaitable = p;
        else (this.#awaitables ??= []).push(p);
      },
      random: this.#random,
    };
  }

  get exports(): Readonly<Record<string, unknown>> {
    return this.#instance?.exports ?? this.#exports;
  }

  #currentTags(): Tags {
    let t = this.#tags;
    if (t !== undefined) return t;
    const run = this.#host.runTags();
    const it = this.#iteration;
    const scenario = it?.scenario;
    const group = this.#group;
    const memo = this.#tagsMemo;
    if (
      memo !== undefined &&
      memo.run === run &&
      memo.scenario === scenario &&
      memo.group === group &&
      memo.version === this.#vuTagsVersion
    ) {
      this.#tags = memo.tags;
      return memo.tags;
    }
    const tags: Record<string, string> = { ...run };
    if (scenario !== undefined) {
      Object.assign(tags, scenario.tags);
      tags.scenario = scenario.name;
    }
    Object.assign(tags, this.#vuTags);
    tags.group = group;
    t = Object.freeze(tags);
    this.#tags = t;
    this.#tagsMemo = { run, scenario, group, version: this.#vuTagsVersion, tags: t };
    return t;
  }

  /**
   * Counts `work` as pending until it settles. Promise.prototype.then, not `work.then`: an Awaitable's
   * own `then` marks it awaited, which the tracker is not. A rejection is handled here (never an
   * unhandled one); the script's own is reported at the iteration's end. No closure per call.
   */
  #track(work: Promise<unknown>): void {
    this.#pending++;
    void Promise.prototype.then.call(work, this.#settledOne, this.#settledOne);
  }

  readonly #settledOne = (): void => {
    // This VU's continuation runs next: a rejection reported at the end of this macrotask is taken as its own.
    enteredScript(this);
    if (--this.#pending === 0) {
      const wake = this.#idle;
      this.#idle = undefined;
      wake?.();
    }
  };

  /** Resolves once no tracked work is pending. */
  #allSettled(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = this.#idle;
      this.#idle =
        previous === undefined
          ? resolve
          : () => {
              previous();
              resolve();
            };
    });
  }

  #require(specifier: string): unknown {
    const cached = this.#moduleCache.get(specifier);
    if (cached !== undefined) return cached;
    const factory = this.#host.modules[specifier];
    if (factory === undefined) {
      const known = Object.keys(this.#host.modules).join(', ');
      throw new EngineError(
        'unknown-module',
        EXIT_CODES.scriptException,
        `unknown module "${specifier}" imported by ${this.#host.script.path}; the embedded engine provides ${known} (bundle other imports into the script, or run with the k6 binary)`,
      );
    }
    const mod = factory(this.ctx);
    this.#moduleCache.set(specifier, mod);
    return mod;
  }

  #open(path: string, mode?: string): string | ArrayBuffer {
    if (this.#stage !== 'init') {
      throw new EngineError(
        'open-outside-init',
        EXIT_CODES.scriptException,
        `open("${path}") is only available in the init context (top level of the script), not in ${this.#stage} code; read the file at the top level`,
      );
    }
    const file = isAbsolute(path) ? path : resolve(this.ctx.scriptDir, path);
    const key = `open:${file}`;
    let buf = this.#host.shared.get(key) as Buffer | undefined;
    if (buf === undefined) {
      try {
        buf = readFileSync(file);
      } catch (e) {
        throw new EngineError('open-failed', EXIT_CODES.scriptException, `open("${path}"): cannot read ${file}: ${toError(e).message}`);
      }
      this.#host.shared.set(key, buf);
    }
    if (mode === 'b') {
      const ab = new ArrayBuffer(buf.byteLength);
      new Uint8Array(ab).set(buf);
      return ab;
    }
    return buf.toString('utf8');
  }

  /**
   * Runs the init code. Script exceptions become EngineError 107 with the mapped stack. A script with
   * top-level await returns a promise: its init code is done when it settles.
   */
  async init(): Promise<void> {
    // What the current macrotask left unhandled is reported first, to the VU that made it: a VU initialised
    // mid-run (an arrival-rate executor growing the pool, in the wake-up that started another VU's iteration)
    // must not take that VU's rejection as its own init code's and fail.
    await afterRejectionsReported();
    this.#stage = 'init';
    enteredScript(this);
    this.#outsideRejection = undefined;
    this.#outsideRunning = true;
    const log =
      (level: 'debug' | 'info' | 'warn' | 'error') =>
      (...args: unknown[]) => {
        this.#host.logger.log(level, formatArgs(args), { source: 'console' });
      };
    const timers = this.#require('k6/timers') as Record<'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval', unknown>;
    try {
      this.#instance = runAsVu(this.#random, (g: ScriptGlobals) => this.#host.script.instantiate(g), {
        require: (s) => this.#require(s),
        env: this.#env,
        vuId: this.idInInstance,
        open: (p, m) => this.#open(p, m),
        console: { log: log('info'), info: log('info'), debug: log('debug'), warn: log('warn'), error: log('error') },
        timers,
        exports: this.#exports,
      });
    } catch (e) {
      this.#outsideRunning = false;
      throw this.#initError(e);
    }
    const ready = this.#instance.ready;
    if (ready !== undefined) {
      try {
        await ready;
      } catch (e) {
        this.#outsideRunning = false;
        throw this.#initError(e);
      }
    }
    this.#random.markInitDone();
    // A rejection the init code left unhandled fails it, as a throw would.
    await afterRejectionsReported();
    const rejected = this.#takeOutsideRejection();
    if (rejected !== undefined) throw this.#initError(rejected);
  }

  /** The unhandled rejection init code or a lifecycle function made, if any (cleared). */
  #takeOutsideRejection(): UncaughtRejectionError | undefined {
    const r = this.#outsideRejection;
    this.#outsideRejection = undefined;
    this.#outsideRunning = false;
    return r;
  }

  #initError(e: unknown): EngineError {
    if (e instanceof EngineError) return e;
    if (e instanceof UncaughtRejectionError)
      return new EngineError('init-exception', EXIT_CODES.scriptException, e.message, { cause: e.reason });
    return new EngineError('init-exception', EXIT_CODES.scriptException, formatScriptException(this.#host.script, e), { cause: e });
  }

  /**
   * Runs an exported lifecycle function (setup, teardown, handleSummary) outside iterations. When
   * `signal` aborts (its time limit), the function's sleeps, timers and requests are interrupted like
   * an iteration's (k6 interrupts the runtime).
   */
  async callLifecycle(
    name: 'setup' | 'teardown' | 'handleSummary',
    stage: Stage,
    arg?: unknown,
    signal?: AbortSignal,
    extra?: unknown,
  ): Promise<unknown> {
    const fn = this.exports[name];
    if (typeof fn !== 'function') return undefined;
    this.#stage = stage;
    this.#iteration = undefined;
    this.#interruption = signal === undefined ? undefined : interruptionOf(signal);
    this.#lifecycleSignal = signal;
    // k6's runPart runs setup/teardown in the group "::setup" / "::teardown" (their samples' group tag).
    this.#group = name === 'handleSummary' ? '' : `::${name}`;
    this.#tags = undefined;
    // k6 runs each lifecycle function in a fresh VU: Math.random starts where init code left it.
    this.#random.restoreInit();
    this.#outsideRejection = undefined;
    this.#outsideRunning = true;
    enteredScript(this);
    try {
      const call = fn as (a?: unknown, b?: unknown) => unknown;
      let result = extra === undefined ? runAsVu(this.#random, call, arg) : runAsVu(this.#random, (a) => call(a, extra), arg);
      if (isThenable(result)) result = await result;
      await this.#drain(signal);
      this.#reportForgottenAwaits();
      // A rejection the function left unhandled fails it, as a throw would (k6: runFn's event loop error).
      await afterRejectionsReported();
      const rejected = this.#takeOutsideRejection();
      if (rejected !== undefined) throw rejected;
      return result;
    } finally {
      this.#outsideRejection = undefined;
      this.#outsideRunning = false;
      this.#lifecycleSignal = undefined;
      this.#interruption = undefined;
      if (this.#sent !== 0 || this.#received !== 0) this.#emitBytes(this.#currentTags(), this.#host.clock.wallNow());
    }
  }

  setData(data: unknown): void {
    this.#data = data;
  }

  async #drain(signal: AbortSignal | undefined): Promise<void> {
    if (signal === undefined) {
      await this.#allSettled();
      return;
    }
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<void>((r) => {
      onAbort = r;
    });
    if (onAbort !== undefined) signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (!signal.aborted) await Promise.race([this.#allSettled(), aborted]);
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  }

  #reportForgottenAwaits(): void {
    const first = this.#awaitable;
    if (first === undefined) return;
    const rest = this.#awaitables;
    this.#awaitable = undefined;
    this.#awaitables = undefined;
    this.#checkAwaited(first);
    if (rest !== undefined) for (const p of rest) this.#checkAwaited(p);
  }

  #checkAwaited(p: AwaitCheck): void {
    if (p.awaited || p.warned) return;
    const sites = this.#host.awaitSites;
    const site = p.site;
    if (site === '') {
      // Sites are captured only once a forgotten await was seen (zero cost for correct scripts):
      // report it with its location from the next call on, or at the end of the run.
      sites.wanted = true;
      sites.unreported.add(p.call);
      return;
    }
    sites.unreported.delete(p.call);
    this.#host.logger.warnOnce(`forgot-await:${site}`, forgotAwaitMessage(p.call, site, 'its result was never awaited'));
  }

  /** The bytes moved since the last row, then `duration` and a count of 1 when an iteration completed. */
  #emitBytes(tags: Tags, time: number, duration?: number): void {
    const values = duration === undefined ? [this.#sent, this.#received] : [this.#sent, this.#received, duration, 1];
    this.#sent = 0;
    this.#received = 0;
    addRowTo(this.#host.sink, { metrics: ITER_END_ROW, values, time, tags });
  }

  /**
   * Runs one iteration: the scenario's exec function, then (when it made any) the module work it left pending.
   * Not an async function: a script's promise gets one `then` (with callbacks made once per VU), and the result
   * comes as a settled promise when the function returned without one (what an `await` of it would give).
   */
  runIteration(it: IterationContext): Promise<IterationResult> {
    const host = this.#host;
    const fn = this.#instance?.exports[it.scenario.exec];
    this.#stage = 'iteration';
    this.#iteration = it;
    this.#interruption = (it as EngineIterationContext).interruption ?? interruptionOf(it.signal);
    this.#group = '';
    this.#tags = undefined;
    const sc = it.scenario.name;
    if (this.#envScenario !== sc) {
      for (const k of Object.keys(this.#env)) if (!(k in host.env)) Reflect.deleteProperty(this.#env, k);
      Object.assign(this.#env, host.env, it.scenario.env);
      this.#envScenario = sc;
    }
    this.#currentScenarioIter = this.#iterInScenario.get(sc) ?? 0;
    this.#iterInScenario.set(sc, this.#currentScenarioIter + 1);
    this.#instance?.setIter(this.#iterInVu);
    enteredScript(this);
    this.#iterStart = host.clock.now();
    try {
      if (typeof fn !== 'function') {
        throw new Error(`function '${it.scenario.exec}' not found in exports of ${host.script.path}`);
      }
      const r = runAsVu(this.#random, fn as (d: unknown) => unknown, this.#data);
      // Promise.resolve adopts a thenable as `await` does (the script's own async function's promise is used as it is).
      // Inside the try: reading the value's `then` runs script code (a getter) that may throw, as an `await` of it would.
      if (isThenable(r)) return Promise.resolve(r).then(this.#scriptReturned, this.#scriptThrew);
    } catch (e) {
      return Promise.resolve(this.#endIteration(this.#caught(e)));
    }
    const out = this.#scriptReturned();
    return out instanceof Promise ? out : Promise.resolve(out);
  }

  /** When the iteration began (Clock.now()). */
  #iterStart = 0;

  /** The exec function returned (its promise resolved): the iteration ends once its pending module work has settled. */
  readonly #scriptReturned = (): IterationResult | Promise<IterationResult> => {
    if (this.#pending > 0) {
      const signal = this.#iteration?.signal;
      return this.#drain(signal).then(this.#settledAll, this.#scriptThrew);
    }
    return this.#settledAll();
  };

  readonly #settledAll = (): IterationResult => {
    const failure = this.#failure;
    if (failure !== undefined) {
      if (failure.logged === true) return this.#endIteration({ kind: 'failed', error: failure.error });
      return this.#endIteration(this.#caught(failure.error));
    }
    return this.#endIteration(this.#interruption?.aborted === true ? INTERRUPTED : COMPLETED);
  };

  readonly #scriptThrew = (e: unknown): IterationResult => this.#endIteration(this.#caught(e));

  /**
   * What a thrown (or rejected) error makes of the iteration, logged like k6 does. Never throws, whatever the
   * script threw (a getter that throws, a revoked Proxy): runIteration's callers, the VU thread's among them,
   * get a failed iteration, counted as k6 counts it.
   */
  #caught(e: unknown): IterationResult {
    const host = this.#host;
    if (isTestAbort(e)) {
      host.abortTest(e.reason);
      // k6 counts the iteration that called exec.test.abort() (iterations, iteration_duration).
      return { kind: 'failed', error: e };
    }
    if (this.#interruption?.aborted === true) return INTERRUPTED;
    const scenario = this.#iteration?.scenario;
    host.logger.log('error', formatScriptException(host.script, e), {
      executor: scenario?.executor ?? '',
      scenario: scenario?.name ?? '',
      source: 'stacktrace',
    });
    return { kind: 'failed', error: e };
  }

  /** The iteration's end: forgotten awaits reported, its row (bytes, and duration and count unless interrupted) emitted. */
  #endIteration(result: IterationResult): IterationResult {
    this.#failure = undefined;
    this.#reportForgottenAwaits();
    this.#iterInVu++;
    this.#group = '';
    this.#tags = undefined;
    const tags = this.#currentTags();
    const clock = this.#host.clock;
    const time = clock.wallNow();
    this.#emitBytes(tags, time, result.kind === 'interrupted' ? undefined : clock.now() - this.#iterStart);
    this.#lastScenario = this.#iteration?.scenario;
    this.#iteration = undefined;
    this.#interruption = undefined;
    this.#tags = undefined;
    return result;
  }

  /**
   * An unhandled rejection taken as this VU's (rejections.ts), logged as k6 logs its event loop's error:
   * `Uncaught (in promise) <stack or value>`, with the executor and scenario, not as a stack trace. The running
   * iteration fails (counted as k6 counts a failed one) when it ends; one that already ended (a function that
   * returned before Node reported the rejection) was counted alike; init code and lifecycle functions fail.
   */
  onUnhandledRejection(reason: unknown): void {
    const host = this.#host;
    const text = rejectionText(reason, (e) => formatScriptException(host.script, e));
    if (this.#outsideRunning) {
      this.#outsideRejection ??= new UncaughtRejectionError(text, reason);
      return;
    }
    const scenario = this.#iteration?.scenario ?? this.#lastScenario;
    host.logger.log('error', text, scenario === undefined ? {} : { executor: scenario.executor, scenario: scenario.name });
    if (this.#iteration !== undefined && this.#interruption?.aborted !== true) this.#failure ??= { error: reason, logged: true };
  }

  /** Closes module resources (HTTP connections). */
  async close(): Promise<void> {
    unregisterOwner(this);
    const closers: Promise<unknown>[] = [];
    for (const m of this.#moduleCache.values()) {
      const c = m[Symbol.for('agentload.close') as unknown as string];
      if (typeof c === 'function') closers.push(Promise.resolve((c as () => unknown)()).catch(() => undefined));
    }
    await Promise.all(closers);
  }
}
