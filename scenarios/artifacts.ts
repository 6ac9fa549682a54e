/**
 * artifacts — upload throughput of job artifacts by size: 1, 10, 100 and 256 MB (seed 001).
 *
 * Proves: MB/s per size (`artifact_upload_mbps{size:1MB|10MB|100MB|256MB}`, median gated against the profile's
 * table; MB = 2^20 bytes), each upload's time (`artifact_upload_duration{size}`), failed uploads
 * (`artifact_upload_failed`), and that an artifact over the platform's limit is refused
 * (`artifact_oversize_rejected`: a 256 MB + 1 byte upload must get 413).
 * Uploads go in parts of PART_MB from one buffer made once per VU, so a 256 MB upload never holds 256 MB in
 * the load generator: memory per VU is one part.
 *
 * Needs from the system: `POST /api/artifacts/uploads {"name","bytes"}` → `{"uploadId"}` (413 when too large),
 * `PUT /api/artifacts/uploads/:id/parts/:n` (raw bytes, parts in order), `POST /api/artifacts/uploads/:id/complete`
 * → `{"bytes","sha256"}`.
 *
 * Variables:
 *   BASE_URL
 *   SIZE            smoke (default: 1 and 10 MB, twice each) | full (1, 10, 100, 256 MB, 5 times each)
 *   SIZES           comma list of 1MB, 10MB, 100MB, 256MB
 *   ITERATIONS      uploads per size (REPEAT, its older name, too)
 *   PART_MB         part size, default 8
 *   OVERSIZE        check the > 256 MB refusal, default true
 *   PROFILE         mvp (default) | production
 */
import { check } from 'k6';
import { bool, bySize, int, list, size, sizeVar, target } from '../lib/config.ts';
import { json, ok, postJson, request } from '../lib/http.ts';
import { numField, strField } from '../lib/json.ts';
import { artifactMetrics } from '../lib/metrics.ts';
import { once, type ScriptOptions } from '../lib/scenario.ts';
import { ARTIFACT_SIZES, artifactThresholds, selectProfile, type ArtifactSize } from '../objectives/index.ts';
import http from 'k6/http';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const SIZES = list(env, 'SIZES', bySize(sz, { smoke: ['1MB', '10MB'], full: [...ARTIFACT_SIZES] })).map((s): ArtifactSize => {
  const found = ARTIFACT_SIZES.find((x) => x.toLowerCase() === s.toLowerCase());
  if (found === undefined) throw new Error(`SIZES: unknown size "${s}": use some of ${ARTIFACT_SIZES.join(', ')}`);
  return found;
});
const REPEAT = int(env, sizeVar(env, 'ITERATIONS', 'REPEAT'), bySize(sz, { smoke: 2, full: 5 }), { min: 1 });
const PART_MB = int(env, 'PART_MB', 8, { min: 1, max: 64 });
const OVERSIZE = bool(env, 'OVERSIZE', true);
const MIB = 1024 * 1024;
const LIMIT_BYTES = 256 * MIB;

export const options: ScriptOptions = {
  scenarios: { uploads: once('uploads', 1, '30m') },
  thresholds: artifactThresholds(selectProfile(env), SIZES, OVERSIZE),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
};

const m = artifactMetrics();

/** One part's bytes, made once per VU and sent again for every part (a pattern, not zeros, so nothing compresses it away). */
function makePart(bytes: number): ArrayBuffer {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) a[i] = (i * 31 + 7) & 0xff;
  return a.buffer;
}
const PART = makePart(PART_MB * MIB);

function bytesOf(s: ArtifactSize): number {
  return Number(s.replace('MB', '')) * MIB;
}

/** Uploads `total` bytes in parts; returns the seconds it took, or undefined when it failed. */
async function upload(name: string, total: number, tags: Record<string, string>): Promise<number | undefined> {
  const t0 = Date.now();
  const start = await postJson(
    `${baseUrl}/api/artifacts/uploads`,
    { name, bytes: total },
    { endpoint: 'artifact_start', name: '/api/artifacts/uploads', ...tags },
  );
  const id = strField(json(start), 'uploadId');
  if (!check(start, { 'upload started': ok }) || id === undefined) return undefined;
  let sent = 0;
  for (let n = 1; sent < total; n++) {
    const len = Math.min(PART.byteLength, total - sent);
    const body = len === PART.byteLength ? PART : PART.slice(0, len);
    const r = await http.asyncRequest('PUT', `${baseUrl}/api/artifacts/uploads/${id}/parts/${n}`, body, {
      headers: { 'Content-Type': 'application/octet-stream' },
      tags: { endpoint: 'artifact_part', name: '/api/artifacts/uploads/:id/parts/:n', ...tags },
      timeout: '120s',
      responseType: 'text',
    });
    if (!check(r, { 'part accepted': ok })) return undefined;
    sent += len;
  }
  const done = await postJson(
    `${baseUrl}/api/artifacts/uploads/${id}/complete`,
    {},
    { endpoint: 'artifact_complete', name: '/api/artifacts/uploads/:id/complete', ...tags },
  );
  const good = check(done, { 'upload complete': ok, 'all bytes arrived': () => numField(json(done), 'bytes') === total });
  return good ? (Date.now() - t0) / 1000 : undefined;
}

export async function uploads(): Promise<void> {
  for (const s of SIZES) {
    const tags = { size: s };
    for (let i = 0; i < REPEAT; i++) {
      const secs = await upload(`agentload-${s}-${i}`, bytesOf(s), tags);
      m.failed.add(secs === undefined, tags);
      if (secs === undefined) continue;
      m.duration.add(secs * 1000, tags);
      m.mbps.add(bytesOf(s) / MIB / Math.max(secs, 0.001), tags);
    }
  }
  if (OVERSIZE) {
    const r = await request(
      'POST',
      `${baseUrl}/api/artifacts/uploads`,
      JSON.stringify({ name: 'agentload-oversize', bytes: LIMIT_BYTES + 1 }),
      { endpoint: 'artifact_start', name: '/api/artifacts/uploads', size: 'oversize' },
    );
    const refused = r.status === 413;
    check(r, { 'an artifact over 256 MB is refused (413)': () => refused });
    m.oversizeRejected.add(refused);
  }
}
