/** `/admin/faults` (the fault knobs) and `/admin/leak/release` (the leak fault's memory). Loopback only. */
import type { FastifyInstance } from 'fastify';
import { mergeKnobs } from '../config.ts';
import { adminOnly, type PlatformDeps } from './deps.ts';

export async function adminRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  app.get('/admin/faults', { onRequest: adminOnly }, () => d.knobs.get());
  app.put('/admin/faults', { onRequest: adminOnly }, (req) => {
    const knobs = mergeKnobs(d.knobs.get(), req.body);
    d.knobs.set(knobs);
    app.log.info({ knobs }, 'fault knobs changed');
    return knobs;
  });
  app.delete('/admin/faults', { onRequest: adminOnly }, () => d.knobs.reset());
  app.post('/admin/leak/release', { onRequest: adminOnly }, () => ({ releasedBytes: d.leak.release() }));
  await Promise.resolve();
}
