/**
 * Runs every scenario of a test (k6's ExecutionScheduler): each starts at its startTime, the
 * `vus` and `vus_max` gauges are emitted every second (empty tags, like k6), and progress is
 * readable at any time for the progress line. Time comes from the injected clock.
 */

import type { Clock, Sample, Tags, VUPool } from '../contracts.ts';
import { runScenario, scenarioProgress } from '../executors/index.ts';
import { newScenarioStats, type ExecutorRuntime, type ScenarioConfig, type ScenarioStats } from '../executors/types.ts';
import type { ExecutionPlan } from './execution-plan.ts';

export interface TestRuntime {
  readonly clock: Clock;
  readonly pool: VUPool;
  /** Aborting it stops the test at once: running iterations are interrupted (exec.test.abort, signals, abortOnFail). */
  readonly signal: AbortSignal;
  emit(samples: readonly Sample[]): void;
  /** `options.tags`. */
  readonly runTags?: Tags;
  readonly systemTags?: ReadonlySet<string>;
  /** Initialised VUs right now (the `vus_max` gauge); defaults to planned + unplanned inits seen here. */
  initializedVUs?(): number;
  onScenarioStart?(name: string, startTime: number): void;
  warn?(message: string): void;
}

export interface ScenarioProgress {
  readonly name: string;
  readonly executor: ScenarioConfig['executor'];
  readonly status: ScenarioStats['status'];
  /** 0..1 */
  readonly fraction: number;
  /** k6's right-hand progress columns, e.g. `["0/4 VUs", "1.0s/4s", "20.00 iters/s"]`. */
  readonly right: readonly string[];
  readonly stats: Readonly<ScenarioStats>;
}

export interface TestProgress {
  /** ms since the test started. */
  readonly elapsed: number;
  readonly vus: number;
  readonly vusMax: number;
  readonly completed: number;
  readonly interrupted: number;
  readonly dropped: number;
  readonly scenarios: readonly ScenarioProgress[];
}

export interface TestResult {
  readonly completed: number;
  readonly interrupted: number;
  readonly dropped: number;
  /** ms from start to the last scenario's end. */
  readonly duration: number;
  readonly aborted: boolean;
}

/**
 * One scenario's stats over the threads that run parts of it (--workers): counts and VUs add up, it
 * started when its first part started and ended when its last part ended. It is running while any
 * part runs or stops, or while some parts are done and others still wait; waiting while all wait;
 * interrupted when all parts ended and one was interrupted. No parts: not started.
 */
export function mergeScenarioStats(parts: readonly Readonly<ScenarioStats>[]): ScenarioStats {
  const out = newScenarioStats();
  if (parts.length === 0) return out;
  let startedAt = Number.POSITIVE_INFINITY;
  let endedAt = Number.NEGATIVE_INFINITY;
  const statuses = new Set<ScenarioStats['status']>();
  for (const p of parts) {
    statuses.add(p.status);
    if (!Number.isNaN(p.startedAt)) startedAt = Math.min(startedAt, p.startedAt);
    endedAt = Number.isNaN(p.endedAt) || Number.isNaN(endedAt) ? Number.NaN : Math.max(endedAt, p.endedAt);
    out.activeVUs += p.activeVUs;
    out.heldVUs += p.heldVUs;
    out.completed += p.completed;
    out.interrupted += p.interrupted;
    out.dropped += p.dropped;
    out.unplannedInits += p.unplannedInits;
    out.currentRate += p.currentRate;
  }
  out.startedAt = startedAt === Number.POSITIVE_INFINITY ? Number.NaN : startedAt;
  out.endedAt = endedAt;
  const all = (s: ScenarioStats['status']): boolean => statuses.size === 1 && statuses.has(s);
  if (statuses.has('running') || statuses.has('stopping')) out.status = statuses.has('running') ? 'running' : 'stopping';
  else if (all('waiting')) out.status = 'waiting';
  else if (statuses.has('waiting')) out.status = 'running';
  else out.status = statuses.has('interrupted') ? 'interrupted' : 'done';
  return out;
}

/**
 * Progress of a test from its scenarios' live stats (`stats[i]` belongs to `plan.scenarios[i]`; missing
 * ones have not started): what TestRun.progress() and the live display read.
 */
