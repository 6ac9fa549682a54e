/** `k6`: check, group, sleep, fail, randomSeed. sleep() returns a promise (async first). */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CodedError } from '../../shared/errors.ts';
import type { Sample } from '../contracts.ts';
import { Awaitable, awaitable } from './awaitable.ts';
import type { EngineModuleContext } from './context.ts';
import type { K6Module } from './k6-types.ts';

export class ModuleUsageError extends CodedError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'Error';
  }
}

function isThenable(v: unknown): boolean {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && (fn.constructor.name === 'AsyncFunction' || fn.constructor.name === 'AsyncGeneratorFunction');
}

const MASK64 = (1n << 64n) - 1n;

/** k6 takes randomSeed's argument as an int64: NaN is 0, fractions are cut, infinities saturate. */
function toInt64(seed: unknown): bigint {
  const n = Number(seed);
  if (Number.isNaN(n)) return 0n;
  if (!Number.isFinite(n) || Math.abs(n) >= 2 ** 63) return n > 0 ? (1n << 63n) - 1n : -(1n << 63n);
  return BigInt(Math.trunc(n));
}

/**
 * One VU's Math.random source. Unseeded it defers to the platform's; after randomSeed(n) it is a
 * xoshiro128** generator whose 128-bit state comes from n through splitmix64, so a seed gives the same
 * sequence in every run and every VU (k6 seeds each VU's own runtime). The values are not k6's (Go's
 * math/rand): scripts get k6's guarantee (determinism per seed and VU), not its numbers.
 */
export class VuRandom {
  #s: Uint32Array | undefined;
  /** The state right after the VU's init code: setup/teardown/handleSummary start from it (k6 gives each a fresh VU). */
  #afterInit: Uint32Array | undefined;

  get seeded(): boolean {
    return this.#s !== undefined;
  }

  seed(seed: unknown): void {
    let x = BigInt.asUintN(64, toInt64(seed));
    const words = new Uint32Array(4);
    for (let i = 0; i < 2; i++) {
      x = (x + 0x9e3779b97f4a7c15n) & MASK64;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
      z ^= z >> 31n;
      words[2 * i] = Number(z & 0xffffffffn);
      words[2 * i + 1] = Number(z >> 32n);
    }
    if (words.every((w) => w === 0)) words[0] = 1;
    this.#s = words;
  }

