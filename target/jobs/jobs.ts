/**
 * The job platform (seed 001): `queued → provisioning → starting → running → uploading → done | failed`.
 * Provisioning has phases with their own simulated timings (node scheduling, image pull, volume mount,
 * network), shaped so spawn-to-ready lands where seed 001 says a real platform does (median ≈ 20 s, P95 ≈ 31 s,
 * P99 ≈ 37 s). At most JOB_CONCURRENCY jobs are active (the rest wait `queued`, up to JOB_QUEUE_MAX); a job whose
 * provisioning takes longer than JOB_PROVISION_TIMEOUT_MS fails with `provisioning_timeout`.
 *
 * A job's `timeScale` (0.001..1, default 1) multiplies every simulated time and the provisioning timeout, so a
 * smoke run can go through the same pipeline 50× faster; load scripts scale their gates by the same factor.
 * Knobs: `jobProvisionSlowdown` (phase times × factor), `jobFailureRate` (a job fails while running).
 *
 *   POST /api/jobs {"name"?, "workMs"?, "artifactBytes"?, "timeScale"?} → 202 job
 *   GET  /api/jobs/:id → job {id, name, status, createdAt, readyAt, finishedAt, phases:[{name, startedAt, endedAt, durationMs}], error}
 *   GET  /api/jobs/stats → {active, queued, limit, done, failed}
 *
 * Metrics: `jobs{state}`, `job_phase_duration_seconds{phase}`, `jobs_finished_total{result}`.
 */
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TargetError } from '../errors.ts';
import { toError } from '../../shared/errors.ts';
import { sleep } from '../sleep.ts';
import { intVar } from '../config.ts';
import { isRecord, type FeatureDeps, type Params } from '../features.ts';

export type JobStatus = 'queued' | 'provisioning' | 'starting' | 'running' | 'uploading' | 'done' | 'failed';
const STATES: readonly JobStatus[] = ['queued', 'provisioning', 'starting', 'running', 'uploading', 'done', 'failed'];

interface Phase {
  name: string;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
}

interface Job {
  id: string;
  name: string;
  status: JobStatus;
  createdAt: number;
  readyAt: number | null;
  finishedAt: number | null;
  phases: Phase[];
  error: string | null;
  workMs: number;
  artifactBytes: number;
  timeScale: number;
}

/** A standard normal draw (Box–Muller). */
function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const IMAGE_PULL_MAX_MS = 22_000;

/**
 * Simulated provisioning phases, ms at time scale 1: [name, draw]. A healthy platform meets seed 001 with margin:
 * the image pull's tail is capped, so the slowest possible job (33.5 s) is inside the P95 objective (37 s) and a
 * handful of smoke jobs cannot fail it by chance.
 */
export const PROVISIONING_PHASES: ReadonlyArray<readonly [string, (rand: () => number) => number]> = [
  ['schedule', (r) => 500 + 2000 * r()],
  ['image_pull', (r) => Math.min(IMAGE_PULL_MAX_MS, 13_000 * Math.exp(0.25 * gauss(r)))],
  ['volume_mount', (r) => 1000 + 3000 * r()],
  ['network', (r) => 500 + 1500 * r()],
];
/** Container start after provisioning, ms at time scale 1. */
export const START_MS = (r: () => number): number => 1000 + 2000 * r();
/** Simulated artifact upload bandwidth, bytes/s. */
const UPLOAD_BYTES_PER_S = 50 * 1024 * 1024;

