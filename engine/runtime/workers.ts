/**
 * All cores: the test's VUs spread over worker threads, each running one execution segment of the
 * test (engine/units/segments.ts splitForWorkers). Workers ship drained aggregates every second (merged exactly in the
 * main thread, where thresholds are evaluated) and, with --out json, their samples in batches.
 * setup(), teardown() and handleSummary() run once, in the main thread.
 *
 * Worker rule (auto, `autoWorkers`): what the test asks of the load generator decides, measured
 * on 2 cores shared with the target (docs/engine-scheduling.md, "Worker threads"): one worker per
 * RATE_PER_WORKER iterations/s of arrival-rate scenarios, and for VU-driven scenarios one worker
 * per VUS_PER_WORKER VUs once they reach 2 × VUS_PER_WORKER; at most cores − 1 and at most the
 * test's VUs; one thread (in process, no worker start-up) when that gives 1. `--workers N` or
 * AGENTLOAD_WORKERS=N forces N.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock, Sample } from '../contracts.ts';
import { splitForWorkers } from '../units/segments.ts';
import type { ScenarioConfig, ScenarioStats } from '../executors/types.ts';
import type { AggregatorSnapshot } from '../metrics/index.ts';
import type { Logger } from './logger.ts';
import type { TestPlan } from './test-plan.ts';
import { prebuilt, type Prebuilt } from './prebuilt.ts';

/** VU-driven scenarios: VUs one worker takes on (a thread is saturated by about 50 VUs that loop without think time). */
export const VUS_PER_WORKER = 25;
/** Arrival-rate scenarios: iterations/s one worker takes on (about half of what one thread reaches). */
export const RATE_PER_WORKER = 4000;

/** What a test asks of the load generator: VUs of VU-driven scenarios, peak iterations/s of arrival-rate ones (summed over scenarios). */
export interface GeneratorLoad {
  readonly closedVUs: number;
  readonly peakRate: number;
}

export function loadOf(scenarios: readonly ScenarioConfig[]): GeneratorLoad {
  let closedVUs = 0;
  let peakRate = 0;
  for (const s of scenarios) {
    switch (s.executor) {
      case 'shared-iterations':
      case 'per-vu-iterations':
      case 'constant-vus':
        closedVUs += s.vus;
        break;
      case 'ramping-vus':
        closedVUs += s.stages.reduce((m, st) => Math.max(m, st.target), s.startVUs);
        break;
      case 'constant-arrival-rate':
        peakRate += (s.rate * 1000) / s.timeUnit;
        break;
      case 'ramping-arrival-rate':
        peakRate += (s.stages.reduce((m, st) => Math.max(m, st.target), s.startRate) * 1000) / s.timeUnit;
        break;
    }
  }
  return { closedVUs, peakRate };
}

/**
 * The auto rule: workers for a load on `cores` cores (1 = run in process), at most cores − 1: one
 * core stays for the main thread and a target on the same machine (agentload starts its bundled
 * platform locally), which workers on every core starve into erratic results.
 */
export function autoWorkers(load: GeneratorLoad, cores: number): number {
  const byVUs = load.closedVUs >= 2 * VUS_PER_WORKER ? Math.floor(load.closedVUs / VUS_PER_WORKER) : 1;
  const byRate = Math.ceil(load.peakRate / RATE_PER_WORKER);
  return Math.max(1, Math.min(cores - 1, Math.max(byVUs, byRate)));
}

/** How many workers to use; an issue message when the flag/variable is malformed. */
export function chooseWorkers(
  raw: string | undefined,
  plan: Pick<TestPlan, 'scenarios' | 'maxVUs'>,
  cores = availableParallelism(),
): { workers: number; issue?: string } {
  if (raw !== undefined && raw !== '' && raw !== 'auto') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      return { workers: 1, issue: `--workers / AGENTLOAD_WORKERS must be a positive whole number or "auto", got "${raw}"` };
    return { workers: n };
  }
  // Never more workers than VUs: a worker without VUs would only cost its start-up.
  return { workers: Math.max(1, Math.min(plan.maxVUs, autoWorkers(loadOf(plan.scenarios), cores))) };
}

