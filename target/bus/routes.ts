/**
 * Routes of the bus beyond publish and stats: the delivery log (`GET /api/bus/deliveries`), the node's
 * bus state (`GET /admin/bus`) and the crash-test hold (`POST /admin/bus/hold`), plus the header naming
 * the node that answered (`x-agentload-node`). See docs/target.md.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BusAdapter } from '../bus.ts';
import type { NodeConfig } from '../cluster/node.ts';
import { TargetError } from '../errors.ts';
import type { DeliveryLog } from './delivery-log.ts';

export const NODE_HEADER = 'x-agentload-node';

export interface BusRouteDeps {
  readonly bus: BusAdapter;
  readonly log: DeliveryLog;
  readonly node: NodeConfig;
  readonly busKind: 'in-process' | 'rabbitmq';
  /** The platform's loopback-only guard for `/admin/*`. */
  readonly adminOnly: (req: FastifyRequest) => Promise<void>;
}

type Query = Record<string, string | undefined>;

function intParam(q: Query, key: string, min: number, max: number): number | undefined {
  const v = q[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new TargetError(400, 'BAD_QUERY', `query parameter ${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function registerBusRoutes(app: FastifyInstance, d: BusRouteDeps): void {
  app.addHook('onSend', async (_req, reply) => {
    void reply.header(NODE_HEADER, d.node.id);
    await Promise.resolve();
  });

  app.get('/api/bus/deliveries', async (req) => {
    if (d.log.topics.length === 0) {
      throw new TargetError(
        409,
        'DELIVERY_LOG_OFF',
        'the delivery log is off: start the platform with BUS_DELIVERY_LOG=<topics> (or * for all)',
      );
    }
    const q = req.query as Query;
    return d.log.query({
      key: q.key,
      topic: q.topic,
      publishedAfter: intParam(q, 'publishedAfter', 0, Number.MAX_SAFE_INTEGER),
      after: intParam(q, 'after', 0, Number.MAX_SAFE_INTEGER),
      limit: intParam(q, 'limit', 1, 5000) ?? 1000,
    });
  });

  app.get('/admin/bus', { onRequest: d.adminOnly }, () => ({
    node: d.node,
    bus: d.busKind,
    inflight: d.bus.inflight?.() ?? 0,
    deliveryLog: d.log.topics,
  }));

  app.post('/admin/bus/hold', { onRequest: d.adminOnly }, async (req) => {
    const hold = d.bus.hold?.bind(d.bus);
    if (hold === undefined) {
      throw new TargetError(409, 'BUS_HOLD_UNSUPPORTED', 'holding a message needs a broker-backed bus: start the platform with AMQP_URL');
    }
    const timeoutMs = intParam(req.query as Query, 'timeoutMs', 1, 60_000) ?? 3000;
    const m = await hold(timeoutMs);
    if (m === undefined)
      throw new TargetError(408, 'BUS_NOTHING_TO_HOLD', `no message reached a consumer of node ${d.node.id} within ${timeoutMs} ms`);
    return { held: { id: m.id, topic: m.topic, seq: m.seq, key: m.key, redelivered: m.redelivered === true } };
  });
}
