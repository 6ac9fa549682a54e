/**
 * Types for k6's `k6/experimental/redis` module (k6 v0.48+ Client API; @types/k6 2.x no longer ships them
 * because k6 v2.0 removed the module, whose API lives on as `k6/x/redis`). Every method returns a promise,
 * in k6 and on the embedded engine alike.
 */
declare module 'k6/experimental/redis' {
  export type RedisValue = string | number | boolean;
  export interface SocketOptions {
    host: string;
    port?: number;
    tls?: { ca?: string[]; cert?: string; key?: string };
    dialTimeout?: number;
    readTimeout?: number;
    writeTimeout?: number;
  }
  export interface Options {
    socket: SocketOptions;
    username?: string;
    password?: string;
    clientName?: string;
    database?: number;
    maxRetries?: number;
  }
  export class Client {
    constructor(options: string | Options);
    set(key: string, value: RedisValue, expiration: number): Promise<string>;
    get(key: string): Promise<string>;
    getSet(key: string, value: RedisValue): Promise<string>;
    del(...keys: string[]): Promise<number>;
    getDel(key: string): Promise<string>;
    exists(...keys: string[]): Promise<number>;
    incr(key: string): Promise<number>;
    incrBy(key: string, increment: number): Promise<number>;
    decr(key: string): Promise<number>;
    decrBy(key: string, decrement: number): Promise<number>;
    randomKey(): Promise<string>;
    mget(...keys: string[]): Promise<(string | null)[]>;
    expire(key: string, seconds: number): Promise<boolean>;
    ttl(key: string): Promise<number>;
    persist(key: string): Promise<boolean>;
    lpush(key: string, ...values: RedisValue[]): Promise<number>;
    rpush(key: string, ...values: RedisValue[]): Promise<number>;
    lpop(key: string): Promise<string>;
    rpop(key: string): Promise<string>;
    lrange(key: string, start: number, stop: number): Promise<string[]>;
    lindex(key: string, index: number): Promise<string>;
    lset(key: string, index: number, element: string): Promise<string>;
    lrem(key: string, count: number, value: string): Promise<number>;
    llen(key: string): Promise<number>;
    hset(key: string, field: string, value: RedisValue): Promise<number>;
    hsetnx(key: string, field: string, value: string): Promise<boolean>;
    hget(key: string, field: string): Promise<string>;
    hdel(key: string, ...fields: string[]): Promise<number>;
    hgetall(key: string): Promise<Record<string, string>>;
    hkeys(key: string): Promise<string[]>;
    hvals(key: string): Promise<string[]>;
    hlen(key: string): Promise<number>;
    hincrby(key: string, field: string, increment: number): Promise<number>;
    sadd(key: string, ...members: RedisValue[]): Promise<number>;
    srem(key: string, ...members: RedisValue[]): Promise<number>;
    sismember(key: string, member: RedisValue): Promise<boolean>;
    smembers(key: string): Promise<string[]>;
    srandmember(key: string): Promise<string>;
    spop(key: string): Promise<string>;
    sendCommand(command: string, ...args: RedisValue[]): Promise<unknown>;
  }
  const redis: { Client: typeof Client };
  export default redis;
}
