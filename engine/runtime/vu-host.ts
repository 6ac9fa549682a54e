/** What every VU of one engine instance shares (its host), and the stages a VU's code runs in. */
import type { Options } from 'k6/options';
import type { Clock, MetricDefinition, MetricType, SampleSink, Tags, ValueType } from '../contracts.ts';
import type { EngineModuleContext, InstanceStats } from '../modules/context.ts';
import type { HostPolicy } from '../net/host-policy.ts';
import type { CompiledScript } from './compile.ts';
import type { Logger } from './logger.ts';

export type Stage = 'init' | 'setup' | 'iteration' | 'teardown' | 'summary';
export type EngineModuleFactory = (ctx: EngineModuleContext) => Record<string, unknown>;

/** What every VU of one engine instance shares. */
export interface VuHost {
  readonly script: CompiledScript;
  readonly modules: Readonly<Record<string, EngineModuleFactory>>;
  readonly sink: SampleSink;
  readonly clock: Clock;
  /** __ENV before scenario env (system env when enabled + -e flags). */
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
  readonly shared: Map<string, unknown>;
  /** Test-wide tags (options.tags + --tag). Empty until options are known. */
  runTags(): Tags;
  options(): Readonly<Options>;
  discardResponseBodies(): boolean;
  defineMetric(name: string, type: MetricType, contains: ValueType): MetricDefinition;
  instanceStats(): InstanceStats;
  abortTest(reason: string): void;
  failTest(reason: string): void;
  /** Where load may go (undefined: anywhere, for callers that are not the toolkit's run command). */
  readonly hostPolicy?: HostPolicy | undefined;
  /** Forgotten-await bookkeeping shared by the VUs. */
  readonly awaitSites: { wanted: boolean; readonly unreported: Set<string> };
  /** Every metric defined so far (VU threads of the synchronous mode start with them). */
  readonly registry?: () => readonly MetricDefinition[];
}

/** ModuleContext.connectRefusal for the VUs of `host`: the run's host allowlist, one warning per refused host. */
export function connectRefusalOf(host: Pick<VuHost, 'hostPolicy' | 'logger'>): (hostname: string) => string | undefined {
  return (hostname) => {
    const why = host.hostPolicy?.refusal(hostname);
    if (why !== undefined) host.logger.warnOnce(`host-not-allowed:${hostname}`, why);
    return why;
  };
}
