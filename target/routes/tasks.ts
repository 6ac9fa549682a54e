/** `/api/tasks`: submit, view, list. */
import type { FastifyInstance } from 'fastify';
import { parseTaskRequest } from '../tasks.ts';
import { queryInt, type Params, type PlatformDeps, type Query } from './deps.ts';

export async function taskRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  const { tasks, store } = d;
  app.post('/api/tasks', async (req, reply) => {
    const t = await tasks.submit(parseTaskRequest(req.body));
    return reply.code(202).send({ id: t.id, mode: t.mode, status: t.status, createdAt: t.createdAt });
  });
  app.get('/api/tasks/:id', async (req) => tasks.view((req.params as Params).id ?? ''));
  app.get('/api/tasks', async (req) => {
    const q = req.query as Query;
    return { items: await store.listTasks({ status: q.status, mode: q.mode, limit: queryInt(q, 'limit', 50, 1, 1000) }) };
  });
  await Promise.resolve();
}
