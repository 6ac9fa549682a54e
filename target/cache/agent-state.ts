/**
 * Agent state: saved in the database (SQLite or PostgreSQL), cached in Redis when `REDIS_URL` is set
 * (cache-aside: a read that misses loads the row and fills the cache; a save deletes the cached copy, so the
 * next read of that agent misses once and reloads it). Every answer says what happened in `x-cache`
 * (`hit`, `miss`, `bypass`, `error`, `off`) and how long each part took in `server-timing`
 * (`cache` = the Redis GET, `db` = the database read or write, `fill` = the Redis SET, `evict` = the Redis DEL), so a load script can
 * gate hit rate, Redis latency and fallback latency without reaching into the platform.
 *
 *   GET /api/agents/:id/state  → {id, state, version, updatedAt}     404 STATE_NOT_FOUND
 *   PUT /api/agents/:id/state  {"state": any} → {id, version, updatedAt}
 *
 * Knob `cacheBypassRate`: probability a read skips Redis (as a misconfigured or evicting cache would).
 * Metrics: `cache_requests_total{result}`, `cache_operation_duration_seconds{op}`, `agent_state_writes_total`.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { intVar, type Env } from '../config.ts';
import type { Queryable } from '../db/db.ts';
import { TargetError } from '../errors.ts';
import { toError } from '../../shared/errors.ts';
import { isRecord, serverTiming, type FeatureDeps, type Params } from '../features.ts';

export interface CacheConfig {
  /** `redis://host:port[/db]`; undefined = no cache (every read goes to the database). */
  readonly redisUrl: string | undefined;
  readonly ttlSeconds: number;
  readonly keyPrefix: string;
}

export function readCacheConfig(env: Env): CacheConfig {
  const url = env.REDIS_URL?.trim();
  const redisUrl = url === undefined || url === '' ? undefined : url;
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s/]+/.test(redisUrl)) {
    throw new TargetError(
      400,
      'CONFIG_INVALID',
      'REDIS_URL must be a redis:// or rediss:// URL like redis://127.0.0.1:6379 (value not shown: it may hold a password)',
    );
  }
  const prefix = env.CACHE_KEY_PREFIX?.trim();
  return {
    redisUrl,
    ttlSeconds: intVar(env, 'CACHE_TTL_S', 300, 1, 30 * 24 * 3600),
    keyPrefix: prefix === undefined || prefix === '' ? 'agentload:agent-state:' : prefix,
  };
}

type CacheResult = 'hit' | 'miss' | 'bypass' | 'error' | 'off';

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

function agentId(req: { params: unknown }): string {
  const id = (req.params as Params).id ?? '';
  if (!ID.test(id))
    throw new TargetError(400, 'STATE_INVALID', `agent id must be 1..128 characters of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(id)}`);
  return id;
}

interface StateRow {
  id: string;
  state: unknown;
  version: number;
  updatedAt: number;
}

function parseStored(text: string): StateRow | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (isRecord(v) && typeof v.id === 'string' && typeof v.version === 'number' && typeof v.updatedAt === 'number') {
      return { id: v.id, state: v.state, version: v.version, updatedAt: v.updatedAt };
    }
  } catch {
    /* a foreign value under our key: treated as a miss */
  }
  return undefined;
}

function readJsonColumn(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

const ms = (t0: number): number => performance.now() - t0;

/** The agent-state metrics, registered in `registry`, every cache result at 0 from the start. */
function stateMetrics(registry: Registry): { requests: Counter; opDuration: Histogram; writes: Counter } {
  const registers = [registry];
  const requests = new Counter({
    name: 'cache_requests_total',
    help: 'Agent-state reads by cache result (hit, miss, bypass, error, off)',
    labelNames: ['result'],
    registers,
  });
  const opDuration = new Histogram({
    name: 'cache_operation_duration_seconds',
    help: 'Agent-state cache and database operations',
    labelNames: ['op'],
    registers,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });
  const writes = new Counter({ name: 'agent_state_writes_total', help: 'Agent-state saves by result', labelNames: ['result'], registers });
  for (const r of ['hit', 'miss', 'bypass', 'error', 'off']) requests.inc({ result: r }, 0);
  return { requests, opDuration, writes };
}

/** The Redis client of the cache, connected (a wrong REDIS_URL fails start-up in one line) and closed with the platform. */
// Its return type is inferred: what createClient gives for these options (@redis/client's generic client type is not assignable).
async function connectCache(d: FeatureDeps, redisUrl: string) {
  // Start-up gives up after a few tries (a wrong REDIS_URL is one clear line); once connected it reconnects
  // for as long as it takes, reads falling back to the database meanwhile.
  let connected = false;
  // @redis/client takes about a second to load: only a platform with REDIS_URL loads it (a faster start for the rest).
  const client = (await import('@redis/client')).createClient({
    url: redisUrl,
    // While Redis is away, commands fail at once (the read falls back) instead of queueing for the reconnect.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number, cause: Error) => (!connected && retries >= 2 ? cause : Math.min(50 * 2 ** retries, 2000)),
    },
  });
  // A Redis that goes away must not crash the platform: reads fall back to the database meanwhile.
  client.on('error', (e: unknown) => {
    d.logError(e);
  });
  try {
    await client.connect();
    connected = true;
  } catch (e) {
    client.destroy();
    throw new TargetError(
      400,
      'CONFIG_INVALID',
      `REDIS_URL: cannot connect to Redis (${toError(e).message}): start redis-server or unset REDIS_URL`,
    );
  }
  d.app.addHook('onClose', async () => {
    if (client.isOpen) await client.close();
  });
  return client;
}

