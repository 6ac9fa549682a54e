/** `GET /health` and `GET /metrics`. */
import type { FastifyInstance } from 'fastify';
import type { PlatformDeps } from './deps.ts';

export async function healthRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  app.get('/health', () => {
    const c = d.agents.counts();
    return {
      status: 'ok',
      uptimeMs: Date.now() - d.startedAt,
      db: d.db.dialect.name,
      agents: { healthy: c.healthy, total: Object.values(c).reduce((a, b) => a + b, 0) },
      node: d.node,
    };
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await d.metrics.registry.metrics();
    return reply.type(d.metrics.registry.contentType).send(text);
  });
  await Promise.resolve();
}
