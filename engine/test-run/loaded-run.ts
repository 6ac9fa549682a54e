/**
 * A run up to its options check: the script loaded, VU 0's init code run, options and thresholds checked
 * (every problem at once, exit 104 before any VU starts), and what the later phases share (`LoadedRun`).
 */
import type { Options } from 'k6/options';
import type { Clock, Issue } from '../contracts.ts';
import { vuIdsInTest } from '../execution/index.ts';
import { ThresholdSet, parseThresholds, type ThresholdEvaluation } from '../thresholds/index.ts';
import { EXIT_CODES } from '../runtime/errors.ts';
import type { FlagIssue } from '../runtime/flags.ts';
import { loadScript, type CompiledScript, type LoadedScript } from '../runtime/loader.ts';
import { chooseVuMode, type VuMode } from '../sync/mode.ts';
import type { Logger } from '../runtime/logger.ts';
import { planTest, type TestPlan } from '../runtime/test-plan.ts';
import { realClock } from '../runtime/clock.ts';
import { chooseWorkers } from '../runtime/workers.ts';
import { HostPolicy } from '../net/host-policy.ts';
import { createInstance, type InstanceState } from './instance.ts';
import type { Screen } from './progress.ts';
import { logIssues, type RunEngineOptions, type RunSettings } from './settings.ts';

/** Where a run is: what the phases after the options check share (read at the end for the exit code). */
export interface RunState {
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
export interface LoadedRun {
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

type RunInput = Pick<LoadedRun, 'o' | 'settings' | 'scriptPath' | 'logger' | 'stopCtl' | 'wasExternal' | 'screen'>;

/**
 * The script loaded, VU 0's init code run, then options and thresholds checked: every problem at once,
 * exit 104 before any VU starts (also the end of a validate-only run: 0). Returns the exit code when it ends there.
 */
export async function loadAndCheck(input: RunInput): Promise<LoadedRun | number> {
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
    onInit: o.onInit,
  });
  phase('init code run (VU 0: options)');
  // A run that ends here closes what VU 0's init code opened (an sql.open pool that ran a query), as the end of
  // a run does: the embedded engine runs inside the caller's process, which goes on (init-reads.ts, run-prepare.ts).
  let running = false;
  try {
    const run = checkLoaded(input, { clock, phase, script, inst, state }, (plan) => {
      idsInTest = vuIdsInTest(plan.tuple);
    });
    running = typeof run !== 'number';
    return run;
  } finally {
    if (!running) await inst.lifecycleVu.close();
  }
}

/** The options and thresholds of a loaded script checked: the exit code when the run ends there, else the run. */
function checkLoaded(
  input: RunInput,
  loaded: Pick<LoadedRun, 'clock' | 'phase' | 'inst' | 'state'> & { readonly script: LoadedScript },
  onPlan: (plan: TestPlan) => void,
): LoadedRun | number {
  const { o, settings, logger } = input;
  const { flags } = settings;
  const { inst, script } = loaded;
  const scriptOptions = (inst.lifecycleVu.exports.options ?? {}) as Options;

  const plan: TestPlan = planTest(scriptOptions, flags, settings.env, inst.lifecycleVu.exports);
  onPlan(plan);
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
  if (o.validateOnly === true) return EXIT_CODES.ok;
  inst.options = plan.options;
  inst.runTags = plan.resolved.tags;
  for (const w of plan.resolved.warnings) logger.log('warn', w);
  const quiet = flags.booleans.has('quiet');
  return { ...input, ...loaded, quiet, plan, thresholds, noThresholds, workers: choice.workers, mode };
}
