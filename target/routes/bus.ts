/** `/api/bus`: topic stats and publishing (one message or a batch); `/api/broadcast`: WebSocket broadcast over HTTP. */
import type { FastifyInstance } from 'fastify';
import { TOPICS, isTopic } from '../bus.ts';
import { TargetError } from '../errors.ts';
import { isRecord, type Params, type PlatformDeps } from './deps.ts';

export async function busRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  const { bus } = d;
  app.get('/api/bus/stats', () => ({ topics: bus.stats() }));
  app.post('/api/bus/:topic', async (req, reply) => {
    const topic = (req.params as Params).topic ?? '';
    if (!isTopic(topic))
      throw new TargetError(404, 'BUS_TOPIC_UNKNOWN', `bus topic ${JSON.stringify(topic)} does not exist: use ${TOPICS.join(', ')}`);
    const b = req.body;
    if (!isRecord(b))
      throw new TargetError(400, 'BUS_INVALID', 'bus publish body must be {"payload": ...} or {"messages": [{"payload": ...}]}');
    const one = async (m: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const key = typeof m.key === 'string' ? m.key : null;
      const msg = await bus.publish(topic, m.payload ?? null, key);
      return { id: msg.id, topic: msg.topic, seq: msg.seq, publishedAt: msg.publishedAt };
    };
    if (Array.isArray(b.messages)) {
      if (b.messages.length > 1000)
        throw new TargetError(400, 'BUS_INVALID', `a batch holds at most 1000 messages, got ${b.messages.length}`);
      const items: Array<Record<string, unknown>> = [];
      for (const m of b.messages) items.push(await one(isRecord(m) ? m : { payload: m }));
      return reply.code(202).send({ items });
    }
    return reply.code(202).send(await one(b));
  });

  app.post('/api/broadcast', (req) => {
    const b = isRecord(req.body) ? req.body : {};
    const channel = typeof b.channel === 'string' && b.channel !== '' ? b.channel : 'default';
    const hub = d.hub();
    if (hub === undefined) throw new TargetError(503, 'NOT_READY', 'WebSocket hub is not running yet');
    return hub.broadcast(channel, b.payload ?? null);
  });
  await Promise.resolve();
}
