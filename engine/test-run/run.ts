/**
 * The run lifecycle (k6 `run`): flags → first VU's init code → options → validation (exit 104 before
 * any VU starts) → remaining VUs → setup() → scenarios → teardown() → summary / handleSummary →
 * outputs flushed → exit code. Thresholds are evaluated every 2 s and once at the end.
 */
import { setMaxListeners } from 'node:events';
import { isAbsolute, resolve } from 'node:path';
import { forgotAwaitMessage } from '../modules/awaitable.ts';
import { BANNER } from '../runtime/banner.ts';
import { EngineError, EXIT_CODES, toError } from '../runtime/errors.ts';
import { parseRunFlags, runHelp } from '../runtime/flags.ts';
import { Logger } from '../runtime/logger.ts';
import { releaseYoungGenerationFlags } from '../runtime/young-generation.ts';
import { thresholdsCrossedMessage } from '../thresholds/index.ts';
import { endOfTest } from './end-of-test.ts';
import { printHeader } from './header.ts';
import { loadAndCheck, type LoadedRun } from './loaded-run.ts';
import { logStream, type Screen } from './progress.ts';
import { openOutputs } from './sample-outputs.ts';
import { runHere, runOnWorkers } from './scenarios.ts';
import { logIssues, settingsFromFlags, type RunEngineOptions, type RunSettings } from './settings.ts';
import { runTeardown } from './setup-teardown.ts';
import { evaluate, startEvalLoop } from './threshold-loop.ts';

/** One k6 `run` of a bundled script: its exit code (k6's table, shared/exit-codes.ts); SIGINT/SIGTERM stop it gracefully. */
export async function runEngine(o: RunEngineOptions): Promise<number> {
  // Before any thread starts: this thread keeps the entry point's fixed young generation, threads get V8's own.
  releaseYoungGenerationFlags();
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

/** The phases, one call each (loaded-run.ts, sample-outputs.ts, scenarios.ts, setup-teardown.ts, end-of-test.ts). */
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
