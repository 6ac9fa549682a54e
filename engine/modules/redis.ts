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
import type { ModuleContext, ModuleFactory } from '../contracts.ts';
import { VuRedis, VuRedisClient } from './redis/client.ts';

/** The runtime calls a module's `Symbol.for('agentload.close')` export when the VU is closed. */
const MODULE_CLOSE = Symbol.for('agentload.close') as unknown as string;

/** The module for one VU: its own `Client` class, bound to the VU's context; the VU's connections close with it. */
export const createRedisModule: ModuleFactory = (ctx: ModuleContext) => {
  const vu = new VuRedis(ctx);
  class Client extends VuRedisClient {
    constructor(options: unknown) {
      super(vu, options);
    }
  }
  return { Client, default: { Client }, [MODULE_CLOSE]: () => vu.closeAll() };
};
