/** `/api/knowledge/nodes`: the knowledge graph's query classes (lookup, property search, neighbours, bulk insert). */
import type { FastifyInstance } from 'fastify';
import { TargetError } from '../errors.ts';
import { NODE_KINDS } from '../store.ts';
import { isRecord, queryInt, type Params, type PlatformDeps, type Query } from './deps.ts';

export async function knowledgeRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  const { store } = d;
  app.get('/api/knowledge/nodes', async (req) => {
    const q = req.query as Query;
    const key = q.key;
    if (key !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key)) {
      throw new TargetError(400, 'BAD_QUERY', `query parameter key must be a property name like "tag", got ${JSON.stringify(key)}`);
    }
    return { items: await store.findNodes({ kind: q.kind, key, value: q.value, limit: queryInt(q, 'limit', 50, 1, 1000) }) };
  });
  app.get('/api/knowledge/nodes/:id', async (req) => {
    const id = (req.params as Params).id ?? '';
    const n = await store.getNode(id);
    if (n === undefined)
      throw new TargetError(
        404,
        'NODE_NOT_FOUND',
        `knowledge node ${JSON.stringify(id)} does not exist: list nodes with GET /api/knowledge/nodes`,
      );
    return n;
  });
  app.get('/api/knowledge/nodes/:id/neighbors', async (req) => ({ items: await store.neighbors((req.params as Params).id ?? '') }));
  app.post('/api/knowledge/nodes', async (req, reply) => {
    const b = isRecord(req.body) ? req.body : {};
    const nodes = b.nodes;
    if (!Array.isArray(nodes) || nodes.length < 1 || nodes.length > 1000) {
      throw new TargetError(
        400,
        'NODE_INVALID',
        `body must be {"nodes":[{"kind","name","properties"}]} with 1..1000 nodes, got ${Array.isArray(nodes) ? nodes.length : typeof nodes}`,
      );
    }
    const parsed = nodes.map((n, i) => {
      if (!isRecord(n) || typeof n.name !== 'string') throw new TargetError(400, 'NODE_INVALID', `nodes[${i}] needs a string "name"`);
      return { kind: typeof n.kind === 'string' ? n.kind : NODE_KINDS[0], name: n.name, properties: n.properties ?? {} };
    });
    const ids = await store.insertNodes(parsed);
    return reply.code(201).send({ inserted: ids.length, ids });
  });
  await Promise.resolve();
}
