/**
 * The run lifecycle (k6 `run`): flags → first VU's init code → options → validation (exit 104 before
 * any VU starts) → remaining VUs → setup() → scenarios → teardown() → summary / handleSummary →
 * outputs flushed → exit code. Thresholds are evaluated every 2 s and once at the end.
 */
import { setMaxListeners } from 'node:events';
import { Writable } from 'node:stream';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Options } from 'k6/options';
import type { Clock, Issue, MetricDefinition, Sample, SampleSink, Tags } from '../contracts.ts';
import { Aggregator, MetricRegistry } from '../metrics/index.ts';
import { ProgressDisplay, mergeScenarioStats, planTest as planExecution, snapshotProgress, vuIdsInTest } from '../execution/index.ts';
import type { ScenarioStats } from '../executors/types.ts';
import { JsonOutput, buildSummaryData, summaryExportJson, textSummary, type SummaryData } from '../output/index.ts';
import { OutputSet, parseOutputs, type OutputRequest } from '../output/outputs.ts';
import {
  ThresholdSet,
  THRESHOLD_EVAL_INTERVAL_MS,
  parseThresholds,
  thresholdsAbortMessage,
  thresholdsCrossedMessage,
  type ThresholdEvaluation,
} from '../thresholds/index.ts';
import { MODULES } from '../modules/index.ts';
import { forgotAwaitMessage } from '../modules/awaitable.ts';
import type { InstanceStats } from '../modules/context.ts';
import { BANNER, formatHeader } from './banner.ts';
import { EngineError, EXIT_CODES, LifecycleTimeoutError, TestAbortedError, toError, type LifecyclePlace } from './errors.ts';
import { parseKeyValues, parseRunFlags, runHelp, type FlagIssue, type ParsedRunFlags } from './flags.ts';
import { loadScript, type CompiledScript, type LoadedScript } from './loader.ts';
import { ThreadVu, packSharedArrays, type ThreadVuShared } from '../sync/thread-vu.ts';
import { chooseVuMode, syncVuCapacity, SYNC_VU_RSS_MB, SYNC_VU_START_MS, type VuMode } from '../sync/mode.ts';
import { Logger } from './logger.ts';
import { planTest, type TestPlan } from './plan.ts';
import { SETTLE_AFTER_STOP_MS, VuPool } from './pool.ts';
import { initVUs, realRss } from './vu-init.ts';
import { realClock } from './clock.ts';
import { HostPolicy } from '../net/host-policy.ts';
import { Vu, type VuHost } from './vu.ts';
import { chooseWorkers, fromReport, runWorkers, type ScenarioReport } from './workers.ts';

export interface RunEngineOptions {
  /** Path to a bundled k6 script (ESM, `k6/*` imports external). */
  script: string;
  /** k6 `run` flags, e.g. ['--vus','2','--out','json=x.json.gz','--summary-export','s.json']. */
  args: readonly string[];
  /** Becomes __ENV together with -e flags (k6 includes system env vars by default). */
  env: Readonly<Record<string, string>>;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Abort = external stop: graceful (teardown, summary, outputs), exit 105. */
  signal?: AbortSignal;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  /** Injected time source (tests); real time by default. */
  clock?: Clock;
  /** Listen to SIGINT/SIGTERM while running (default true): first = graceful stop, second = exit 105 at once. */
  handleSignals?: boolean;
  /** Called as each start-up phase ends (the run command's `--verbose`): script loaded, init code run, setup, VUs, scenarios started. */
  onPhase?: (phase: string) => void;
  /**
   * Where load may go besides loopback (AGENTLOAD_ALLOWED_HOSTS patterns). Given: every connection a
   * module makes is checked first, and a refused one fails with k6's blocked-hostname error (1112) and
   * one warning per host. Undefined: no check (the engine as a plain k6 stand-in).
   */
  allowedHosts?: readonly string[];
  /**
   * Only check: load the script, run its init code once, validate options and thresholds (exit 104 with
   * every issue) and return 0 without starting VUs, setup() or outputs. The run command calls this before
   * it starts the bundled platform, so an invalid configuration starts nothing.
   */
  validateOnly?: boolean;
}

/** A sink that fans samples out; `target` can be set after init. */
class FanOut implements SampleSink {
  sinks: SampleSink[] = [];
  add(samples: readonly Sample[]): void {
    for (const s of this.sinks) s.add(samples);
  }
}

