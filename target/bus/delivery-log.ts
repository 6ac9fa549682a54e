/**
 * The delivery log: a consumer group (`delivery-log`) on the chosen topics whose members write every
 * message they receive to `bus_deliveries` before acknowledging it. With RabbitMQ and several processes
 * it is the durable record of what the platform's consumers actually got — what `bus-durability` compares
 * with what its publishers were told was accepted (loss, duplicates, order, recovery after each fault).
 *
 * Every node declares the group's queues (so messages wait while no consumer runs); only nodes that run
 * worker consumers (`all`, `worker`) consume. Off unless `BUS_DELIVERY_LOG` names topics: a long soak
 * would otherwise grow the table without end.
 */
import type { BusAdapter, BusMessage, Subscription, Topic } from '../bus.ts';
import { readJson, type Db, type Param } from '../db/db.ts';

export const DELIVERY_LOG_GROUP = 'delivery-log';

export interface Delivery {
  /** Log position (increasing in the order deliveries were written). */
  id: number;
  msgId: string;
  topic: string;
  seq: number;
  key: string | null;
  publishedAt: number;
  deliveredAt: number;
  redelivered: boolean;
  /** The node that received it (`TARGET_NODE_ID`). */
  consumer: string;
  payload: unknown;
}

export interface DeliveryQuery {
  key?: string | undefined;
  topic?: string | undefined;
  /** Only messages published at or after this epoch ms. */
  publishedAfter?: number | undefined;
  /** Only log positions after this one (paging). */
  after?: number | undefined;
  limit: number;
}

export class DeliveryLog {
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly db: Db,
    private readonly bus: BusAdapter,
    readonly topics: readonly Topic[],
    private readonly consumer: string,
  ) {}

  /** Declares the group on every topic; subscribes when `consume`. */
  start(consume: boolean): void {
    for (const t of this.topics) {
      this.bus.declareGroup(t, DELIVERY_LOG_GROUP);
      if (consume) this.subs.push(this.bus.subscribe(t, (m) => this.record(m), { group: DELIVERY_LOG_GROUP }));
    }
  }

  private async record(m: BusMessage): Promise<void> {
    await this.db.run(
      'INSERT INTO bus_deliveries (msg_id, topic, seq, msg_key, published_at, delivered_at, redelivered, consumer, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        m.id,
        m.topic,
        m.seq,
        m.key,
        m.publishedAt,
        Date.now(),
        m.redelivered === true ? 1 : 0,
        this.consumer,
        JSON.stringify(m.payload ?? null),
      ],
    );
  }

  async query(q: DeliveryQuery): Promise<{ items: Delivery[]; next: number | null }> {
    const conds: string[] = [];
    const p: Param[] = [];
    if (q.key !== undefined) {
      conds.push('msg_key = ?');
      p.push(q.key);
    }
    if (q.topic !== undefined) {
      conds.push('topic = ?');
      p.push(q.topic);
    }
    if (q.publishedAfter !== undefined) {
      conds.push('published_at >= ?');
      p.push(q.publishedAfter);
    }
    if (q.after !== undefined) {
      conds.push('id > ?');
      p.push(q.after);
    }
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    const rows = await this.db.all(`SELECT * FROM bus_deliveries ${where} ORDER BY id LIMIT ?`, [...p, q.limit + 1]);
    const items = rows.slice(0, q.limit).map((r): Delivery => ({
      id: Number(r.id),
      msgId: String(r.msg_id),
      topic: String(r.topic),
      seq: Number(r.seq),
      key: typeof r.msg_key === 'string' ? r.msg_key : null,
      publishedAt: Number(r.published_at),
      deliveredAt: Number(r.delivered_at),
      redelivered: Number(r.redelivered) === 1,
      consumer: String(r.consumer),
      payload: readJson(r.payload),
    }));
    const last = items[items.length - 1];
    return { items, next: rows.length > q.limit && last !== undefined ? last.id : null };
  }

  close(): void {
    for (const s of this.subs.splice(0)) s.close();
  }
}
