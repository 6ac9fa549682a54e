/**
 * Test doubles for the scheduling tests: a fake clock that jumps to the next timer once the
 * process is idle, and VUs whose iterations take scripted (fake) time. The VUs stand in for
 * the runtime's VUs, which users never touch directly; iteration semantics are what is tested.
 */
import { setImmediate as tick } from 'node:timers/promises';
import type { Clock, IterationContext, IterationResult, Sample, VirtualUser, VUPool } from '../../../engine/contracts.ts';
import { newScenarioStats, type ConstantVUsConfig, type ExecutorRuntime } from '../../../engine/executors/types.ts';
import { resolveOptions } from '../../../engine/options/index.ts';
import { realClock } from '../../../engine/runtime/clock.ts';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];
  readonly wallBase = 1_800_000_000_000;

  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.wallBase + this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        return;
      }
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve: () => undefined };
      const onAbort = (): void => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      timer.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }
  pending(): number {
    return this.timers.length;
  }
  /** Drives fake time until `work` settles; throws on deadlock or when `limit` ms pass. */
  async run<T>(work: Promise<T>, limit = 10 * 3_600_000): Promise<T> {
    const state = { settled: false };
    const watched = work.finally(() => {
      state.settled = true;
    });
    for (;;) {
      for (let i = 0; i < 3; i++) await tick();
      if (state.settled) return watched;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (next === undefined) throw new Error(`deadlock at t=${this.t}: nothing scheduled and the work is not done`);
      if (next.at > limit) throw new Error(`fake time passed ${limit} ms`);
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
  }
}

export interface IterationRecord {
  vu: number;
  scenario: string;
  start: number;
  end?: number;
  result?: IterationResult['kind'];
  iterationInInstance: number;
  iterationInTest: number;
}

/** How long iteration `n` (0-based, per VU) of VU `vu` takes, in fake ms; negative = |ms| and deaf to the abort signal. */
export type Script = (vu: number, n: number, ctx: IterationContext) => number;

export class FakeVU implements VirtualUser {
  private n = 0;
  constructor(
    readonly idInTest: number,
    readonly idInInstance: number,
    private readonly clock: FakeClock,
    private readonly script: Script,
    private readonly log: IterationRecord[],
  ) {}
  async runIteration(ctx: IterationContext): Promise<IterationResult> {
    const rec: IterationRecord = {
      vu: this.idInInstance,
      scenario: ctx.scenario.name,
      start: this.clock.now(),
      iterationInInstance: ctx.iterationInInstance,
      iterationInTest: ctx.iterationInTest,
    };
    this.log.push(rec);
    const ms = this.script(this.idInInstance, this.n++, ctx);
    try {
      await this.clock.sleep(Math.abs(ms), ms < 0 ? undefined : ctx.signal);
      rec.result = ctx.signal.aborted ? 'interrupted' : 'completed';
    } catch {
      rec.result = 'interrupted';
    }
    rec.end = this.clock.now();
    return { kind: rec.result };
  }
}

export class FakePool implements VUPool {
  readonly log: IterationRecord[] = [];
  private readonly idle: FakeVU[] = [];
  private made = 0;
  initialized = 0;
  acquired = 0;
  released = 0;
  constructor(
    private readonly clock: FakeClock,
    planned: number,
    private readonly script: Script,
    private readonly initMs = 0,
  ) {
    for (let i = 0; i < planned; i++) this.idle.push(this.make());
  }
  private make(): FakeVU {
    this.made++;
    this.initialized++;
    return new FakeVU(this.made, this.made, this.clock, this.script, this.log);
  }
  async acquire(opts?: { readonly allowInit?: boolean }): Promise<VirtualUser | undefined> {
    const vu = opts?.allowInit === true ? undefined : this.idle.shift();
    if (vu !== undefined) {
      this.acquired++;
      return vu;
    }
    if (opts?.allowInit !== true) return undefined;
    if (this.initMs > 0) await this.clock.sleep(this.initMs);
    this.acquired++;
    return this.make();
  }
  release(vu: VirtualUser): void {
    this.released++;
    if (!(vu instanceof FakeVU)) throw new Error('released a VU this pool did not make');
    this.idle.push(vu);
  }
  idleCount(): number {
    return this.idle.length;
  }
}

export class SampleLog {
  readonly samples: Sample[] = [];
  emit = (s: readonly Sample[]): void => {
    this.samples.push(...s);
  };
  of(metric: string): Sample[] {
    return this.samples.filter((s) => s.metric === metric);
  }
  sum(metric: string): number {
    return this.of(metric).reduce((a, s) => a + s.value, 0);
  }
}

/** A constant-vus scenario of one VU for a second, for tests that drive an executor's iteration loop by hand. */
export const oneVuForASecond: ConstantVUsConfig = {
  name: 'default',
  executor: 'constant-vus',
  startTime: 0,
  gracefulStop: 0,
  exec: 'default',
  execSet: false,
  env: {},
  tags: {},
  vus: 1,
  duration: 1000,
};

/** An executor runtime on the real clock whose VU pool and samples go nowhere (the test holds its VU itself). */
export function realTimeRuntime(): ExecutorRuntime {
  const { options } = resolveOptions({}, {});
  return {
    clock: realClock,
    pool: { acquire: () => Promise.resolve(undefined), release: () => undefined },
    signal: new AbortController().signal,
    tuple: options.tuple,
    emit: () => undefined,
    runTags: {},
    stats: newScenarioStats(),
  };
}