/** What the main thread needs from a flag set, with every issue. */
export interface RunSettings {
  readonly flags: ParsedRunFlags;
  readonly env: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly jsonOut: string | undefined;
  /** `--out csv`, `--out experimental-prometheus-rw` (engine/output/outputs.ts). */
  readonly outputs: readonly OutputRequest[];
  readonly issues: FlagIssue[];
}

export function settingsFromFlags(flags: ParsedRunFlags, systemEnv: Readonly<Record<string, string>>, cwd: string): RunSettings {
  const issues: FlagIssue[] = [...flags.issues];
  const includeSystem = !flags.booleans.has('no-include-system-env-vars');
  const env: Record<string, string> = includeSystem ? { ...systemEnv } : {};
  Object.assign(env, parseKeyValues('env', flags.lists.env ?? [], issues));
  const tags = parseKeyValues('tag', flags.lists.tag ?? [], issues);
  let jsonOut: string | undefined;
  // Outputs read their settings (K6_CSV_*, K6_PROMETHEUS_RW_*) from the system environment, as k6 does.
  const parsedOut = parseOutputs(flags.lists.out ?? [], systemEnv);
  for (const i of parsedOut.issues) issues.push({ code: 'invalid-flag-value', path: i.path, message: i.message });
  for (const r of parsedOut.requests) {
    if (r.kind !== 'json') continue;
    jsonOut = r.arg === '' || r.arg === '-' ? '-' : isAbsolute(r.arg) ? r.arg : resolve(cwd, r.arg);
  }
  return { flags, env, tags, jsonOut, outputs: parsedOut.requests.filter((r) => r.kind !== 'json'), issues };
}

function logIssues(logger: Logger, issues: readonly (Issue | FlagIssue)[]): void {
  for (const i of issues) logger.log('error', i.message);
}

export async function runEngine(o: RunEngineOptions): Promise<number> {
  const flags = parseRunFlags(o.args);
  // On a TTY the live progress bars share stderr with the log: log lines go above the bars (k6).
  const screen: Screen = {};
  const bars = (o.stderrIsTTY ?? false) && !flags.booleans.has('quiet');
  const logger = new Logger(bars ? logStream(o.stderr, screen) : o.stderr);
  if (flags.booleans.has('help')) {
    o.stdout.write(runHelp());
    return EXIT_CODES.ok;
  }
  const settings = settingsFromFlags(flags, o.env, o.cwd);
  const quiet = flags.booleans.has('quiet');
  if (!quiet) o.stdout.write(BANNER);
  if (settings.issues.length > 0) {
    logIssues(logger, settings.issues);
    return EXIT_CODES.invalidConfig;
  }
  const scriptPath = isAbsolute(o.script) ? o.script : resolve(o.cwd, o.script);
  const stopCtl = new AbortController();
  // Every running iteration listens to the stop signal: thousands of VUs are normal here.
  setMaxListeners(0, stopCtl.signal);
  let externalStop = false;
  const onExternal = (): void => {
    externalStop = true;
    stopCtl.abort(new Error('external stop'));
  };
  if (o.signal !== undefined) {
    if (o.signal.aborted) onExternal();
    else o.signal.addEventListener('abort', onExternal, { once: true });
  }
  let signals = 0;
  let firstSignal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      firstSignal = sig;
      logger.log('info', `Received ${sig}, stopping the test gracefully (teardown, summary, outputs); send it again to stop at once`);
      onExternal();
    } else {
      logger.log('error', `Received ${sig} again, exiting at once`);
      process.exit(EXIT_CODES.externalAbort);
    }
  };
  const handleSignals = o.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const code = await runLoaded(o, settings, scriptPath, logger, stopCtl, () => externalStop, screen);
    if (code === EXIT_CODES.externalAbort && firstSignal !== undefined) {
      // k6's last line after a graceful stop by signal (Go's names: interrupt, terminated).
      logger.log('error', `test run was aborted because k6 received a '${firstSignal === 'SIGINT' ? 'interrupt' : 'terminated'}' signal`);
    }
    return code;
  } catch (e) {
    if (e instanceof EngineError) {
      logger.log('error', e.message, e.code === 'init-exception' ? { hint: 'script exception' } : {});
      return e.exitCode;
    }
    logger.log('error', `engine error: ${toError(e).stack ?? toError(e).message}`);
    return EXIT_CODES.genericEngine;
  } finally {
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    o.signal?.removeEventListener('abort', onExternal);
  }
}

