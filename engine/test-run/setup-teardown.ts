/**
 * setup() and teardown(data) with k6's time limits; a failure is recorded as the run's error (summary
 * and outputs still follow), an exec.test.abort() aborts the test.
 */
import { EXIT_CODES, LifecycleTimeoutError, TestAbortedError } from '../runtime/errors.ts';
import { callTimed, formatErr } from './end-of-test.ts';
import type { LoadedRun, RunState } from './loaded-run.ts';

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
export async function runSetup(run: LoadedRun): Promise<boolean> {
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

/** teardown(data): also after an abort (not interrupted by it), never after a failed setup (k6), not with noTeardown. */
export async function runTeardown(run: LoadedRun): Promise<void> {
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
