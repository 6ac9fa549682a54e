/**
 * The RabbitMQ bus (AMQP 0-9-1, amqplib) behind the same `BusAdapter` as the in-process bus.
 *
 * Topology: one durable topic exchange `<namespace>.bus`, routing key = topic. A named consumer group is a
 * durable queue `<namespace>.<topic>.<group>` bound to its topic (so it keeps messages while no member is
 * connected); an anonymous subscription is an exclusive, auto-deleted queue of its own.
 *
 * `at-least-once` (default): persistent messages, publisher confirms (publish resolves once the broker has
 * the message), manual acks after the handler finished, `prefetch` messages in flight per subscription.
 * `at-most-once` (the unsafe setting, for failing twins): transient messages, no confirms, auto-ack on
 * delivery — what a bus configured without confirms and acks does, losing messages on every failure.
 *
 * The connection recovers by itself (exponential back-off with jitter, amqplib's recovery): publishers wait
 * for it up to `connectTimeoutMs`, subscriptions are re-declared and re-consumed on every reconnect, and
 * whatever a lost connection left unacknowledged the broker delivers again (`redelivered: true`).
 * Each subscription handles one message at a time, in delivery order.
 *
 * `seq` comes from a shared sequence (the database), so every process numbers a topic's messages from one
 * counter. Queue depth and consumers come from the broker (`checkQueue`, no management plugin).
 */
import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { TOPICS, type BusAdapter, type BusHandler, type BusMessage, type Subscription, type Topic, type TopicStats } from '../bus.ts';
import { sleep } from '../sleep.ts';
import { toError } from '../../shared/errors.ts';
import { envelope, parseEnvelope } from './amqp-envelope.ts';
import { BusUnavailableError, withTimeout, type AmqpBusOptions } from './amqp-options.ts';

interface Sub {
  readonly topic: Topic;
  readonly group: string | undefined;
  readonly handler: BusHandler;
  readonly queue: string;
  channel: Channel | undefined;
  /** Generation of the connection the channel belongs to; acks on an older one are skipped. */
  gen: number;
  closed: boolean;
  /** Deliveries waiting for this subscription's handler (one at a time). */
  readonly pending: Array<{ m: BusMessage; raw: ConsumeMessage; gen: number }>;
  busy: boolean;
}

interface Counts {
  published: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

interface QueueView {
  depth: number;
  consumers: number;
}

/** What `hold()` waits for: the next delivery that finished its handler and is kept unacknowledged. */
interface HoldRequest {
  resolve: (m: BusMessage) => void;
}

export class AmqpBus implements BusAdapter {
  private readonly exchange: string;
  private model: ChannelModel | undefined;
  private publishChannel: Channel | ConfirmChannel | undefined;
  private statsChannel: Channel | undefined;
  private gen = 0;
  private closed = false;
  private readonly subs = new Set<Sub>();
  /** Named groups declared (or subscribed) here: their queues are re-declared on every connect. */
  private readonly groups = new Map<string, { topic: Topic; queue: string }>();
  private readonly counts = new Map<Topic, Counts>();
  private readonly queues = new Map<string, QueueView>();
  /** Per topic: publishedAt of the message most recently handed to a handler here, and when depth was last seen rising from 0. */
  private readonly lastDelivered = new Map<Topic, number>();
  private readonly backlogSince = new Map<Topic, number>();
  private readonly waiters: Array<() => void> = [];
  private readonly publishLocks = new Map<Topic, Promise<unknown>>();
  private holds: HoldRequest[] = [];
  private inflightCount = 0;
  private poller: NodeJS.Timeout | undefined;
  private anon = 0;

  private constructor(
    private readonly o: AmqpBusOptions,
    private readonly conn: RecoveringChannelModel,
  ) {
    this.exchange = `${o.namespace}.bus`;
    for (const t of TOPICS) this.counts.set(t, { published: 0, delivered: 0, dropped: 0, duplicated: 0 });
  }