  #next32(s: Uint32Array): number {
    const s0 = s[0] ?? 0;
    const s1 = s[1] ?? 0;
    const s2 = s[2] ?? 0;
    const s3 = s[3] ?? 0;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[0] = s0 ^ n3;
    s[1] = s1 ^ n2;
    s[2] = n2 ^ t;
    s[3] = rotl(n3, 11);
    return r;
  }

  /** A float in [0, 1) with 53 random bits, or undefined while unseeded. */
  next(): number | undefined {
    const s = this.#s;
    if (s === undefined) return undefined;
    const hi = this.#next32(s) >>> 5;
    const lo = this.#next32(s) >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  markInitDone(): void {
    this.#afterInit = this.#s?.slice();
  }

  restoreInit(): void {
    this.#s = this.#afterInit?.slice();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Math.random is global in the engine's JavaScript context, shared by every VU: once a script seeds
 * (randomSeed), Math.random is replaced by a router that asks the calling VU's VuRandom, found through
 * AsyncLocalStorage (the VU enters its store around every call into script code). Scripts that never
 * seed pay nothing: no store is entered until the first randomSeed().
 */
const randomStore = new AsyncLocalStorage<VuRandom | undefined>();
const route = { on: false };
const platformRandom = Math.random;
const routingOn = (): boolean => route.on;

function startRouting(): void {
  if (route.on) return;
  route.on = true;
  Math.random = function random(): number {
    return randomStore.getStore()?.next() ?? platformRandom();
  };
}

/** Runs script code as the VU owning `random` (Math.random then uses its seeded source, if any). */
export function runAsVu<A, T>(random: VuRandom, fn: (arg: A) => T, arg: A): T {
  if (route.on) return randomStore.run(random, fn, arg);
  try {
    return fn(arg);
  } finally {
    // randomSeed() inside fn switched routing on and entered the VU's store: leave it to the VU's own work.
    if (routingOn()) randomStore.enterWith(undefined);
  }
}

/** What the VU puts on its module context for randomSeed (an engine extension of EngineModuleContext). */
export interface RandomHost {
  readonly random: VuRandom;
}

export function createK6Module(ctx: EngineModuleContext): Record<string, unknown> {
  const checksDef = ctx.defineMetric('checks', 'rate', 'default');
  const groupDef = ctx.defineMetric('group_duration', 'trend', 'time');

  function check(value: unknown, sets: unknown, tags?: object): boolean {
    if (typeof sets !== 'object' || sets === null) {
      throw new ModuleUsageError(
        'invalid-check',
        `check() needs an object of named checks, got ${typeof sets}; write check(res, { 'status is 200': (r) => r.status === 200 })`,
      );
    }
    let all = true;
    const base = ctx.currentTags();
    const time = ctx.clock.wallNow();
    const samples: Sample[] = [];
    for (const [name, cond] of Object.entries(sets as Record<string, unknown>)) {
      if (isAsyncFunction(cond)) {
        throw new ModuleUsageError(
          'async-check',
          `check "${name}": async callbacks are not supported (k6 rejects them too); await the value first, then check it synchronously: const r = await http.get(url); check(r, { ... })`,
        );
      }
      let ok: unknown = cond;
      if (typeof cond === 'function') ok = (cond as (v: unknown) => unknown)(value);
      if (isThenable(ok)) {
        throw new ModuleUsageError(
          'async-check',
          `check "${name}" returned a promise: callbacks must be synchronous (k6 rejects async checks too); await the value first, then check it`,
        );
      }
      const pass = Boolean(ok);
      if (!pass) all = false;
      samples.push({
        metric: checksDef.name,
        time,
        value: pass ? 1 : 0,
        tags: tags === undefined ? { ...base, check: name } : { ...base, ...tags, check: name },
      });
    }
    ctx.emit(samples);
    return all;
  }

  function group<T>(name: string, fn: () => T): T {
    if (typeof name !== 'string' || name === '' || name.includes('::')) {
      throw new ModuleUsageError('invalid-group', `group name must be a non-empty string without "::", got ${JSON.stringify(name)}`);
    }
    if (isAsyncFunction(fn)) {
      throw new ModuleUsageError(
        'async-group',
        `group("${name}"): async functions are not supported (k6 rejects them too); await the calls outside the group, or call group() with a synchronous function`,
      );
    }
    const parent = ctx.groupPath();
    const path = `${parent}::${name}`;
    ctx.setGroupPath(path);
    const start = ctx.clock.now();
    let result: T;
    try {
      result = fn();
      if (isThenable(result)) {
        throw new ModuleUsageError(
          'async-group',
          `group("${name}") callback returned a promise: group() needs a synchronous function (k6 rejects async ones too); await the calls outside the group`,
        );
      }
    } finally {
      const tags = ctx.currentTags();
      ctx.setGroupPath(parent);
      ctx.emit([{ metric: groupDef.name, time: ctx.clock.wallNow(), value: ctx.clock.now() - start, tags }]);
    }
    return result;
  }

  function sleep(seconds: unknown): Awaitable<void> {
    const ms = Math.max(0, Number(seconds) * 1000);
    const work = ctx.clock.sleep(ms, ctx.iterationSignal());
    return awaitable(ctx, `sleep(${String(seconds)})`, work);
  }

  function fail(message?: string): never {
    throw new Error(message ?? '');
  }

  /** k6: seeds this VU's Math.random (init code or iteration); other VUs keep their own source. */
  const ownRandom = (ctx as EngineModuleContext & Partial<RandomHost>).random ?? new VuRandom();
  function randomSeed(seed: unknown): void {
    ownRandom.seed(seed);
    startRouting();
    if (randomStore.getStore() !== ownRandom) randomStore.enterWith(ownRandom);
  }

  return { check, group, sleep, fail, randomSeed } satisfies K6Module<typeof import('k6')>;
}
