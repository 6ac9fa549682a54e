/**
 * One engine instance's shared state: the metric registry, the sample fan-out, the VU host every VU
 * sees, the VU pool (async VUs here, or one thread per VU in the synchronous mode), and VU 0, whose init
 * code gives the options and whose lifecycle functions (setup, teardown, handleSummary) the run calls.
 * The main thread and each worker thread build one.
 */
import type { Options } from 'k6/options';
import type { Clock, MetricDefinition, Sample, SampleRow, SampleSink, Tags } from '../contracts.ts';
import { MetricRegistry, samplesOfRow } from '../metrics/index.ts';
import type { ScenarioStats } from '../executors/types.ts';
import { MODULES } from '../modules/index.ts';
import type { InstanceStats } from '../modules/context.ts';
import type { LoadedScript } from '../runtime/loader.ts';
import type { Logger } from '../runtime/logger.ts';
import type { PlanRuntime, TestPlan } from '../runtime/test-plan.ts';
import { VuPool } from '../runtime/pool.ts';
import type { HostPolicy } from '../net/host-policy.ts';
import { Vu } from '../runtime/vu.ts';
import type { VuHost } from '../runtime/vu-host.ts';
import { afterRejectionsReported } from '../runtime/rejections.ts';
import { ThreadVu, packSharedArrays, type ThreadVuShared } from '../sync/thread-vu.ts';
import type { VuMode } from '../sync/mode.ts';

/** A sink that fans samples out; `target` can be set after init. */
export class FanOut implements SampleSink {
  sinks: SampleSink[] = [];
  add(samples: readonly Sample[]): void {
    for (const s of this.sinks) s.add(samples);
  }
  /** A row to the sinks that take rows (the aggregator); the others get its samples, built once for all of them. */
  addRow(row: SampleRow): void {
    let samples: Sample[] | undefined;
    for (const s of this.sinks) {
      if (s.addRow !== undefined) s.addRow(row);
      else s.add((samples ??= samplesOfRow(row)));
    }
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
    /** A second argument (handleSummary's summary report). */
    extra?: unknown,
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
  /**
   * Called once VU 0's init code has run, with the script's exports; also when it threw (the exports defined by
   * then), `finished` false: what the init code did is then known only up to the throw.
   */
  onInit?: ((exports: Readonly<Record<string, unknown>>, finished: boolean) => void) | undefined;
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
    await initOrClose(vu);
    if (st.dataText !== undefined) vu.setData(JSON.parse(st.dataText));
    return vu;
  }, Number.MAX_SAFE_INTEGER);
  poolRef.pool = pool;
  const lifecycleVu = new Vu(host, 0, 0);
  let finished = false;
  try {
    await initOrClose(lifecycleVu);
    finished = true;
  } finally {
    args.onInit?.(lifecycleVu.exports, finished);
  }
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

/**
 * Runs a VU's init code; when it throws (exit 107), closes what it opened before the throw (an sql.open pool
 * that ran a query) as the end of a run does: the pool and closeAll (end-of-test.ts) only know VUs that exist.
 */
async function initOrClose(vu: Vu): Promise<void> {
  try {
    await vu.init();
  } catch (e) {
    await vu.close();
    throw e;
  }
}

/**
 * Runs the plan's scenarios on this instance's VUs, their samples into its fan-out (this thread's or a worker's).
 * Done one macrotask after the last iteration: a rejection its end left unhandled is reported (logged) first.
 */
export function runScenarios(
  inst: InstanceState,
  plan: Pick<TestPlan, 'run'>,
  rt: Pick<PlanRuntime, 'clock' | 'signal' | 'logger' | 'noGauges'>,
): Promise<void> {
  return plan
    .run({
      ...rt,
      pool: inst.pool,
      emit: (s) => {
        inst.fan.add(s);
      },
      runTags: inst.runTags,
      scenarioStats: inst.scenarioStats,
    })
    .then(afterRejectionsReported);
}
