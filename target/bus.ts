/**
 * The event bus: an adapter interface (so a RabbitMQ adapter can follow) and the in-process adapter.
 *
 * Semantics: every subscription belongs to a consumer group (its own group unless `group` is given);
 * each group has one FIFO queue and sees every message of its topic once; subscriptions in the same
 * group compete (round robin). Each subscription handles one message at a time.
 */
import { randomUUID } from 'node:crypto';
import type { Knobs } from './config.ts';
import { sleep } from './sleep.ts';

export const TOPICS = ['slack_events', 'task_submissions', 'agent_results', 'scheduled_tasks'] as const;
export type Topic = (typeof TOPICS)[number];

export function isTopic(s: string): s is Topic {
  return (TOPICS as readonly string[]).includes(s);
}

export interface BusMessage {
  readonly id: string;
  readonly topic: Topic;
  /** Per topic, from 1. A dropped message still takes its number. */
  readonly seq: number;
  /** Epoch ms. */
  readonly publishedAt: number;
  readonly key: string | null;
  readonly payload: unknown;
  /** Set by a broker-backed bus on a message delivered again (after a lost connection or a crashed consumer). */
  readonly redelivered?: boolean;
}

export interface TopicStats {
  topic: Topic;
  published: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Messages waiting in the fullest consumer-group queue. */
  depth: number;
  /** Age in ms of the oldest waiting message, 0 when nothing waits. */
  lagMs: number;
  consumers: number;
}

export type BusHandler = (m: BusMessage) => void | Promise<void>;

export interface Subscription {
  close(): void;
}

export interface BusAdapter {
  publish(topic: Topic, payload: unknown, key?: string | null): Promise<BusMessage>;
  subscribe(topic: Topic, handler: BusHandler, opts?: { group?: string }): Subscription;
  /** Creates a named consumer group's queue now, so messages published before its first consumer wait for it. */
  declareGroup(topic: Topic, group: string): void;
  stats(): TopicStats[];
  close(): Promise<void>;
  /** Broker-backed buses (target/bus/amqp.ts): messages handed to handlers and not finished yet. */
  inflight?(): number;
  /** Broker-backed buses: keep the next handled message unacknowledged, for a crash test (target/bus/amqp.ts). */
  hold?(timeoutMs: number): Promise<BusMessage | undefined>;
}

/** The fault knobs the bus reads on every publish and delivery. */
export type BusFaults = Pick<Knobs, 'slowConsumerMs' | 'busDropRate' | 'busDuplicateRate'>;

interface Consumer {
  handler: BusHandler;
  busy: boolean;
  closed: boolean;
}

interface Group {
  name: string;
  queue: BusMessage[];
  head: number;
  consumers: Consumer[];
  next: number;
}

interface TopicState {
  seq: number;
  published: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  groups: Map<string, Group>;
}

export class InProcessBus implements BusAdapter {
  private readonly topics = new Map<Topic, TopicState>();
  private closed = false;
  private anon = 0;

  constructor(
    private readonly faults: () => BusFaults,
    private readonly onError: (e: unknown, m: BusMessage) => void = () => undefined,
    private readonly random: () => number = Math.random,
  ) {
    for (const t of TOPICS) this.topics.set(t, { seq: 0, published: 0, delivered: 0, dropped: 0, duplicated: 0, groups: new Map() });
  }

  private state(topic: Topic): TopicState {
    const s = this.topics.get(topic);
    if (s === undefined) throw new Error(`unknown bus topic ${topic}`);
    return s;
  }

  publish(topic: Topic, payload: unknown, key: string | null = null): Promise<BusMessage> {
    const s = this.state(topic);
    s.seq += 1;
    s.published += 1;
    const m: BusMessage = { id: `msg_${randomUUID()}`, topic, seq: s.seq, publishedAt: Date.now(), key, payload };
    const f = this.faults();
    if (f.busDropRate > 0 && this.random() < f.busDropRate) {
      s.dropped += 1;
      return Promise.resolve(m);
    }
    const copies = f.busDuplicateRate > 0 && this.random() < f.busDuplicateRate ? 2 : 1;
    if (copies === 2) s.duplicated += 1;
    for (const g of s.groups.values()) {
      for (let i = 0; i < copies; i++) g.queue.push(m);
      this.pump(s, g);
    }
    return Promise.resolve(m);
  }

  declareGroup(topic: Topic, group: string): void {
    this.group(this.state(topic), group);
  }

  private group(s: TopicState, name: string): Group {
    let g = s.groups.get(name);
    if (g === undefined) {
      g = { name, queue: [], head: 0, consumers: [], next: 0 };
      s.groups.set(name, g);
    }
    return g;
  }

  subscribe(topic: Topic, handler: BusHandler, opts: { group?: string } = {}): Subscription {
    const s = this.state(topic);
    const name = opts.group ?? `anon-${++this.anon}`;
    const group = this.group(s, name);
    const c: Consumer = { handler, busy: false, closed: false };
    group.consumers.push(c);
    this.pump(s, group);
    return {
      close: () => {
        c.closed = true;
        group.consumers = group.consumers.filter((x) => x !== c);
        // A named group keeps its queue (messages wait for the next consumer); an anonymous one goes away.
        if (group.consumers.length === 0 && opts.group === undefined) s.groups.delete(name);
      },
    };
  }

  private pump(s: TopicState, g: Group): void {
    while (g.head < g.queue.length && !this.closed) {
      const idle = this.pickIdle(g);
      if (idle === undefined) return;
      const m = g.queue[g.head];
      if (m === undefined) return;
      g.head += 1;
      if (g.head > 1024 && g.head * 2 > g.queue.length) {
        g.queue = g.queue.slice(g.head);
        g.head = 0;
      }
      idle.busy = true;
      void this.deliver(s, g, idle, m);
    }
  }

  private pickIdle(g: Group): Consumer | undefined {
    const n = g.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = g.consumers[(g.next + i) % n];
      if (c !== undefined && !c.busy && !c.closed) {
        g.next = (g.next + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private async deliver(s: TopicState, g: Group, c: Consumer, m: BusMessage): Promise<void> {
    try {
      await sleep(this.faults().slowConsumerMs);
      if (!c.closed && !this.closed) {
        s.delivered += 1;
        await c.handler(m);
      } else if (!this.closed) {
        // The consumer left while we waited: give the message back to the group.
        g.queue.splice(g.head, 0, m);
      }
    } catch (e) {
      this.onError(e, m);
    } finally {
      c.busy = false;
      this.pump(s, g);
    }
  }

  stats(): TopicStats[] {
    const now = Date.now();
    return TOPICS.map((topic) => {
      const s = this.state(topic);
      let depth = 0;
      let oldest = Infinity;
      let consumers = 0;
      for (const g of s.groups.values()) {
        depth = Math.max(depth, g.queue.length - g.head);
        const first = g.queue[g.head];
        if (first !== undefined) oldest = Math.min(oldest, first.publishedAt);
        consumers += g.consumers.length;
      }
      return {
        topic,
        published: s.published,
        delivered: s.delivered,
        dropped: s.dropped,
        duplicated: s.duplicated,
        depth,
        lagMs: oldest === Infinity ? 0 : Math.max(0, now - oldest),
        consumers,
      };
    });
  }

  close(): Promise<void> {
    this.closed = true;
    for (const s of this.topics.values()) s.groups.clear();
    return Promise.resolve();
  }
}
