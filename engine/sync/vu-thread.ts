/**
 * One VU of the synchronous VU mode, on its own worker thread: the script's init code, iterations and
 * lifecycle functions run here with k6's blocking semantics; I/O runs on the engine thread (io-host.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Writable } from 'node:stream';
import type { Options } from 'k6/options';
import type { IterationContext, MetricDefinition } from '../contracts.ts';
import type { IterationInterruption } from '../modules/context.ts';
import { MetricRegistry } from '../metrics/registry.ts';
import { compileScript } from '../runtime/compile.ts';
import { EngineError, TestAbortedError, toError } from '../runtime/errors.ts';
import { Logger } from '../runtime/logger.ts';
import { realClock } from '../runtime/clock.ts';
import { Vu } from '../runtime/vu.ts';
import type { VuHost } from '../runtime/vu-host.ts';
import { toWireError, type HostMessage, type ThreadInit, type ThreadIteration } from './protocol.ts';
import { ThreadIo } from './thread-io.ts';
import { HostPolicy } from '../net/host-policy.ts';
import { threadModules } from './thread-modules.ts';

function requirePort(): NonNullable<typeof parentPort> {
  if (parentPort === null) throw new Error('vu-thread.ts must run in a worker thread');
  return parentPort;
}
const control = requirePort();
const init = workerData as ThreadInit;
const io = new ThreadIo(init.calls, init.ctl);

/** The thread's logger: lines go to the engine thread; warnings once per key across every VU. */
class ThreadLogger extends Logger {
  override warnOnce(key: string, msg: string): void {
    io.post({ t: 'warnOnce', key, message: msg });
  }
}

/** The metric registry, script, modules and host of this thread's one VU: samples, logs and test-wide calls go to the engine thread. */
async function threadHost(): Promise<VuHost> {
  const logger = new ThreadLogger(
    new Writable({
      write(chunk: Buffer | string, _e, cb) {
        io.post({ t: 'log', text: typeof chunk === 'string' ? chunk : chunk.toString('utf8') });
        cb();
      },
    }),
  );
  const registry = new MetricRegistry();
  for (const m of init.metrics) registry.define(m.name, m.type, m.contains);
  const script = compileScript(init.source);
  const modules = await threadModules(io, init.imports, init.shared);
  const options = init.options as Options;
  return {
    script,
    modules,
    sink: {
      add: (samples) => {
        io.addSamples(samples);
      },
    },
    clock: realClock,
    env: init.env,
    logger,
    shared: new Map(),
    runTags: () => init.runTags,
    options: () => options,
    discardResponseBodies: () => false,
    defineMetric: (name, type, contains): MetricDefinition => {
      const known = registry.get(name);
      const d = registry.define(name, type, contains);
      if (known === undefined) io.post({ t: 'define', name, type, contains });
      return d;
    },
    instanceStats: () => io.call('stats', null) as ReturnType<VuHost['instanceStats']>,
    abortTest: (reason) => {
      io.post({ t: 'abort', reason });
    },
    failTest: (reason) => {
      io.post({ t: 'fail', reason });
    },
    awaitSites: { wanted: false, unreported: new Set<string>() },
    hostPolicy: init.allowedHosts === undefined ? undefined : new HostPolicy(init.allowedHosts),
  };
}

/** Aborted when the running iteration or lifecycle call is interrupted. */
let current: AbortController | undefined;

/** Whether the running iteration was interrupted: in-flight work is on the host, which interrupts it. */
const interruption: IterationInterruption = {
  get aborted() {
    return io.interrupted;
  },
  add() {
    /* in-flight work is on the host, which interrupts it */
  },
  delete() {
    /* see add */
  },
};

const scenarios = new Map<string, IterationContext['scenario']>();
/** A scenario's iteration context, made once per scenario run. */
function scenarioOf(s: ThreadIteration['scenario']): IterationContext['scenario'] {
  const key = `${s.name}\0${String(s.startWall)}`;
  let info = scenarios.get(key);
  if (info === undefined) {
    info = {
      name: s.name,
      executor: s.executor,
      exec: s.exec,
      tags: s.tags,
      env: s.env,
      // The host's monotonic start as this thread's monotonic time (each thread's clock has its own origin).
      startTime: s.startWall - (realClock.wallNow() - realClock.now()),
      progress: () => io.call('progress', null) as number,
    };
    scenarios.set(key, info);
  }
  return info;
}

