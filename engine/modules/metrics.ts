/** `k6/metrics`: Counter, Gauge, Rate, Trend(name, isTime); declared in init code, add(value, tags). */
import type { MetricType, ValueType } from '../contracts.ts';
import type { EngineModuleContext } from './context.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';

export function createMetricsModule(ctx: EngineModuleContext): Record<string, unknown> {
  function make(
    type: MetricType,
    label: string,
  ): new (name: string, isTime?: boolean) => { name: string; add(v: unknown, tags?: Record<string, string>): boolean } {
    return class {
      readonly name: string;
      readonly #type: MetricType;
      constructor(name: string, isTime?: boolean) {
        if (ctx.stage() !== 'init') {
          throw new ModuleUsageError(
            'metric-outside-init',
            `new ${label}("${name}"): custom metrics must be declared in the init context (top level of the script), not in ${ctx.stage()} code`,
          );
        }
        const contains: ValueType = type === 'trend' && isTime === true ? 'time' : 'default';
        this.name = ctx.defineMetric(name, type, contains).name;
        this.#type = type;
      }
      add(value: unknown, tags?: Record<string, string>): boolean {
        let v: number;
        if (this.#type === 'rate') v = typeof value === 'number' ? (value !== 0 ? 1 : 0) : value ? 1 : 0;
        else v = typeof value === 'boolean' ? Number(value) : Number(value);
        if (Number.isNaN(v)) {
          throw new ModuleUsageError(
            'invalid-metric-value',
            `${label} "${this.name}".add(): value must be a number, got ${JSON.stringify(value)}`,
          );
        }
        const base = ctx.currentTags();
        ctx.emit([{ metric: this.name, time: ctx.clock.wallNow(), value: v, tags: tags === undefined ? base : { ...base, ...tags } }]);
        return true;
      }
    };
  }
  return {
    Counter: make('counter', 'Counter'),
    Gauge: make('gauge', 'Gauge'),
    Rate: make('rate', 'Rate'),
    Trend: make('trend', 'Trend'),
  } satisfies K6Module<typeof import('k6/metrics')>;
}
