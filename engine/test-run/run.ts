/**
 * The run lifecycle (k6 `run`): flags → first VU's init code → options → validation (exit 104 before
 * any VU starts) → remaining VUs → setup() → scenarios → teardown() → summary / handleSummary →
 * outputs flushed → exit code. Thresholds are evaluated every 2 s and once at the end.
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Options } from 'k6/options';
import type { Clock, Issue } from '../contracts.ts';
import { Aggregator } from '../metrics/index.ts';
import { mergeScenarioStats, vuIdsInTest } from '../execution/index.ts';
import {
  JsonOutput,
  buildSummaryData,
  buildSummaryReport,
  summaryExportJson,
  type SummaryData,
  type SummaryInput,
} from '../output/index.ts';
import { OutputSet, parseOutputs, type OutputRequest } from '../output/outputs.ts';
import {
  ThresholdSet,
  THRESHOLD_EVAL_INTERVAL_MS,
  parseThresholds,
  thresholdsAbortMessage,
  thresholdsCrossedMessage,
  type ThresholdEvaluation,
} from '../thresholds/index.ts';
import { forgotAwaitMessage } from '../modules/awaitable.ts';
import { BANNER, formatHeader } from '../runtime/banner.ts';
import { EngineError, EXIT_CODES, LifecycleTimeoutError, TestAbortedError, toError } from '../runtime/errors.ts';
import { parseKeyValues, parseRunFlags, runHelp, type FlagIssue, type ParsedRunFlags } from '../runtime/flags.ts';
import { loadScript, type CompiledScript } from '../runtime/loader.ts';
import { chooseVuMode, syncVuCapacity, SYNC_VU_RSS_MB, SYNC_VU_START_MS, type VuMode } from '../sync/mode.ts';
import { Logger } from '../runtime/logger.ts';
import { SETTLE_AFTER_STOP_MS } from '../runtime/pool.ts';
import { planTest, type TestPlan } from '../runtime/test-plan.ts';
import { initVUs, realRss } from '../runtime/vu-init.ts';
import { realClock } from '../runtime/clock.ts';
import { HostPolicy } from '../net/host-policy.ts';
import { createInstance, type InstanceState } from './instance.ts';
import { logStream, showsProgress, startProgress, type ProgressSource, type Screen } from './progress.ts';
import { callTimed, closeAll, formatErr, writeOut, writeSummary } from './end-of-test.ts';
import { chooseWorkers, fromReport, runWorkers, type ScenarioReport } from '../runtime/workers.ts';

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

/** Where a run is: what the phases after the options check share (read at the end for the exit code). */
interface RunState {
  /** exec.test.abort(), abortOnFail, or a worker's abort: the first reason. */
  abortReason: string | undefined;
  /** A threshold with abortOnFail crossed while running. */
  thresholdAbort: boolean;
  /**
   * The error k6's execution scheduler would return (setup or teardown failed or ran out of time):
   * the run still evaluates thresholds, writes the summary and flushes outputs, then exits with its code
   * unless the test was aborted (signal, exec.test.abort, abortOnFail), which wins as in k6.
   */
  runError: { readonly code: number; readonly logAtEnd?: () => void } | undefined;
  finalEval: ThresholdEvaluation | undefined;
  /** When the test run started (setup() starts it). */
  t0: number;
  /** setup()'s result as JSON text. */
  dataText: string | undefined;
  setupCalled: boolean;
  setupDone: boolean;
}

/** The run's fixed parts: what runEngine gives and what loading and checking the script gave. */
interface LoadedRun {
  readonly o: RunEngineOptions;
  readonly settings: RunSettings;
  readonly scriptPath: string;
  readonly logger: Logger;
  readonly stopCtl: AbortController;
  readonly wasExternal: () => boolean;
  readonly screen: Screen;
  readonly clock: Clock;
  readonly phase: (name: string) => void;
  readonly quiet: boolean;
  readonly script: CompiledScript;
  readonly inst: InstanceState;
  readonly plan: TestPlan;
  /** Empty with --no-thresholds. */
  readonly thresholds: ThresholdSet;
  readonly noThresholds: boolean;
  readonly workers: number;
  readonly mode: { readonly mode: VuMode; readonly why: string };
  readonly state: RunState;
}

/** Where samples go: the aggregator (summary, thresholds), --out json and the other outputs. */
interface Outputs {
  readonly aggregator: Aggregator;
  readonly json: JsonOutput | undefined;
  readonly extra: OutputSet;
}

