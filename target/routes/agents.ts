/** `/api/agents`: list, spawn, status, logs, start and stop (also under `/agents/:id/...`). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TargetError } from '../errors.ts';
import { isRecord, queryInt, type Params, type PlatformDeps, type Query } from './deps.ts';

export async function agentRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  const { agents, store } = d;
  app.get('/api/agents', async (req) => {
    const q = req.query as Query;
    return store.listAgents({ limit: queryInt(q, 'limit', 100, 1, 1000), offset: queryInt(q, 'offset', 0, 0, 1e9), status: q.status });
  });
  app.post('/api/agents', async (req, reply) => {
    const b = isRecord(req.body) ? req.body : {};
    const count = b.count ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 500) {
      throw new TargetError(400, 'AGENT_INVALID', `agent count must be an integer in 1..500, got ${JSON.stringify(count)}`);
    }
    const role = typeof b.role === 'string' ? b.role : undefined;
    const prefix = typeof b.namePrefix === 'string' ? b.namePrefix : undefined;
    const created = await agents.spawn(count, role, prefix);
    return reply.code(201).send({ agents: created });
  });
  app.get('/api/agents/:id/status', (req) => agents.status((req.params as Params).id ?? ''));
  app.get('/api/agents/:id/logs', async (req) => {
    const id = (req.params as Params).id ?? '';
    if (!agents.has(id))
      throw new TargetError(404, 'AGENT_NOT_FOUND', `agent ${JSON.stringify(id)} does not exist: list agents with GET /api/agents`);
    const q = req.query as Query;
    const cursor = q.cursor === undefined || q.cursor === '' ? undefined : queryInt(q, 'cursor', 0, 0, Number.MAX_SAFE_INTEGER);
    return store.pageLogs(id, queryInt(q, 'limit', 50, 1, 1000), cursor);
  });
  const startAgent = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const id = (req.params as Params).id ?? '';
    const status = await agents.start(id);
    return reply.code(status === 'healthy' ? 200 : 202).send({ id, status });
  };
  const stopAgent = async (req: FastifyRequest): Promise<{ id: string; status: string }> => {
    const id = (req.params as Params).id ?? '';
    return Promise.resolve({ id, status: agents.stop(id) });
  };
  app.post('/agents/:id/start', startAgent);
  app.post('/api/agents/:id/start', startAgent);
  app.post('/agents/:id/stop', stopAgent);
  app.post('/api/agents/:id/stop', stopAgent);
  await Promise.resolve();
}
