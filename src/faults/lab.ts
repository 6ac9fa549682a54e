/**
 * The failure lab: everything a fault scenario needs beside the load generator, started in order and
 * stopped in reverse — a private RabbitMQ broker (unless one is given), a partition proxy in front of it,
 * the bundled platform (one process or a cluster) talking to the broker through the proxy, and the fault
 * controller. With `BASE_URL` (your own system) only the controller runs, with your commands.
 *
 * `labPlan()` is pure: it decides what to start and which faults that setup can apply, so the run command
 * refuses a plan before anything starts. `startLab()` runs in its own process (src/faults/main.ts).
 */
import { bySize, int, size } from '../../lib/config.ts';
import type { FaultAction } from '../../lib/fault-plan.ts';
import { startRabbitmq, type Broker } from '../rabbitmq/broker.ts';
import { startTargetProcess } from '../run/target-process.ts';
import type { StartedTarget } from '../run/adapters.ts';
import { availability, refusals, type FaultSetup } from './actions.ts';
import { FaultController } from './controller.ts';
import { PartitionProxy } from './tcp-proxy.ts';

/** Scenarios that need the lab, and the cluster they get by default (TARGET_INSTANCES/TARGET_WORKERS override). */
export const FAULT_SCENARIOS: Readonly<
  Record<
    string,
    {
      instances: { smoke: number; full: number };
      workers: { smoke: number; full: number };
      deliveryLog: boolean;
      /** It reads per-instance request counts (`GET /cluster` of the controller). */
      clusterView: boolean;
    }
  >
> = {
  'bus-durability': { instances: { smoke: 2, full: 3 }, workers: { smoke: 2, full: 2 }, deliveryLog: true, clusterView: false },
  failover: { instances: { smoke: 3, full: 4 }, workers: { smoke: 1, full: 2 }, deliveryLog: false, clusterView: true },
};

