/** `/api/artifacts`: uploads streamed, hashed and discarded (metadata kept, capped), and looked up by id. */
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { TargetError } from '../errors.ts';
import { drain, type Params, type PlatformDeps, type Query } from './deps.ts';

export async function artifactRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  const artifacts = new Map<string, Record<string, unknown>>();
  // The body reaches the route as the raw stream, whatever its type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, next) => {
    next(null, payload);
  });
  app.post('/api/artifacts', async (req, reply) => {
    const limit = d.config.artifactMaxBytes;
    const name = (req.query as Query).name ?? `artifact-${Date.now()}`;
    const contentType = req.headers['content-type'] ?? 'application/octet-stream';
    const declared = Number(req.headers['content-length'] ?? NaN);
    const stream = req.body as Readable;
    const tooLarge = (bytes: number): TargetError =>
      new TargetError(
        413,
        'ARTIFACT_TOO_LARGE',
        `artifact ${JSON.stringify(name)} is ${bytes}+ bytes, over the limit of ${limit} (ARTIFACT_MAX_BYTES)`,
      );
    const drainCap = limit * 4 + 64 * 1024 * 1024;
    if (Number.isFinite(declared) && declared > limit) {
      // Read and discard a bounded rest, so the client reads our 413 instead of a reset.
      if (declared <= drainCap) {
        await drain(stream);
      } else void reply.header('connection', 'close');
      throw tooLarge(declared);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    let over = false;
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      bytes += b.length;
      if (bytes > limit) {
        over = true;
        if (bytes > drainCap) {
          void reply.header('connection', 'close');
          break;
        }
        continue;
      }
      hash.update(b);
    }
    if (over) throw tooLarge(bytes);
    const meta = { id: `art_${randomUUID()}`, name, bytes, sha256: hash.digest('hex'), contentType };
    artifacts.set(meta.id, meta);
    if (artifacts.size > 10_000) {
      const first = artifacts.keys().next();
      if (first.done !== true) artifacts.delete(first.value);
    }
    return reply.code(201).send(meta);
  });
  app.get('/api/artifacts/:id', (req) => {
    const id = (req.params as Params).id ?? '';
    const a = artifacts.get(id);
    if (a === undefined) throw new TargetError(404, 'ARTIFACT_NOT_FOUND', `artifact ${JSON.stringify(id)} does not exist`);
    return a;
  });
  await Promise.resolve();
}
