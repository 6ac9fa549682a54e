/** A bus message on the wire: the JSON envelope the RabbitMQ bus publishes, and reading one back (undefined when malformed). */
import type { ConsumeMessage } from 'amqplib';
import { isTopic, type BusMessage } from '../bus.ts';

export function envelope(m: BusMessage): Buffer {
  return Buffer.from(JSON.stringify({ id: m.id, topic: m.topic, seq: m.seq, publishedAt: m.publishedAt, key: m.key, payload: m.payload }));
}

export function parseEnvelope(raw: ConsumeMessage): BusMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw.content.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (
    typeof o.id !== 'string' ||
    typeof o.topic !== 'string' ||
    !isTopic(o.topic) ||
    typeof o.seq !== 'number' ||
    typeof o.publishedAt !== 'number'
  )
    return undefined;
  return {
    id: o.id,
    topic: o.topic,
    seq: o.seq,
    publishedAt: o.publishedAt,
    key: typeof o.key === 'string' ? o.key : null,
    payload: o.payload ?? null,
    redelivered: raw.fields.redelivered,
  };
}
