/**
 * `k6/experimental/redis` on the embedded engine against a real redis-server: k6's documented Client API
 * (method names, promise results and rejections as xk6-redis gives them), connection rules, and the bytes
 * counted toward data_sent / data_received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MODULES } from '../../engine/modules/index.ts';
import { createRedisModule } from '../../engine/modules/redis.ts';
import { respReplyBytes, respRequestBytes } from '../../engine/modules/redis/resp.ts';
import { clientSettings } from '../../engine/modules/redis/settings.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { createTestContext } from './context.ts';

type Fn = (...a: unknown[]) => Promise<unknown>;
type ClientCtor = new (o: unknown) => Record<string, Fn>;

/** Every method k6's Client documents (k6 v0.48+ `k6/experimental/redis`, grafana/xk6-redis). */
const K6_METHODS = [
  'set',
  'get',
  'getSet',
  'del',
  'getDel',
  'exists',
  'incr',
  'incrBy',
  'decr',
  'decrBy',
  'randomKey',
  'mget',
  'expire',
  'ttl',
  'persist',
  'lpush',
  'rpush',
  'lpop',
  'rpop',
  'lrange',
  'lindex',
  'lset',
  'lrem',
  'llen',
  'hset',
  'hsetnx',
  'hget',
  'hdel',
  'hgetall',
  'hkeys',
  'hvals',
  'hlen',
  'hincrby',
  'sadd',
  'srem',
  'sismember',
  'smembers',
  'srandmember',
  'spop',
  'sendCommand',
] as const;

let server: RedisServer;
before(async () => {
  server = await startRedis();
});
after(async () => {
  await server.stop();
});

function moduleFor(stage: 'init' | 'iteration' = 'iteration') {
  const ctx = createTestContext();
  ctx.setStage(stage);
  const mod = createRedisModule(ctx);
  const Client = (mod.default as { Client: ClientCtor }).Client;
  const close = mod[Symbol.for('agentload.close') as unknown as string] as () => Promise<void>;
  return { ctx, Client, close };
}

