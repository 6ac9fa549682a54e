/**
 * Fault plans: which process-level faults a scenario applies and when, as data. Pure (no k6 imports):
 * the scenarios read their plan here, and the run command reads the same plan before the run to refuse a
 * fault the platform cannot take (docs/faults.md).
 *
 * Grammar of `FAULTS` (comma-separated; `none` = no fault):
 *   action@time[:duration][/mode]      e.g.  consumer-crash@10s, partition@30s:5s/cut, broker-restart@1m
 * `time` is from the start of the test (k6 duration syntax); `duration` is how long a partition lasts (or
 * how long a killed broker stays down); `mode` is `blackhole` (default) or `cut` for partitions.
 */
import { ConfigError, bySize, duration, durationMs, int, parseDuration, size, type Env } from './config.ts';

export const FAULT_ACTIONS = [
  'broker-restart',
  'broker-kill',
  'consumer-crash',
  'publisher-crash',
  'partition',
  'instance-kill',
  'instance-add',
] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

export const PARTITION_MODES = ['blackhole', 'cut'] as const;
export type PartitionMode = (typeof PARTITION_MODES)[number];

export interface PlannedFault {
  readonly action: FaultAction;
  /** Seconds from the start of the test. */
  readonly atS: number;
  /** Partition length, or how long a killed/stopped broker stays down (0 = restart at once). */
  readonly durationS: number;
  readonly mode: PartitionMode;
}

export function isFaultAction(s: string): s is FaultAction {
  return (FAULT_ACTIONS as readonly string[]).includes(s);
}

const ITEM = /^([a-z-]+)@([0-9.hms]+)(?::([0-9.hms]+))?(?:\/([a-z]+))?$/;

/** Parses a plan; a bad item throws a ConfigError naming `variable`, the item and the fix. */
export function parseFaultPlan(text: string, variable = 'FAULTS'): PlannedFault[] {
  const t = text.trim();
  if (t === '' || t === 'none') return [];
  return t.split(',').map((raw) => raw.trim()).filter((s) => s !== '').map((item) => {
    const m = ITEM.exec(item);
    if (m === null) {
      throw new ConfigError('config-invalid', variable, `${variable} item ${JSON.stringify(item)} must look like action@time[:duration][/mode], e.g. partition@30s:5s/cut`);
    }
    const [, action = '', at = '', dur, mode] = m;
    if (!isFaultAction(action)) {
      throw new ConfigError('config-invalid', variable, `${variable} names unknown fault action ${JSON.stringify(action)}: use ${FAULT_ACTIONS.join(', ')}`);
    }
    const atMs = parseDuration(at);
    if (atMs === undefined) throw new ConfigError('config-invalid', variable, `${variable} item ${JSON.stringify(item)}: time ${JSON.stringify(at)} is not a duration like "30s"`);
    const durMs = dur === undefined ? 0 : parseDuration(dur);
    if (durMs === undefined) throw new ConfigError('config-invalid', variable, `${variable} item ${JSON.stringify(item)}: duration ${JSON.stringify(dur)} is not a duration like "5s"`);
    if (action === 'partition' && durMs <= 0) {
      throw new ConfigError('config-invalid', variable, `${variable} item ${JSON.stringify(item)}: a partition needs a duration, e.g. partition@30s:5s`);
    }
    if (mode !== undefined && (action !== 'partition' || !(PARTITION_MODES as readonly string[]).includes(mode))) {
      throw new ConfigError('config-invalid', variable, `${variable} item ${JSON.stringify(item)}: /${mode} is only for partitions (blackhole or cut)`);
    }
    return { action, atS: atMs / 1000, durationS: durMs / 1000, mode: (mode ?? 'blackhole') as PartitionMode };
  }).sort((a, b) => a.atS - b.atS);
}

/** Every fault must start, and a partition end, while the test still runs: else a one-line ConfigError. */
export function checkPlanFits(plan: readonly PlannedFault[], endS: number, variable = 'FAULTS'): void {
  for (const f of plan) {
    if (f.atS + f.durationS >= endS) {
      throw new ConfigError(
        'config-invalid',
        variable,
        `${variable}: ${f.action} at ${f.atS}s${f.durationS > 0 ? ` for ${f.durationS}s` : ''} ends after the faults phase (${endS}s): move it earlier or lengthen DURATION`,
      );
    }
  }
}

/** The timeline of a fault scenario: when faults may happen and the plan to apply. */
export interface FaultTimeline {
  /** Seconds before publishing (or traffic) starts. */
  readonly leadS: number;
  /** Length of the loaded phase (publishing or traffic), seconds. */
  readonly loadS: number;
  /** Faults must fit into [0, leadS + loadS). */
  readonly plan: readonly PlannedFault[];
}

function timeline(env: Env, defaults: { smoke: string; full: string }, dur: { smoke: string; full: string }, leadS: number): FaultTimeline {
  const sz = size(env);
  const loadS = durationMs(duration(env, 'DURATION', bySize(sz, dur))) / 1000;
  const plan = parseFaultPlan(env.FAULTS ?? bySize(sz, defaults));
  checkPlanFits(plan, leadS + loadS);
  return { leadS, loadS, plan };
}

/**
 * `bus-durability`: steady publishing with one of each bus fault, spaced so a slow broker restart (10-30 s
 * on a busy machine) is over before the publishers stop.
 */
export function busDurabilityTimeline(env: Env): FaultTimeline {
  return timeline(env, {
    smoke: 'consumer-crash@6s,partition@12s:4s,publisher-crash@20s,broker-restart@26s',
    full: 'consumer-crash@1m,partition@2m30s:30s,publisher-crash@4m30s,broker-restart@6m',
  }, { smoke: '46s', full: '10m' }, int(env, 'LEAD', 2, { min: 0 }));
}

/** `failover`: steady traffic over N instances, one killed, one added. */
export function failoverTimeline(env: Env): FaultTimeline {
  return timeline(env, {
    smoke: 'instance-kill@14s,instance-add@20s',
    full: 'instance-kill@2m,instance-add@3m',
  }, { smoke: '30s', full: '5m' }, int(env, 'LEAD', 2, { min: 0 }));
}

/** The plan of a scenario run by name (the run command's view), or undefined for scenarios without one. */
export function scenarioFaultTimeline(name: string, env: Env): FaultTimeline | undefined {
  if (name === 'bus-durability') return busDurabilityTimeline(env);
  if (name === 'failover') return failoverTimeline(env);
  if ((env.FAULTS ?? '').trim() !== '') return { leadS: 0, loadS: Number.POSITIVE_INFINITY, plan: parseFaultPlan(env.FAULTS ?? '') };
  return undefined;
}
