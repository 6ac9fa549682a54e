/**
 * The BusAdapter contract, run against the in-process bus and against a real RabbitMQ broker (one per
 * file, test/support/rabbitmq.ts): publish/subscribe, consumer groups, order per key, groups declared
 * before their consumers; then what only a broker gives: redelivery of unacknowledged messages and
 * nothing lost across a broker restart, a kill -9 and publishes made while it was down.
 *
 * @heavy — starts RabbitMQ brokers and clusters of processes: runs after the other files (scripts/test.mjs).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InProcessBus, type BusAdapter, type BusMessage } from '../../target/bus.ts';
import { AmqpBus } from '../../target/bus/amqp.ts';
import type { AmqpDelivery } from '../../target/bus/amqp-options.ts';
import { dbSequence } from '../../target/bus/sequence.ts';
import { DEFAULT_KNOBS } from '../../target/config.ts';
import { openDb, type Db } from '../../target/db/db.ts';
import { viaProxy } from '../../src/faults/lab.ts';
import { startBroker, type Broker } from '../support/rabbitmq.ts';
import { waitFor } from './helpers.ts';

const NO_FAULTS = (): typeof DEFAULT_KNOBS => DEFAULT_KNOBS;

interface Made {
  bus: BusAdapter;
  close: () => Promise<void>;
}
type Factory = () => Promise<Made>;

/** Waits until the bus reports `n` consumers on `topic` (RabbitMQ: from the broker, polled every second). */
function consumers(bus: BusAdapter, topic: BusMessage['topic'], n: number): Promise<true> {
  return waitFor(
    `${n} consumer(s) on ${topic}`,
    () => ((bus.stats().find((s) => s.topic === topic)?.consumers ?? 0) >= n ? true : undefined),
    10_000,
  );
}

function collector(): { got: BusMessage[]; handler: (m: BusMessage) => void } {
  const got: BusMessage[] = [];
  return {
    got,
    handler: (m) => {
      got.push(m);
    },
  };
}

async function amqpBus(
  broker: Broker,
  db: Db,
  o: { namespace?: string; delivery?: AmqpDelivery; errors?: unknown[]; url?: string } = {},
): Promise<AmqpBus> {
  return AmqpBus.connect(
    {
      url: o.url ?? broker.url,
      namespace: o.namespace ?? `t${randomBytes(4).toString('hex')}`,
      delivery: o.delivery ?? 'at-least-once',
      prefetch: 8,
      heartbeatS: 2,
      confirmTimeoutMs: 10_000,
      connectTimeoutMs: 60_000,
      faults: NO_FAULTS,
      sequence: dbSequence(db),
      onError: (e) => {
        o.errors?.push(e);
      },
    },
    broker.url,
  );
}

/**
 * A loopback TCP proxy to the broker that drops the `dropNth` connection (1-based) at the client's first
 * frame on a channel: right after the AMQP handshake, while the bus is setting the connection up.
 */