void describe('k6/experimental/redis', () => {
  void it('is registered under k6/experimental/redis and k6/x/redis, with every method k6 documents', () => {
    assert.equal(MODULES['k6/experimental/redis'], createRedisModule);
    assert.equal(MODULES['k6/x/redis'], createRedisModule);
    const { Client } = moduleFor();
    const c = new Client(server.url);
    for (const m of K6_METHODS) assert.equal(typeof c[m], 'function', `Client.${m}`);
  });

  void it('keys, lists, hashes and sets resolve as in k6; missing keys reject with "redis: nil"', async () => {
    const { Client, close } = moduleFor();
    const c = new Client(server.url);
    try {
      assert.equal(await c.set?.('k1', 'v1', 0), 'OK');
      assert.equal(await c.get?.('k1'), 'v1');
      await assert.rejects(c.get?.('missing') ?? Promise.resolve(), /^Error: redis: nil$/);
      assert.equal(await c.getSet?.('k1', 42), 'v1');
      assert.equal(await c.get?.('k1'), '42');
      assert.equal(await c.incr?.('k1'), 43);
      assert.equal(await c.incrBy?.('k1', 7), 50);
      assert.equal(await c.decrBy?.('k1', 10), 40);
      assert.equal(await c.decr?.('k1'), 39);
      assert.deepEqual(await c.mget?.('k1', 'missing'), ['39', null]);
      assert.equal(await c.exists?.('k1', 'k1', 'missing'), 2);
      assert.equal(await c.expire?.('k1', 100), true);
      const ttl = (await c.ttl?.('k1')) as number;
      assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
      assert.equal(await c.persist?.('k1'), true);
      assert.equal(await c.ttl?.('k1'), -1e-9, 'no expiry: go-redis turns -1 into -1 ns, k6 then gives seconds');
      assert.equal(await c.getDel?.('k1'), '39');
      assert.equal(await c.del?.('k1'), 0);
      assert.equal(await c.set?.('k2', true, 5), 'OK');
      assert.equal(await c.get?.('k2'), '1', 'booleans are sent as 1/0');
      assert.ok(((await c.ttl?.('k2')) as number) > 0, 'expiration in seconds');

      assert.equal(await c.rpush?.('l', 'a', 'b', 'c'), 3);
      assert.equal(await c.lpush?.('l', 'z'), 4);
      assert.deepEqual(await c.lrange?.('l', 0, -1), ['z', 'a', 'b', 'c']);
      assert.equal(await c.lindex?.('l', 1), 'a');
      assert.equal(await c.lset?.('l', 1, 'A'), 'OK');
      assert.equal(await c.lrem?.('l', 0, 'A'), 1);
      assert.equal(await c.llen?.('l'), 3);
      assert.equal(await c.lpop?.('l'), 'z');
      assert.equal(await c.rpop?.('l'), 'c');
      await assert.rejects(c.lpop?.('nolist') ?? Promise.resolve(), /redis: nil/);

      assert.equal(await c.hset?.('h', 'f1', 'x'), 1);
      assert.equal(await c.hsetnx?.('h', 'f1', 'y'), false);
      assert.equal(await c.hsetnx?.('h', 'f2', '2'), true);
      assert.equal(await c.hget?.('h', 'f1'), 'x');
      assert.deepEqual(await c.hgetall?.('h'), { f1: 'x', f2: '2' });
      assert.deepEqual(((await c.hkeys?.('h')) as string[]).sort(), ['f1', 'f2']);
      assert.deepEqual(((await c.hvals?.('h')) as string[]).sort(), ['2', 'x']);
      assert.equal(await c.hlen?.('h'), 2);
      assert.equal(await c.hincrby?.('h', 'f2', 5), 7);
      assert.equal(await c.hdel?.('h', 'f1', 'nope'), 1);
      await assert.rejects(c.hget?.('h', 'f1') ?? Promise.resolve(), /redis: nil/);

      assert.equal(await c.sadd?.('s', 'a', 'b', 'a'), 2);
      assert.equal(await c.sismember?.('s', 'a'), true);
      assert.equal(await c.sismember?.('s', 'q'), false);
      assert.deepEqual(((await c.smembers?.('s')) as string[]).sort(), ['a', 'b']);
      assert.ok(['a', 'b'].includes((await c.srandmember?.('s')) as string));
      assert.equal(await c.srem?.('s', 'a'), 1);
      assert.equal(await c.spop?.('s'), 'b');
      await assert.rejects(c.spop?.('s') ?? Promise.resolve(), /redis: nil/);

      assert.equal(await c.sendCommand?.('ECHO', 'Hello world'), 'Hello world');
      assert.equal(await c.sendCommand?.('INCRBY', 'n', 3), 3);
      assert.ok(typeof (await c.randomKey?.()) === 'string');
    } finally {
      await close();
    }
  });

  void it('refuses to connect in the init context and rejects unsupported value types, as xk6-redis does', async () => {
    const init = moduleFor('init');
    const c = new init.Client(server.url);
    await assert.rejects(c.get?.('k') ?? Promise.resolve(), /connecting to a redis server in the init context is not supported/);
    const it2 = moduleFor();
    const c2 = new it2.Client(server.url);
    await assert.rejects(
      c2.set?.('k', { a: 1 }, 0) ?? Promise.resolve(),
      /unsupported type provided for argument at index 1, supported types are string, number, and boolean/,
    );
    await assert.rejects(c2.hset?.('k', 'f', [1]) ?? Promise.resolve(), /argument at index 2/);
    await it2.close();
  });

  void it("takes a URL or k6's options object; cluster and sentinel are refused with one line", () => {
    assert.deepEqual(clientSettings('redis://127.0.0.1:6379'), { url: 'redis://127.0.0.1:6379', tls: false });
    assert.deepEqual(clientSettings({ socket: { host: '127.0.0.1', port: 7000 }, username: 'u', password: 'p w', database: 2 }), {
      url: 'redis://u:p%20w@127.0.0.1:7000/2',
      tls: false,
    });
    assert.equal(clientSettings({ socket: { host: 'h', port: 1, tls: {} } }).url, 'rediss://h:1/0');
    assert.throws(() => clientSettings('http://x'), /redis\[s\]:\/\//);
    assert.throws(() => clientSettings({ socket: { host: 'h', port: 70000 } }), /socket.port must be an integer in 1..65535/);
    assert.throws(
      () => clientSettings({ cluster: { nodes: [] }, socket: { host: 'h' } }),
      /cluster \/ sentinel\) is not supported by the embedded engine/,
    );
    assert.throws(
      () => clientSettings('redis://u:secret@h:1/0 x'),
      (e: Error) => !e.message.includes('secret'),
    );
  });

  void it('an options object connects like the URL does', async () => {
    const { Client, close } = moduleFor();
    const c = new Client({ socket: { host: '127.0.0.1', port: server.port } });
    assert.equal(await c.sendCommand?.('PING'), 'PONG');
    await close();
  });

  void it('counts RESP bytes of commands and replies toward data_sent / data_received', () => {
    assert.equal(respRequestBytes(['GET', 'k']), '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'.length);
    assert.equal(respReplyBytes('abc'), '$3\r\nabc\r\n'.length);
    assert.equal(respReplyBytes(12), ':12\r\n'.length);
    assert.equal(respReplyBytes(null), 5);
    assert.equal(respReplyBytes(['a', null]), '*2\r\n$1\r\na\r\n$-1\r\n'.length);
  });
});
