/** The scenarios of a run: on --workers threads, or after setup() on this thread's VU pool. */
import { mergeScenarioStats } from '../execution/index.ts';
import { SETTLE_AFTER_STOP_MS } from '../runtime/pool.ts';
import { initVUs, realRss } from '../runtime/vu-init.ts';
import { fromReport, runWorkers, type ScenarioReport } from '../runtime/workers.ts';
import { closeAll } from './end-of-test.ts';
import type { LoadedRun } from './loaded-run.ts';
import { showsProgress, startProgress, type ProgressSource } from './progress.ts';
import type { Outputs } from './sample-outputs.ts';
import { runSetup } from './setup-teardown.ts';
import type { EvalLoop } from './threshold-loop.ts';
import { runScenarios } from './instance.ts';

/** The scenarios on worker threads (engine/runtime/workers.ts): the exit code when a worker failure ends the run here. */
export async function runOnWorkers(run: LoadedRun, out: Outputs, evalLoop: EvalLoop): Promise<number | undefined> {
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
export async function runHere(run: LoadedRun, out: Outputs, evalLoop: EvalLoop): Promise<undefined> {
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
    await runScenarios(inst, plan, { clock, signal: stopCtl.signal, logger });
    await inst.pool.settled(SETTLE_AFTER_STOP_MS);
  } finally {
    screen.display?.stop();
    screen.display = undefined;
  }
  return undefined;
}
