/**
 * One platform process's place in a cluster (`TARGET_ROLE`, `TARGET_NODE_ID`): `all` (the default, a
 * single process doing everything), `api` (an API instance behind the balancer: HTTP, publishing, agents;
 * no delivery-log consumer) or `worker` (a consumer worker: every bus consumer, HTTP only for health and
 * admin, never behind the balancer).
 */
import { nonEmpty, type Env } from '../config.ts';
import { TargetError } from '../errors.ts';

export const NODE_ROLES = ['all', 'api', 'worker'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export interface NodeConfig {
  readonly id: string;
  readonly role: NodeRole;
}

export function readNodeConfig(env: Env): NodeConfig {
  const role = nonEmpty(env.TARGET_ROLE) ?? 'all';
  if (!(NODE_ROLES as readonly string[]).includes(role)) {
    throw new TargetError(400, 'CONFIG_INVALID', `TARGET_ROLE must be one of ${NODE_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  }
  const id = nonEmpty(env.TARGET_NODE_ID) ?? 'main';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) {
    throw new TargetError(400, 'CONFIG_INVALID', `TARGET_NODE_ID must be letters, digits, ".", "_" or "-", got ${JSON.stringify(id)}`);
  }
  return { id, role: role as NodeRole };
}

/** Whether this node runs the bus consumers that only consumer workers (or a lone process) run. */
export function runsWorkerConsumers(role: NodeRole): boolean {
  return role !== 'api';
}
