/**
 * state-store — agent state saves at rate, then concurrent saves ramped past the database pool size, with the
 * platform's own pool figures read from /metrics during the run (seed 002 §1.1, §2.2; seed 004 §2).
 *
 * Proves: save latency P95 (`state_write_duration`, both phases; seed: < 100 ms), failed saves
 * (`state_write_failed`), the pool's waiting queue (`db_pool_waiting`: `db_pool_connections{state="waiting"}`
 * sampled every MONITOR_MS, its maximum gated) and pool errors (`db_pool_errors`: the growth of
 * `db_pool_errors_total`, operations that got no connection in time; must stay 0). `db_pool_exhaustion_vus`
 * records how many concurrent savers were running when requests first had to wait for a connection: the
 * exhaustion point.
 *
 * Pool figures need a pooled database: PostgreSQL (for the bundled platform, TARGET_DATABASE_URL). On SQLite
 * there is one connection and nothing waits; the run says so.
 *
 * Needs from the system: `PUT /api/agents/:id/state {"state"}`, Prometheus `/metrics` with
 * `db_pool_connections{state="waiting"}` and `db_pool_errors_total` (names configurable below), `GET /health`.
 *
 * Variables:
 *   BASE_URL, METRICS_URL (default BASE_URL/metrics)
 *   SIZE            smoke (default: 20 saves/s for 5 s, then 1 → 30 savers over 6 s) | full (100/s for 2 min, 1 → 60 over 5 min)
 *   RATE, DURATION the steady phase (WRITE_DURATION, its older name, too)
 *   POOL_SIZE       the platform's pool size (default 10 = the bundled platform's DB_POOL_MAX); the ramp goes to 3 × it
 *   VUS, STEP_DURATION the ramp phase: concurrent savers at its end (no think time) and its length (RAMP_TO, RAMP_DURATION too)
 *   KEYS            agents whose state is saved, default 200
 *   MONITOR_MS      /metrics scrape period, default 500
 *   METRIC_POOL_WAITING (default db_pool_connections, label state="waiting"), METRIC_POOL_ERRORS (default db_pool_errors_total)
 *   PROFILE         mvp (default) | production
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { bySize, duration, durationMs, int, size, sizeVar, str, target } from '../lib/config.ts';
import { get, json, ok, request } from '../lib/http.ts';
import { sleep } from '../lib/k6.ts';
import { strField } from '../lib/json.ts';
import { stateStoreMetrics } from '../lib/metrics.ts';
import { parsePrometheus, promValue } from '../lib/prom.ts';
import { arrival, once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { selectProfile, stateStoreThresholds } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const METRICS_URL = str(env, 'METRICS_URL', `${baseUrl}/metrics`);
const METRIC_POOL_WAITING = str(env, 'METRIC_POOL_WAITING', 'db_pool_connections');
const METRIC_POOL_ERRORS = str(env, 'METRIC_POOL_ERRORS', 'db_pool_errors_total');
const RATE = int(env, 'RATE', bySize(sz, { smoke: 20, full: 100 }), { min: 1 });
const WRITE_DURATION = duration(env, sizeVar(env, 'DURATION', 'WRITE_DURATION'), bySize(sz, { smoke: '5s', full: '2m' }));
const POOL_SIZE = int(env, 'POOL_SIZE', 10, { min: 1 });
const RAMP_TO = int(env, sizeVar(env, 'VUS', 'RAMP_TO'), POOL_SIZE * 3, { min: 1 });
const RAMP_DURATION = duration(env, sizeVar(env, 'STEP_DURATION', 'RAMP_DURATION'), bySize(sz, { smoke: '6s', full: '5m' }));
const KEYS = int(env, 'KEYS', 200, { min: 1 });
const MONITOR_MS = int(env, 'MONITOR_MS', 500, { min: 50 });
const steadyS = durationMs(WRITE_DURATION) / 1000;
const rampS = durationMs(RAMP_DURATION) / 1000;
const totalS = steadyS + rampS;

export const options: ScriptOptions = {
  scenarios: {
    steady: arrival({ exec: 'save', rate: RATE, duration: WRITE_DURATION, tags: { phase: 'steady' } }),
    ramp: {
      executor: 'ramping-vus',
      exec: 'saveLoop',
      startVUs: 1,
      stages: [{ duration: RAMP_DURATION, target: RAMP_TO }],
      gracefulRampDown: '0s',
      gracefulStop: '5s',
      startTime: secs(steadyS),
      tags: { phase: 'ramp' },
    },
    monitor: once('monitor', 1, secs(totalS + 30)),
  },
  thresholds: stateStoreThresholds(selectProfile(env)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = stateStoreMetrics();

export async function setup(): Promise<void> {
  const h = await get(`${baseUrl}/health`, { endpoint: 'health', name: '/health' });
  if (strField(json(h), 'db') === 'sqlite') {
    console.warn(
      'state-store: the platform runs on SQLite (one connection, nothing waits): pool figures need PostgreSQL (TARGET_DATABASE_URL for the bundled platform)',
    );
  }
}

async function saveOnce(i: number): Promise<void> {
  const id = `state-agent-${i % KEYS}`;
  const body = JSON.stringify({ state: { step: i, plan: ['observe', 'think', 'act'], memory: `notes ${i}`, at: Date.now() } });
  const r = await request(
    'PUT',
    `${baseUrl}/api/agents/${id}/state`,
    body,
    { endpoint: 'agent_state_save', name: '/api/agents/:id/state' },
    { timeout: '30s' },
  );
  const good = check(r, { 'state saved': ok });
  m.failed.add(!good);
  if (good) m.write.add(r.timings.duration);
}

export async function save(): Promise<void> {
  await saveOnce(exec.scenario.iterationInTest);
}

export async function saveLoop(): Promise<void> {
  await saveOnce(exec.scenario.iterationInTest + 1_000_000);
}

interface PoolReading {
  waiting: number | undefined;
  errors: number | undefined;
}

async function scrape(): Promise<PoolReading> {
  const r = await get(METRICS_URL, { endpoint: 'metrics', name: '/metrics' });
  if (!ok(r) || typeof r.body !== 'string') return { waiting: undefined, errors: undefined };
  const s = parsePrometheus(r.body);
  return { waiting: promValue(s, METRIC_POOL_WAITING, { state: 'waiting' }), errors: promValue(s, METRIC_POOL_ERRORS) };
}

export async function monitor(): Promise<void> {
  const first = await scrape();
  const base = first.errors ?? 0;
  let errors = 0;
  let exhausted = false;
  const endAt = Date.now() + totalS * 1000 + 1000;
  while (Date.now() < endAt) {
    const now = await scrape();
    if (now.waiting !== undefined) {
      m.poolWaiting.add(now.waiting);
      if (!exhausted && now.waiting > 0) {
        exhausted = true;
        m.exhaustionVus.add(exec.instance.vusActive - 1);
      }
    }
    if (now.errors !== undefined && now.errors - base > errors) {
      m.poolErrors.add(now.errors - base - errors);
      errors = now.errors - base;
    }
    await sleep(MONITOR_MS / 1000);
  }
  m.poolErrors.add(0);
  if (first.waiting === undefined)
    console.warn(`state-store: ${METRICS_URL} has no ${METRIC_POOL_WAITING}{state="waiting"}: pool waits not measured`);
}
