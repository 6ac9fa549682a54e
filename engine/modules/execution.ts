/** `k6/execution`: vu, scenario, instance, test (abort → exit 108, fail → exit 110, options). */
import type { EngineModuleContext } from './context.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';

export function createExecutionModule(ctx: EngineModuleContext): Record<string, unknown> {
  const iteration = (what: string): NonNullable<ReturnType<EngineModuleContext['iteration']>> => {
    const it = ctx.iteration();
    if (it === undefined) {
      throw new ModuleUsageError(
        'no-vu-context',
        `exec.${what}: scenario information is only available inside an iteration, not in ${ctx.stage()} code`,
      );
    }
    return it;
  };
  const vu = {
    get idInInstance(): number {
      return ctx.vu.idInInstance;
    },
    get idInTest(): number {
      return ctx.vu.idInTest;
    },
    get iterationInInstance(): number {
      return ctx.iterationInVu();
    },
    get iterationInScenario(): number {
      return ctx.iterationInScenario();
    },
    get tags(): Record<string, string> {
      return ctx.vuTags;
    },
    get metrics(): { tags: Record<string, string>; metadata: Record<string, string> } {
      return { tags: ctx.vuTags, metadata: {} };
    },
  };
  const scenario = {
    get name(): string {
      return iteration('scenario.name').scenario.name;
    },
    get executor(): string {
      return iteration('scenario.executor').scenario.executor;
    },
    get startTime(): number {
      const it = iteration('scenario.startTime');
      return Math.round(ctx.clock.wallNow() - (ctx.clock.now() - it.scenario.startTime));
    },
    get progress(): number {
      return iteration('scenario.progress').scenario.progress();
    },
    get iterationInInstance(): number {
      return iteration('scenario.iterationInInstance').iterationInInstance;
    },
    get iterationInTest(): number {
      return iteration('scenario.iterationInTest').iterationInTest;
    },
  };
  const instance = {
    get iterationsCompleted(): number {
      return ctx.instanceStats().iterationsCompleted;
    },
    get iterationsInterrupted(): number {
      return ctx.instanceStats().iterationsInterrupted;
    },
    get vusActive(): number {
      return ctx.instanceStats().vusActive;
    },
    get vusInitialized(): number {
      return ctx.instanceStats().vusInitialized;
    },
    get currentTestRunDuration(): number {
      return ctx.instanceStats().currentTestRunDuration;
    },
  };
  const test = {
    abort(reason?: string): never {
      return ctx.abortTest(reason);
    },
    fail(reason?: string): void {
      ctx.failTest(reason ?? '');
    },
    get options(): ReturnType<EngineModuleContext['options']> {
      return ctx.options();
    },
  };
  return { vu, scenario, instance, test } satisfies K6Module<typeof import('k6/execution')>;
}
