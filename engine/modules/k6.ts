/** `k6`: check, group, sleep, fail, randomSeed. sleep() returns a promise (async first). */
import type { Sample } from '../contracts.ts';
import { Awaitable, awaitable } from './awaitable.ts';
import type { EngineModuleContext } from './context.ts';

export class ModuleUsageError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'Error';
  }
}

function isThenable(v: unknown): boolean {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && (fn.constructor.name === 'AsyncFunction' || fn.constructor.name === 'AsyncGeneratorFunction');
}

/** Seeded replacement for Math.random (mulberry32), installed by randomSeed(). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createK6Module(ctx: EngineModuleContext): Record<string, unknown> {
  const checksDef = ctx.defineMetric('checks', 'rate', 'default');
  const groupDef = ctx.defineMetric('group_duration', 'trend', 'time');

  function check(value: unknown, sets: unknown, tags?: Record<string, string>): boolean {
    if (typeof sets !== 'object' || sets === null) {
      throw new ModuleUsageError('invalid-check', `check() needs an object of named checks, got ${typeof sets}; write check(res, { 'status is 200': (r) => r.status === 200 })`);
    }
    let all = true;
    const base = ctx.currentTags();
    const time = ctx.clock.wallNow();
    const samples: Sample[] = [];
    for (const [name, cond] of Object.entries(sets as Record<string, unknown>)) {
      if (isAsyncFunction(cond)) {
        throw new ModuleUsageError('async-check', `check "${name}": async callbacks are not supported (k6 rejects them too); await the value first, then check it synchronously: const r = await http.get(url); check(r, { ... })`);
      }
      let ok: unknown = cond;
      if (typeof cond === 'function') ok = (cond as (v: unknown) => unknown)(value);
      if (isThenable(ok)) {
        throw new ModuleUsageError('async-check', `check "${name}" returned a promise: callbacks must be synchronous (k6 rejects async checks too); await the value first, then check it`);
      }
      const pass = Boolean(ok);
      if (!pass) all = false;
      samples.push({ metric: checksDef.name, time, value: pass ? 1 : 0, tags: tags === undefined ? { ...base, check: name } : { ...base, ...tags, check: name } });
    }
    ctx.emit(samples);
    return all;
  }

  function group<T>(name: string, fn: () => T): T {
    if (typeof name !== 'string' || name === '' || name.includes('::')) {
      throw new ModuleUsageError('invalid-group', `group name must be a non-empty string without "::", got ${JSON.stringify(name)}`);
    }
    if (isAsyncFunction(fn)) {
      throw new ModuleUsageError('async-group', `group("${name}"): async functions are not supported (k6 rejects them too); await the calls outside the group, or call group() with a synchronous function`);
    }
    const parent = ctx.groupPath();
    const path = `${parent}::${name}`;
    ctx.setGroupPath(path);
    const start = ctx.clock.now();
    let result: T;
    try {
      result = fn();
      if (isThenable(result)) {
        throw new ModuleUsageError('async-group', `group("${name}") callback returned a promise: group() needs a synchronous function (k6 rejects async ones too); await the calls outside the group`);
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

  function randomSeed(seed: unknown): void {
    Math.random = seeded(Number(seed));
  }

  return { check, group, sleep, fail, randomSeed };
}
