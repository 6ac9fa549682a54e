/**
 * tasks — task throughput and latency per execution mode (collaborative, autonomous, continuous, scheduled).
 *
 * Proves: per mode, submit → completed latency P95 (`task_latency{mode:M}`, from the platform's own
 * `createdAt`/`completedAt`; for scheduled tasks counted from the due time), tasks completed in the run
 * (`task_completed{mode:M}` ≥ 90 % of those submitted: the platform keeps up with the arrival rate) and the
 * failure rate (`task_failed`: ended `failed` or not done within TASK_TIMEOUT). Design: collaborative 5/s,
 * autonomous 20/s, error rate < 1 %.
 *
 * Needs from the system: `POST /api/tasks {"mode", "input", …}` → `{"id"}` and `GET /api/tasks/:id` →
 * `{"status":"queued|running|completed|failed","createdAt","completedAt"}`, with healthy agents to do the work.
 *
 * Variables:
 *   BASE_URL
 *   SIZE            smoke (default: 2 tasks/s per mode for 10 s) | full (the profile's rates, 2 min)
 *   MODES           comma list, default all four
 *   RATE            tasks/s for every mode (overrides the per-mode default)
 *   DURATION        e.g. 2m
 *   TASK_TIMEOUT    seconds to wait for a task, default 30
 *   POLL_MS         status poll period, default 200
 *   SCHEDULED_DELAY_MS   delay of scheduled tasks, default 500
 *   PROFILE         mvp (default) | production
 */
import { check } from 'k6';
import { bySize, duration, durationMs, int, list, optional, size, target } from '../lib/config.ts';
import { seedFactories, taskRequest } from '../lib/factories.ts';
import { sleep } from '../lib/k6.ts';
import { get, json, ok, postJson } from '../lib/http.ts';
import { numField, strField } from '../lib/json.ts';
import { taskMetrics } from '../lib/metrics.ts';
import { arrival, type ScriptOptions } from '../lib/scenario.ts';
import { TASK_MODES, selectProfile, taskThresholds, type TaskMode } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const profile = selectProfile(env);
const MODES = list(env, 'MODES', TASK_MODES).map((s): TaskMode => {
  const found = TASK_MODES.find((x) => x === s);
  if (found === undefined) throw new Error(`MODES: unknown mode "${s}": use some of ${TASK_MODES.join(', ')}`);
  return found;
});
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '10s', full: '2m' }));
const TIMEOUT_S = int(env, 'TASK_TIMEOUT', 30, { min: 1 });
const POLL_MS = int(env, 'POLL_MS', 200, { min: 10 });
const SCHEDULED_DELAY_MS = int(env, 'SCHEDULED_DELAY_MS', 500, { min: 0 });
const rateOverride = optional(env, 'RATE') !== undefined ? int(env, 'RATE', 1, { min: 1 }) : undefined;

function rateOf(mode: TaskMode): number {
  return rateOverride ?? bySize(sz, { smoke: 2, full: profile.tasks.ratePerSecond[mode] });
}

const scenarios: ScriptOptions['scenarios'] = {};
const expected: Partial<Record<TaskMode, number>> = {};
for (const mode of MODES) {
  const rate = rateOf(mode);
  // Each iteration waits for its task, so VUs ≈ rate × task time.
  scenarios[mode] = arrival({
    exec: mode,
    rate,
    duration: DURATION,
    preAllocatedVUs: Math.ceil(rate * 3),
    maxVUs: Math.ceil(rate * (TIMEOUT_S + 2)),
    gracefulStop: `${TIMEOUT_S + 5}s`,
    tags: { mode },
  });
  expected[mode] = 0.9 * rate * (durationMs(DURATION) / 1000);
}

export const options: ScriptOptions = {
  scenarios,
  thresholds: taskThresholds(profile, MODES, expected),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = taskMetrics();
seedFactories(__VU);

async function run(mode: TaskMode): Promise<void> {
  const tags = { mode };
  const submitted = await postJson(`${baseUrl}/api/tasks`, taskRequest(mode, { delayMs: SCHEDULED_DELAY_MS, iterations: 3 }), {
    endpoint: 'task_submit',
    name: '/api/tasks',
    mode,
  });
  const id = strField(json(submitted), 'id');
  if (!check(submitted, { 'task accepted': ok }) || id === undefined) {
    m.failed.add(true, tags);
    m.completed.add(0, tags);
    return;
  }
  const deadline = Date.now() + TIMEOUT_S * 1000;
  while (Date.now() < deadline) {
    await sleep(POLL_MS / 1000);
    const r = await get(`${baseUrl}/api/tasks/${id}`, { endpoint: 'task_status', name: '/api/tasks/:id', mode });
    const t = json(r);
    const status = strField(t, 'status');
    if (status !== 'completed' && status !== 'failed') continue;
    const created = numField(t, 'createdAt');
    const completed = numField(t, 'completedAt');
    if (created !== undefined && completed !== undefined) {
      const due = mode === 'scheduled' ? created + SCHEDULED_DELAY_MS : created;
      m.latency.add(Math.max(0, completed - due), tags);
    }
    const good = status === 'completed';
    m.failed.add(!good, tags);
    m.completed.add(good ? 1 : 0, tags);
    return;
  }
  console.warn(`task ${id} (${mode}) not done after ${TIMEOUT_S}s`);
  m.failed.add(true, tags);
  m.completed.add(0, tags);
}

export async function collaborative(): Promise<void> {
  await run('collaborative');
}
export async function autonomous(): Promise<void> {
  await run('autonomous');
}
export async function continuous(): Promise<void> {
  await run('continuous');
}
export async function scheduled(): Promise<void> {
  await run('scheduled');
}