/** The threshold loop while the scenarios run (every 2 s on the run's clock): `stop` ends it. */
interface EvalLoop {
  stop(): Promise<void>;
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
  const run = await loadAndCheck({ o, settings, scriptPath, logger, stopCtl, wasExternal, screen });
  if (typeof run === 'number') return run;
  const out = openOutputs(run);
  if (!run.quiet) printHeader(run, out);
  run.state.t0 = run.clock.now();
  run.inst.started = run.state.t0;
  const evalLoop = startEvalLoop(run, out);
  const endedEarly = run.workers > 1 ? await runOnWorkers(run, out, evalLoop) : await runHere(run, out, evalLoop);
  if (endedEarly !== undefined) return endedEarly;
  await evalLoop.stop();
  await runTeardown(run);
  evaluate(run, out, true);
  for (const call of run.inst.host.awaitSites.unreported)
    logger.warnOnce(`forgot-await:${call}`, forgotAwaitMessage(call, '', 'its result was never awaited'));
  await endOfTest(run, out);
  return exitCodeOf(run);
}

type RunInput = Pick<LoadedRun, 'o' | 'settings' | 'scriptPath' | 'logger' | 'stopCtl' | 'wasExternal' | 'screen'>;

/**
 * The script loaded, VU 0's init code run, then options and thresholds checked: every problem at once,
 * exit 104 before any VU starts (also the end of a validate-only run: 0). Returns the exit code when it ends there.
 */
async function loadAndCheck(input: RunInput): Promise<LoadedRun | number> {
  const { o, settings, logger, stopCtl } = input;
  const { flags } = settings;
  const clock = o.clock ?? realClock;
  const phase = o.onPhase ?? ((): void => undefined);
  const script = await loadScript(input.scriptPath);
  phase('script loaded and compiled');
  const state: RunState = {
    abortReason: undefined,
    thresholdAbort: false,
    runError: undefined,
    finalEval: undefined,
    t0: clock.now(),
    dataText: undefined,
    setupCalled: false,
    setupDone: false,
  };
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
      state.abortReason ??= reason;
      stopCtl.abort(new Error('test aborted'));
    },
  });
  const scriptOptions = (inst.lifecycleVu.exports.options ?? {}) as Options;
  phase('init code run (VU 0: options)');

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
  const quiet = flags.booleans.has('quiet');
  return { ...input, clock, phase, quiet, script, inst, plan, thresholds, noThresholds, workers: choice.workers, mode, state };
}

/** The aggregator (with the thresholds' submetrics), --out json and the other --out outputs, each fed by the VUs' samples. */
function openOutputs({ o, settings, inst, plan, thresholds, logger }: LoadedRun): Outputs {
  // k6 v1's full summary breaks the metrics down per group and per scenario: kept only when asked for.
  const aggregator = new Aggregator(inst.registry, { submetrics: thresholds.keys(), breakdown: plan.resolved.summaryMode === 'full' });
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
  return { aggregator, json, extra };
}

/** k6's run header: script, outputs, scenarios (and the synchronous VU mode's cost). */
function printHeader({ o, settings, scriptPath, plan, mode }: LoadedRun, { extra }: Outputs): void {
  o.stdout.write(
    formatHeader({
      script: relative(o.cwd, scriptPath) || scriptPath,
      output:
        [
          ...(settings.jsonOut === undefined ? [] : [`json (${settings.jsonOut === '-' ? 'stdout' : relative(o.cwd, settings.jsonOut)})`]),
          ...extra.outputs.map((x) => x.description),
        ].join(', ') || '-',
      scenariosLine: plan.scenariosLine,
      scenarioLines: plan.scenarioLines,
      ...(mode.mode === 'sync' ? { vuMode: syncModeLine(mode.why, plan.maxVUs) } : {}),
    }),
  );
}

/** The thresholds evaluated now: the final verdict, or (while running) an abortOnFail that stops the test. */
function evaluate({ noThresholds, thresholds, clock, state, logger, stopCtl }: LoadedRun, { aggregator }: Outputs, final: boolean): void {
  if (noThresholds || thresholds.isEmpty()) return;
  const ev = thresholds.evaluate(aggregator, clock.now() - state.t0);
  if (final) state.finalEval = ev;
  if (!final && ev.shouldAbort && !state.thresholdAbort) {
    state.thresholdAbort = true;
    logger.log('error', thresholdsAbortMessage(ev.crossed));
    stopCtl.abort(new Error('thresholds crossed'));
  }
}

