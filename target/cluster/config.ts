/**
 * The platform as several processes (`TARGET_INSTANCES` API instances behind a loopback balancer,
 * `TARGET_WORKERS` consumer workers), read from its variables. Pure: returns the config or throws a
 * TargetError naming the variable. Unset (or one instance, no worker) = the single process of old.
 */
import { intVar, nonEmpty, type Env } from '../config.ts';
import { TargetError } from '../errors.ts';

export interface ClusterConfig {
  readonly instances: number;
  readonly workers: number;
  /** Health checks every this many ms; a backend failing one leaves the rotation until it passes again. */
  readonly healthIntervalMs: number;
  /** `off`: a static backend list (no active or passive health checks) — the misconfigured balancer. */
  readonly balancerHealth: boolean;
  /** Restart a process that died without being asked to (`on-failure`), or leave it dead (`never`). */
  readonly restart: boolean;
}

function onOff(env: Env, name: string, def: boolean, on: string, off: string): boolean {
  const v = nonEmpty(env[name]);
  if (v === undefined) return def;
  if (v === on) return true;
  if (v === off) return false;
  throw new TargetError(400, 'CONFIG_INVALID', `${name} must be ${on} or ${off}, got ${JSON.stringify(v)}`);
}

/** The cluster to start, or undefined for the single process. */
export function readClusterConfig(env: Env): ClusterConfig | undefined {
  const instances = intVar(env, 'TARGET_INSTANCES', 1, 1, 64);
  const workers = intVar(env, 'TARGET_WORKERS', 0, 0, 64);
  if (instances === 1 && workers === 0) return undefined;
  if (nonEmpty(env.AMQP_URL) === undefined) {
    throw new TargetError(
      400,
      'CONFIG_INVALID',
      'TARGET_INSTANCES/TARGET_WORKERS need a bus the processes share: set AMQP_URL to a RabbitMQ broker (npm run k6 starts one when TARGET_AMQP_URL is unset)',
    );
  }
  if (nonEmpty(env.DATABASE_URL) === undefined && nonEmpty(env.SQLITE_PATH) === ':memory:') {
    throw new TargetError(
      400,
      'CONFIG_INVALID',
      'SQLITE_PATH=:memory: cannot be shared by several processes: use a file (or leave it unset for a temporary one) or DATABASE_URL',
    );
  }
  return {
    instances,
    workers,
    healthIntervalMs: intVar(env, 'TARGET_HEALTH_INTERVAL_MS', 500, 50, 60_000),
    balancerHealth: onOff(env, 'TARGET_BALANCER_HEALTH', true, 'on', 'off'),
    restart: onOff(env, 'TARGET_RESTART', true, 'on-failure', 'never'),
  };
}
