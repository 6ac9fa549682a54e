/** Runs options through resolveOptions → planExecution → TestRun on a fake clock and fake VUs. */
import assert from 'node:assert/strict';
import { planExecution, TestRun, type TestProgress, type TestResult } from '../../../engine/execution/index.ts';
import { resolveOptions, type OptionOverrides } from '../../../engine/options/index.ts';
import { FakeClock, FakePool, SampleLog, type Script } from './fakes.ts';

export interface Harness {
  clock: FakeClock;
  pool: FakePool;
  samples: SampleLog;
  run: TestRun;
  result: TestResult;
  probes: Map<number, number>;
  progress: Map<number, TestProgress>;
  started: Map<string, number>;
  warnings: string[];
}

export async function runTest(
  scriptOptions: unknown,
  script: Script,
  opts: { overrides?: OptionOverrides; abortAt?: number; probeAt?: number[]; progressAt?: number[]; initMs?: number } = {},
): Promise<Harness> {
  const clock = new FakeClock();
  const { options, issues } = resolveOptions(scriptOptions, opts.overrides ?? {});
  assert.deepEqual(issues, []);
  const plan = planExecution(options.scenarios, options.tuple);
  const pool = new FakePool(clock, plan.maxPlannedVUs, script, opts.initMs ?? 0);
  const samples = new SampleLog();
  const ctl = new AbortController();
  const started = new Map<string, number>();
  const warnings: string[] = [];
  const run = new TestRun(plan, {
    clock,
    pool,
    signal: ctl.signal,
    emit: samples.emit,
    runTags: options.tags,
    onScenarioStart: (name, t) => started.set(name, t),
    warn: (m) => warnings.push(m),
  });
  const probes = new Map<number, number>();
  const stop = new AbortController();
  for (const at of opts.probeAt ?? []) {
    void clock.sleep(at, stop.signal).then(
      () => probes.set(at, run.vus()),
      () => undefined,
    );
  }
  const progress = new Map<number, TestProgress>();
  for (const at of opts.progressAt ?? []) {
    void clock.sleep(at, stop.signal).then(
      () => progress.set(at, run.progress()),
      () => undefined,
    );
  }
  if (opts.abortAt !== undefined) {
    void clock.sleep(opts.abortAt, stop.signal).then(
      () => ctl.abort(new Error('test aborted')),
      () => undefined,
    );
  }
  const result = await clock.run(run.run());
  stop.abort();
  return { clock, pool, samples, run, result, probes, progress, started, warnings };
}

export const fixed =
  (ms: number): Script =>
  () =>
    ms;
