/**
 * Artifact uploads in parts (like S3 multipart uploads), so a client can stream a 256 MB artifact a part at a
 * time without holding it whole. Parts are streamed through a SHA-256 and discarded; the platform keeps the
 * metadata. A declared size over ARTIFACT_UPLOAD_MAX_BYTES (default 256 MiB) is refused at once, and an upload
 * whose parts add up to more is refused at the part that crosses it (413 ARTIFACT_TOO_LARGE).
 *
 *   POST /api/artifacts/uploads {"name", "bytes", "jobId"?}        → 201 {uploadId, maxPartBytes}
 *   PUT  /api/artifacts/uploads/:id/parts/:n   raw body (n = 1, 2, …, in order) → 200 {part, bytes, received}
 *   POST /api/artifacts/uploads/:id/complete                     → 201 {id, name, bytes, sha256, parts, jobId, durationMs}
 *
 * Metrics: `artifact_upload_bytes_total`, `artifact_uploads_total{result}`.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Counter } from 'prom-client';
import { TargetError } from '../errors.ts';
import { intVar } from '../config.ts';
import { isRecord, type FeatureDeps, type Params } from '../features.ts';

const MAX_PART_BYTES = 64 * 1024 * 1024;

interface Upload {
  id: string;
  name: string;
  jobId: string | null;
  declared: number;
  received: number;
  parts: number;
  hash: Hash;
  startedAt: number;
  busy: boolean;
}

function tooLarge(name: string, bytes: number, max: number): TargetError {
  return new TargetError(
    413,
    'ARTIFACT_TOO_LARGE',
    `artifact ${JSON.stringify(name)} is ${bytes} bytes, over the limit of ${max} (ARTIFACT_UPLOAD_MAX_BYTES)`,
  );
}

/**
 * Reads part `n` of upload `u` into its hash: its size, and the refusal when it is too large, takes the upload over
 * `max` or past its declared size. A refused part is still read to its end (at most MAX_PART_BYTES more), so the
 * client reads our answer.
 */
async function readPart(body: Readable, u: Upload, n: number, max: number): Promise<{ bytes: number; refusal: TargetError | undefined }> {
  let bytes = 0;
  let refusal: TargetError | undefined;
  for await (const chunk of body) {
    const c = chunk as Buffer;
    bytes += c.length;
    if (refusal !== undefined) {
      if (bytes > 2 * MAX_PART_BYTES) break;
      continue;
    }
    if (bytes > MAX_PART_BYTES)
      refusal = new TargetError(
        413,
        'UPLOAD_PART_TOO_LARGE',
        `part ${n} of upload ${u.id} is over ${MAX_PART_BYTES} bytes: use smaller parts`,
      );
    else if (u.received + bytes > max) refusal = tooLarge(u.name, u.received + bytes, max);
    else if (u.received + bytes > u.declared)
      refusal = new TargetError(400, 'UPLOAD_OVER_DECLARED', `upload ${u.id} got more than the ${u.declared} bytes declared`);
    else u.hash.update(c);
  }
  return { bytes, refusal };
}

export function registerUploads(d: FeatureDeps): void {
  const max = intVar(d.env, 'ARTIFACT_UPLOAD_MAX_BYTES', 256 * 1024 * 1024, 1, 2 ** 40);
  const registers = [d.registry];
  const bytesTotal = new Counter({ name: 'artifact_upload_bytes_total', help: 'Artifact bytes received in upload parts', registers });
  const uploadsTotal = new Counter({
    name: 'artifact_uploads_total',
    help: 'Artifact uploads by result (completed, rejected)',
    labelNames: ['result'],
    registers,
  });
  const uploads = new Map<string, Upload>();

  function get(req: { params: unknown }): Upload {
    const id = (req.params as Params).id ?? '';
    const u = uploads.get(id);
    if (u === undefined)
      throw new TargetError(
        404,
        'UPLOAD_NOT_FOUND',
        `upload ${JSON.stringify(id)} does not exist (or was completed or refused): start one with POST /api/artifacts/uploads`,
      );
    return u;
  }

  d.app.post('/api/artifacts/uploads', async (req, reply) => {
    const b = isRecord(req.body) ? req.body : {};
    const name = typeof b.name === 'string' && b.name !== '' ? b.name : `artifact-${Date.now()}`;
    const bytes = b.bytes;
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) {
      throw new TargetError(
        400,
        'UPLOAD_INVALID',
        `upload needs "bytes": the artifact's size as an integer >= 0, got ${JSON.stringify(bytes)}`,
      );
    }
    if (bytes > max) {
      uploadsTotal.inc({ result: 'rejected' });
      throw tooLarge(name, bytes, max);
    }
    const u: Upload = {
      id: `upl_${randomUUID()}`,
      name,
      jobId: typeof b.jobId === 'string' ? b.jobId : null,
      declared: bytes,
      received: 0,
      parts: 0,
      hash: createHash('sha256'),
      startedAt: Date.now(),
      busy: false,
    };
    uploads.set(u.id, u);
    if (uploads.size > 10_000) {
      const first = uploads.keys().next();
      if (first.done !== true) uploads.delete(first.value);
    }
    return reply.code(201).send({ uploadId: u.id, maxPartBytes: MAX_PART_BYTES, maxBytes: max });
  });

  d.app.post('/api/artifacts/uploads/:id/complete', async (req, reply) => {
    const u = get(req);
    if (u.received !== u.declared) {
      throw new TargetError(
        400,
        'UPLOAD_INCOMPLETE',
        `upload ${u.id} received ${u.received} of the ${u.declared} bytes declared: send the missing parts first`,
      );
    }
    uploads.delete(u.id);
    uploadsTotal.inc({ result: 'completed' });
    return reply.code(201).send({
      id: `art_${randomUUID()}`,
      name: u.name,
      bytes: u.received,
      sha256: u.hash.digest('hex'),
      parts: u.parts,
      jobId: u.jobId,
      durationMs: Date.now() - u.startedAt,
    });
  });

  // Parts: raw bodies streamed as they arrive (no parser buffers them).
  d.app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, next) => {
      next(null, payload);
    });
    scope.put('/api/artifacts/uploads/:id/parts/:n', async (req) => {
      const u = get(req);
      const n = Number((req.params as Params).n);
      if (!Number.isInteger(n) || n !== u.parts + 1) {
        throw new TargetError(
          400,
          'UPLOAD_PART_ORDER',
          `part ${JSON.stringify((req.params as Params).n)} of upload ${u.id}: send parts in order, next is ${u.parts + 1}`,
        );
      }
      if (u.busy)
        throw new TargetError(409, 'UPLOAD_BUSY', `upload ${u.id} is receiving part ${u.parts + 1} already: send parts one at a time`);
      u.busy = true;
      try {
        const { bytes, refusal } = await readPart(req.body as Readable, u, n, max);
        if (refusal !== undefined) {
          uploads.delete(u.id);
          uploadsTotal.inc({ result: 'rejected' });
          throw refusal;
        }
        u.received += bytes;
        u.parts = n;
        bytesTotal.inc(bytes);
        return { part: n, bytes, received: u.received };
      } finally {
        u.busy = false;
      }
    });
    done();
  });
}
