/**
 * The fault knobs on every route but `/admin/*` and `/metrics` (latency, injected errors, the memory
 * leak), and the request metrics. Hooks on the root instance, so every route plugin inherits them.
 */
import type { FastifyInstance } from 'fastify';
import { delayAtLeast } from '../sleep.ts';
import type { PlatformDeps } from './deps.ts';

/** Routes the fault knobs never touch. */
function exempt(url: string): boolean {
  return url.startsWith('/admin/') || url === '/metrics';
}

export function installFaultHooks(app: FastifyInstance, d: PlatformDeps): void {
  app.addHook('onRequest', async (req, reply) => {
    const url = req.url.split('?')[0] ?? req.url;
    if (exempt(url)) return;
    const k = d.knobs.get();
    if (k.leakBytesPerRequest > 0) d.leak.add(k.leakBytesPerRequest);
    const route = req.routeOptions.url ?? url;
    const key = `${req.method} ${route}`;
    const lat = k.routeLatency[key] ?? k.routeLatency[route] ?? { ms: k.latencyMs, jitterMs: k.latencyJitterMs };
    const delay = lat.ms + Math.random() * lat.jitterMs;
    // Never short: a measurement's injected slowdown is its input (a plain timer cuts fractional delays by up to 1 ms).
    if (delay > 0) await delayAtLeast(delay);
    const rate = k.routeErrorRate[key] ?? k.routeErrorRate[route] ?? k.errorRate;
    if (rate > 0 && Math.random() < rate) {
      await reply.code(503).send({ error: `injected fault on ${key} (knob errorRate ${rate})`, code: 'FAULT_INJECTED' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const labels = { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    d.metrics.httpRequests.inc(labels);
    d.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    await Promise.resolve();
  });
}