export async function registerAgentState(d: FeatureDeps, cfg: CacheConfig): Promise<void> {
  const { requests, opDuration, writes } = stateMetrics(d.registry);
  const client = cfg.redisUrl === undefined ? undefined : await connectCache(d, cfg.redisUrl);
  const key = (id: string): string => `${cfg.keyPrefix}${id}`;

  async function readDb(q: Queryable, id: string): Promise<StateRow | undefined> {
    const r = (await q.all('SELECT agent_id, state, version, updated_at FROM agent_state WHERE agent_id = ?', [id]))[0];
    return r === undefined
      ? undefined
      : { id, state: readJsonColumn(r.state), version: Number(r.version), updatedAt: Number(r.updated_at) };
  }

  d.app.get('/api/agents/:id/state', async (req, reply) => {
    const id = agentId(req);
    let result: CacheResult = 'off';
    let cacheMs: number | undefined;
    let fillMs: number | undefined;
    if (client !== undefined) {
      const bypass = d.knobs().cacheBypassRate;
      if (bypass > 0 && Math.random() < bypass) result = 'bypass';
      else {
        const t0 = performance.now();
        try {
          const text = await client.get(key(id));
          cacheMs = ms(t0);
          opDuration.observe({ op: 'redis_get' }, cacheMs / 1000);
          const hit = text === null ? undefined : parseStored(text);
          if (hit !== undefined) {
            requests.inc({ result: 'hit' });
            return await reply
              .header('x-cache', 'hit')
              .header('server-timing', serverTiming({ cache: cacheMs }))
              .send(hit);
          }
          result = 'miss';
        } catch (e) {
          d.logError(e);
          result = 'error';
        }
      }
    }
    const t1 = performance.now();
    const row = await readDb(d.db, id);
    const dbMs = ms(t1);
    opDuration.observe({ op: 'db_read' }, dbMs / 1000);
    requests.inc({ result });
    if (row === undefined) {
      throw new TargetError(
        404,
        'STATE_NOT_FOUND',
        `no state saved for agent ${JSON.stringify(id)}: save one with PUT /api/agents/:id/state`,
      );
    }
    if (client !== undefined && result === 'miss') {
      const t2 = performance.now();
      try {
        await client.sendCommand(['SET', key(id), JSON.stringify(row), 'EX', String(cfg.ttlSeconds)]);
        fillMs = ms(t2);
        opDuration.observe({ op: 'redis_set' }, fillMs / 1000);
      } catch (e) {
        d.logError(e);
      }
    }
    return reply
      .header('x-cache', result)
      .header('server-timing', serverTiming({ cache: cacheMs, db: dbMs, fill: fillMs }))
      .send(row);
  });

  d.app.put('/api/agents/:id/state', async (req, reply) => {
    const id = agentId(req);
    const b = req.body;
    if (!isRecord(b) || !('state' in b))
      throw new TargetError(400, 'STATE_INVALID', 'agent state body must be a JSON object like {"state": {...}}');
    const text = JSON.stringify(b.state ?? null);
    const now = Date.now();
    const t0 = performance.now();
    let row: StateRow;
    try {
      // One transaction (a pooled connection on PostgreSQL, held from BEGIN to COMMIT). Concurrent saves of
      // one agent serialise on its row and each gets its own version.
      row = await d.db.tx(async (q) => {
        const r = (
          await q.all(
            `INSERT INTO agent_state (agent_id, state, version, updated_at) VALUES (?, ?, 1, ?)
           ON CONFLICT (agent_id) DO UPDATE SET state = excluded.state, version = agent_state.version + 1, updated_at = excluded.updated_at
           RETURNING version`,
            [id, text, now],
          )
        )[0];
        return { id, state: b.state ?? null, version: Number(r?.version ?? 1), updatedAt: now };
      });
    } catch (e) {
      writes.inc({ result: 'failed' });
      throw e;
    }
    const dbMs = ms(t0);
    opDuration.observe({ op: 'db_write' }, dbMs / 1000);
    writes.inc({ result: 'saved' });
    let evictMs: number | undefined;
    if (client !== undefined) {
      const t1 = performance.now();
      try {
        await client.sendCommand(['DEL', key(id)]);
        evictMs = ms(t1);
        opDuration.observe({ op: 'redis_del' }, evictMs / 1000);
      } catch (e) {
        d.logError(e);
      }
    }
    return reply
      .header('server-timing', serverTiming({ db: dbMs, evict: evictMs }))
      .send({ id, version: row.version, updatedAt: row.updatedAt });
  });
}