async function setupDropper(
  brokerPort: number,
  dropNth: number,
): Promise<{ port: number; connections: () => number; dropped: () => number; cutAll: () => void; close: () => Promise<void> }> {
  let connections = 0;
  let dropped = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections += 1;
    const sabotage = connections === dropNth;
    const upstream = createConnection({ host: '127.0.0.1', port: brokerPort });
    for (const sock of [client, upstream]) {
      open.add(sock);
      sock.on('error', () => undefined);
      sock.on('close', () => {
        open.delete(sock);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (d: Buffer) => {
      client.write(d);
    });
    let buf = Buffer.alloc(0);
    let headerSeen = false;
    client.on('data', (d: Buffer) => {
      if (!sabotage) {
        upstream.write(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      let forward = 0;
      if (!headerSeen && buf.length >= 8) {
        headerSeen = true;
        forward = 8;
      }
      // AMQP frames: type (1), channel (2), size (4), payload, 0xCE.
      while (headerSeen && buf.length >= forward + 7) {
        const channel = buf.readUInt16BE(forward + 1);
        const size = buf.readUInt32BE(forward + 3);
        if (channel !== 0) {
          dropped += 1;
          upstream.write(buf.subarray(0, forward));
          client.destroy();
          return;
        }
        if (buf.length < forward + 8 + size) break;
        forward += 8 + size;
      }
      upstream.write(buf.subarray(0, forward));
      buf = buf.subarray(forward);
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    connections: () => connections,
    dropped: () => dropped,
    cutAll: () => {
      for (const sock of open) sock.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const sock of open) sock.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function contract(label: string, make: () => Factory): void {
  void describe(`BusAdapter contract: ${label}`, () => {
    void it('delivers id, topic, per-topic seq, publishedAt, key and payload to a subscriber', async () => {
      const { bus, close } = await make()();
      try {
        const c = collector();
        bus.subscribe('agent_results', c.handler, { group: 'g1' });
        await consumers(bus, 'agent_results', 1);
        const a = await bus.publish('agent_results', { n: 1 }, 'k');
        const b = await bus.publish('agent_results', { n: 2 });
        assert.match(a.id, /^msg_/);
        assert.equal(b.seq, a.seq + 1, 'seq counts per topic');
        await waitFor('two deliveries', () => (c.got.length >= 2 ? true : undefined));
        assert.deepEqual(
          c.got.map((m) => [m.id, m.seq, m.key, m.payload]),
          [
            [a.id, a.seq, 'k', { n: 1 }],
            [b.id, b.seq, null, { n: 2 }],
          ],
        );
        assert.equal(c.got[0]?.publishedAt, a.publishedAt);
        assert.equal(c.got[0].topic, 'agent_results');
      } finally {
        await close();
      }
    });

    void it('members of one group compete; every group sees every message', async () => {
      const { bus, close } = await make()();
      try {
        const a = collector();
        const b = collector();
        const other = collector();
        bus.subscribe('task_submissions', a.handler, { group: 'workers' });
        bus.subscribe('task_submissions', b.handler, { group: 'workers' });
        bus.subscribe('task_submissions', other.handler, { group: 'audit' });
        await consumers(bus, 'task_submissions', 3);
        for (let i = 0; i < 40; i++) await bus.publish('task_submissions', { i });
        await waitFor('all delivered', () => (a.got.length + b.got.length === 40 && other.got.length === 40 ? true : undefined));
        assert.ok(a.got.length > 0 && b.got.length > 0, `both members got work (${a.got.length}/${b.got.length})`);
        const ids = new Set([...a.got, ...b.got].map((m) => m.id));
        assert.equal(ids.size, 40, 'each message went to exactly one member of the group');
      } finally {
        await close();
      }
    });

    void it('keeps the order of one key for a single consumer', async () => {
      const { bus, close } = await make()();
      try {
        const c = collector();
        bus.subscribe(
          'agent_results',
          async (m) => {
            c.handler(m);
            await new Promise((r) => setTimeout(r, 1));
          },
          { group: 'ordered' },
        );
        await consumers(bus, 'agent_results', 1);
        for (let i = 0; i < 60; i++) await bus.publish('agent_results', { i }, 'one-key');
        await waitFor('60 delivered', () => (c.got.length === 60 ? true : undefined));
        assert.deepEqual(
          c.got.map((m) => (m.payload as { i: number }).i),
          Array.from({ length: 60 }, (_, i) => i),
        );
      } finally {
        await close();
      }
    });

    void it('a declared group keeps messages published before its first consumer', async () => {
      const { bus, close } = await make()();
      try {
        bus.declareGroup('scheduled_tasks', 'late');
        await new Promise((r) => setTimeout(r, 200));
        for (let i = 0; i < 5; i++) await bus.publish('scheduled_tasks', { i });
        const c = collector();
        bus.subscribe('scheduled_tasks', c.handler, { group: 'late' });
        await waitFor('5 delivered late', () => (c.got.length === 5 ? true : undefined));
      } finally {
        await close();
      }
    });
  });
}

let broker: Broker | undefined;
let db: Db | undefined;
const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`${what} did not start`);
  return v;
};

before(async () => {
  broker = await startBroker();
  db = await openDb({ sqlitePath: ':memory:', poolMax: 1 });
});
after(async () => {
  await db?.close();
  await broker?.close();
});

contract('in-process', () => () => {
  const bus = new InProcessBus(NO_FAULTS);
  return Promise.resolve({ bus, close: () => bus.close() });
});

contract('RabbitMQ', () => async () => {
  const bus = await amqpBus(need(broker, 'broker'), need(db, 'db'));
  return { bus, close: () => bus.close() };
});

void describe('RabbitMQ bus: acknowledgements and failures', () => {
  void it('a message its consumer never acknowledged goes to another member, marked redelivered', async () => {
    const bus = await amqpBus(need(broker, 'broker'), need(db, 'db'));
    try {
      let release: () => void = () => undefined;
      const stuck: BusMessage[] = [];
      const subA = bus.subscribe(
        'agent_results',
        async (m) => {
          stuck.push(m);
          await new Promise<void>((r) => {
            release = r;
          });
        },
        { group: 'redeliver' },
      );
      await consumers(bus, 'agent_results', 1);
      const m = await bus.publish('agent_results', { x: 1 });
      await waitFor('A holds it', () => (stuck.length === 1 ? true : undefined));
      const b = collector();
      bus.subscribe('agent_results', b.handler, { group: 'redeliver' });
      subA.close(); // A's channel closes with the message unacknowledged
      await waitFor('B gets it again', () => (b.got.length === 1 ? true : undefined));
      assert.equal(b.got[0]?.id, m.id);
      assert.equal(b.got[0].redelivered, true);
      release();
    } finally {
      await bus.close();
    }
  });

  void it('a handler that fails gets the message once more, then it is reported and dropped', async () => {
    const errors: unknown[] = [];
    const bus = await amqpBus(need(broker, 'broker'), need(db, 'db'), { errors });
    try {
      const seen: BusMessage[] = [];
      bus.subscribe(
        'agent_results',
        (m) => {
          seen.push(m);
          throw new Error('handler broke');
        },
        { group: 'failing' },
      );
      await consumers(bus, 'agent_results', 1);
      await bus.publish('agent_results', { y: 1 });
      await waitFor('two attempts', () => (seen.length === 2 && errors.length === 2 ? true : undefined));
      assert.deepEqual(
        seen.map((m) => m.redelivered),
        [false, true],
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, 2, 'not a third time');
    } finally {
      await bus.close();
    }
  });

  void it('queue depth, consumers and lag come from the broker: a process that published nothing sees the backlog', async () => {
    const namespace = `depth${randomBytes(3).toString('hex')}`;
    const publisher = await amqpBus(need(broker, 'broker'), need(db, 'db'), { namespace });
    const observer = await amqpBus(need(broker, 'broker'), need(db, 'db'), { namespace });
    try {
      publisher.declareGroup('agent_results', 'backlog');
      observer.declareGroup('agent_results', 'backlog');
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 7; i++) await publisher.publish('agent_results', { i });
      const seen = await waitFor(
        'the observer sees 7 waiting',
        () => {
          const s = observer.stats().find((t) => t.topic === 'agent_results');
          return s !== undefined && s.depth === 7 ? s : undefined;
        },
        10_000,
      );
      assert.equal(seen.published, 0, 'the observer published nothing itself');
      await waitFor(
        'lag grows while nobody consumes',
        () => ((observer.stats().find((t) => t.topic === 'agent_results')?.lagMs ?? 0) > 0 ? true : undefined),
        10_000,
      );
      const c = collector();
      publisher.subscribe('agent_results', c.handler, { group: 'backlog' });
      await waitFor('7 delivered', () => (c.got.length === 7 ? true : undefined));
      await waitFor(
        'the observer sees the queue drained and its consumer',
        () => {
          const s = observer.stats().find((t) => t.topic === 'agent_results');
          return s !== undefined && s.depth === 0 && s.consumers === 1 && s.lagMs === 0 ? true : undefined;
        },
        10_000,
      );
    } finally {
      await observer.close();
      await publisher.close();
    }
  });

  void it('a connection that drops while the bus sets it up is retried, not fatal to the process', async () => {
    const b = need(broker, 'broker');
    // The first reconnection (connection 2) is dropped during its setup; the next one goes through.
    const dropper = await setupDropper(b.port, 2);
    const bus = await amqpBus(b, need(db, 'db'), { url: viaProxy(b.url, dropper.port) });
    try {
      await bus.publish('agent_results', { before: true });
      dropper.cutAll();
      await waitFor(
        'connected again through a third connection',
        () => (dropper.connections() >= 3 && bus.connected() ? true : undefined),
        30_000,
      );
      assert.equal(dropper.dropped(), 1, 'the second connection was dropped during its setup');
      const m = await bus.publish('agent_results', { after: true });
      assert.match(m.id, /^msg_/);
    } finally {
      await bus.close();
      await dropper.close();
    }
  });

  void it('survives a broker restart and a kill -9: queued, in-flight and later messages all arrive', async () => {
    const b = need(broker, 'broker');
    const namespace = `restart${randomBytes(3).toString('hex')}`;
    const bus = await amqpBus(b, need(db, 'db'), { namespace });
    try {
      bus.declareGroup('agent_results', 'durable');
      await new Promise((r) => setTimeout(r, 200));
      const before = [];
      for (let i = 0; i < 10; i++) before.push(await bus.publish('agent_results', { i }));

      await b.stop();
      // Publishing while the broker is down waits for the reconnection.
      const during = bus.publish('agent_results', { i: 10 });
      await b.start();
      const duringMsg = await during;
      await waitFor('reconnected', () => (bus.connected() ? true : undefined), 30_000);

      await b.kill();
      await b.start();
      await waitFor('reconnected after kill', () => (bus.connected() ? true : undefined), 30_000);
      const afterMsgs = [];
      for (let i = 11; i < 15; i++) afterMsgs.push(await bus.publish('agent_results', { i }));

      const c = collector();
      bus.subscribe('agent_results', c.handler, { group: 'durable' });
      await waitFor('15 delivered', () => (new Set(c.got.map((m) => m.id)).size >= 15 ? true : undefined), 20_000);
      const want = [...before, duringMsg, ...afterMsgs].map((m) => m.id).sort();
      assert.deepEqual([...new Set(c.got.map((m) => m.id))].sort(), want, 'nothing lost');
    } finally {
      await bus.close();
    }
  });
});