/** Runs setup(), teardown() and handleSummary(): a Vu here, or a ThreadVu (synchronous VU mode). */
export interface LifecycleRunner {
  readonly exports: Readonly<Record<string, unknown>>;
  callLifecycle(
    name: 'setup' | 'teardown' | 'handleSummary',
    stage: 'setup' | 'teardown' | 'summary',
    arg?: unknown,
    signal?: AbortSignal,
  ): Promise<unknown>;
}

/** State shared by the VUs of this engine instance. */
export interface InstanceState {
  readonly registry: MetricRegistry;
  readonly fan: FanOut;
  readonly host: VuHost;
  readonly pool: VuPool<Vu | ThreadVu>;
  closeLifecycle(): Promise<void>;
  /** VU 0 on this thread: its init code gives the options and exports. */
  readonly lifecycleVu: Vu;
  /** How VUs run (engine/sync/mode.ts); set after the options are known, before any other VU exists. */
  vuMode: VuMode;
  /** Who runs setup(), teardown() and handleSummary(): VU 0 here, or (sync mode) VU 0 on its own thread. */
  lifecycle(): Promise<LifecycleRunner>;
  options: Options;
  runTags: Tags;
  aborted: { reason: string } | undefined;
  failed: string | undefined;
  started: number;
  /** Live stats of every started scenario. */
  readonly scenarioStats: ScenarioStats[];
  /** setup() result as JSON text; every VU gets its own parsed copy. */
  dataText: string | undefined;
}

/** Builds the VU host, the pool and the lifecycle VU (id 0), and runs its init code. */
export async function createInstance(args: {
  script: LoadedScript;
  clock: Clock;
  env: Record<string, string>;
  logger: Logger;
  /** The run's host allowlist (undefined: no check). */
  hostPolicy?: HostPolicy | undefined;
  /** `exec.vu.idInInstance` of the n-th VU this thread initialises (default n; workers number across threads). */
  vuId?: (n: number) => number;
  /** `exec.vu.idInTest` of a VU from its idInInstance (default the same; a user --execution-segment stripes it, vuIdsInTest). */
  idInTest?: (idInInstance: number) => number;
  discardResponseBodies: () => boolean;
  onAbort: (reason: string) => void;
}): Promise<InstanceState> {
  const registry = new MetricRegistry();
  const fan = new FanOut();
  const shared = new Map<string, unknown>();
  const st: Partial<InstanceState> &
    Pick<InstanceState, 'options' | 'runTags' | 'aborted' | 'failed' | 'started' | 'scenarioStats' | 'dataText' | 'vuMode'> = {
    options: {},
    runTags: {},
    aborted: undefined,
    failed: undefined,
    started: Number.NaN,
    scenarioStats: [],
    dataText: undefined,
    vuMode: 'async',
  };
  const poolRef: { pool?: VuPool } = {};
  const host: VuHost = {
    script: args.script,
    modules: MODULES,
    sink: fan,
    clock: args.clock,
    env: args.env,
    logger: args.logger,
    shared,
    runTags: () => st.runTags,
    options: () => st.options,
    discardResponseBodies: args.discardResponseBodies,
    defineMetric: (name, type, contains): MetricDefinition => registry.define(name, type, contains),
    instanceStats: (): InstanceStats => ({
      iterationsCompleted: st.scenarioStats.reduce((a, x) => a + x.completed, 0),
      iterationsInterrupted: st.scenarioStats.reduce((a, x) => a + x.interrupted, 0),
      vusActive: poolRef.pool?.active ?? 0,
      vusInitialized: poolRef.pool?.initialized ?? 0,
      currentTestRunDuration: Number.isNaN(st.started) ? 0 : args.clock.now() - st.started,
    }),
    abortTest: (reason) => {
      if (st.aborted === undefined) st.aborted = { reason };
      args.onAbort(reason);
    },
    hostPolicy: args.hostPolicy,
    awaitSites: { wanted: false, unreported: new Set<string>() },
    registry: () => registry.all(),
    failTest: (reason) => {
      if (st.failed === undefined) {
        st.failed = reason;
        args.logger.log('error', `test marked as failed${reason === '' ? '' : `: ${reason}`}`);
      }
    },
  };
  let threads: ThreadVuShared | undefined;
  const threadShared = (): ThreadVuShared =>
    (threads ??= { script: args.script, host, sharedArrays: packSharedArrays(shared), exports: () => lifecycleVu.exports });
  const pool = new VuPool<Vu | ThreadVu>(async (idInInstance) => {
    const id = args.vuId?.(idInInstance) ?? idInInstance;
    if (st.vuMode === 'sync') return ThreadVu.create(threadShared(), args.idInTest?.(id) ?? id, id, st.dataText);
    const vu = new Vu(host, args.idInTest?.(id) ?? id, id);
    await vu.init();
    if (st.dataText !== undefined) vu.setData(JSON.parse(st.dataText));
    return vu;
  }, Number.MAX_SAFE_INTEGER);
  poolRef.pool = pool;
  const lifecycleVu = new Vu(host, 0, 0);
  await lifecycleVu.init();
  let lifecycleThread: Promise<ThreadVu> | undefined;
  const lifecycle = (): Promise<LifecycleRunner> => {
    if (st.vuMode !== 'sync') return Promise.resolve(lifecycleVu);
    lifecycleThread ??= ThreadVu.create(threadShared(), 0, 0, undefined);
    return lifecycleThread;
  };
  const closeLifecycle = async (): Promise<void> => {
    if (lifecycleThread !== undefined) await (await lifecycleThread).close();
  };
  return Object.assign<
    typeof st,
    Pick<InstanceState, 'registry' | 'fan' | 'host' | 'pool' | 'lifecycleVu' | 'lifecycle' | 'closeLifecycle'>
  >(st, { registry, fan, host, pool, lifecycleVu, lifecycle, closeLifecycle });
}

