/**
 * The platform's agent state: saved in the database, cached in Redis (a real redis-server) when REDIS_URL is
 * set; `x-cache` / `server-timing` on every read, hit/miss counters in /metrics, database fallback when Redis
 * is missing or goes away.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTarget, type RunningTarget } from '../../target/index.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

let redis: RedisServer;
let t: RunningTarget;
before(async () => {
  redis = await startRedis();
  t = await startTarget({ env: { REDIS_URL: redis.url, SEED_AGENTS: '1' } });
});
after(async () => {
  await t.close();
  await redis.stop();
});

async function save(base: string, id: string, state: unknown): Promise<Response> {
  return fetch(`${base}/api/agents/${id}/state`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ state }),
  });
}

function counter(text: string, result: string): number {
  const m = new RegExp(`^cache_requests_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text);
  return Number(m?.[1] ?? NaN);
}

void test('a save invalidates; the next read misses and falls back to the database, then reads hit Redis', async () => {
  const s = await save(t.url, 'agent-a', { step: 1 });
  assert.equal(s.status, 200);
  assert.deepEqual(((await s.json()) as { version: number }).version, 1);
  const first = await fetch(`${t.url}/api/agents/agent-a/state`);
  assert.equal(first.headers.get('x-cache'), 'miss');
  assert.match(first.headers.get('server-timing') ?? '', /cache;dur=[\d.]+, db;dur=[\d.]+, fill;dur=[\d.]+/);
  const second = await fetch(`${t.url}/api/agents/agent-a/state`);
  assert.equal(second.headers.get('x-cache'), 'hit');
  assert.match(second.headers.get('server-timing') ?? '', /^cache;dur=[\d.]+$/);
  const firstBody: unknown = await first.json();
  assert.deepEqual(await second.json(), firstBody);
  await save(t.url, 'agent-a', { step: 2 });
  const third = await fetch(`${t.url}/api/agents/agent-a/state`);
  assert.equal(third.headers.get('x-cache'), 'miss', 'the save evicted the cached copy');
  const body = (await third.json()) as { id: string; state: unknown; version: number };
  assert.deepEqual({ id: body.id, state: body.state, version: body.version }, { id: 'agent-a', state: { step: 2 }, version: 2 });
  const metrics = await (await fetch(`${t.url}/metrics`)).text();
  assert.ok(
    counter(metrics, 'hit') === 1 && counter(metrics, 'miss') === 2,
    metrics
      .split('\n')
      .filter((l) => l.startsWith('cache_'))
      .join('\n'),
  );
  assert.match(metrics, /cache_operation_duration_seconds_count\{op="redis_get"\} \d+/);
  assert.equal((await fetch(`${t.url}/api/agents/nobody/state`)).status, 404);
  assert.equal((await fetch(`${t.url}/api/agents/bad%20id/state`)).status, 400);
});

void test('the bypass knob sends reads past Redis (x-cache: bypass), and is counted', async () => {
  await save(t.url, 'agent-b', { v: 1 });
  await fetch(`${t.url}/admin/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cacheBypassRate: 1 }),
  });
  try {
    const r = await fetch(`${t.url}/api/agents/agent-b/state`);
    assert.equal(r.headers.get('x-cache'), 'bypass');
    assert.equal(r.status, 200);
    assert.ok(counter(await (await fetch(`${t.url}/metrics`)).text(), 'bypass') >= 1);
  } finally {
    await fetch(`${t.url}/admin/faults`, { method: 'DELETE' });
  }
});

void test('without REDIS_URL every read goes to the database (x-cache: off); a bad REDIS_URL stops the platform with one line', async () => {
  const plain = await startTarget({ env: { SEED_AGENTS: '0' } });
  try {
    await save(plain.url, 'a', 1);
    const r = await fetch(`${plain.url}/api/agents/a/state`);
    assert.equal(r.headers.get('x-cache'), 'off');
    assert.match(r.headers.get('server-timing') ?? '', /^db;dur=/);
  } finally {
    await plain.close();
  }
  await assert.rejects(
    startTarget({ env: { REDIS_URL: 'http://127.0.0.1:1', SEED_AGENTS: '0' } }),
    /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/,
  );
  await assert.rejects(startTarget({ env: { REDIS_URL: 'redis://127.0.0.1:1', SEED_AGENTS: '0' } }), /REDIS_URL: cannot connect to Redis/);
});

void test('Redis going away mid-run: reads still answer from the database (x-cache: error)', async () => {
  const own = await startRedis();
  const p = await startTarget({ env: { REDIS_URL: own.url, SEED_AGENTS: '0' } });
  try {
    await save(p.url, 'z', { ok: true });
    await own.stop();
    const r = await fetch(`${p.url}/api/agents/z/state`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-cache'), 'error');
    assert.deepEqual(((await r.json()) as { state: unknown }).state, { ok: true });
  } finally {
    await p.close();
  }
});