/**
 * How worker threads load the engine: from the cached esbuild bundle of worker-entry.ts
 * (prebuilt.ts; loading the TypeScript sources through tsx in every worker recompiles them there,
 * about 1 CPU-second per worker). AGENTLOAD_WORKER_BUNDLE=0 or AGENTLOAD_PREBUILT=0 (or a failed
 * build) falls back to tsx in each worker.
 */
const WORKER_ENTRY = fileURLToPath(new URL('../test-run/worker-entry.ts', import.meta.url));
const WORKER_BOOT_TSX = new URL('../test-run/worker-boot.mjs', import.meta.url);

/** How the workers of this process start: the cached bundle, or tsx with the reason why not. */
export type WorkerBoot = Prebuilt;

/** How threads running `entry` (a TypeScript file of the engine) start: its cached bundle, or tsx (resolved once per process). */
export function entryBoot(entry: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<WorkerBoot> {
  if (env.AGENTLOAD_WORKER_BUNDLE === '0') return Promise.resolve({ kind: 'tsx', reason: 'AGENTLOAD_WORKER_BUNDLE=0' });
  return prebuilt(entry, env);
}

/** How this process's workers start (the engine's worker bundle, resolved once per process). */
export function workerBoot(env: Readonly<Record<string, string | undefined>> = process.env): Promise<WorkerBoot> {
  return entryBoot(WORKER_ENTRY, env);
}

/** What a worker gets at start. */
export interface WorkerInit {
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly segment: string;
  readonly sequence: string;
  /**
   * VU ids across workers (k6's single-instance view: 1..N, unique): Int32 [0] = the last id given
   * out. Planned VUs take the block the main thread assigns (`ids` message); VUs initialised
   * mid-test (arrival-rate growth) take the next id from this counter.
   */
  readonly vuIds: SharedArrayBuffer;
  readonly forwardSamples: boolean;
  /**
   * The worker runs the user's --execution-segment (then it is the only worker): `idInTest` follows
   * that segment's stripe (vuIdsInTest). Otherwise the workers split the whole test and idInTest = idInInstance.
   */
  readonly userSegment: boolean;
  /** Report scenario progress every PROGRESS_INTERVAL_MS (the main thread draws k6's bars). */
  readonly progress: boolean;
  /** The run's host allowlist (undefined: no host check), see engine/net/host-policy.ts. */
  readonly allowedHosts: readonly string[] | undefined;
}

/** How often workers report scenario progress while the main thread draws bars (its redraw is every 100 ms). */
export const PROGRESS_INTERVAL_MS = 200;

/**
 * A worker's progress in one scenario. Times are wall-clock ms: each thread's monotonic clock has
 * its own origin, so `startedAt`/`endedAt` cross between threads as wall time.
 */
export interface ScenarioReport {
  readonly name: string;
  readonly stats: ScenarioStats;
}

/** `st` with its start and end moved by `shift` ms (NaN, not yet, stays NaN). */
const shifted = (st: ScenarioStats, shift: number): ScenarioStats => ({
  ...st,
  startedAt: st.startedAt + shift,
  endedAt: st.endedAt + shift,
});

/** This thread's scenario stats (`stats[i]` belongs to `names[i]`) as reports, times moved to wall time. */
export function reportScenarios(names: readonly string[], stats: readonly ScenarioStats[], clock: Clock): ScenarioReport[] {
  const toWall = clock.wallNow() - clock.now();
  const out: ScenarioReport[] = [];
  names.forEach((name, i) => {
    const st = stats[i];
    if (st !== undefined) out.push({ name, stats: shifted(st, toWall) });
  });
  return out;
}

/** A report's stats with times back on this thread's monotonic clock. */
export function fromReport(r: ScenarioReport, clock: Clock): ScenarioStats {
  return shifted(r.stats, clock.now() - clock.wallNow());
}

export type WorkerMessage =
  | { readonly t: 'planned'; readonly preAllocatedVUs: number }
  | { readonly t: 'ready'; readonly maxVUs: number }
  | { readonly t: 'failed'; readonly code: number; readonly message: string }
  | { readonly t: 'snap'; readonly snap: AggregatorSnapshot; readonly vus: number; readonly vusMax: number }
  | { readonly t: 'progress'; readonly scenarios: readonly ScenarioReport[]; readonly vusMax: number }
  | { readonly t: 'samples'; readonly samples: readonly Sample[] }
  | { readonly t: 'log'; readonly text: string }
  | { readonly t: 'abort'; readonly reason: string }
  | { readonly t: 'done'; readonly snap: AggregatorSnapshot; readonly scenarios: readonly ScenarioReport[]; readonly vusMax: number };

export type MainMessage =
  { readonly t: 'ids'; readonly first: number } | { readonly t: 'start'; readonly dataText: string | undefined } | { readonly t: 'stop' };

/**
 * The id of a worker's `local`-th VU (1-based): its planned VUs are `first`, `first + 1`, ...;
 * the ones after them take the next id from the shared counter. Pure apart from that counter.
 */
export function workerVuId(local: number, planned: number, first: number, counter: Int32Array): number {
  return local <= planned ? first + local - 1 : Atomics.add(counter, 0, 1) + 1;
}

/** First id of each worker's planned block: 1 + the planned VUs of the workers before it. */
export function plannedIdBlocks(planned: readonly number[]): number[] {
  const out: number[] = [];
  let next = 1;
  for (const n of planned) {
    out.push(next);
    next += n;
  }
  return out;
}

export interface RunWorkersArgs {
  readonly workers: number;
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly plan: TestPlan;
  readonly dataText: () => string | undefined;
  readonly runSetup: () => Promise<boolean>;
  readonly logger: Logger;
  readonly stderr: NodeJS.WritableStream;
  readonly signal: AbortSignal;
  readonly forwardSamples: boolean;
  /** Whether workers report progress (`onProgress`); their final progress comes with `done` either way. */
  readonly progress: boolean;
  readonly allowedHosts: readonly string[] | undefined;
  onSnapshot(snap: AggregatorSnapshot): void;
  onSamples(samples: readonly Sample[]): void;
  onGauges(vus: number, vusMax: number): void;
  onAbort(reason: string): void;
  /** Worker `worker`'s latest scenario progress and initialised VUs. */
  onProgress(worker: number, scenarios: readonly ScenarioReport[], vusMax: number): void;
  /** setup() is done and the workers are told to start. */
  onStart(): void;
}

/** Loader flags (--import tsx) the workers need to load TypeScript like the main thread (not with the bundle), and --cpu-prof*. */
export function workerArgv(loaders: boolean): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if ((a === '--import' || a === '--require' || a === '--loader' || a === '--experimental-loader') && argv[i + 1] !== undefined) {
      if (loaders) out.push(a, argv[i + 1] ?? '');
      i++;
    } else if (/^--(import|require|loader|experimental-loader)=/.test(a)) {
      if (loaders) out.push(a);
    } else if (a === '--cpu-prof' || a.startsWith('--cpu-prof-')) {
      // Profiling a run (`node --cpu-prof`) profiles its workers too.
      out.push(a);
      if (!a.includes('=') && a !== '--cpu-prof' && argv[i + 1] !== undefined) out.push(argv[++i] ?? '');
    }
  }
  return out;
}

