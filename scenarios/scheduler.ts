/**
 * scheduler — interval and cron schedules run on time, once each (seed 002 §6.2).
 *
 * Proves: start drift P95 (`schedule_start_drift{kind:interval|cron}` = run start − the instant it was
 * scheduled for; the run's own work is not included; seed: < 1 s), zero missed runs (`schedule_runs_missed`:
 * instants the script expected that never ran), zero duplicate runs (`schedule_runs_duplicated`: one instant
 * run twice), runs seen at all (`schedule_runs`), failed registrations (`schedule_register_failed`).
 * The script computes the instants itself: intervals from the schedule's `createdAt` (createdAt + k·every),
 * cron as `*\/N * * * * *` with N dividing 60 (every multiple of N seconds), so a platform that skips or
 * repeats instants cannot hide it. Instants in the last DRIFT grace before the end are not judged missed.
 *
 * Needs from the system: `POST /api/schedules {"everyMs"|"cron", "name", "workMs"}` → `{"id","createdAt"}`,
 * `GET /api/schedules/:id/runs?after=SEQ` → `{"items":[{"seq","scheduledAt","startedAt"}],"next"}`,
 * `DELETE /api/schedules/:id`.
 *
 * Variables:
 *   BASE_URL
 *   SIZE            smoke (default: 2 interval every 1 s + 2 cron every 2 s, 10 s) | full (10 + 10, every 10 s / 30 s, 4 h)
 *   INTERVALS, CRONS   how many schedules of each kind
 *   EVERY_MS        interval period;  CRON_EVERY_S  cron period in seconds (must divide 60)
 *   WORK_MS         simulated work per run, default 200 (not part of the drift)
 *   DURATION        how long schedules are watched, e.g. 4h
 *   POLL_S          how often runs are read, default 1 (smoke) / 10 (full)
 *   PROFILE         mvp (default) | production
 */
import { check } from 'k6';
import { bySize, duration, durationMs, int, size, target } from '../lib/config.ts';
import { sleep } from '../lib/k6.ts';
import { get, json, ok, postJson, request } from '../lib/http.ts';
import { arrField, numField, strField } from '../lib/json.ts';
import { schedulerMetrics } from '../lib/metrics.ts';
import { expectedInstants, tallyRuns } from '../lib/schedule.ts';
import { once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { schedulerThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const profile = selectProfile(env);
const INTERVALS = int(env, 'INTERVALS', bySize(sz, { smoke: 2, full: 10 }), { min: 0, max: 1000 });
const CRONS = int(env, 'CRONS', bySize(sz, { smoke: 2, full: 10 }), { min: 0, max: 1000 });
const EVERY_MS = int(env, 'EVERY_MS', bySize(sz, { smoke: 1000, full: 10_000 }), { min: 10 });
const CRON_EVERY_S = int(env, 'CRON_EVERY_S', bySize(sz, { smoke: 2, full: 30 }), { min: 1, max: 60 });
if (60 % CRON_EVERY_S !== 0)
  throw new Error(
    `CRON_EVERY_S must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60), got ${CRON_EVERY_S}: the script checks */N second schedules`,
  );
const WORK_MS = int(env, 'WORK_MS', 200, { min: 0 });
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '10s', full: '4h' }));
const POLL_S = int(env, 'POLL_S', bySize(sz, { smoke: 1, full: 10 }), { min: 1 });
const watchMs = durationMs(DURATION);
const total = INTERVALS + CRONS;
if (total < 1) throw new Error('INTERVALS and CRONS are both 0: register at least one schedule');
/** Instants this close to the end may not have started yet: not judged missed. */
const GRACE_MS = profile.scheduler.driftP95Ms + POLL_S * 1000;

export const options: ScriptOptions = {
  scenarios: { watch: once('watch', total, secs(watchMs / 1000 + 60)) },
  thresholds: schedulerThresholds(profile),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = schedulerMetrics();

interface Registered {
  readonly id: string;
  readonly kind: 'interval' | 'cron';
  readonly createdAt: number;
}

export async function setup(): Promise<Registered[]> {
  const out: Registered[] = [];
  for (let i = 0; i < total; i++) {
    const kind = i < INTERVALS ? 'interval' : 'cron';
    const body = kind === 'interval' ? { everyMs: EVERY_MS } : { cron: `*/${CRON_EVERY_S} * * * * *` };
    const r = await postJson(
      `${baseUrl}/api/schedules`,
      { ...body, name: `agentload-${kind}-${i}`, workMs: WORK_MS },
      { endpoint: 'schedule_create', name: '/api/schedules', kind },
    );
    const id = strField(json(r), 'id');
    const createdAt = numField(json(r), 'createdAt');
    const good = check(r, { 'schedule registered': ok }) && id !== undefined && createdAt !== undefined;
    m.failed.add(!good, { kind });
    if (good) out.push({ id, kind, createdAt });
  }
  return out;
}

export async function watch(all: Registered[]): Promise<void> {
  const s = all[__VU - 1];
  if (s === undefined) return;
  const tags = { kind: s.kind };
  const seen = new Map<number, number>();
  let after = 0;
  const endAt = s.createdAt + watchMs;
  const poll = async (): Promise<void> => {
    for (;;) {
      const r = await get(`${baseUrl}/api/schedules/${s.id}/runs?after=${after}&limit=1000`, {
        endpoint: 'schedule_runs',
        name: '/api/schedules/:id/runs',
        kind: s.kind,
      });
      if (!ok(r)) return;
      const items = arrField(json(r), 'items');
      for (const run of items) {
        const scheduledAt = numField(run, 'scheduledAt');
        const startedAt = numField(run, 'startedAt');
        if (scheduledAt === undefined || startedAt === undefined) continue;
        m.runs.add(1, tags);
        m.drift.add(Math.max(0, startedAt - scheduledAt), tags);
        seen.set(scheduledAt, (seen.get(scheduledAt) ?? 0) + 1);
      }
      after = numField(json(r), 'next') ?? after;
      if (items.length < 1000) return;
    }
  };
  while (Date.now() < endAt) {
    await sleep(Math.min(POLL_S, Math.max(0.05, (endAt - Date.now()) / 1000)));
    await poll();
  }
  await request('DELETE', `${baseUrl}/api/schedules/${s.id}`, null, { endpoint: 'schedule_delete', name: '/api/schedules/:id' });
  await poll();
  const expected = expectedInstants(s, endAt - GRACE_MS, EVERY_MS, CRON_EVERY_S);
  const { missed, duplicated } = tallyRuns(expected, seen);
  m.missed.add(missed, tags);
  m.duplicated.add(duplicated, tags);
  if (missed > 0) console.warn(`schedule ${s.id} (${s.kind}): ${missed} of ${expected.length} expected runs never started`);
  if (duplicated > 0) console.warn(`schedule ${s.id} (${s.kind}): ${duplicated} instants ran more than once`);
}
