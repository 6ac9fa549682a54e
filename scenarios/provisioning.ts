/**
 * provisioning — spawn-to-ready time of jobs, per provisioning phase (seed 001).
 *
 * Proves: time from the spawn request until the job runs (`job_ready_time`, from the platform's `createdAt` and
 * `readyAt`; seed 001: median 17–27 s, P95 < 37 s, P99 < 63 s; the median's upper end and both tails are gated),
 * each phase's time (`job_phase_duration{phase:schedule|image_pull|volume_mount|network|starting}`), and the share
 * of jobs that got ready (`job_succeeded`; a provisioning timeout or failure counts against it).
 *
 * Time factor: the bundled platform simulates real phase timings; JOB_TIME_SCALE (smoke default 0.02, i.e.
 * 50× faster; full 1) is sent with each job and multiplies every gate too, so a smoke run checks the same
 * shape in seconds. Against a real platform use JOB_TIME_SCALE=1 (it ignores the field).
 *
 * Needs from the system: `POST /api/jobs {"name","workMs","artifactBytes","timeScale"}` → `{"id"}` and
 * `GET /api/jobs/:id` → `{"status","createdAt","readyAt","phases":[{"name","durationMs"}]}` (status
 * queued|provisioning|starting|running|uploading|done|failed).
 *
 * Variables:
 *   BASE_URL
 *   SIZE            smoke (default: 12 jobs, 3 at a time, × 0.02) | full (100 jobs, 5 at a time, real time)
 *   ITERATIONS, VUS jobs spawned, and how many are in flight at once (JOBS, PARALLEL: their older names)
 *   JOB_TIME_SCALE  simulated-time factor (0.001..1)
 *   PROFILE         mvp (default) | production
 */
import { check } from 'k6';
import { bySize, int, num, size, sizeVar, target } from '../lib/config.ts';
import { runJob } from '../lib/jobs.ts';
import { jobMetrics } from '../lib/metrics.ts';
import { secs, type ScriptOptions } from '../lib/scenario.ts';
import { provisioningThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const profile = selectProfile(env);
const JOBS = int(env, sizeVar(env, 'ITERATIONS', 'JOBS'), bySize(sz, { smoke: 12, full: 100 }), { min: 1 });
const PARALLEL = int(env, sizeVar(env, 'VUS', 'PARALLEL'), bySize(sz, { smoke: 3, full: 5 }), { min: 1 });
const SCALE = num(env, 'JOB_TIME_SCALE', bySize(sz, { smoke: 0.02, full: 1 }), { min: 0.001, max: 1 });
/** Longest wait for one job to get ready: 3 × the P99 objective. */
const TIMEOUT_MS = 3 * profile.jobs.readyP99Ms * SCALE + 5000;

export const options: ScriptOptions = {
  scenarios: {
    spawn: {
      executor: 'shared-iterations',
      exec: 'spawn',
      vus: Math.min(PARALLEL, JOBS),
      iterations: JOBS,
      maxDuration: secs((JOBS / PARALLEL + 2) * (TIMEOUT_MS / 1000) + 30),
    },
  },
  thresholds: provisioningThresholds(profile, SCALE),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = jobMetrics();

export async function spawn(): Promise<void> {
  const j = await runJob(
    baseUrl,
    { name: 'agentload-provisioning', workMs: 0, artifactBytes: 0, timeScale: SCALE },
    {
      until: 'ready',
      pollMs: Math.max(20, 250 * SCALE * 4),
      timeoutMs: TIMEOUT_MS,
      tags: {},
    },
  );
  const { readyAt, createdAt } = j;
  const ready = readyAt !== undefined && createdAt !== undefined;
  check(j, { 'job accepted': (x) => x.submitted, 'job got ready': () => ready });
  m.succeeded.add(ready);
  if (!ready) {
    console.warn(`job not ready: ${j.status}${j.error !== undefined ? ` (${j.error})` : ''}`);
    return;
  }
  m.ready.add(readyAt - createdAt);
  for (const p of j.phases) if (p.name !== 'running') m.phase.add(p.durationMs, { phase: p.name });
}
