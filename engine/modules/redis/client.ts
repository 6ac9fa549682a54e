/**
 * k6's `redis.Client` for one VU: a module-level class each VU's module subclasses (`VuRedisClient`), over
 * the VU's state (`VuRedis`: its context and the connections its clients opened, closed with the VU).
 * The connection is made on the first command (refused in the init context and for hosts the run does not
 * allow); each command's RESP bytes count toward `data_sent` / `data_received`.
 */
import { createClient } from '@redis/client';
import type { ModuleContext } from '../../contracts.ts';
import { toError } from '../../../shared/errors.ts';
import { awaitable } from '../awaitable.ts';
import type { EngineModuleContext } from '../context.ts';
import { ModuleUsageError } from '../k6.ts';
import { arg, asBool, asNumber, asString, asStrings, nonNil, plain, respReplyBytes, respRequestBytes, type Reply } from './resp.ts';
import { clientSettings, redisHost, type ClientSettings } from './settings.ts';

/** A RESP2 client (replies as flat arrays, integers and strings, as go-redis sees them). */
function newClient(settings: ClientSettings, connected: () => boolean) {
  return createClient({
    url: settings.url,
    RESP: 2,
    ...(settings.clientName !== undefined ? { name: settings.clientName } : {}),
    // The first connection gives up after a few tries (the command rejects); an established one reconnects.
    socket: {
      connectTimeout: 10_000,
      reconnectStrategy: (retries: number, cause: Error) => (!connected() && retries >= 2 ? cause : Math.min(100 * 2 ** retries, 2000)),
    },
  });
}
type RedisClient = ReturnType<typeof newClient>;

function isEngineContext(ctx: ModuleContext): ctx is EngineModuleContext {
  return 'trackAwaitable' in ctx && 'callSite' in ctx;
}

/** One VU's Redis module: its context, and every connection its clients opened (closed when the VU closes). */
export class VuRedis {
  readonly ctx: ModuleContext;
  /** Set under the embedded engine: awaitable results, byte counting. */
  readonly engine: EngineModuleContext | undefined;
  readonly #connections = new Set<RedisClient>();

  constructor(ctx: ModuleContext) {
    this.ctx = ctx;
    this.engine = isEngineContext(ctx) ? ctx : undefined;
  }

  /** A command's promise, tracked so the iteration waits for it (and a forgotten `await` is reported). */
  track<T>(call: string, p: Promise<T>): Promise<T> {
    if (this.engine !== undefined) return awaitable(this.engine, call, p);
    if (this.ctx.stage() !== 'init') this.ctx.trackPending(p.catch(() => undefined));
    return p;
  }

  opened(c: RedisClient): void {
    this.#connections.add(c);
  }

  async closeAll(): Promise<void> {
    const all = [...this.#connections];
    this.#connections.clear();
    await Promise.all(
      all.map(async (c) => {
        if (c.isOpen) await c.close().catch(() => c.destroy());
      }),
    );
  }
}

/** k6's `redis.Client`: every method sends one command and returns a promise of its reply's shape. */
export class VuRedisClient {
  readonly #vu: VuRedis;
  readonly #settings: ClientSettings;
  #client: RedisClient | undefined;
  #connecting: Promise<RedisClient> | undefined;

  constructor(vu: VuRedis, options: unknown) {
    this.#vu = vu;
    this.#settings = clientSettings(options);
  }

  #connect(): Promise<RedisClient> {
    const { ctx } = this.#vu;
    if (ctx.stage() === 'init')
      return Promise.reject(
        new ModuleUsageError('redis-init-context', 'connecting to a redis server in the init context is not supported'),
      );
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    // The run's host allowlist, before a connection is made (engine/net/host-policy.ts).
    const refused = ctx.connectRefusal(redisHost(this.#settings.url));
    if (refused !== undefined) return Promise.reject(new ModuleUsageError('redis-host-not-allowed', `redis: ${refused}`));
    this.#connecting ??= (async () => {
      let up = false;
      const c = newClient(this.#settings, () => up);
      // Errors reach the command that failed; an idle connection's error must not crash the engine.
      c.on('error', () => undefined);
      try {
        await c.connect();
        up = true;
      } catch (e) {
        this.#connecting = undefined;
        c.destroy();
        throw e;
      }
      this.#vu.opened(c);
      this.#client = c;
      return c;
    })();
    return this.#connecting;
  }