export function snapshotProgress(
  plan: ExecutionPlan,
  stats: readonly (ScenarioStats | undefined)[],
  now: number,
  startedAt: number,
  vusMax: number,
): TestProgress {
  let vus = 0;
  let completed = 0;
  let interrupted = 0;
  let dropped = 0;
  const scenarios = plan.scenarios.map(({ config }, i) => {
    const st = stats[i] ?? newScenarioStats();
    vus += st.activeVUs;
    completed += st.completed;
    interrupted += st.interrupted;
    dropped += st.dropped;
    const p = scenarioProgress(config, plan.tuple, st, Number.isNaN(st.endedAt) ? now : st.endedAt);
    return { name: config.name, executor: config.executor, status: st.status, fraction: p.fraction, right: p.right, stats: { ...st } };
  });
  return { elapsed: Number.isNaN(startedAt) ? 0 : now - startedAt, vus, vusMax, completed, interrupted, dropped, scenarios };
}

/** One run of a planned test. Create, read `progress()` whenever, `await run()` once. */
export class TestRun {
  readonly stats = new Map<string, ScenarioStats>();
  private startedAt = Number.NaN;

  constructor(
    readonly plan: ExecutionPlan,
    private readonly rt: TestRuntime,
  ) {
    for (const s of plan.scenarios) this.stats.set(s.config.name, newScenarioStats());
  }

  private sum(key: 'activeVUs' | 'completed' | 'interrupted' | 'dropped' | 'unplannedInits'): number {
    let n = 0;
    for (const s of this.stats.values()) n += s[key];
    return n;
  }

  vus(): number {
    return this.sum('activeVUs');
  }

  vusMax(): number {
    return this.rt.initializedVUs?.() ?? this.plan.maxPlannedVUs + this.sum('unplannedInits');
  }

  progress(): TestProgress {
    return snapshotProgress(
      this.plan,
      this.plan.scenarios.map(({ config }) => this.stats.get(config.name)),
      this.rt.clock.now(),
      this.startedAt,
      this.vusMax(),
    );
  }

  private gaugeSamples(): Sample[] {
    const time = this.rt.clock.wallNow();
    // k6 tags the VU gauges with the run's tags (--tag, options.tags), as every other sample.
    const tags = this.rt.runTags ?? {};
    return [
      { metric: 'vus', time, value: this.vus(), tags },
      { metric: 'vus_max', time, value: this.vusMax(), tags },
    ];
  }

  /** Runs all scenarios to their end (or until the signal aborts). */
  async run(): Promise<TestResult> {
    const { clock, signal } = this.rt;
    this.startedAt = clock.now();
    const start = this.startedAt;
    const done = new AbortController();
    const gauges = (async () => {
      for (let tick = 1; ; tick++) {
        const wait = start + tick * 1000 - clock.now();
        try {
          if (wait > 0) await clock.sleep(wait, done.signal);
        } catch {
          return;
        }
        if (done.signal.aborted) return;
        this.rt.emit(this.gaugeSamples());
      }
    })();
    const runs = this.plan.scenarios.map(async ({ config }) => {
      const stats = this.stats.get(config.name) ?? newScenarioStats();
      const wait = start + config.startTime - clock.now();
      if (wait > 0) {
        try {
          await clock.sleep(wait, signal);
        } catch {
          stats.status = 'interrupted';
          return;
        }
      }
      if (signal.aborted) {
        stats.status = 'interrupted';
        return;
      }
      const ert: ExecutorRuntime = {
        clock,
        pool: this.rt.pool,
        signal,
        tuple: this.plan.tuple,
        emit: (s) => this.rt.emit(s),
        runTags: this.rt.runTags ?? {},
        stats,
        onStart: (t) => this.rt.onScenarioStart?.(config.name, t),
        ...(this.rt.systemTags === undefined ? {} : { systemTags: this.rt.systemTags }),
        ...(this.rt.warn === undefined ? {} : { warn: (m: string) => this.rt.warn?.(m) }),
      };
      try {
        await runScenario(config, ert);
      } catch (err: unknown) {
        stats.status = 'interrupted';
        this.rt.warn?.(`scenario ${config.name} stopped with an error: ${err instanceof Error ? err.message : String(err)}`);
      }
      stats.endedAt = clock.now();
    });
    await Promise.all(runs);
    done.abort();
    await gauges;
    return {
      completed: this.sum('completed'),
      interrupted: this.sum('interrupted'),
      dropped: this.sum('dropped'),
      duration: clock.now() - start,
      aborted: signal.aborted,
    };
  }
}