async function runLoaded(
  o: RunEngineOptions,
  settings: RunSettings,
  scriptPath: string,
  logger: Logger,
  stopCtl: AbortController,
  wasExternal: () => boolean,
  screen: Screen,
): Promise<number> {
  const { flags } = settings;
  const clock = o.clock ?? realClock;
  const phase = o.onPhase ?? ((): void => undefined);
  const script = await loadScript(scriptPath);
  phase('script loaded and compiled');
  let abortReason: string | undefined;
  // VUs are initialised after planning, so the test's segment is known by the time one asks.
  let idsInTest = (idInInstance: number): number => idInInstance;
  const inst = await createInstance({
    script,
    clock,
    env: settings.env,
    logger,
    idInTest: (n) => idsInTest(n),
    hostPolicy: o.allowedHosts === undefined ? undefined : new HostPolicy(o.allowedHosts),
    discardResponseBodies: () => flags.booleans.has('discard-response-bodies') || inst.options.discardResponseBodies === true,
    onAbort: (reason) => {
      abortReason ??= reason;
      stopCtl.abort(new Error('test aborted'));
    },
  });
  const scriptOptions = (inst.lifecycleVu.exports.options ?? {}) as Options;
  phase('init code run (VU 0: options)');

  // Options and thresholds: every problem at once, exit 104 before any VU starts.
  const plan: TestPlan = planTest(scriptOptions, flags, settings.env, inst.lifecycleVu.exports);
  idsInTest = vuIdsInTest(plan.tuple);
  const issues: (Issue | FlagIssue)[] = [...plan.issues];
  const noThresholds = plan.resolved.noThresholds;
  let thresholds = new ThresholdSet({});
  if (!noThresholds) {
    const parsed = parseThresholds(plan.options.thresholds, inst.registry);
    thresholds = parsed.set;
    issues.push(...parsed.issues);
  }
  if (issues.length > 0) {
    logIssues(logger, issues);
    return EXIT_CODES.invalidConfig;
  }
  const choice = chooseWorkers(flags.values.workers ?? o.env.AGENTLOAD_WORKERS, plan);
  if (choice.issue !== undefined) {
    logger.log('error', choice.issue);
    return EXIT_CODES.invalidConfig;
  }
  const workers = choice.workers;
  const mode = chooseVuMode({
    flag: flags.values['vu-mode'],
    env: o.env.AGENTLOAD_VU_MODE,
    exported: inst.lifecycleVu.exports.agentload,
    reasons: script.syncReasons,
  });
  if (mode.issue !== undefined) {
    logger.log('error', mode.issue);
    return EXIT_CODES.invalidConfig;
  }
  inst.vuMode = mode.mode;
  if (o.validateOnly === true) {
    await inst.lifecycleVu.close();
    return EXIT_CODES.ok;
  }
  inst.options = plan.options;
  inst.runTags = plan.resolved.tags;
  for (const w of plan.resolved.warnings) logger.log('warn', w);

  const aggregator = new Aggregator(inst.registry, { submetrics: thresholds.keys() });
  thresholds.attach(aggregator);
  inst.fan.sinks.push(aggregator);
  let json: JsonOutput | undefined;
  if (settings.jsonOut !== undefined) {
    if (settings.jsonOut !== '-') mkdirSync(dirname(settings.jsonOut), { recursive: true });
    json = new JsonOutput({
      path: settings.jsonOut,
      stdout: o.stdout,
      registry: inst.registry,
      thresholds: thresholds.sourcesByKey(),
      submetrics: (m) => aggregator.submetricsOf(m),
    });
    inst.fan.sinks.push(json);
  }
  const systemTags = plan.options.systemTags;
  const extra = new OutputSet(settings.outputs, {
    cwd: o.cwd,
    stdout: o.stdout,
    systemTags: Array.isArray(systemTags) ? systemTags : undefined,
    metric: (name) => inst.registry.get(name),
    logError: (m) => {
      logger.log('error', m);
    },
  });
  if (!extra.isEmpty) inst.fan.sinks.push(extra);
  const quiet = flags.booleans.has('quiet');
  if (!quiet) {
    o.stdout.write(
      formatHeader({
        script: relative(o.cwd, scriptPath) || scriptPath,
        output:
          [
            ...(settings.jsonOut === undefined
              ? []
              : [`json (${settings.jsonOut === '-' ? 'stdout' : relative(o.cwd, settings.jsonOut)})`]),
            ...extra.outputs.map((x) => x.description),
          ].join(', ') || '-',
        scenariosLine: plan.scenariosLine,
        scenarioLines: plan.scenarioLines,
        ...(mode.mode === 'sync' ? { vuMode: syncModeLine(mode.why, plan.maxVUs) } : {}),
      }),
    );
  }

  let finalEval: ThresholdEvaluation | undefined;
  const verdict = { thresholdAbort: false };
  let t0 = clock.now();
  inst.started = t0;
  /**
   * The error k6's execution scheduler would return (setup or teardown failed or ran out of time):
   * the run still evaluates thresholds, writes the summary and flushes outputs, then exits with its code
   * unless the test was aborted (signal, exec.test.abort, abortOnFail), which wins as in k6.
   */
  let runError: { readonly code: number; readonly logAtEnd?: () => void } | undefined;
  const timeoutFailure = (e: LifecycleTimeoutError): { code: number; logAtEnd: () => void } => ({
    code: e.exitCode,
    logAtEnd: () => {
      logger.log('error', e.message, e.hint === '' ? {} : { hint: e.hint });
    },
  });
  // k6's scriptException: its stack as the message and hint="script exception", as the run's last line.
  const scriptFailure = (e: unknown): { code: number; logAtEnd: () => void } => ({
    code: EXIT_CODES.scriptException,
    logAtEnd: () => {
      logger.log('error', formatErr(script, e), { hint: 'script exception' });
    },
  });

  // setup(): once, its JSON result handed to every VU. Limited by setupTimeout; a stop signal interrupts it.
  let dataText: string | undefined;
  const life = { setupCalled: false, setupDone: false };
  const setup = async (): Promise<boolean> => {
    life.setupCalled = true;
    // The test run starts here (workers, if any, are initialised by now).
    t0 = clock.now();
    inst.started = t0;
    phase('ready to start (setup() starts)');
    try {
      const data = plan.resolved.noSetup
        ? undefined
        : await callTimed(await inst.lifecycle(), clock, 'setup', plan.resolved.setupTimeout, undefined, stopCtl.signal);
      dataText = data === undefined ? undefined : JSON.stringify(data);
      inst.dataText = dataText;
      life.setupDone = true;
      phase('setup() done');
      return true;
    } catch (e) {
      if (e instanceof LifecycleTimeoutError) runError = timeoutFailure(e);
      else if (e instanceof TestAbortedError) inst.host.abortTest(e.reason);
      else if (!stopCtl.signal.aborted) {
        runError = scriptFailure(e);
      }
      return false;
    }
  };

  const evaluate = (final: boolean): void => {
    if (noThresholds || thresholds.isEmpty()) return;
    const ev = thresholds.evaluate(aggregator, clock.now() - t0);
    if (final) finalEval = ev;
    if (!final && ev.shouldAbort && !verdict.thresholdAbort) {
      verdict.thresholdAbort = true;
      logger.log('error', thresholdsAbortMessage(ev.crossed));
      stopCtl.abort(new Error('thresholds crossed'));
    }
  };
  // Thresholds every 2 s on the injected clock while the scenarios run.
  const evalDone = new AbortController();
  const evalLoop = (async (): Promise<void> => {
    for (;;) {
      try {
        await clock.sleep(THRESHOLD_EVAL_INTERVAL_MS, evalDone.signal);
      } catch {
        return;
      }
      evaluate(false);
    }
  })();
  const stopEval = async (): Promise<void> => {
    evalDone.abort();
    await evalLoop;
  };

  if (workers > 1) {
    // Each worker's latest progress; the bars show the scenarios' sums over the workers.
    const reports = new Map<number, { scenarios: readonly ScenarioReport[]; vusMax: number }>();
    const merged = (names: readonly string[]): ProgressSource => {
      const all = [...reports.values()];
      return {
        stats: names.map((name) =>
          mergeScenarioStats(all.flatMap((r) => r.scenarios.filter((x) => x.name === name).map((x) => fromReport(x, clock)))),
        ),
        vusMax: all.reduce((n, r) => n + r.vusMax, 0),
      };
    };
    const r = await runWorkers({
      workers,
      script: scriptPath,
      args: o.args,
      env: settings.env,
      plan,
      logger,
      stderr: o.stderr,
      signal: stopCtl.signal,
      forwardSamples: json !== undefined || !extra.isEmpty,
      allowedHosts: o.allowedHosts,
      progress: showsProgress(o, quiet),
      onProgress: (i, scenarios, vusMax) => {
        reports.set(i, { scenarios, vusMax });
      },
      onStart: () => {
        phase('workers started the scenarios');
        screen.display = startProgress(o, plan, clock, quiet, inst, merged);
      },
      dataText: () => dataText,
      runSetup: setup,
      onSnapshot: (snap) => {
        aggregator.merge(snap);
      },
      onSamples: (samples) => {
        json?.add(samples);
        extra.add(samples);
      },
      onGauges: (vus, vusMax) => {
        const time = clock.wallNow();
        inst.fan.add([
          { metric: 'vus', time, value: vus, tags: inst.runTags },
          { metric: 'vus_max', time, value: vusMax, tags: inst.runTags },
        ]);
      },
      onAbort: (reason) => {
        abortReason ??= reason;
        stopCtl.abort(new Error('test aborted'));
      },
    });
    screen.display?.stop();
    screen.display = undefined;
    // A failed or interrupted setup() goes on to the summary like k6; worker failures end here.
    if (!r.ok && (!life.setupCalled || life.setupDone)) {
      await stopEval();
      await closeAll(inst, json, extra);
      return r.code;
    }
  } else if (await setup()) {
    try {
      inst.pool.setMax(plan.maxVUs);
      await initVUs(inst.pool, plan.preAllocatedVUs, {
        logger,
        signal: stopCtl.signal,
        ...(inst.vuMode === 'sync' ? { heap: realRss() } : {}),
      });
    } catch (e) {
      await stopEval();
      await closeAll(inst, json, extra);
      throw e;
    }
    phase(`${String(plan.preAllocatedVUs)} VUs initialised`);
    screen.display = startProgress(o, plan, clock, quiet, inst, () => ({ stats: inst.scenarioStats, vusMax: inst.pool.initialized }));
    phase('scenarios started');
    try {
      await plan.run({
        clock,
        pool: inst.pool,
        signal: stopCtl.signal,
        emit: (s) => {
          inst.fan.add(s);
        },
        runTags: inst.runTags,
        logger,
        scenarioStats: inst.scenarioStats,
      });
      await inst.pool.settled(SETTLE_AFTER_STOP_MS);
    } finally {
      screen.display?.stop();
      screen.display = undefined;
    }
  }
  await stopEval();

  // teardown(data): also after an abort (not interrupted by it), never after a failed setup (k6), not with noTeardown.
  if (life.setupDone && !plan.resolved.noTeardown) {
    try {
      await callTimed(
        await inst.lifecycle(),
        clock,
        'teardown',
        plan.resolved.teardownTimeout,
        dataText === undefined ? undefined : JSON.parse(dataText),
      );
    } catch (e) {
      if (e instanceof LifecycleTimeoutError) runError = timeoutFailure(e);
      else if (e instanceof TestAbortedError) inst.host.abortTest(e.reason);
      else {
        runError = scriptFailure(e);
      }
    }
  }
  evaluate(true);
  for (const call of inst.host.awaitSites.unreported)
    logger.warnOnce(`forgot-await:${call}`, forgotAwaitMessage(call, '', 'its result was never awaited'));
  const durationMs = clock.now() - t0;

  const summaryData: SummaryData = buildSummaryData({
    aggregator,
    ...(finalEval === undefined ? {} : { thresholds: finalEval }),
    options: {
      summaryTrendStats: plan.resolved.summaryTrendStats,
      summaryTimeUnit: plan.resolved.summaryTimeUnit ?? '',
      noColor: true,
    },
    state: { isStdOutTTY: o.stdoutIsTTY ?? false, isStdErrTTY: o.stderrIsTTY ?? false, testRunDurationMs: durationMs },
  });
  // k6's handleSummary data carries setup()'s result as `setup_data` (its summarizeMetricsToObject).
  if (dataText !== undefined) summaryData.setup_data = JSON.parse(dataText) as unknown;
  // k6 warns after a run that ended without error but without a single full iteration.
  const endedCleanly = !wasExternal() && abortReason === undefined && !verdict.thresholdAbort && runError === undefined;
  if (endedCleanly && summaryData.metrics.iterations === undefined) {
    logger.log('warn', 'No script iterations fully finished, consider making the test duration longer');
  }
  const exportPath = plan.resolved.summaryExport;
  if (exportPath !== undefined) writeOut(o.cwd, exportPath, summaryExportJson(summaryData));
  if (!plan.resolved.noSummary) await writeSummary(o, inst, script, summaryData, logger, clock, plan.resolved.handleSummaryTimeout);
  await closeAll(inst, json, extra);

  // k6's precedence: an abort's reason, then the run's own error, then the final threshold verdict.
  if (wasExternal()) return EXIT_CODES.externalAbort;
  if (abortReason !== undefined) {
    // k6's errext.InterruptError text: "test aborted", or "test aborted: <the script's reason>".
    logger.log('error', `test aborted${abortReason === '' ? '' : `: ${abortReason}`}`);
    return EXIT_CODES.scriptAborted;
  }
  if (verdict.thresholdAbort) return EXIT_CODES.thresholdsFailed;
  if (runError !== undefined) {
    runError.logAtEnd?.();
    return runError.code;
  }
  if (finalEval !== undefined && !finalEval.ok) {
    logger.log('error', thresholdsCrossedMessage(finalEval.crossed));
    return EXIT_CODES.thresholdsFailed;
  }
  if (inst.failed !== undefined) return EXIT_CODES.markedAsFailed;
  return EXIT_CODES.ok;
}