  #run<T>(name: string, args: readonly unknown[], offset: number, shape: (r: Reply) => T, cmd: readonly string[] = []): Promise<T> {
    const call = `client.${name}(...)`;
    let wire: string[];
    try {
      wire = [...cmd, ...args.map((a, i) => arg(a, i + offset))];
    } catch (e) {
      return this.#vu.track(call, Promise.reject(toError(e)));
    }
    const work = (async () => {
      const c = await this.#connect();
      const reply: Reply = await c.sendCommand<Reply>(wire);
      this.#vu.engine?.countBytes(respRequestBytes(wire), respReplyBytes(reply));
      return shape(reply);
    })();
    return this.#vu.track(call, work);
  }

  // key/value
  set(key: unknown, value: unknown, expiration?: unknown): Promise<string> {
    const exp = Number(expiration ?? 0);
    const args = exp > 0 ? [key, value, 'EX', Math.trunc(exp)] : [key, value];
    return this.#run('set', args, 0, asString, ['SET']);
  }
  get(key: unknown): Promise<string> {
    return this.#run('get', [key], 0, nonNil, ['GET']);
  }
  getSet(key: unknown, value: unknown): Promise<string> {
    return this.#run('getSet', [key, value], 0, nonNil, ['GETSET']);
  }
  del(...keys: unknown[]): Promise<number> {
    return this.#run('del', keys.flat(), 0, asNumber, ['DEL']);
  }
  getDel(key: unknown): Promise<string> {
    return this.#run('getDel', [key], 0, nonNil, ['GETDEL']);
  }
  exists(...keys: unknown[]): Promise<number> {
    return this.#run('exists', keys.flat(), 0, asNumber, ['EXISTS']);
  }
  incr(key: unknown): Promise<number> {
    return this.#run('incr', [key], 0, asNumber, ['INCR']);
  }
  incrBy(key: unknown, n: unknown): Promise<number> {
    return this.#run('incrBy', [key, n], 0, asNumber, ['INCRBY']);
  }
  decr(key: unknown): Promise<number> {
    return this.#run('decr', [key], 0, asNumber, ['DECR']);
  }
  decrBy(key: unknown, n: unknown): Promise<number> {
    return this.#run('decrBy', [key, n], 0, asNumber, ['DECRBY']);
  }
  randomKey(): Promise<string> {
    return this.#run('randomKey', [], 0, nonNil, ['RANDOMKEY']);
  }
  mget(...keys: unknown[]): Promise<(string | null)[]> {
    return this.#run('mget', keys.flat(), 0, (r) => (Array.isArray(r) ? r.map((x) => (x === null ? null : asString(x))) : []), ['MGET']);
  }
  expire(key: unknown, seconds: unknown): Promise<boolean> {
    return this.#run('expire', [key, seconds], 0, asBool, ['EXPIRE']);
  }
  ttl(key: unknown): Promise<number> {
    return this.#run(
      'ttl',
      [key],
      0,
      (r) => {
        const n = asNumber(r);
        return n < 0 ? n / 1e9 : n;
      },
      ['TTL'],
    );
  }
  persist(key: unknown): Promise<boolean> {
    return this.#run('persist', [key], 0, asBool, ['PERSIST']);
  }
  // lists
  lpush(key: unknown, ...values: unknown[]): Promise<number> {
    return this.#run('lpush', [key, ...values.flat()], 0, asNumber, ['LPUSH']);
  }
  rpush(key: unknown, ...values: unknown[]): Promise<number> {
    return this.#run('rpush', [key, ...values.flat()], 0, asNumber, ['RPUSH']);
  }
  lpop(key: unknown): Promise<string> {
    return this.#run('lpop', [key], 0, nonNil, ['LPOP']);
  }
  rpop(key: unknown): Promise<string> {
    return this.#run('rpop', [key], 0, nonNil, ['RPOP']);
  }
  lrange(key: unknown, start: unknown, stop: unknown): Promise<string[]> {
    return this.#run('lrange', [key, start, stop], 0, asStrings, ['LRANGE']);
  }
  lindex(key: unknown, index: unknown): Promise<string> {
    return this.#run('lindex', [key, index], 0, nonNil, ['LINDEX']);
  }
  lset(key: unknown, index: unknown, element: unknown): Promise<string> {
    return this.#run('lset', [key, index, element], 0, asString, ['LSET']);
  }
  lrem(key: unknown, count: unknown, value: unknown): Promise<number> {
    return this.#run('lrem', [key, count, value], 0, asNumber, ['LREM']);
  }
  llen(key: unknown): Promise<number> {
    return this.#run('llen', [key], 0, asNumber, ['LLEN']);
  }
  // hashes
  hset(key: unknown, field: unknown, value: unknown): Promise<number> {
    return this.#run('hset', [key, field, value], 0, asNumber, ['HSET']);
  }
  hsetnx(key: unknown, field: unknown, value: unknown): Promise<boolean> {
    return this.#run('hsetnx', [key, field, value], 0, asBool, ['HSETNX']);
  }
  hget(key: unknown, field: unknown): Promise<string> {
    return this.#run('hget', [key, field], 0, nonNil, ['HGET']);
  }
  hdel(key: unknown, ...fields: unknown[]): Promise<number> {
    return this.#run('hdel', [key, ...fields.flat()], 0, asNumber, ['HDEL']);
  }
  hgetall(key: unknown): Promise<Record<string, string>> {
    return this.#run(
      'hgetall',
      [key],
      0,
      (r) => {
        const flat = asStrings(r);
        const out: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] ?? ''] = flat[i + 1] ?? '';
        return out;
      },
      ['HGETALL'],
    );
  }
  hkeys(key: unknown): Promise<string[]> {
    return this.#run('hkeys', [key], 0, asStrings, ['HKEYS']);
  }
  hvals(key: unknown): Promise<string[]> {
    return this.#run('hvals', [key], 0, asStrings, ['HVALS']);
  }
  hlen(key: unknown): Promise<number> {
    return this.#run('hlen', [key], 0, asNumber, ['HLEN']);
  }
  hincrby(key: unknown, field: unknown, n: unknown): Promise<number> {
    return this.#run('hincrby', [key, field, n], 0, asNumber, ['HINCRBY']);
  }
  // sets
  sadd(key: unknown, ...members: unknown[]): Promise<number> {
    return this.#run('sadd', [key, ...members.flat()], 0, asNumber, ['SADD']);
  }
  srem(key: unknown, ...members: unknown[]): Promise<number> {
    return this.#run('srem', [key, ...members.flat()], 0, asNumber, ['SREM']);
  }
  sismember(key: unknown, member: unknown): Promise<boolean> {
    return this.#run('sismember', [key, member], 0, asBool, ['SISMEMBER']);
  }
  smembers(key: unknown): Promise<string[]> {
    return this.#run('smembers', [key], 0, asStrings, ['SMEMBERS']);
  }
  srandmember(key: unknown): Promise<string> {
    return this.#run('srandmember', [key], 0, nonNil, ['SRANDMEMBER']);
  }
  spop(key: unknown): Promise<string> {
    return this.#run('spop', [key], 0, nonNil, ['SPOP']);
  }
  // anything else
  sendCommand(command: unknown, ...args: unknown[]): Promise<unknown> {
    if (typeof command !== 'string' || command === '') {
      return this.#vu.track(
        'client.sendCommand(...)',
        Promise.reject(
          new ModuleUsageError(
            'redis-bad-command',
            `client.sendCommand(command, ...args): command must be a Redis command name like "ECHO", got ${JSON.stringify(command)}`,
          ),
        ),
      );
    }
    return this.#run('sendCommand', [command, ...args], 0, plain);
  }
}