type WorkerStart = { ok: true } | { ok: false; code: number };

/** One worker thread and the three moments the main thread waits for: its VUs planned, ready to start, done. */
interface WorkerHandle {
  readonly worker: Worker;
  /** Its pre-allocated VUs (0 when it failed before planning). */
  readonly planned: Promise<number>;
  readonly ready: Promise<WorkerStart>;
  readonly done: Promise<void>;
}

/** A promise and its resolve function. */
function settleable<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Starts worker `i` and routes its messages to the run; a worker that fails or exits early settles all three moments. */
function spawnWorker(
  a: RunWorkersArgs,
  i: number,
  init: WorkerInit,
  boot: { entry: URL; execArgv: string[] },
  gauges: Map<number, { vus: number; vusMax: number }>,
): WorkerHandle {
  const worker = new Worker(boot.entry, { workerData: init, execArgv: boot.execArgv, stdout: false, stderr: false });
  const planned = settleable<number>();
  const ready = settleable<WorkerStart>();
  const done = settleable<undefined>();
  const failed = (code: number): void => {
    planned.resolve(0);
    ready.resolve({ ok: false, code });
    done.resolve(undefined);
  };
  worker.on('message', (m: WorkerMessage) => {
    switch (m.t) {
      case 'planned':
        planned.resolve(m.preAllocatedVUs);
        break;
      case 'ready':
        ready.resolve({ ok: true });
        break;
      case 'failed':
        a.logger.log('error', m.message);
        failed(m.code);
        break;
      case 'snap':
        a.onSnapshot(m.snap);
        gauges.set(i, { vus: m.vus, vusMax: m.vusMax });
        break;
      case 'progress':
        a.onProgress(i, m.scenarios, m.vusMax);
        break;
      case 'samples':
        a.onSamples(m.samples);
        break;
      case 'log':
        a.stderr.write(m.text);
        break;
      case 'abort':
        a.onAbort(m.reason);
        break;
      case 'done':
        a.onSnapshot(m.snap);
        a.onProgress(i, m.scenarios, m.vusMax);
        done.resolve(undefined);
        break;
    }
  });
  worker.on('error', (e) => {
    a.logger.log('error', `worker ${String(i + 1)} failed: ${e.message}`);
    failed(103);
  });
  worker.on('exit', () => {
    failed(103);
  });
  return { worker, planned: planned.promise, ready: ready.promise, done: done.promise };
}