/** Thresholds every 2 s on the injected clock while the scenarios run. */
function startEvalLoop(run: LoadedRun, out: Outputs): EvalLoop {
  const evalDone = new AbortController();
  const loop = (async (): Promise<void> => {
    for (;;) {
      try {
        await run.clock.sleep(THRESHOLD_EVAL_INTERVAL_MS, evalDone.signal);
      } catch {
        return;
      }
      evaluate(run, out, false);
    }
  })();
  return {
    stop: async () => {
      evalDone.abort();
      await loop;
    },
  };
}

/** k6's scriptException: its stack as the message and hint="script exception", as the run's last line. */
function scriptFailure({ logger, script }: LoadedRun, e: unknown): NonNullable<RunState['runError']> {
  return {
    code: EXIT_CODES.scriptException,
    logAtEnd: () => {
      logger.log('error', formatErr(script, e), { hint: 'script exception' });
    },
  };
}

function timeoutFailure({ logger }: LoadedRun, e: LifecycleTimeoutError): NonNullable<RunState['runError']> {
  return {
    code: e.exitCode,
    logAtEnd: () => {
      logger.log('error', e.message, e.hint === '' ? {} : { hint: e.hint });
    },
  };
}

/** setup(): once, its JSON result handed to every VU. Limited by setupTimeout; a stop signal interrupts it. False when it failed. */
async function runSetup(run: LoadedRun): Promise<boolean> {
  const { state, inst, plan, clock, stopCtl } = run;
  state.setupCalled = true;
  // The test run starts here (workers, if any, are initialised by now).
  state.t0 = clock.now();
  inst.started = state.t0;
  run.phase('ready to start (setup() starts)');
  try {
    const data = plan.resolved.noSetup
      ? undefined
      : await callTimed(await inst.lifecycle(), clock, 'setup', plan.resolved.setupTimeout, undefined, stopCtl.signal);
    state.dataText = data === undefined ? undefined : JSON.stringify(data);
    inst.dataText = state.dataText;
    state.setupDone = true;
    run.phase('setup() done');
    return true;
  } catch (e) {
    if (e instanceof LifecycleTimeoutError) state.runError = timeoutFailure(run, e);
    else if (e instanceof TestAbortedError) inst.host.abortTest(e.reason);
    else if (!stopCtl.signal.aborted) {
      state.runError = scriptFailure(run, e);
    }
    return false;
  }
}

/** The scenarios on worker threads (engine/runtime/workers.ts): the exit code when a worker failure ends the run here. */
async function runOnWorkers(run: LoadedRun, out: Outputs, evalLoop: EvalLoop): Promise<number | undefined> {
  const { o, settings, plan, logger, clock, inst, screen, stopCtl, state } = run;
  const { aggregator, json, extra } = out;
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
    workers: run.workers,
    script: run.scriptPath,
    args: o.args,
    env: settings.env,
    plan,
    logger,
    stderr: o.stderr,
    signal: stopCtl.signal,
    forwardSamples: json !== undefined || !extra.isEmpty,
    allowedHosts: o.allowedHosts,
    progress: showsProgress(o, run.quiet),
    onProgress: (i, scenarios, vusMax) => {
      reports.set(i, { scenarios, vusMax });
    },
    onStart: () => {
      run.phase('workers started the scenarios');
      screen.display = startProgress(o, plan, clock, run.quiet, inst, merged);
    },
    dataText: () => state.dataText,
    runSetup: () => runSetup(run),
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
      state.abortReason ??= reason;
      stopCtl.abort(new Error('test aborted'));
    },
  });
  screen.display?.stop();
  screen.display = undefined;
  // A failed or interrupted setup() goes on to the summary like k6; worker failures end here.
  if (!r.ok && (!state.setupCalled || state.setupDone)) {
    await evalLoop.stop();
    await closeAll(inst, out.json, out.extra);
    return r.code;
  }
  return undefined;
}

