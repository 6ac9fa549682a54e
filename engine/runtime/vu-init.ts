/**
 * Initialising the VUs a test asks for (k6's "init" phase), without losing the process:
 * - the heap each VU takes is measured on the first ones, and when the rest cannot fit in what this
 *   process may hold (V8's heap limit) or what the machine has free, a warning says so before the run;
 * - VUs are initialised in slices with the event loop let through between them, so timers, outputs and
 *   Ctrl+C keep working while thousands of VUs start (a stop ends the init early);
 * - past 80 % of the heap limit the init stops with a clear error (exit 104) instead of a crash;
 * - a long init, a cut-short one and the measured size are logged: initialised vs requested VUs.
 * VUs of the synchronous mode are threads with heaps of their own: for them the process's resident memory
 * is measured against the machine's (`realRss`), not the engine thread's heap.
 */
import { freemem, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { EngineError, EXIT_CODES } from './errors.ts';
import type { Logger } from './logger.ts';
import { GROW_PARALLEL, type VuPool } from './pool.ts';

/** VUs measured before the projection (all of them when the test asks for fewer). */
export const MEASURED_VUS = 20;
/** Longest stretch of init work between two turns of the event loop. */
export const SLICE_MS = 25;
/**
 * The init stops once the heap holds this share of V8's limit. The limit counts the young generation too,
 * which the old one (where VUs live) cannot use: with a 256 MB old space V8 reports about 300 MB and gives
 * up near 255, so the share leaves that room.
 */
export const HEAP_STOP_SHARE = 0.8;
/** A warning when the projection passes this share of V8's heap limit. */
export const HEAP_WARN_SHARE = 0.75;
/** Inits longer than this report how long they took. */
const REPORT_AFTER_MS = 2000;
const PROGRESS_EVERY_MS = 5000;

export interface HeapView {
  /** Heap in use now, bytes. */
  used(): number;
  /** V8's heap size limit, bytes. */
  readonly limit: number;
  /** Memory the machine has free, bytes. */
  readonly free: number;
  /** What `used` measures: V8's heap of this thread (default), or the process's resident memory, threads included. */
  readonly kind?: 'heap' | 'rss';
}

export const realHeap = (): HeapView => ({
  used: () => getHeapStatistics().used_heap_size,
  limit: getHeapStatistics().heap_size_limit,
  free: freemem(),
});
/** For VUs on threads of their own (the synchronous mode): resident memory against the machine's. */
export const realRss = (): HeapView => ({ used: () => process.memoryUsage.rss(), limit: totalmem(), free: freemem(), kind: 'rss' });

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MB`;
  return `${String(Math.max(0, Math.round(n / 1024)))} kB`;
}

/** The warning for `requested` VUs at `perVU` bytes each, or undefined when they fit. Pure. */
export function fitWarning(
  requested: number,
  measured: number,
  perVU: number,
  heap: { used: number; limit: number; free: number; kind?: 'heap' | 'rss' | undefined },
): string | undefined {
  const more = perVU * (requested - measured);
  const projected = heap.used + more;
  const overHeap = projected > HEAP_WARN_SHARE * heap.limit;
  const overMachine = more > heap.free;
  if (!overHeap && !overMachine) return undefined;
  const room = !overHeap
    ? `the machine has about ${formatBytes(heap.free)} free`
    : heap.kind === 'rss'
      ? `the machine has about ${formatBytes(heap.limit)}`
      : `this engine process can hold about ${formatBytes(heap.limit)}`;
  return (
    `${String(requested)} VUs need about ${formatBytes(projected)} of memory (${formatBytes(perVU)} per VU, measured on the first ${String(measured)}) and ${room}: ` +
    'the run will stop or stall before they are all initialised; lower the VU count, or split the test over machines with --execution-segment'
  );
}

export interface InitOptions {
  readonly logger: Logger;
  /** A stop (Ctrl+C, an abort) ends the init early: the VUs initialised so far stay. */
  readonly signal?: AbortSignal;
  readonly heap?: HeapView;
  /** Monotonic ms (injectable). */
  readonly now?: () => number;
}

/** Grows `pool` to `requested` VUs as described above; resolves to how many exist. */
export async function initVUs(pool: VuPool, requested: number, o: InitOptions): Promise<number> {
  const heap = o.heap ?? realHeap();
  const now = o.now ?? ((): number => performance.now());
  const start = now();
  const measured = Math.min(requested, MEASURED_VUS);
  const before = heap.used();
  await pool.grow(measured);
  const perVU = measured === 0 ? 0 : Math.max(0, (heap.used() - before) / measured);
  const warning = fitWarning(requested, measured, perVU, { used: heap.used(), limit: heap.limit, free: heap.free, kind: heap.kind });
  if (warning !== undefined) o.logger.log('warn', warning);
  let sliceStart = now();
  let lastReport = start;
  while (pool.initialized < requested) {
    if (o.signal?.aborted === true) {
      o.logger.log('warn', `initialised ${String(pool.initialized)} of ${String(requested)} VUs when the run was stopped`);
      return pool.initialized;
    }
    // A few at a time: VUs of the synchronous mode start their threads in parallel.
    await pool.grow(Math.min(requested, pool.initialized + GROW_PARALLEL));
    const used = heap.used();
    if (used > HEAP_STOP_SHARE * heap.limit) {
      throw new EngineError(
        'out-of-memory',
        EXIT_CODES.invalidConfig,
        `stopped initialising VUs at ${String(pool.initialized)} of ${String(requested)}: ` +
          (heap.kind === 'rss'
            ? `the process and its VU threads hold ${formatBytes(used)} of the machine's ${formatBytes(heap.limit)} `
            : `the heap holds ${formatBytes(used)} of its ${formatBytes(heap.limit)} limit `) +
          `(about ${formatBytes(perVU)} per VU); lower the VU count, or split the test over machines with --execution-segment`,
      );
    }
    const t = now();
    if (t - sliceStart < SLICE_MS) continue;
    if (t - lastReport >= PROGRESS_EVERY_MS) {
      o.logger.log('info', `initialising VUs: ${String(pool.initialized)} of ${String(requested)}`);
      lastReport = t;
    }
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
    sliceStart = now();
  }
  const took = now() - start;
  if (took >= REPORT_AFTER_MS) {
    o.logger.log(
      'info',
      `initialised ${String(pool.initialized)} of ${String(requested)} VUs in ${(took / 1000).toFixed(1)} s (about ${formatBytes(perVU)} each)`,
    );
  }
  return pool.initialized;
}