/** Hands out VU ids: the planned ones in blocks in worker order, then the shared counter for VUs initialised mid-test. */
async function assignVuIds(handles: readonly WorkerHandle[], vuIds: SharedArrayBuffer): Promise<void> {
  const plannedCounts = await Promise.all(handles.map((h) => h.planned));
  const firsts = plannedIdBlocks(plannedCounts);
  Atomics.store(
    new Int32Array(vuIds),
    0,
    plannedCounts.reduce((x, y) => x + y, 0),
  );
  handles.forEach((h, i) => {
    h.worker.postMessage({ t: 'ids', first: firsts[i] ?? 1 } satisfies MainMessage);
  });
}

/** Runs the test on `workers` threads. Resolves false when a worker failed before the start (exit code in `failure`). */
export async function runWorkers(a: RunWorkersArgs): Promise<WorkerStart> {
  const split = splitForWorkers(a.workers, a.plan.tuple);
  const boot = await workerBoot(a.env);
  if (boot.kind === 'tsx' && a.env.AGENTLOAD_WORKER_BUNDLE !== '0' && a.env.AGENTLOAD_PREBUILT !== '0')
    a.logger.log('warn', `worker threads load the engine through tsx (about 1 CPU-second more per worker): ${boot.reason}`);
  const start = { entry: boot.kind === 'bundle' ? pathToFileURL(boot.file) : WORKER_BOOT_TSX, execArgv: workerArgv(boot.kind === 'tsx') };
  const gauges = new Map<number, { vus: number; vusMax: number }>();
  const vuIds = new SharedArrayBuffer(4);
  const handles = split.segments.map((segment, i) =>
    spawnWorker(
      a,
      i,
      {
        script: a.script,
        args: a.args,
        env: a.env,
        segment,
        sequence: split.sequence,
        vuIds,
        forwardSamples: a.forwardSamples,
        progress: a.progress,
        userSegment: !a.plan.tuple.segment.isFull(),
        allowedHosts: a.allowedHosts,
      },
      start,
      gauges,
    ),
  );
  const workers = handles.map((h) => h.worker);
  const terminate = async (): Promise<void> => {
    await Promise.all(workers.map((w) => w.terminate()));
  };
  await assignVuIds(handles, vuIds);
  const ready = await Promise.all(handles.map((h) => h.ready));
  const failed = ready.find((r): r is { ok: false; code: number } => !r.ok);
  if (failed !== undefined) {
    await terminate();
    return failed;
  }
  if (!(await a.runSetup())) {
    await terminate();
    return { ok: false, code: 107 };
  }
  const stop = (): void => {
    for (const w of workers) w.postMessage({ t: 'stop' } satisfies MainMessage);
  };
  a.signal.addEventListener('abort', stop, { once: true });
  const dataText = a.dataText();
  for (const w of workers) w.postMessage({ t: 'start', dataText } satisfies MainMessage);
  a.onStart();
  const gaugeTimer = setInterval(() => {
    let vus = 0;
    let vusMax = 0;
    for (const g of gauges.values()) {
      vus += g.vus;
      vusMax += g.vusMax;
    }
    if (gauges.size > 0) a.onGauges(vus, vusMax);
  }, 1000);
  await Promise.all(handles.map((h) => h.done));
  clearInterval(gaugeTimer);
  a.signal.removeEventListener('abort', stop);
  await terminate();
  return { ok: true };
}