export interface LabPlan {
  /** Start a broker of ours (no TARGET_AMQP_URL), use the given one, or none (your own system). */
  readonly broker: { kind: 'start' } | { kind: 'given'; url: string } | { kind: 'none' };
  /** The bundled platform to start, or undefined when BASE_URL points at your system. */
  readonly platform: { instances: number; workers: number; deliveryLog: boolean } | undefined;
  readonly setup: FaultSetup;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (v: string | undefined): boolean => v !== undefined && v.trim() !== '';

/**
 * Whether scenario `name` with `env` needs the lab, and what it would start. Undefined: no lab (the plain
 * bundled platform, or your system without faults).
 */
export function labPlan(name: string, env: Env): LabPlan | undefined {
  const known = FAULT_SCENARIOS[name];
  const wantsCluster = set(env.TARGET_INSTANCES) || set(env.TARGET_WORKERS);
  if (known === undefined && !set(env.FAULTS) && !wantsCluster) return undefined;
  const own = set(env.BASE_URL);
  const sz = size(env);
  const instances = int(env, 'TARGET_INSTANCES', known === undefined ? 1 : bySize(sz, known.instances), { min: 1, max: 64 });
  const workers = int(env, 'TARGET_WORKERS', known === undefined ? 0 : bySize(sz, known.workers), { min: 0, max: 64 });
  const given = env.TARGET_AMQP_URL;
  const broker: LabPlan['broker'] = own ? { kind: 'none' } : set(given) ? { kind: 'given', url: given ?? '' } : { kind: 'start' };
  const cluster = !own && (instances > 1 || workers > 0);
  return {
    broker,
    platform: own ? undefined : { instances, workers, deliveryLog: known?.deliveryLog === true || set(env.BUS_DELIVERY_LOG) },
    setup: {
      brokerStarted: broker.kind === 'start',
      brokerElsewhere: own ? 'BASE_URL points at your own system' : 'TARGET_AMQP_URL is set',
      proxy: !own,
      instances: cluster ? instances : 0,
      workers: cluster ? workers : 0,
      clusterElsewhere: own
        ? 'BASE_URL points at your own system'
        : 'the bundled platform runs as one process: set TARGET_INSTANCES=2 or TARGET_WORKERS=1',
      env,
    },
  };
}

/** The one-line refusals for `actions` under `plan` (empty: all can be applied), and a missing view of the instances. */
export function labRefusals(name: string, plan: LabPlan, actions: Iterable<FaultAction>): string[] {
  const out = refusals(actions, plan.setup);
  const stats = plan.setup.env.AGENTLOAD_CLUSTER_STATS_CMD;
  if (FAULT_SCENARIOS[name]?.clusterView === true && plan.setup.instances === 0 && (stats === undefined || stats.trim() === '')) {
    out.push(
      `${name} reads each instance's request count, and agentload has no view of your instances (${plan.setup.clusterElsewhere}): set AGENTLOAD_CLUSTER_STATS_CMD to a command printing {"instances":[{"id","role","state","requests"}]}`,
    );
  }
  return out;
}

export interface LabOptions {
  readonly plan: LabPlan;
  /** Toolkit root (scripts/target.mjs). */
  readonly root: string;
  /** The bundled platform's own variables (src/run/target-env.ts). */
  readonly platformEnv: Readonly<Record<string, string>>;
  /** faults.jsonl of the run. */
  readonly faultLog?: string;
  /** Progress and fault lines. */
  readonly say: (line: string) => void;
  /** Platform stderr lines. */
  readonly onPlatformLine?: (line: string) => void;
}

export interface RunningLab {
  readonly faultsUrl: string;
  /** The bundled platform (its balancer in a cluster), when one was started. */
  readonly baseUrl: string | undefined;
  readonly actions: ReturnType<typeof availability>;
  close(): Promise<void>;
}

/** `amqp://u:p@host:5672/vh?x` → the same with host:port replaced (credentials, vhost and options kept). */
export function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

export async function startLab(o: LabOptions): Promise<RunningLab> {
  const stack: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const f of stack.splice(0).reverse()) await f().catch(() => undefined);
  };
  try {
    let broker: Broker | undefined;
    let upstream: string | undefined;
    if (o.plan.broker.kind === 'start') {
      o.say('starting a RabbitMQ broker on loopback (rabbitmq-server, takes 10-30 s)');
      const t = Date.now();
      const b = await startRabbitmq({});
      broker = b;
      stack.push(() => b.close());
      upstream = b.url;
      o.say(`RabbitMQ broker up on 127.0.0.1:${b.port} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } else if (o.plan.broker.kind === 'given') {
      upstream = o.plan.broker.url;
    }
    let proxy: PartitionProxy | undefined;
    let target: StartedTarget | undefined;
    const p = o.plan.platform;
    if (p !== undefined && upstream !== undefined) {
      const u = new URL(upstream);
      const px = new PartitionProxy({ host: u.hostname, port: Number(u.port === '' ? '5672' : u.port) });
      await px.listen();
      proxy = px;
      stack.push(() => px.close());
      const env: Record<string, string> = {
        ...o.platformEnv,
        AMQP_URL: viaProxy(upstream, px.port),
        TARGET_INSTANCES: String(p.instances),
        TARGET_WORKERS: String(p.workers),
      };
      if (p.deliveryLog && env.BUS_DELIVERY_LOG === undefined) env.BUS_DELIVERY_LOG = '*';
      o.say(
        `starting the bundled platform: ${p.instances} API instance(s), ${p.workers} consumer worker(s), RabbitMQ bus through a partition proxy`,
      );
      const t = await startTargetProcess({
        root: o.root,
        env,
        ...(o.onPlatformLine !== undefined ? { onStderr: o.onPlatformLine } : {}),
        startTimeoutMs: 120_000,
      });
      target = t;
      stack.push(() => t.close());
    }
    const clustered = o.plan.setup.instances > 0;
    const controller = new FaultController({
      setup: o.plan.setup,
      ...(broker !== undefined ? { broker } : {}),
      ...(proxy !== undefined ? { proxy } : {}),
      ...(clustered && target !== undefined ? { clusterUrl: target.url } : {}),
      ...(o.faultLog !== undefined ? { logPath: o.faultLog } : {}),
      say: o.say,
    });
    const faultsUrl = await controller.listen();
    stack.push(() => controller.close());
    return { faultsUrl, baseUrl: target?.url, actions: availability(o.plan.setup), close };
  } catch (e) {
    await close();
    throw e;
  }
}