  /**
   * Connects (a few quick retries, then a clear error naming the broker) and keeps the connection up from
   * then on. `redactedUrl` is what error messages show.
   */
  static async connect(o: AmqpBusOptions, redactedUrl: string): Promise<AmqpBus> {
    // Recovery runs `setup` on every connection; the first runs after `bus` exists (connect() returns first).
    const holder: { bus?: AmqpBus } = {};
    const url = new URL(o.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(o.heartbeatS));
    // amqplib is loaded only when a broker is configured.
    const { connect } = await import('amqplib');
    const conn = await connect(url.toString(), {
      timeout: 5000,
      recovery: {
        initialDelay: 200,
        maxDelay: 5000,
        initialMaxRetries: 3,
        waitForConnect: false,
        setup: async (model: ChannelModel) => {
          // amqplib listens for this connection's errors only once setup is done: a broker that goes away
          // meanwhile (a restart, a partition) would otherwise end the process with an unhandled 'error'
          // event. The close that follows fails the setup, and recovery tries again.
          model.on('error', () => undefined);
          if (holder.bus !== undefined) await holder.bus.setup(model);
        },
      },
    });
    const b = new AmqpBus(o, conn);
    holder.bus = b;
    conn.on('error', () => undefined); // the close that follows is what matters; recovery reconnects
    conn.on('disconnect', (e: Error) => {
      b.lost(e);
    });
    conn.on('reconnect-failed', (e: Error) => {
      b.o.onError(new Error(`RabbitMQ bus gave up reconnecting: ${e.message}`));
    });
    try {
      await conn.waitForConnect();
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw new Error(`RabbitMQ at ${redactedUrl} does not answer (${toError(e).message}): start the broker or fix AMQP_URL`);
    }
    b.poller = setInterval(() => {
      void b.poll();
    }, 1000);
    b.poller.unref();
    return b;
  }

  /** Runs on every (re)connection before it is handed out: exchange, group queues, consumers. */
  private async setup(model: ChannelModel): Promise<void> {
    const gen = this.gen + 1;
    const safe = this.o.delivery === 'at-least-once';
    const pub = safe ? await model.createConfirmChannel() : await model.createChannel();
    pub.on('error', () => undefined);
    await pub.assertExchange(this.exchange, 'topic', { durable: true });
    for (const g of this.groups.values()) await this.declareQueue(pub, g.topic, g.queue, true);
    const stats = await model.createChannel();
    stats.on('error', () => undefined);
    this.gen = gen;
    this.model = model;
    this.publishChannel = pub;
    this.statsChannel = stats;
    for (const s of this.subs) await this.consume(model, s, gen);
    this.o.onState?.('connected', `generation ${gen}`);
    for (const w of this.waiters.splice(0)) w();
  }

  private lost(e: Error): void {
    this.model = undefined;
    this.publishChannel = undefined;
    this.statsChannel = undefined;
    for (const s of this.subs) {
      s.channel = undefined;
      // Unacknowledged deliveries of the lost connection come back from the broker: handling the local
      // copies too would run them twice. (at-most-once: the broker already forgot them, so they stay.)
      if (this.o.delivery === 'at-least-once') s.pending.length = 0;
    }
    if (!this.closed) this.o.onState?.('disconnected', e.message);
  }

  private async declareQueue(ch: Channel, topic: Topic, queue: string, durable: boolean): Promise<string> {
    const q = durable
      ? await ch.assertQueue(queue, { durable: true })
      : await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await ch.bindQueue(q.queue, this.exchange, topic);
    return q.queue;
  }

  private async consume(model: ChannelModel, s: Sub, gen: number): Promise<void> {
    if (s.closed) return;
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    const safe = this.o.delivery === 'at-least-once';
    if (safe) await ch.prefetch(this.o.prefetch);
    const queue = await this.declareQueue(ch, s.topic, s.queue, s.group !== undefined);
    s.channel = ch;
    s.gen = gen;
    await ch.consume(
      queue,
      (raw) => {
        if (raw === null) return; // cancelled by the broker (queue deleted): the next connect re-consumes
        const m = parseEnvelope(raw);
        if (m === undefined) {
          if (safe) ch.ack(raw); // not ours: drop it rather than loop on it
          return;
        }
        s.pending.push({ m, raw, gen });
        void this.drain(s);
      },
      { noAck: !safe },
    );
  }

  private async drain(s: Sub): Promise<void> {
    if (s.busy) return;
    s.busy = true;
    try {
      for (let next = s.pending.shift(); next !== undefined; next = s.pending.shift()) {
        if (s.closed || this.closed) return;
        await this.handle(s, next.m, next.raw, next.gen);
      }
    } finally {
      s.busy = false;
    }
  }

