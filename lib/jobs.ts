/** Job platform helpers (seed 001): submit a job and follow it until ready or finished. */
import { sleep } from './k6.ts';
import { get, json, ok, postJson } from './http.ts';
import { arrField, numField, strField } from './json.ts';

export interface JobSpec {
  readonly name: string;
  readonly workMs: number;
  readonly artifactBytes: number;
  /** Simulated-time factor the bundled platform honours (other platforms ignore the field). */
  readonly timeScale: number;
}

export interface JobPhase {
  readonly name: string;
  readonly durationMs: number;
}

export interface JobOutcome {
  /** Accepted by the platform. */
  readonly submitted: boolean;
  /** `done`, `failed`, or the last status seen when the wait ended. */
  readonly status: string;
  readonly createdAt: number | undefined;
  readonly readyAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly phases: readonly JobPhase[];
  readonly error: string | undefined;
}

const FINAL = ['done', 'failed'];
const READY = ['running', 'uploading', 'done'];

/** Submits a job and polls it every `pollMs` until it is ready (`until: 'ready'`) or finished, or `timeoutMs` passes. */
export async function runJob(
  baseUrl: string,
  spec: JobSpec,
  o: { until: 'ready' | 'finished'; pollMs: number; timeoutMs: number; tags: Record<string, string> },
): Promise<JobOutcome> {
  const r = await postJson(`${baseUrl}/api/jobs`, spec, { endpoint: 'job_submit', name: '/api/jobs', ...o.tags });
  const id = strField(json(r), 'id');
  if (!ok(r) || id === undefined)
    return {
      submitted: false,
      status: `http ${r.status}`,
      createdAt: undefined,
      readyAt: undefined,
      finishedAt: undefined,
      phases: [],
      error: undefined,
    };
  const deadline = Date.now() + o.timeoutMs;
  let last: unknown = json(r);
  for (;;) {
    const status = strField(last, 'status') ?? 'unknown';
    const done = FINAL.includes(status) || (o.until === 'ready' && READY.includes(status));
    if (done || Date.now() >= deadline) {
      return {
        submitted: true,
        status,
        createdAt: numField(last, 'createdAt'),
        readyAt: numField(last, 'readyAt'),
        finishedAt: numField(last, 'finishedAt'),
        phases: arrField(last, 'phases').flatMap((p) => {
          const name = strField(p, 'name');
          const d = numField(p, 'durationMs');
          return name !== undefined && d !== undefined ? [{ name, durationMs: d }] : [];
        }),
        error: strField(last, 'error'),
      };
    }
    await sleep(o.pollMs / 1000);
    const s = await get(`${baseUrl}/api/jobs/${id}`, { endpoint: 'job_status', name: '/api/jobs/:id', ...o.tags });
    if (ok(s)) last = json(s);
  }
}
