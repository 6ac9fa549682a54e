/**
 * `k6/experimental/redis` (k6's built-in module from v0.40, Client API of v0.48+, backed by grafana/xk6-redis;
 * removed from k6 v2.0, where the same API is `k6/x/redis`) on the embedded engine, over a real Redis client
 * (@redis/client).
 *
 *   import redis from 'k6/experimental/redis';
 *   const client = new redis.Client('redis://127.0.0.1:6379');        // init code, one per VU; connects lazily
 *   await client.set('k', 'v', 0); const v = await client.get('k');   // every method returns a promise, as in k6
 *
 * Semantics copied from xk6-redis (redis/client.go): the connection is made on the first command and refused in
 * the init context; a missing key rejects `get`, `getSet`, `getDel`, `lpop`, `rpop`, `lindex`, `hget`,
 * `srandmember`, `spop` and `sendCommand` with `redis: nil` (go-redis's Nil error); values must be strings,
 * numbers or booleans; `expire`, `persist`, `hsetnx` and `sismember` resolve booleans; `ttl` resolves seconds
 * (go-redis turns Redis's -1 / -2 into -1 ns / -2 ns); `hgetall` resolves an object; `mget` has null for
 * missing keys.
 *
 * Metrics: k6's module emits none of its own; like every connection k6 makes through the VU's dialer, its
 * traffic counts toward `data_sent` / `data_received` (here: the RESP bytes of each command and its reply).
 * Not supported: cluster and sentinel options (`cluster`, `masterName`/`sentinel*`), refused with one line.
 */
import { createClient } from '@redis/client';
import type { ModuleContext, ModuleFactory } from '../contracts.ts';
import { awaitable } from './awaitable.ts';
import type { EngineModuleContext } from './context.ts';
import { toError } from '../../shared/errors.ts';
import { ModuleUsageError } from './k6.ts';

const MODULE_CLOSE = Symbol.for('agentload.close') as unknown as string;

type Reply = string | number | null | Reply[] | Buffer;
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Connection settings from k6's `Client` constructor argument: a URL string or an options object. */
export interface ClientSettings {
  readonly url: string;
  readonly tls: boolean;
  readonly clientName?: string;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string')
    throw new ModuleUsageError('redis-bad-options', `new redis.Client(): ${what} must be a string, got ${typeof v}`);
  return v;
}

/** Parses `new redis.Client(arg)`: `redis[s]://[[user][:pass]@]host[:port][/db]` or `{socket:{host,port,tls}, username, password, database, clientName}`. */
export function clientSettings(arg: unknown): ClientSettings {
  if (typeof arg === 'string') {
    if (!/^rediss?:\/\/[^\s]*$/.test(arg)) {
      throw new ModuleUsageError(
        'redis-bad-url',
        `new redis.Client(): the URL must look like redis[s]://[[username][:password]@][host][:port][/db-number], got ${JSON.stringify(arg.replace(/:[^:@/]*@/, ':***@'))}`,
      );
    }
    return { url: arg, tls: arg.startsWith('rediss:') };
  }
  if (!isRecord(arg))
    throw new ModuleUsageError(
      'redis-bad-options',
      `new redis.Client() takes a redis:// URL or an options object like { socket: { host: 'localhost', port: 6379 } }, got ${typeof arg}`,
    );
  for (const k of ['cluster', 'masterName', 'sentinelUsername', 'sentinelPassword']) {
    if (k in arg)
      throw new ModuleUsageError(
        'redis-unsupported',
        `new redis.Client(): option "${k}" (cluster / sentinel) is not supported by the embedded engine: connect to one node with a URL or { socket: { host, port } }, or run on k6`,
      );
  }
  const socket = isRecord(arg.socket) ? arg.socket : undefined;
  if (socket === undefined) throw new ModuleUsageError('redis-bad-options', 'new redis.Client(): options need socket: { host, port }');
  const host = str(socket.host ?? 'localhost', 'socket.host');
  const port = socket.port ?? 6379;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ModuleUsageError(
      'redis-bad-options',
      `new redis.Client(): socket.port must be an integer in 1..65535, got ${JSON.stringify(port)}`,
    );
  }
  const tls = socket.tls !== undefined && socket.tls !== null;
  const user = arg.username === undefined ? '' : encodeURIComponent(str(arg.username, 'username'));
  const pass = arg.password === undefined ? '' : encodeURIComponent(str(arg.password, 'password'));
  const auth = user !== '' || pass !== '' ? `${user}${pass !== '' ? `:${pass}` : ''}@` : '';
  const db = arg.database ?? 0;
  if (typeof db !== 'number' || !Number.isInteger(db) || db < 0)
    throw new ModuleUsageError('redis-bad-options', `new redis.Client(): database must be an integer >= 0, got ${JSON.stringify(db)}`);
  const h = host.includes(':') ? `[${host}]` : host;
  const name = arg.clientName === undefined ? undefined : str(arg.clientName, 'clientName');
  return { url: `${tls ? 'rediss' : 'redis'}://${auth}${h}:${port}/${db}`, tls, ...(name !== undefined ? { clientName: name } : {}) };
}

