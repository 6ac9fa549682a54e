/** The thresholds while a run goes on (every 2 s on its clock, abortOnFail stops the test) and at its end (the verdict). */
import { THRESHOLD_EVAL_INTERVAL_MS, thresholdsAbortMessage } from '../thresholds/index.ts';
import type { LoadedRun } from './loaded-run.ts';
import type { Outputs } from './sample-outputs.ts';

/** The threshold loop while the scenarios run (every 2 s on the run's clock): `stop` ends it. */
export interface EvalLoop {
  stop(): Promise<void>;
}

/** The thresholds evaluated now: the final verdict, or (while running) an abortOnFail that stops the test. */
export function evaluate(
  { noThresholds, thresholds, clock, state, logger, stopCtl }: LoadedRun,
  { aggregator }: Outputs,
  final: boolean,
): void {
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
export function startEvalLoop(run: LoadedRun, out: Outputs): EvalLoop {
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