/** The run header's line for the synchronous VU mode: why, what it costs, how far this machine goes. */
function syncModeLine(why: string, maxVUs: number): string {
  const capacity = syncVuCapacity();
  const over = maxVUs > capacity ? `; this test wants ${String(maxVUs)}, more than fit: expect swapping or an out-of-memory stop` : '';
  return `sync (${why}): one thread per VU, about ${String(SYNC_VU_RSS_MB)} MB and ${String(SYNC_VU_START_MS)} ms of CPU to start each; this machine holds about ${String(capacity)} such VUs${over}`;
}

/** The live progress display while scenarios run (stderr on a TTY). */
interface Screen {
  display?: ProgressDisplay | undefined;
}

/** The log's stream while bars may be on screen: each line lands above them (k6's PersistentText). */
function logStream(stderr: NodeJS.WritableStream, screen: Screen): NodeJS.WritableStream {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb): void {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      stderr.write(screen.display?.persist(text) ?? text);
      cb();
    },
  });
}

/** Workers report their progress whenever a status is shown: redrawn bars on a TTY, plain status lines elsewhere. */
const showsProgress = (_o: RunEngineOptions, quiet: boolean): boolean => !quiet;

/** What the bars show: `stats[i]` belongs to the i-th scenario of the execution plan (`names[i]`), and the initialised VUs. */
interface ProgressSource {
  readonly stats: readonly ScenarioStats[];
  readonly vusMax: number;
}