/** setup(), then the scenarios on this thread's VU pool (a failed setup() skips them and goes on to the summary). */
async function runHere(run: LoadedRun, out: Outputs, evalLoop: EvalLoop): Promise<undefined> {
  const { inst, plan, logger, stopCtl, screen, clock } = run;
  if (!(await runSetup(run))) return undefined;
  try {
    inst.pool.setMax(plan.maxVUs);
    await initVUs(inst.pool, plan.preAllocatedVUs, {
      logger,
      signal: stopCtl.signal,
      ...(inst.vuMode === 'sync' ? { heap: realRss() } : {}),
    });
  } catch (e) {
    await evalLoop.stop();
    await closeAll(inst, out.json, out.extra);
    throw e;
  }
  run.phase(`${String(plan.preAllocatedVUs)} VUs initialised`);
  screen.display = startProgress(run.o, plan, clock, run.quiet, inst, () => ({ stats: inst.scenarioStats, vusMax: inst.pool.initialized }));
  run.phase('scenarios started');
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
  return undefined;
}

/** teardown(data): also after an abort (not interrupted by it), never after a failed setup (k6), not with noTeardown. */
async function runTeardown(run: LoadedRun): Promise<void> {
  const { state, plan, inst, clock } = run;
  if (!state.setupDone || plan.resolved.noTeardown) return;
  try {
    await callTimed(
      await inst.lifecycle(),
      clock,
      'teardown',
      plan.resolved.teardownTimeout,
      state.dataText === undefined ? undefined : JSON.parse(state.dataText),
    );
  } catch (e) {
    if (e instanceof LifecycleTimeoutError) state.runError = timeoutFailure(run, e);
    else if (e instanceof TestAbortedError) inst.host.abortTest(e.reason);
    else {
      state.runError = scriptFailure(run, e);
    }
  }
}

/** The end of test: summary data, --summary-export, the summary (or handleSummary's files), then every output closed. */
async function endOfTest(run: LoadedRun, out: Outputs): Promise<void> {
  const { o, plan, state, logger, inst, script, clock } = run;
  const summaryInput: SummaryInput = {
    aggregator: out.aggregator,
    ...(state.finalEval === undefined ? {} : { thresholds: state.finalEval }),
    options: {
      summaryTrendStats: plan.resolved.summaryTrendStats,
      summaryTimeUnit: plan.resolved.summaryTimeUnit ?? '',
      noColor: true,
    },
    state: { isStdOutTTY: o.stdoutIsTTY ?? false, isStdErrTTY: o.stderrIsTTY ?? false, testRunDurationMs: clock.now() - state.t0 },
  };
  const summaryData: SummaryData = buildSummaryData(summaryInput);
  // k6's handleSummary data carries setup()'s result as `setup_data` (its summarizeMetricsToObject).
  if (state.dataText !== undefined) summaryData.setup_data = JSON.parse(state.dataText) as unknown;
  // k6 warns after a run that ended without error but without a single full iteration.
  const endedCleanly = !run.wasExternal() && state.abortReason === undefined && !state.thresholdAbort && state.runError === undefined;
  if (endedCleanly && summaryData.metrics.iterations === undefined) {
    logger.log('warn', 'No script iterations fully finished, consider making the test duration longer');
  }
  const exportPath = plan.resolved.summaryExport;
  if (exportPath !== undefined) writeOut(o.cwd, exportPath, summaryExportJson(summaryData));
  if (!plan.resolved.noSummary)
    await writeSummary(o, inst, script, { data: summaryData, report: buildSummaryReport(summaryInput) }, logger, clock, {
      timeoutMs: plan.resolved.handleSummaryTimeout,
      mode: plan.resolved.summaryMode,
    });
  await closeAll(inst, out.json, out.extra);
}

/** k6's precedence: an abort's reason, then the run's own error, then the final threshold verdict. */
function exitCodeOf({ state, logger, inst, wasExternal }: LoadedRun): number {
  if (wasExternal()) return EXIT_CODES.externalAbort;
  if (state.abortReason !== undefined) {
    // k6's errext.InterruptError text: "test aborted", or "test aborted: <the script's reason>".
    logger.log('error', `test aborted${state.abortReason === '' ? '' : `: ${state.abortReason}`}`);
    return EXIT_CODES.scriptAborted;
  }
  if (state.thresholdAbort) return EXIT_CODES.thresholdsFailed;
  if (state.runError !== undefined) {
    state.runError.logAtEnd?.();
    return state.runError.code;
  }
  if (state.finalEval !== undefined && !state.finalEval.ok) {
    logger.log('error', thresholdsCrossedMessage(state.finalEval.crossed));
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