  private async handle(s: Sub, m: BusMessage, raw: ConsumeMessage, gen: number): Promise<void> {
    const safe = this.o.delivery === 'at-least-once';
    this.inflightCount += 1;
    try {
      await sleep(this.o.faults().slowConsumerMs);
      if (s.closed || this.closed) return; // unacked: the broker gives it to another member
      const c = this.counts.get(m.topic);
      if (c !== undefined) c.delivered += 1;
      this.lastDelivered.set(m.topic, m.publishedAt);
      let failed: unknown;
      try {
        await s.handler(m);
      } catch (e) {
        failed = e;
      }
      const hold = this.holds.shift();
      if (hold !== undefined) {
        // Kept unacknowledged on purpose until the process is killed (the consumer-crash fault).
        hold.resolve(m);
        await new Promise<never>(() => undefined);
      }
      if (!safe) {
        if (failed !== undefined) this.o.onError(failed, m);
        return;
      }
      const ch = s.channel;
      if (ch === undefined || s.gen !== gen) return; // that connection is gone: the broker redelivers
      try {
        if (failed === undefined) ch.ack(raw);
        else if (!m.redelivered) {
          // One more try (on any member) before giving up on it.
          this.o.onError(failed, m);
          ch.nack(raw, false, true);
        } else {
          this.o.onError(failed, m);
          ch.ack(raw);
        }
      } catch {
        // The channel closed under us: the message is redelivered.
      }
    } finally {
      this.inflightCount -= 1;
    }
  }

  private waitForConnection(deadline: number): Promise<void> {
    if (this.publishChannel !== undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(done);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new BusUnavailableError(`the RabbitMQ bus has no connection (waited ${this.o.connectTimeoutMs} ms)`));
        },
        Math.max(0, deadline - Date.now()),
      );
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  /** Serializes number-then-send per topic, so this process sends a topic's messages in `seq` order. */
  private locked<T>(topic: Topic, fn: () => Promise<T>): Promise<T> {
    const prev = this.publishLocks.get(topic) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.publishLocks.set(topic, tail);
    void tail.then(() => {
      if (this.publishLocks.get(topic) === tail) this.publishLocks.delete(topic);
    });
    return run;
  }

  async publish(topic: Topic, payload: unknown, key: string | null = null): Promise<BusMessage> {
    if (this.closed) throw new BusUnavailableError('the bus is closed');
    const safe = this.o.delivery === 'at-least-once';
    const deadline = Date.now() + this.o.connectTimeoutMs;
    const c = this.counts.get(topic);
    const { m, confirmed } = await this.locked(topic, async () => {
      let ch = this.publishChannel;
      while (ch === undefined) {
        if (this.closed) throw new BusUnavailableError('the bus is closed');
        await this.waitForConnection(deadline);
        ch = this.publishChannel;
      }
      const seq = await this.o.sequence(topic);
      const msg: BusMessage = { id: `msg_${randomUUID()}`, topic, seq, publishedAt: Date.now(), key, payload };
      const f = this.o.faults();
      if (f.busDropRate > 0 && Math.random() < f.busDropRate) {
        if (c !== undefined) c.dropped += 1;
        return { m: msg, confirmed: Promise.resolve() };
      }
      const copies = f.busDuplicateRate > 0 && Math.random() < f.busDuplicateRate ? 2 : 1;
      if (copies === 2 && c !== undefined) c.duplicated += 1;
      const body = envelope(msg);
      const opts = { persistent: safe, messageId: msg.id, contentType: 'application/json', timestamp: Math.floor(msg.publishedAt / 1000) };
      const sent: Array<Promise<void>> = [];
      for (let i = 0; i < copies; i++) {
        if (safe) {
          const confirm = ch as ConfirmChannel;
          sent.push(
            new Promise<void>((resolve, reject) => {
              try {
                confirm.publish(this.exchange, topic, body, opts, (err: unknown) => {
                  if (err === null || err === undefined) resolve();
                  else reject(new BusUnavailableError(`RabbitMQ did not confirm message ${msg.id}: ${toError(err).message}`));
                });
              } catch (e) {
                reject(new BusUnavailableError(`cannot publish on the RabbitMQ bus: ${toError(e).message}`));
              }
            }),
          );
        } else {
          try {
            ch.publish(this.exchange, topic, body, opts);
          } catch (e) {
            throw new BusUnavailableError(`cannot publish on the RabbitMQ bus: ${toError(e).message}`);
          }
        }
      }
      return { m: msg, confirmed: Promise.all(sent).then(() => undefined) };
    });
    await withTimeout(confirmed, this.o.confirmTimeoutMs, `RabbitMQ did not confirm message ${m.id}`);
    if (c !== undefined) c.published += 1;
    return m;
  }