/** k6's per-scenario progress: bars redrawn on a TTY stderr, a plain status block every few seconds elsewhere (never with --quiet). */
function startProgress(
  o: RunEngineOptions,
  plan: TestPlan,
  clock: Clock,
  quiet: boolean,
  inst: InstanceState,
  source: (names: readonly string[]) => ProgressSource,
): ProgressDisplay | undefined {
  const execPlan = planExecution(plan.scenarios, plan.tuple);
  const names = execPlan.scenarios.map((sc) => sc.config.name);
  const stderr = o.stderr as NodeJS.WritableStream & { readonly columns?: number };
  const display = ProgressDisplay.create({
    quiet,
    out: {
      write: (text: string) => stderr.write(text),
      isTTY: o.stderrIsTTY ?? false,
      get columns() {
        return stderr.columns;
      },
    },
    source: () => {
      const now = source(names);
      return snapshotProgress(execPlan, now.stats, clock.now(), inst.started, now.vusMax);
    },
    scenarioNames: names,
    maxPossibleVUs: execPlan.maxPossibleVUs,
    maxDurationMs: execPlan.maxDuration,
  });
  display?.start();
  return display;
}

/**
 * Calls a lifecycle function with k6's time limit: when `timeoutMs` passes first, its pending work is
 * interrupted and LifecycleTimeoutError is thrown at once (a function that never settles cannot hold
 * the run). `stop` (optional) interrupts it too, as a stop signal interrupts k6's setup().
 */
