// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- @types/k6 2.x ships no k6/experimental/redis; a scenario type-checked alone must still see it
/// <reference path="../lib/types/k6-redis.d.ts" />
/**
 * cache — agent state read at rate through a Redis cache, with a database fallback on a miss (seed 002 §2.1).
 *
 * Proves: the share of reads Redis serves (`cache_hit`; seed: > 90 %, production > 95 %), the Redis lookup
 * P95 as the platform timed it (`cache_redis_duration`; < 5 ms), the database fallback P95 on a miss
 * (`cache_fallback_duration`; < 50 ms), failed reads (`cache_read_failed`), and, when REDIS_URL is given, Redis
 * timed directly from the load generator with k6's `k6/experimental/redis` (`redis_command_duration`, a GET).
 * Agents keep saving their state meanwhile (WRITE_RATE): each save invalidates the cached copy, so the next
 * read of that agent misses and goes to the database, as in production.
 *
 * Needs from the system: `PUT /api/agents/:id/state {"state"}` and `GET /api/agents/:id/state` answering with
 * `X-Cache: hit|miss|bypass|error|off` and `Server-Timing: cache;dur=<Redis GET ms>, db;dur=<database ms>`.
 * The bundled platform caches in Redis when it has one: `npm run k6 -- scenarios/cache.ts` starts a
 * redis-server for it (or give TARGET_REDIS_URL) and passes the same URL to this script as REDIS_URL.
 *
 * Variables:
 *   BASE_URL
 *   REDIS_URL      redis://host:port of the cache, to time GETs directly (optional; set by `npm run k6`)
 *   SIZE           smoke (default: 40 reads/s, 2 saves/s, 10 s, 50 agents) | full (500 reads/s, 20 saves/s, 5 min, 1000 agents)
 *   RATE, WRITE_RATE, DURATION, KEYS (agents whose state is read), REDIS_RATE (direct GETs/s)
 *   PROFILE        mvp (default) | production
 */
import { check } from 'k6';
import exec from 'k6/execution';
import redis from 'k6/experimental/redis';
import { bySize, duration, int, optional, size, target } from '../lib/config.ts';
import { errorMessage } from '../lib/k6.ts';
import { get, header, ok, request } from '../lib/http.ts';
import { parseServerTiming } from '../lib/server-timing.ts';
import { cacheMetrics } from '../lib/metrics.ts';
import { arrival, type ScriptOptions } from '../lib/scenario.ts';
import { cacheThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const RATE = int(env, 'RATE', bySize(sz, { smoke: 40, full: 500 }), { min: 1 });
const WRITE_RATE = int(env, 'WRITE_RATE', bySize(sz, { smoke: 2, full: 20 }), { min: 0 });
const REDIS_RATE = int(env, 'REDIS_RATE', bySize(sz, { smoke: 20, full: 200 }), { min: 1 });
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '10s', full: '5m' }));
const KEYS = int(env, 'KEYS', bySize(sz, { smoke: 50, full: 1000 }), { min: 1, max: 100_000 });
const REDIS_URL = optional(env, 'REDIS_URL');
if (REDIS_URL !== undefined && !/^rediss?:\/\/\S+$/.test(REDIS_URL)) {
  throw new Error('REDIS_URL must be a redis:// or rediss:// URL like redis://127.0.0.1:6379 (value not shown): fix or unset REDIS_URL');
}

const scenarios: ScriptOptions['scenarios'] = {
  reads: arrival({ exec: 'read', rate: RATE, duration: DURATION, tags: { op: 'read' } }),
};
if (WRITE_RATE > 0) scenarios.saves = arrival({ exec: 'saveState', rate: WRITE_RATE, duration: DURATION, tags: { op: 'save' } });
if (REDIS_URL !== undefined)
  scenarios.redis = arrival({ exec: 'redisGet', rate: REDIS_RATE, duration: DURATION, tags: { op: 'redis_get' } });

export const options: ScriptOptions = {
  scenarios,
  thresholds: cacheThresholds(selectProfile(env), { direct: REDIS_URL !== undefined }),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = cacheMetrics();
const client = REDIS_URL !== undefined ? new redis.Client(REDIS_URL) : undefined;
const PROBE_KEY = 'agentload:cache-scenario:probe';

function agentKey(i: number): string {
  return `cache-agent-${i % KEYS}`;
}

function stateOf(i: number): { state: Record<string, unknown> } {
  return { state: { step: i, memory: { summary: `agent ${i % KEYS} working notes`, items: [i, i + 1, i + 2] }, at: Date.now() } };
}

async function save(i: number): Promise<boolean> {
  const id = agentKey(i);
  const r = await request('PUT', `${baseUrl}/api/agents/${id}/state`, JSON.stringify(stateOf(i)), {
    endpoint: 'agent_state_save',
    name: '/api/agents/:id/state',
  });
  return check(r, { 'state saved': ok });
}

/** One read; records hit or not, and the Redis / fallback timings the platform reported. */
async function readOnce(i: number, countHit: boolean): Promise<void> {
  const r = await get(`${baseUrl}/api/agents/${agentKey(i)}/state`, { endpoint: 'agent_state_read', name: '/api/agents/:id/state' });
  const good = check(r, { 'state read': ok });
  m.failed.add(!good);
  if (!good) return;
  const result = header(r, 'x-cache') ?? 'none';
  const timing = parseServerTiming(header(r, 'server-timing'));
  if (countHit) m.hit.add(result === 'hit', { result });
  if (timing.cache !== undefined) m.redis.add(timing.cache);
  if (result !== 'hit' && timing.db !== undefined) m.fallback.add(timing.db, { result });
}

export async function setup(): Promise<void> {
  // Every agent saves its state once, then is read once: those first reads miss and fill the cache (their
  // fallback time counts; they are not part of the hit rate, which is about the steady state).
  for (let i = 0; i < KEYS; i++) {
    if (!(await save(i)))
      throw new Error(`saving agent state failed at ${baseUrl}/api/agents/${agentKey(i)}/state: is this the right BASE_URL?`);
  }
  for (let i = 0; i < KEYS; i++) await readOnce(i, false);
  if (client !== undefined) {
    try {
      await client.set(PROBE_KEY, JSON.stringify(stateOf(0)), 600);
    } catch (e) {
      throw new Error(`REDIS_URL: cannot write to Redis (${errorMessage(e)})`);
    }
  }
}

export async function read(): Promise<void> {
  await readOnce(exec.scenario.iterationInTest, true);
}

export async function saveState(): Promise<void> {
  await save(exec.scenario.iterationInTest * 7 + 3);
}

export async function redisGet(): Promise<void> {
  if (client === undefined) return;
  const t0 = Date.now();
  try {
    await client.get(PROBE_KEY);
    m.redisDirect.add(Date.now() - t0);
  } catch (e) {
    m.failed.add(true, { op: 'redis_get' });
    if (exec.scenario.iterationInTest < 3) console.error(`redis GET: ${errorMessage(e)}`);
  }
}

export async function teardown(): Promise<void> {
  if (client !== undefined) await client.del(PROBE_KEY).catch(() => 0);
}
