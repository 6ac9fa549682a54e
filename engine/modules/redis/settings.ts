/**
 * `new redis.Client(arg)`'s argument read as xk6-redis reads it (a `redis[s]://` URL or an options object),
 * every bad value refused with one line naming it.
 */
import { ModuleUsageError } from '../k6.ts';

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
