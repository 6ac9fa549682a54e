/**
 * The seams between the parts of the embedded engine. Each part (metrics/thresholds/output,
 * options/executors, runtime/modules, protocol modules) codes against these types so they can be
 * built and tested apart. Change a type here only together with every user of it.
 *
 * Times are milliseconds. `time` on samples is wall-clock milliseconds since the epoch (float,
 * sub-millisecond precision allowed); durations are float milliseconds as k6 reports them.
 */

import type { Options } from 'k6/options';

/** k6 metric types (`--out json` "type" field). */
export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
/** k6 value types (`--out json` "contains" field). */
export type ValueType = 'default' | 'time' | 'data';
export type Tags = Readonly<Record<string, string>>;

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
}

/** One measurement, as k6 emits it. `metadata` carries non-indexed values such as `vu` and `iter`. */
export interface Sample {
  readonly metric: string;
  readonly time: number;
  readonly value: number;
  readonly tags: Tags;
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Samples taken at one moment with one tag set, as a row: `metrics[i]` got `values[i]`, for each value
 * (`metrics` may be longer). A request's nine http_req_* samples and an iteration's end travel like this,
 * so a sink that only aggregates takes them without a Sample object each (engine/metrics/sample-row.ts).
 */
export interface SampleRow {
  readonly metrics: readonly string[];
  readonly values: readonly number[];
  readonly time: number;
  readonly tags: Tags;
}

/** Anything that takes samples: the aggregator, the JSON output, a worker's batcher. */
export interface SampleSink {
  add(samples: readonly Sample[]): void;
  /** The row's samples, the same as `add` of them one by one in order (sample-row.ts `samplesOfRow`); a sink without it gets them so. */
  addRow?(row: SampleRow): void;
}

/** Injectable time source: tests pass a fake one, production passes `realClock`. */
export interface Clock {
  /** Monotonic milliseconds (arbitrary origin). */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for sample timestamps. */
  wallNow(): number;
  /** Resolves after `ms`; rejects with the signal's reason if the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A validation problem. Validators return every problem, never only the first. */
export interface Issue {
  /** Stable machine-readable code, e.g. 'invalid-duration', 'unknown-metric'. Tests branch on it. */
  readonly code: string;
  /** Where: an option path like `scenarios.api.gracefulStop`, or a threshold key. */
  readonly path: string;
  /** One line: names the thing, shows the value, says the fix. */
  readonly message: string;
}

/** How an iteration ended. Interrupted iterations are not counted in `iterations`. */
export type IterationResult =
  { readonly kind: 'completed' } | { readonly kind: 'failed'; readonly error: unknown } | { readonly kind: 'interrupted' };

/** What an executor knows about the iteration it asks a VU to run (feeds `k6/execution`). */
export interface IterationContext {
  readonly scenario: {
    readonly name: string;
    readonly executor: string;
    /** Name of the exported function to call. */
    readonly exec: string;
    /** Scenario tags (scenario `tags`), merged over global tags by the VU. */
    readonly tags: Tags;
    /** Scenario `env`, merged over global env for `__ENV`. */
    readonly env: Readonly<Record<string, string>>;
    /** Monotonic start time of the scenario (Clock.now()), for `exec.scenario.startTime`/progress. */
    readonly startTime: number;
    readonly progress: () => number;
  };
  /** Iteration numbers as `k6/execution` exposes them (`iterationInInstance`, `iterationInTest`). */
  readonly iterationInInstance: number;
  readonly iterationInTest: number;
  /** Aborted when the iteration must stop (gracefulStop/gracefulRampDown over, test aborted). */
  readonly signal: AbortSignal;
}

/** An initialised VU (its init code has run). Owned by the runtime, driven by executors. */
export interface VirtualUser {
  /** 1-based id across the whole test (segment-aware), `exec.vu.idInTest`. */
  readonly idInTest: number;
  /** 1-based id in this engine instance, `exec.vu.idInInstance` and `__VU` (k6's local id). */
  readonly idInInstance: number;
  /** Runs the scenario's exec function once, emits `iterations`/`iteration_duration` unless interrupted. */
  runIteration(ctx: IterationContext): Promise<IterationResult>;
}

/** Where executors get VUs from. Pre-allocated VUs are initialised before the test starts. */
export interface VUPool {
  /** Takes an idle initialised VU; `allowInit` lets arrival-rate executors grow up to maxVUs mid-test. */
  acquire(opts?: { readonly allowInit?: boolean }): Promise<VirtualUser | undefined>;
  release(vu: VirtualUser): void;
}

/** Per-VU context handed to every k6 module factory. */
export interface ModuleContext {
  readonly vu: { readonly idInTest: number; readonly idInInstance: number };
  /** Emits samples to the test's sinks (metrics, outputs). */
  emit(samples: readonly Sample[]): void;
  /** Emits a row of samples sharing time and tags (the same samples as `emit(samplesOfRow(row))`). */
  emitRow(row: SampleRow): void;
  /** Tags every sample of the current iteration carries: global + scenario + `group` (+ VU tags). */
  currentTags(): Tags;
  /** The running iteration's abort signal (undefined in init/setup/teardown). */
  iterationSignal(): AbortSignal | undefined;
  /** Keeps the iteration open until `work` settles (k6: an iteration ends when its event loop is empty). */
  trackPending(work: Promise<unknown>): void;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string>>;
  /** Which lifecycle stage is running: k6 forbids some calls outside 'iteration' or 'init'. */
  stage(): 'init' | 'setup' | 'iteration' | 'teardown' | 'summary';
  /** The running iteration (undefined outside iterations), for `k6/execution`. */
  iteration(): IterationContext | undefined;
  /** The test's resolved k6 options (known after the first VU's init code ran; `{}` before). */
  options(): Readonly<Options>;
  /** Per-VU tags (`exec.vu.tags`), merged into currentTags(). Mutable by the script. */
  readonly vuTags: Record<string, string>;
  /** Current group path (`::a::b`, '' at the root); `k6`'s group() sets it, currentTags() reflects it. */
  groupPath(): string;
  setGroupPath(path: string): void;
  /** Declares a custom metric (k6/metrics); throws on an invalid name or a conflicting redefinition. */
  defineMetric(name: string, type: MetricType, contains: ValueType): MetricDefinition;
  /** `exec.test.abort(reason)`: stops the whole test, exit code 108. */
  abortTest(reason?: string): never;
  /** Warns once per key (e.g. a call site that forgot `await`). */
  warnOnce(key: string, message: string): void;
  /** Script logging (console.*), with k6's level prefixes. */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  /**
   * Why load may not go to `hostname` (the run's host allowlist, engine/net/host-policy.ts), or
   * undefined when it may. Every module that opens connections asks before it connects, and fails that
   * connection with the reason instead; the first refusal of each host is also logged as one warning.
   */
  connectRefusal(hostname: string): string | undefined;
}

/** A k6 module implementation: called once per VU with that VU's context; returns the module's exports. */
export type ModuleFactory = (ctx: ModuleContext) => Record<string, unknown>;