export async function callTimed(
  vu: LifecycleRunner,
  clock: Clock,
  place: LifecyclePlace,
  timeoutMs: number,
  arg?: unknown,
  stop?: AbortSignal,
): Promise<unknown> {
  if (typeof vu.exports[place] !== 'function') return undefined;
  const limit = new AbortController();
  const timerDone = new AbortController();
  const signal = stop === undefined ? limit.signal : AbortSignal.any([limit.signal, stop]);
  try {
    return await new Promise<unknown>((resolve, reject) => {
      vu.callLifecycle(place, place === 'handleSummary' ? 'summary' : place, arg, signal).then(resolve, reject);
      clock.sleep(timeoutMs, timerDone.signal).then(
        () => {
          const e = new LifecycleTimeoutError(place, timeoutMs);
          reject(e);
          limit.abort(e);
        },
        () => undefined,
      );
    });
  } finally {
    timerDone.abort();
  }
}

function formatErr(script: CompiledScript, e: unknown): string {
  const err = toError(e);
  const frames = script.scriptFrames(e);
  return frames.length === 0 ? `${err.name}: ${err.message}` : `${err.name}: ${err.message}\n${frames.join('\n')}\n`;
}

function writeOut(cwd: string, path: string, content: string | ArrayBuffer | Uint8Array): void {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : content instanceof ArrayBuffer ? new Uint8Array(content) : content);
}