function num(b: Record<string, unknown>, key: string, def: number, min: number, max: number): number {
  const v = b[key] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new TargetError(400, 'JOB_INVALID', `job field ${key} must be a number in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function view(j: Job): Record<string, unknown> {
  return {
    id: j.id,
    name: j.name,
    status: j.status,
    createdAt: j.createdAt,
    readyAt: j.readyAt,
    finishedAt: j.finishedAt,
    phases: j.phases,
    error: j.error,
    workMs: j.workMs,
    artifactBytes: j.artifactBytes,
    timeScale: j.timeScale,
  };
}

/** The jobs' metrics, registered in `registry`: phase durations, finished jobs by result, and jobs by state (read from `jobs`). */
function jobMetrics(registry: Registry, jobs: ReadonlyMap<string, Job>): { phaseHist: Histogram; finished: Counter } {
  const registers = [registry];
  const phaseHist = new Histogram({
    name: 'job_phase_duration_seconds',
    help: 'Job provisioning phases and stages',
    labelNames: ['phase'],
    registers,
    buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120],
  });
  const finished = new Counter({
    name: 'jobs_finished_total',
    help: 'Jobs finished by result (done, failed)',
    labelNames: ['result'],
    registers,
  });
  new Gauge({
    name: 'jobs',
    help: 'Jobs by state',
    labelNames: ['state'],
    registers,
    collect() {
      const c = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<JobStatus, number>;
      for (const j of jobs.values()) c[j.status] += 1;
      for (const s of STATES) this.set({ state: s }, c[s]);
    },
  });
  return { phaseHist, finished };
}

/** A queued job from a `POST /api/jobs` body (`name`, `workMs`, `artifactBytes`, `timeScale`; defaults for the rest). */
function newJob(b: Record<string, unknown>): Job {
  return {
    id: `job_${randomUUID()}`,
    name: typeof b.name === 'string' ? b.name : 'job',
    status: 'queued',
    createdAt: Date.now(),
    readyAt: null,
    finishedAt: null,
    phases: [],
    error: null,
    workMs: num(b, 'workMs', 30_000, 0, 24 * 3_600_000),
    artifactBytes: num(b, 'artifactBytes', 50 * 1024 * 1024, 0, 1024 ** 4),
    timeScale: num(b, 'timeScale', 1, 0.001, 1),
  };
}

export function registerJobs(d: FeatureDeps): void {
  const limit = intVar(d.env, 'JOB_CONCURRENCY', 10, 1, 10_000);
  const queueMax = intVar(d.env, 'JOB_QUEUE_MAX', 10_000, 0, 1_000_000);
  const provisionTimeoutMs = intVar(d.env, 'JOB_PROVISION_TIMEOUT_MS', 120_000, 1, 3_600_000);
  const jobs = new Map<string, Job>();
  const waiting: Job[] = [];
  let active = 0;
  let closed = false;
  const finishedOrder: string[] = [];
  const { phaseHist, finished } = jobMetrics(d.registry, jobs);

  async function phase(j: Job, name: string, ms: number): Promise<void> {
    const p: Phase = { name, startedAt: Date.now(), endedAt: null, durationMs: null };
    j.phases.push(p);
    await sleep(ms);
    p.endedAt = Date.now();
    p.durationMs = p.endedAt - p.startedAt;
    phaseHist.observe({ phase: name }, p.durationMs / 1000);
  }

  function finish(j: Job, status: 'done' | 'failed', error: string | null): void {
    j.status = status;
    j.error = error;
    j.finishedAt = Date.now();
    finished.inc({ result: status });
    finishedOrder.push(j.id);
    if (finishedOrder.length > 100_000) {
      const old = finishedOrder.shift();
      if (old !== undefined) jobs.delete(old);
    }
  }

  async function run(j: Job): Promise<void> {
    const k = d.knobs();
    const scale = j.timeScale;
    j.status = 'provisioning';
    const deadline = Date.now() + provisionTimeoutMs * scale;
    for (const [name, draw] of PROVISIONING_PHASES) {
      const ms = draw(Math.random) * k.jobProvisionSlowdown * scale;
      const left = deadline - Date.now();
      if (ms > left) {
        await phase(j, name, Math.max(0, left));
        finish(
          j,
          'failed',
          `provisioning_timeout: ${name} did not finish within JOB_PROVISION_TIMEOUT_MS (${provisionTimeoutMs} ms × timeScale ${scale})`,
        );
        return;
      }
      await phase(j, name, ms);
      if (closed) return;
    }
    j.status = 'starting';
    await phase(j, 'starting', START_MS(Math.random) * scale);
    j.status = 'running';
    j.readyAt = Date.now();
    await phase(j, 'running', j.workMs * scale);
    if (k.jobFailureRate > 0 && Math.random() < k.jobFailureRate) {
      finish(j, 'failed', `job failed while running (knob jobFailureRate ${k.jobFailureRate})`);
      return;
    }
    j.status = 'uploading';
    await phase(j, 'artifacts', (j.artifactBytes / UPLOAD_BYTES_PER_S) * 1000 * scale);
    finish(j, 'done', null);
  }

  function pump(): void {
    while (!closed && active < limit && waiting.length > 0) {
      const j = waiting.shift();
      if (j === undefined) break;
      active += 1;
      run(j)
        .catch((e: unknown) => {
          finish(j, 'failed', toError(e).message);
        })
        .finally(() => {
          active -= 1;
          pump();
        });
    }
  }

  d.app.post('/api/jobs', async (req, reply) => {
    const b = isRecord(req.body) ? req.body : {};
    if (waiting.length >= queueMax)
      throw new TargetError(429, 'JOB_QUEUE_FULL', `${waiting.length} jobs are queued (JOB_QUEUE_MAX ${queueMax}): retry later`);
    const j = newJob(b);
    jobs.set(j.id, j);
    waiting.push(j);
    pump();
    return reply.code(202).send(view(j));
  });
  d.app.get('/api/jobs/stats', () => {
    let done = 0;
    let failed = 0;
    for (const j of jobs.values()) {
      if (j.status === 'done') done += 1;
      else if (j.status === 'failed') failed += 1;
    }
    return { active, queued: waiting.length, limit, done, failed };
  });
  d.app.get('/api/jobs/:id', (req) => {
    const id = (req.params as Params).id ?? '';
    const j = jobs.get(id);
    if (j === undefined)
      throw new TargetError(404, 'JOB_NOT_FOUND', `job ${JSON.stringify(id)} does not exist: submit one with POST /api/jobs`);
    return view(j);
  });
  d.app.addHook('onClose', async () => {
    closed = true;
    waiting.length = 0;
    await Promise.resolve();
  });
}