async function main(): Promise<void> {
  const vu = new Vu(await threadHost(), init.idInTest, init.idInInstance);
  io.ctx = {
    state: () => ({ stage: vu.ctx.stage(), iterInVu: vu.ctx.iterationInVu(), tags: vu.ctx.currentTags() }),
    countBytes: (sent, received) => {
      vu.ctx.countBytes(sent, received);
    },
    onInterrupted: () => {
      current?.abort(new Error('interrupted'));
    },
  };
  if (init.dataText !== undefined) vu.setData(JSON.parse(init.dataText));
  try {
    await vu.init();
  } catch (e) {
    const err = e instanceof EngineError ? e : new EngineError('init-exception', 107, toError(e).message);
    io.flush();
    io.post({ t: 'initFailed', code: err.exitCode, message: err.message });
    return;
  }
  io.flush();
  io.post({ t: 'ready' });
  control.on('message', (m: HostMessage) => {
    onHostMessage(vu, m);
  });
}

/** The engine thread's requests: an iteration, a lifecycle call, setup()'s data, an interruption, an async result. */
function onHostMessage(vu: Vu, m: HostMessage): void {
  switch (m.t) {
    case 'iter':
      runIteration(vu, m.it);
      break;
    case 'life':
      callLifecycle(vu, m);
      break;
    case 'data':
      vu.setData(m.text === undefined ? undefined : JSON.parse(m.text));
      break;
    case 'interrupt':
      current?.abort(new Error('interrupted'));
      break;
    case 'async':
      io.settleAsync(m.id, m.ok, m.value);
      break;
    case 'drain':
      // A rejection the last iteration left unhandled is logged (posted) before the answer.
      setImmediate(() => {
        io.flush();
        io.post({ t: 'drained' });
      });
      break;
  }
}

/** One iteration; the answer carries how it ended and the samples it made. */
function runIteration(vu: Vu, it: ThreadIteration): void {
  const ctl = new AbortController();
  current = ctl;
  const ctx = {
    scenario: scenarioOf(it.scenario),
    iterationInInstance: it.iterationInInstance,
    iterationInTest: it.iterationInTest,
    signal: ctl.signal,
    interruption,
  };
  void vu.runIteration(ctx).then((r) => {
    current = undefined;
    io.answer({
      t: 'iterDone',
      kind: r.kind,
      ...(r.kind === 'failed' ? { error: toError(r.error).message } : {}),
      ...samplesField(),
    });
  });
}

/** setup(), teardown() or handleSummary(); the answer carries its value (as the wire can hold it) or its error. */
function callLifecycle(vu: Vu, m: Extract<HostMessage, { t: 'life' }>): void {
  const ctl = new AbortController();
  current = ctl;
  const parse = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(text));
  vu.callLifecycle(m.name, m.stage, parse(m.argText), ctl.signal, parse(m.extraText)).then(
    (value) => {
      current = undefined;
      try {
        io.answer({ t: 'lifeDone', ok: true, value, ...samplesField() });
      } catch (e) {
        io.answer({ t: 'lifeDone', ok: false, error: toWireError(e), ...samplesField() });
      }
    },
    (e: unknown) => {
      current = undefined;
      const error =
        e instanceof TestAbortedError
          ? { ...toWireError(e), kind: 'aborted' as const, message: e.reason }
          : io.interrupted
            ? { ...toWireError(e), kind: 'interrupted' as const }
            : toWireError(e);
      io.answer({ t: 'lifeDone', ok: false, error, ...samplesField() });
    },
  );
}

function samplesField(): { samples?: ReturnType<ThreadIo['takeSamples']> } {
  const samples = io.takeSamples();
  return samples === undefined ? {} : { samples };
}

main().catch((e: unknown) => {
  io.post({ t: 'initFailed', code: 103, message: `VU thread error: ${toError(e).stack ?? toError(e).message}` });
});
