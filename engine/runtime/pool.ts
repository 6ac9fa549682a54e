/**
 * The VU pool executors draw from: pre-allocated VUs are initialised before the test starts;
 * arrival-rate executors may grow it up to the instance's maximum mid-test (`allowInit`).
 * VUs are made asynchronously: a script with top-level await, or a VU on its own thread (the
 * synchronous VU mode), is ready only once its init code has run.
 */
import type { Sample, SampleSink, VirtualUser, VUPool } from '../contracts.ts';

/** What the pool holds: a VU it can hand setup() data to and close. */
export interface PooledVu extends VirtualUser {
  setData(data: unknown): void;
  close(): Promise<void>;
}

/**
 * How long a run waits, once its scenarios have stopped, for VUs whose iterations were interrupted to hand
 * back what they recorded: longer than a VU thread's interruption grace (INTERRUPT_GRACE_MS, 1 s), after
 * which a thread that does not answer is stopped.
 */
export const SETTLE_AFTER_STOP_MS = 2000;

/** VUs initialised at once by grow(): thread VUs start in parallel, a few at a time (each costs a thread start). */
export const GROW_PARALLEL = 8;

export class VuPool<V extends PooledVu = PooledVu> implements VUPool {
  readonly #idle: V[] = [];
  readonly #all: V[] = [];
  readonly #make: (idInInstance: number) => V | Promise<V>;
  #max: number;
  #active = 0;
  /** Ids handed out (a VU being made already has its id). */
  #made = 0;
  #whenIdle: (() => void)[] = [];
  constructor(make: (idInInstance: number) => V | Promise<V>, max: number) {
    this.#make = make;
    this.#max = max;
  }
  get initialized(): number {
    return this.#all.length;
  }
  get active(): number {
    return this.#active;
  }
  get max(): number {
    return this.#max;
  }
  get all(): readonly V[] {
    return this.#all;
  }
  setMax(max: number): void {
    this.#max = max;
  }

  async #fresh(): Promise<V> {
    const vu = await this.#make(++this.#made);
    this.#all.push(vu);
    return vu;
  }

  /** Initialises VUs until `n` exist (init code runs once per VU). */
  async grow(n: number): Promise<void> {
    while (this.#made < n) {
      const batch: Promise<V>[] = [];
      while (this.#made < n && batch.length < GROW_PARALLEL) batch.push(this.#fresh());
      const settled = await Promise.allSettled(batch);
      for (const s of settled) if (s.status === 'fulfilled') this.#idle.push(s.value);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
  }

  async acquire(opts?: { readonly allowInit?: boolean }): Promise<VirtualUser | undefined> {
    let vu: V | undefined;
    if (opts?.allowInit === true && this.#made < this.#max) {
      // Unplanned VUs are initialised fresh (k6's GetUnplannedVU), so arrival-rate growth never
      // takes the VUs planned for other scenarios; an idle one is used only at the maximum.
      vu = await this.#fresh();
    } else {
      vu = this.#idle.shift();
    }
    if (vu !== undefined) this.#active++;
    return vu;
  }

  release(vu: VirtualUser): void {
    this.#active--;
    this.#idle.push(vu as V);
    if (this.#active === 0) for (const wake of this.#whenIdle.splice(0)) wake();
  }

  /**
   * Resolves once no VU is busy, or after `timeoutMs`: true when idle. An iteration interrupted by a stop is
   * let go by its executor at once (k6 counts it as interrupted), but the VU goes on until it has settled;
   * what it recorded until then (the iteration that called exec.test.abort() among it) must reach the outputs
   * before they close.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.#active === 0) return true;
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#whenIdle = this.#whenIdle.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#whenIdle.push(wake);
    });
  }

  /** `vus` and `vus_max` gauges, as k6 emits them every second. */
  gaugeSamples(time: number, tags: Readonly<Record<string, string>>, sink: SampleSink): void {
    const s: Sample[] = [
      { metric: 'vus', time, value: this.#active, tags },
      { metric: 'vus_max', time, value: this.#all.length, tags },
    ];
    sink.add(s);
  }

  async close(): Promise<void> {
    await Promise.all(this.#all.map((v) => v.close()));
  }
}
