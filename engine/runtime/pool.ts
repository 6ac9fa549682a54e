/**
 * The VU pool executors draw from: pre-allocated VUs are initialised before the test starts;
 * arrival-rate executors may grow it up to the instance's maximum mid-test (`allowInit`).
 */
import type { Sample, SampleSink, VirtualUser, VUPool } from '../contracts.ts';
import type { Vu } from './vu.ts';

export class VuPool implements VUPool {
  readonly #idle: VirtualUser[] = [];
  readonly #all: Vu[] = [];
  readonly #make: (idInInstance: number) => Vu;
  #max: number;
  #active = 0;
  constructor(make: (idInInstance: number) => Vu, max: number) {
    this.#make = make;
    this.#max = max;
  }
  get initialized(): number { return this.#all.length; }
  get active(): number { return this.#active; }
  get max(): number { return this.#max; }
  get all(): readonly Vu[] { return this.#all; }
  setMax(max: number): void { this.#max = max; }

  /** Initialises VUs until `n` exist (init code runs once per VU). */
  grow(n: number): void {
    while (this.#all.length < n) {
      const vu = this.#make(this.#all.length + 1);
      this.#all.push(vu);
      this.#idle.push(vu);
    }
  }

  acquire(opts?: { readonly allowInit?: boolean }): Promise<VirtualUser | undefined> {
    let vu: VirtualUser | undefined;
    if (opts?.allowInit === true) {
      // Unplanned VUs are initialised fresh (k6's GetUnplannedVU), so arrival-rate growth never
      // takes the VUs planned for other scenarios; an idle one is used only at the maximum.
      if (this.#all.length < this.#max) {
        const fresh = this.#make(this.#all.length + 1);
        this.#all.push(fresh);
        vu = fresh;
      } else {
        vu = this.#idle.shift();
      }
    } else {
      vu = this.#idle.shift();
    }
    if (vu !== undefined) this.#active++;
    return Promise.resolve(vu);
  }

  release(vu: VirtualUser): void {
    this.#active--;
    this.#idle.push(vu);
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
