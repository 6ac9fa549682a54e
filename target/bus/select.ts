/**
 * Which bus the platform runs on, from its variables: the in-process bus by default, RabbitMQ when
 * `AMQP_URL` is set (docs/target.md, "Event bus"). Parsing is pure and names the variable on a bad value.
 */
import { InProcessBus, TOPICS, isTopic, type BusAdapter, type BusFaults, type BusMessage, type Topic } from '../bus.ts';
import { intVar, nonEmpty, redactUrl, type Env } from '../config.ts';
import type { Db } from '../db/db.ts';
import { TargetError } from '../errors.ts';
import { AmqpBus } from './amqp.ts';
import type { AmqpDelivery, AmqpSettings } from './amqp-options.ts';
import { dbSequence } from './sequence.ts';

export interface BusConfig extends AmqpSettings {
  /** Unset: the in-process bus. */
  readonly amqpUrl: string | undefined;
  /** Topics whose deliveries are recorded in `bus_deliveries` (BUS_DELIVERY_LOG). */
  readonly deliveryLog: readonly Topic[];
}

const DELIVERIES: readonly AmqpDelivery[] = ['at-least-once', 'at-most-once'];

function invalid(message: string): TargetError {
  return new TargetError(400, 'CONFIG_INVALID', message);
}

export function readBusConfig(env: Env): BusConfig {
  const amqpUrl = nonEmpty(env.AMQP_URL);
  if (amqpUrl !== undefined && !/^amqps?:\/\/[^\s/]/.test(amqpUrl)) {
    throw invalid('AMQP_URL must be an amqp:// URL like amqp://guest:guest@127.0.0.1:5672 (value not shown: it may hold a password)');
  }
  const namespace = nonEmpty(env.AMQP_NAMESPACE) ?? 'agentload';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(namespace)) {
    throw invalid(`AMQP_NAMESPACE must be letters, digits, ".", "_" or "-" (at most 64), got ${JSON.stringify(namespace)}`);
  }
  const delivery = nonEmpty(env.AMQP_DELIVERY) ?? 'at-least-once';
  if (!(DELIVERIES as readonly string[]).includes(delivery)) {
    throw invalid(`AMQP_DELIVERY must be ${DELIVERIES.join(' or ')}, got ${JSON.stringify(delivery)}`);
  }
  const logText = nonEmpty(env.BUS_DELIVERY_LOG);
  let deliveryLog: Topic[] = [];
  if (logText !== undefined) {
    const names = logText
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (names.includes('*')) deliveryLog = [...TOPICS];
    else {
      const bad = names.find((n) => !isTopic(n));
      if (bad !== undefined) throw invalid(`BUS_DELIVERY_LOG names unknown topic ${JSON.stringify(bad)}: use ${TOPICS.join(', ')} or *`);
      deliveryLog = names.filter(isTopic);
    }
  }
  return {
    amqpUrl,
    namespace,
    delivery: delivery as AmqpDelivery,
    prefetch: intVar(env, 'AMQP_PREFETCH', 16, 1, 65_535),
    heartbeatS: intVar(env, 'AMQP_HEARTBEAT_S', 3, 1, 600),
    confirmTimeoutMs: intVar(env, 'AMQP_CONFIRM_TIMEOUT_MS', 10_000, 100, 600_000),
    connectTimeoutMs: intVar(env, 'AMQP_CONNECT_TIMEOUT_MS', 10_000, 0, 600_000),
    deliveryLog,
  };
}

export interface BusDeps {
  readonly faults: () => BusFaults;
  readonly db: Db;
  readonly onError: (e: unknown, m?: BusMessage) => void;
  readonly onState?: (state: 'connected' | 'disconnected', detail: string) => void;
}

/** The bus for `cfg`; a RabbitMQ bus is connected (or a clear error names the broker) before it returns. */
export async function createBus(cfg: BusConfig, deps: BusDeps): Promise<BusAdapter> {
  if (cfg.amqpUrl === undefined) {
    return new InProcessBus(deps.faults, (e, m) => {
      deps.onError(e, m);
    });
  }
  return AmqpBus.connect(
    {
      ...cfg,
      url: cfg.amqpUrl,
      faults: deps.faults,
      sequence: dbSequence(deps.db),
      onError: deps.onError,
      ...(deps.onState !== undefined ? { onState: deps.onState } : {}),
    },
    redactUrl(cfg.amqpUrl),
  );
}
