/**
 * The ModuleContext the protocol benchmarks drive modules with: one VU in an iteration, real clock,
 * no runtime. Samples go to `emit` (dropped by default), warnings and logs to `log` (dropped by default).
 */
import type { Clock, ModuleContext, Sample } from '../engine/contracts.ts';
import { samplesOfRow } from '../engine/metrics/index.ts';

export const benchClock: Clock = {
  now: () => performance.now(),
  wallNow: () => performance.timeOrigin + performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export function benchModuleContext(
  opts: { emit?: (samples: readonly Sample[]) => void; log?: (level: string, message: string) => void } = {},
): ModuleContext {
  const tags = { scenario: 'bench', group: '' };
  const log = opts.log ?? ((): void => undefined);
  const emit = opts.emit ?? ((): void => undefined);
  return {
    vu: { idInTest: 1, idInInstance: 1 },
    emit,
    emitRow: (row) => {
      emit(samplesOfRow(row));
    },
    currentTags: () => tags,
    iterationSignal: () => undefined,
    trackPending: () => undefined,
    clock: benchClock,
    env: {},
    stage: () => 'iteration',
    iteration: () => undefined,
    options: () => ({}),
    vuTags: {},
    groupPath: () => '',
    setGroupPath: () => undefined,
    defineMetric: (name, type, contains) => ({ name, type, contains }),
    abortTest: (reason?: string): never => {
      throw new Error(reason ?? 'abort');
    },
    warnOnce: (_key, message) => {
      log('warn', message);
    },
    log: (level, message) => {
      log(level, message);
    },
    connectRefusal: () => undefined,
  };
}