/** The host a `redis[s]://` URL connects to (go-redis's default: localhost). */
export function redisHost(url: string): string {
  try {
    const h = new URL(url).hostname;
    return h === '' ? 'localhost' : h;
  } catch {
    return 'localhost';
  }
}

/** Bytes of a command in RESP (what goes on the wire). */
export function respRequestBytes(args: readonly string[]): number {
  let n = `*${args.length}\r\n`.length;
  for (const a of args) {
    const len = Buffer.byteLength(a);
    n += `$${len}\r\n`.length + len + 2;
  }
  return n;
}

/** Bytes of a reply in RESP2, as near as the decoded value tells (simple and bulk strings are not told apart). */
export function respReplyBytes(r: Reply): number {
  if (r === null) return 5; // $-1\r\n
  if (typeof r === 'number') return `:${r}\r\n`.length;
  if (Array.isArray(r)) return r.reduce<number>((s, x) => s + respReplyBytes(x), `*${r.length}\r\n`.length);
  const len = Buffer.byteLength(r);
  return `$${len}\r\n`.length + len + 2;
}

class RedisNil extends Error {
  constructor() {
    super('redis: nil');
    this.name = 'Error';
  }
}

function arg(v: unknown, index: number): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  throw new ModuleUsageError(
    'redis-bad-type',
    `unsupported type provided for argument at index ${index}, supported types are string, number, and boolean`,
  );
}

const asString = (r: Reply): string => (Buffer.isBuffer(r) ? r.toString('utf8') : String(r));
const asNumber = (r: Reply): number => (typeof r === 'number' ? r : Number(asString(r)));
const asBool = (r: Reply): boolean => asNumber(r) === 1;
const asStrings = (r: Reply): string[] => (Array.isArray(r) ? r.map(asString) : []);
function nonNil(r: Reply): string {
  if (r === null) throw new RedisNil();
  return asString(r);
}
function plain(r: Reply): unknown {
  if (r === null) throw new RedisNil();
  if (Array.isArray(r)) return r.map((x) => (x === null ? null : plain(x)));
  return typeof r === 'number' ? r : asString(r);
}

export const createRedisModule: ModuleFactory = (ctx: ModuleContext) => {
  const engine = isEngineContext(ctx) ? ctx : undefined;
  const clients = new Set<RedisClient>();

  const track = <T>(call: string, p: Promise<T>): Promise<T> => {
    if (engine !== undefined) return awaitable(engine, call, p);
    if (ctx.stage() !== 'init') ctx.trackPending(p.catch(() => undefined));
    return p;
  };

  class Client {
    readonly #settings: ClientSettings;
    #client: RedisClient | undefined;
    #connecting: Promise<RedisClient> | undefined;

    constructor(options: unknown) {
      this.#settings = clientSettings(options);
    }

    #connect(): Promise<RedisClient> {
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
        clients.add(c);
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
        return track(call, Promise.reject(toError(e)));
      }
      const work = (async () => {
        const c = await this.#connect();
        const reply: Reply = await c.sendCommand<Reply>(wire);
        engine?.countBytes(respRequestBytes(wire), respReplyBytes(reply));
        return shape(reply);
      })();
      return track(call, work);
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
        return track(
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

  const closeAll = async (): Promise<void> => {
    const all = [...clients];
    clients.clear();
    await Promise.all(
      all.map(async (c) => {
        if (c.isOpen) await c.close().catch(() => c.destroy());
      }),
    );
  };

  return { Client, default: { Client }, [MODULE_CLOSE]: closeAll };
};
