/**
 * All cores: the test's VUs spread over worker threads, each running one execution segment of the
 * test (E2's splitForWorkers). Workers ship drained aggregates every second (merged exactly in the
 * main thread, where thresholds are evaluated) and, with --out json, their samples in batches.
 * setup(), teardown() and handleSummary() run once, in the main thread.
 *
 * Worker rule (auto): one worker below 200 max VUs (a single thread keeps up there and stays in
 * process), otherwise min(cores, floor(maxVUs / 100)). `--workers N` or AGENTLOAD_WORKERS=N forces N.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Sample } from '../contracts.ts';
import { splitForWorkers } from '../execution/segments.ts';
import type { AggregatorSnapshot } from '../metrics/index.ts';
import type { Logger } from './logger.ts';
import type { TestPlan } from './plan.ts';

export const AUTO_WORKERS_MIN_VUS = 200;
export const VUS_PER_WORKER = 100;

/** How many workers to use; an issue message when the flag/variable is malformed. */
export function chooseWorkers(raw: string | undefined, plan: Pick<TestPlan, 'maxVUs'>, cores = availableParallelism()): { workers: number; issue?: string } {
  if (raw !== undefined && raw !== '' && raw !== 'auto') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) return { workers: 1, issue: `--workers / AGENTLOAD_WORKERS must be a positive whole number or "auto", got "${raw}"` };
    return { workers: n };
  }
  if (plan.maxVUs < AUTO_WORKERS_MIN_VUS) return { workers: 1 };
  return { workers: Math.max(1, Math.min(cores, Math.floor(plan.maxVUs / VUS_PER_WORKER))) };
}

/** What a worker gets at start. */
export interface WorkerInit {
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly segment: string;
  readonly sequence: string;
  readonly idOffset: number;
  readonly forwardSamples: boolean;
}

export type WorkerMessage =
  | { readonly t: 'ready'; readonly maxVUs: number }
  | { readonly t: 'failed'; readonly code: number; readonly message: string }
  | { readonly t: 'snap'; readonly snap: AggregatorSnapshot; readonly vus: number; readonly vusMax: number }
  | { readonly t: 'samples'; readonly samples: readonly Sample[] }
  | { readonly t: 'log'; readonly text: string }
  | { readonly t: 'abort'; readonly reason: string }
  | { readonly t: 'done'; readonly snap: AggregatorSnapshot };

export type MainMessage = { readonly t: 'start'; readonly dataText: string | undefined } | { readonly t: 'stop' };

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
  onSnapshot(snap: AggregatorSnapshot): void;
  onSamples(samples: readonly Sample[]): void;
  onGauges(vus: number, vusMax: number): void;
  onAbort(reason: string): void;
}

/** Loader flags (--import tsx) the workers need to load TypeScript like the main thread, and --cpu-prof*. */
function loaderArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if ((a === '--import' || a === '--require' || a === '--loader' || a === '--experimental-loader') && argv[i + 1] !== undefined) {
      out.push(a, argv[i + 1] ?? '');
      i++;
    } else if (/^--(import|require|loader|experimental-loader)=/.test(a)) {
      out.push(a);
    } else if (a === '--cpu-prof' || a.startsWith('--cpu-prof-')) {
      // Profiling a run (`node --cpu-prof`) profiles its workers too.
      out.push(a);
      if (!a.includes('=') && a !== '--cpu-prof' && argv[i + 1] !== undefined) out.push(argv[++i] ?? '');
    }
  }
  return out;
}

/** Runs the test on `workers` threads. Resolves false when a worker failed before the start (exit code in `failure`). */
export async function runWorkers(a: RunWorkersArgs): Promise<{ ok: true } | { ok: false; code: number }> {
  const split = splitForWorkers(a.workers, a.plan.tuple);
  const perWorkerMax: number[] = [];
  const workers: Worker[] = [];
  const gauges = new Map<number, { vus: number; vusMax: number }>();
  let offset = 0;
  const readies: Promise<{ ok: true } | { ok: false; code: number }>[] = [];
  const dones: Promise<void>[] = [];
  split.segments.forEach((segment, i) => {
    const init: WorkerInit = { script: a.script, args: a.args, env: a.env, segment, sequence: split.sequence, idOffset: offset, forwardSamples: a.forwardSamples };
    const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: init, execArgv: loaderArgv(), stdout: false, stderr: false });
    workers.push(w);
    let readyResolve!: (v: { ok: true } | { ok: false; code: number }) => void;
    readies.push(new Promise((r) => { readyResolve = r; }));
    let doneResolve!: () => void;
    dones.push(new Promise((r) => { doneResolve = r; }));
    w.on('message', (m: WorkerMessage) => {
      switch (m.t) {
        case 'ready': perWorkerMax[i] = m.maxVUs; readyResolve({ ok: true }); break;
        case 'failed': a.logger.log('error', m.message); readyResolve({ ok: false, code: m.code }); doneResolve(); break;
        case 'snap':
          a.onSnapshot(m.snap);
          gauges.set(i, { vus: m.vus, vusMax: m.vusMax });
          break;
        case 'samples': a.onSamples(m.samples); break;
        case 'log': a.stderr.write(m.text); break;
        case 'abort': a.onAbort(m.reason); break;
        case 'done': a.onSnapshot(m.snap); doneResolve(); break;
      }
    });
    w.on('error', (e) => { a.logger.log('error', `worker ${String(i + 1)} failed: ${e.message}`); readyResolve({ ok: false, code: 103 }); doneResolve(); });
    w.on('exit', () => { readyResolve({ ok: false, code: 103 }); doneResolve(); });
    offset += 1_000_000;
  });
  const ready = await Promise.all(readies);
  const failed = ready.find((r): r is { ok: false; code: number } => !r.ok);
  if (failed !== undefined) {
    await Promise.all(workers.map((w) => w.terminate()));
    return failed;
  }
  if (!(await a.runSetup())) {
    await Promise.all(workers.map((w) => w.terminate()));
    return { ok: false, code: 107 };
  }
  const stop = (): void => { for (const w of workers) w.postMessage({ t: 'stop' } satisfies MainMessage); };
  a.signal.addEventListener('abort', stop, { once: true });
  const dataText = a.dataText();
  for (const w of workers) w.postMessage({ t: 'start', dataText } satisfies MainMessage);
  const gaugeTimer = setInterval(() => {
    let vus = 0;
    let vusMax = 0;
    for (const g of gauges.values()) { vus += g.vus; vusMax += g.vusMax; }
    if (gauges.size > 0) a.onGauges(vus, vusMax);
  }, 1000);
  await Promise.all(dones);
  clearInterval(gaugeTimer);
  a.signal.removeEventListener('abort', stop);
  await Promise.all(workers.map((w) => w.terminate()));
  return { ok: true };
}
