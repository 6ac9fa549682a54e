/** `k6/data`: SharedArray, built once per engine instance from init code and shared read-only by every VU. */
import type { EngineModuleContext } from './context.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

export function createDataModule(ctx: EngineModuleContext): Record<string, unknown> {
  function SharedArray(name: unknown, make: () => unknown): readonly unknown[] {
    if (typeof name !== 'string' || name === '')
      throw new ModuleUsageError('shared-array-name', `SharedArray needs a non-empty name, got ${JSON.stringify(name)}`);
    if (ctx.stage() !== 'init')
      throw new ModuleUsageError(
        'shared-array-outside-init',
        `new SharedArray("${name}") must be created in the init context, not in ${ctx.stage()} code`,
      );
    const key = `k6/data:${name}`;
    const existing = ctx.shared.get(key);
    if (existing !== undefined) return existing as readonly unknown[];
    const value = make();
    if (!Array.isArray(value))
      throw new ModuleUsageError('shared-array-not-array', `SharedArray "${name}": the function must return an array, got ${typeof value}`);
    // JSON round-trip like k6: functions and prototypes are dropped, the copy is frozen.
    const copy = deepFreeze(JSON.parse(JSON.stringify(value)) as unknown[]);
    ctx.shared.set(key, copy);
    return copy;
  }
  // A function scripts call with `new` (returning the frozen copy), as k6's SharedArray constructor behaves.
  return { SharedArray: SharedArray as unknown as new (name: string, make: () => unknown[]) => readonly unknown[] } satisfies K6Module<
    typeof import('k6/data')
  >;
}