/**
 * k6's end of test (js/summary-wrapper.js): handleSummary's result decides what is written; a falsy
 * result (or an exception in it, logged) gives the default text summary on stdout framed as k6 frames
 * it (a blank line before, two after); a result that is not an object is an error and writes nothing.
 */
async function writeSummary(
  o: RunEngineOptions,
  inst: InstanceState,
  script: CompiledScript,
  data: SummaryData,
  logger: Logger,
  clock: Clock,
  timeoutMs: number,
): Promise<void> {
  let result: unknown;
  if (typeof inst.lifecycleVu.exports.handleSummary === 'function') {
    try {
      result = await callTimed(await inst.lifecycle(), clock, 'handleSummary', timeoutMs, JSON.parse(JSON.stringify(data)));
    } catch (e) {
      if (e instanceof LifecycleTimeoutError) {
        // k6: no summary at all, one error line; the exit code is not affected.
        logger.log('error', 'failed to handle the end-of-test summary', { error: e.message });
        return;
      }
      logger.log('error', `handleSummary() failed, printing the default summary instead: ${formatErr(script, e)}`, {
        source: 'stacktrace',
      });
      result = undefined;
    }
  }
  if (result === undefined || result === null || result === false || result === 0 || result === '' || Number.isNaN(result)) {
    result = { stdout: `\n${textSummary(data, { indent: ' ', enableColors: false })}\n\n` };
  }
  if (typeof result !== 'object' || result === null) {
    logger.log('error', 'failed to handle the end-of-test summary', {
      error: `handleSummary() should return a map with string keys, got ${typeof result}; return e.g. { stdout: textSummary(data) }`,
    });
    return;
  }
  for (const [key, value] of Object.entries(result as Record<string, unknown>)) {
    const content =
      typeof value === 'string' || value instanceof ArrayBuffer || value instanceof Uint8Array ? value : JSON.stringify(value);
    if (key === 'stdout') o.stdout.write(typeof content === 'string' ? content : Buffer.from(content as ArrayBuffer));
    else if (key === 'stderr') o.stderr.write(typeof content === 'string' ? content : Buffer.from(content as ArrayBuffer));
    else writeOut(o.cwd, key, content);
  }
}

async function closeAll(inst: InstanceState, json: JsonOutput | undefined, extra: OutputSet): Promise<void> {
  await inst.pool.close();
  await inst.lifecycleVu.close();
  await inst.closeLifecycle();
  try {
    if (json !== undefined) await json.close();
  } finally {
    await extra.close();
  }
}
