/**
 * A real ModuleContext for driving protocol modules without the runtime: collects samples, tracks
 * pending work like an iteration does, real clock, an abortable iteration signal.
 */
import type { Clock, MetricDefinition, MetricType, ModuleContext, Sample, Tags, ValueType } from '../../engine/contracts.ts';
import type { HostPolicy } from '../../engine/net/host-policy.ts';
import { samplesOfRow } from '../../engine/metrics/index.ts';

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    }),
};

export interface TestContext extends ModuleContext {
  readonly samples: Sample[];
  readonly logs: string[];
  /** Settles once every tracked piece of work has settled; rejects with the first failure. */
  settled(): Promise<void>;
  readonly abort: AbortController;
  setStage(stage: ReturnType<ModuleContext['stage']>): void;
}

/** `policy`: the run's host allowlist (none: every host may be reached, as outside the run command). */
export function createTestContext(tags: Tags = { scenario: 'default', group: '' }, policy?: HostPolicy): TestContext {
  const samples: Sample[] = [];
  const logs: string[] = [];
  const pending = new Set<Promise<unknown>>();
  const abort = new AbortController();
  let stage: ReturnType<ModuleContext['stage']> = 'iteration';
  let group = '';
  const vuTags: Record<string, string> = {};
  return {
    samples,
    logs,
    abort,
    vu: { idInTest: 1, idInInstance: 1 },
    emit: (s) => {
      samples.push(...s);
    },
    emitRow: (row) => {
      samples.push(...samplesOfRow(row));
    },
    currentTags: () => ({ ...tags, ...vuTags }),
    iterationSignal: () => (stage === 'iteration' ? abort.signal : undefined),
    trackPending: (work) => {
      pending.add(work);
      work.then(
        () => pending.delete(work),
        () => pending.delete(work),
      );
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    clock: realClock,
    env: {},
    stage: () => stage,
    setStage: (s) => {
      stage = s;
    },
    iteration: () => undefined,
    options: () => ({}),
    vuTags,
    groupPath: () => group,
    setGroupPath: (p) => {
      group = p;
    },
    defineMetric: (name: string, type: MetricType, contains: ValueType): MetricDefinition => ({ name, type, contains }),
    abortTest: (reason?: string): never => {
      throw new Error(`test aborted: ${reason ?? ''}`);
    },
    warnOnce: (_key, message) => {
      logs.push(`warn: ${message}`);
    },
    log: (level, message) => {
      logs.push(`${level}: ${message}`);
    },
    connectRefusal: (hostname) => {
      const why = policy?.refusal(hostname);
      if (why !== undefined) logs.push(`warn: ${why}`);
      return why;
    },
  };
}
