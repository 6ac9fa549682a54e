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
import { ConfigError, bySize, duration, durationMs, int, optional, parseDuration, size, type Env } from './config.ts';

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
  return t
    .split(',')
    .map((raw) => raw.trim())
    .filter((s) => s !== '')
    .map((item) => {
      const m = ITEM.exec(item);
      if (m === null) {
        throw new ConfigError(
          'config-invalid',
          variable,
          `${variable} item ${JSON.stringify(item)} must look like action@time[:duration][/mode], e.g. partition@30s:5s/cut`,
        );
      }
      const [, action = '', at = '', dur, mode] = m;
      if (!isFaultAction(action)) {
        throw new ConfigError(
          'config-invalid',
          variable,
          `${variable} names unknown fault action ${JSON.stringify(action)}: use ${FAULT_ACTIONS.join(', ')}`,
        );
      }
      const atMs = parseDuration(at);
      if (atMs === undefined)
        throw new ConfigError(
          'config-invalid',
          variable,
          `${variable} item ${JSON.stringify(item)}: time ${JSON.stringify(at)} is not a duration like "30s"`,
        );
      const durMs = dur === undefined ? 0 : parseDuration(dur);
      if (durMs === undefined)
        throw new ConfigError(
          'config-invalid',
          variable,
          `${variable} item ${JSON.stringify(item)}: duration ${JSON.stringify(dur)} is not a duration like "5s"`,
        );
      if (action === 'partition' && durMs <= 0) {
        throw new ConfigError(
          'config-invalid',
          variable,
          `${variable} item ${JSON.stringify(item)}: a partition needs a duration, e.g. partition@30s:5s`,
        );
      }
      if (mode !== undefined && (action !== 'partition' || !(PARTITION_MODES as readonly string[]).includes(mode))) {
        throw new ConfigError(
          'config-invalid',
          variable,
          `${variable} item ${JSON.stringify(item)}: /${mode} is only for partitions (blackhole or cut)`,
        );
      }
      return { action, atS: atMs / 1000, durationS: durMs / 1000, mode: (mode ?? 'blackhole') as PartitionMode };
    })
    .sort((a, b) => a.atS - b.atS);
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

/** A default fault at `frac` of the loaded phase (whole seconds from the start of the test). */
function at(action: FaultAction, leadS: number, loadS: number, frac: number, durationS = 0): PlannedFault {
  return { action, atS: Math.round(leadS + frac * loadS), durationS, mode: 'blackhole' };
}

function timeline(
  env: Env,
  dur: { smoke: string; full: string },
  defaults: (leadS: number, loadS: number) => PlannedFault[],
): FaultTimeline {
  const sz = size(env);
  const leadS = int(env, 'LEAD', 2, { min: 0 });
  const loadS = durationMs(duration(env, 'DURATION', bySize(sz, dur))) / 1000;
  const given = optional(env, 'FAULTS');
  const plan = given !== undefined ? parseFaultPlan(given) : defaults(leadS, loadS);
  checkPlanFits(plan, leadS + loadS);
  return { leadS, loadS, plan };
}

/**
 * `bus-durability`: steady publishing with one of each bus fault, spread over the publishing phase so a
 * slow broker restart (10-30 s on a busy machine) is over before the publishers stop. Smoke (46 s):
 * consumer-crash@8s, partition@14s:4s, publisher-crash@22s, broker-restart@28s.
 */
export function busDurabilityTimeline(env: Env): FaultTimeline {
  return timeline(env, { smoke: '46s', full: '10m' }, (leadS, loadS) => [
    at('consumer-crash', leadS, loadS, 0.13),
    at('partition', leadS, loadS, 0.26, Math.min(30, Math.max(4, Math.round(0.09 * loadS)))),
    at('publisher-crash', leadS, loadS, 0.43),
    at('broker-restart', leadS, loadS, 0.56),
  ]);
}

/** `failover`: steady traffic over N instances; one killed at 40 % of it, one added at 60 %. */
export function failoverTimeline(env: Env): FaultTimeline {
  return timeline(env, { smoke: '30s', full: '5m' }, (leadS, loadS) => [
    at('instance-kill', leadS, loadS, 0.4),
    at('instance-add', leadS, loadS, 0.6),
  ]);
}

/** The plan of a scenario run by name (the run command's view), or undefined for scenarios without one. */
export function scenarioFaultTimeline(name: string, env: Env): FaultTimeline | undefined {
  if (name === 'bus-durability') return busDurabilityTimeline(env);
  if (name === 'failover') return failoverTimeline(env);
  if ((env.FAULTS ?? '').trim() !== '') return { leadS: 0, loadS: Number.POSITIVE_INFINITY, plan: parseFaultPlan(env.FAULTS ?? '') };
  return undefined;
}

/**
 * Relative deviation of the busiest or idlest instance from an even share: max over instances of
 * |share − 1/N| × N (0 = perfectly even; 0.1 = one instance got 10 % more or less than its share).
 */
export function shareDeviation(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.length === 0 || total === 0) return 0;
  const even = 1 / counts.length;
  return Math.max(...counts.map((c) => Math.abs(c / total - even) / even));
}