  declareGroup(topic: Topic, group: string): void {
    const queue = `${this.o.namespace}.${topic}.${group}`;
    if (this.groups.has(queue)) return;
    this.groups.set(queue, { topic, queue });
    const ch = this.publishChannel;
    if (ch !== undefined)
      this.declareQueue(ch, topic, queue, true).catch((e: unknown) => {
        this.o.onError(e);
      });
  }

  subscribe(topic: Topic, handler: BusHandler, opts: { group?: string } = {}): Subscription {
    const group = opts.group;
    const queue = group !== undefined ? `${this.o.namespace}.${topic}.${group}` : `anon-${++this.anon}`;
    if (group !== undefined) this.groups.set(queue, { topic, queue });
    const s: Sub = { topic, group, handler, queue, channel: undefined, gen: 0, closed: false, pending: [], busy: false };
    this.subs.add(s);
    const model = this.model;
    if (model !== undefined)
      this.consume(model, s, this.gen).catch((e: unknown) => {
        this.o.onError(e);
      });
    return {
      close: () => {
        if (s.closed) return;
        s.closed = true;
        this.subs.delete(s);
        s.pending.length = 0;
        // Closing the channel hands its unacknowledged messages back to the queue.
        s.channel?.close().catch(() => undefined);
        s.channel = undefined;
      },
    };
  }

  /** Messages handed to handlers here and not yet finished. */
  inflight(): number {
    return this.inflightCount;
  }

  /**
   * The next delivery whose handler finishes is kept unacknowledged (its subscription stops there), and the
   * returned promise resolves with it: the platform is then "mid-message" for a crash test.
   * Resolves undefined when nothing arrives within `timeoutMs`.
   */
  hold(timeoutMs: number): Promise<BusMessage | undefined> {
    return new Promise((resolve) => {
      const req: HoldRequest = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.holds = this.holds.filter((h) => h !== req);
        resolve(undefined);
      }, timeoutMs);
      this.holds.push(req);
    });
  }

  connected(): boolean {
    return this.publishChannel !== undefined;
  }

  private async poll(): Promise<void> {
    const ch = this.statsChannel;
    if (ch === undefined) return;
    const names = new Map<string, Topic>();
    for (const g of this.groups.values()) names.set(g.queue, g.topic);
    for (const name of names.keys()) {
      try {
        const q = await ch.checkQueue(name);
        this.queues.set(name, { depth: q.messageCount, consumers: q.consumerCount });
      } catch {
        return; // channel closed (queue missing or connection lost); the next connect makes a new one
      }
    }
    const now = Date.now();
    for (const topic of TOPICS) {
      const depth = this.depthOf(topic).depth;
      if (depth === 0) this.backlogSince.delete(topic);
      else if (!this.backlogSince.has(topic)) this.backlogSince.set(topic, now);
    }
  }

  private depthOf(topic: Topic): QueueView {
    let depth = 0;
    let consumers = 0;
    for (const g of this.groups.values()) {
      if (g.topic !== topic) continue;
      const v = this.queues.get(g.queue);
      if (v === undefined) continue;
      depth = Math.max(depth, v.depth);
      consumers += v.consumers;
    }
    for (const s of this.subs) if (s.topic === topic && s.group === undefined && s.channel !== undefined) consumers += 1;
    return { depth, consumers };
  }

  stats(): TopicStats[] {
    const now = Date.now();
    return TOPICS.map((topic) => {
      const c = this.counts.get(topic) ?? { published: 0, delivered: 0, dropped: 0, duplicated: 0 };
      const { depth, consumers } = this.depthOf(topic);
      let lagMs = 0;
      if (depth > 0) {
        // Age of what consumers are working through now: the newest message handed out here, or, when
        // nothing was handed out since the backlog appeared, how long the backlog has existed.
        const since = this.backlogSince.get(topic) ?? now;
        const last = this.lastDelivered.get(topic);
        lagMs = Math.max(0, now - (last !== undefined && last >= since ? last : since));
      }
      return { topic, ...c, depth, lagMs, consumers };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poller);
    for (const s of this.subs) s.closed = true;
    for (const w of this.waiters.splice(0)) w();
    await this.conn.close().catch(() => undefined);
  }
}
