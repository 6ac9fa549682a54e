/**
 * Per-topic message numbers shared by every process of the platform: one row per topic in
 * `bus_sequences`, bumped atomically (an upsert with RETURNING works on SQLite ≥ 3.35 and PostgreSQL),
 * so API instances publishing on one topic never hand out the same `seq` and a restarted process
 * continues where the topic was.
 */
import type { Db } from '../db/db.ts';
import type { Topic } from '../bus.ts';

export type SequenceSource = (topic: Topic) => Promise<number>;

export function dbSequence(db: Db): SequenceSource {
  return async (topic) => {
    const rows = await db.all(
      'INSERT INTO bus_sequences (topic, seq) VALUES (?, 1) ON CONFLICT (topic) DO UPDATE SET seq = bus_sequences.seq + 1 RETURNING seq',
      [topic],
    );
    const seq = Number(rows[0]?.seq);
    if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`bus sequence for ${topic} came back as ${JSON.stringify(rows[0]?.seq)}`);
    return seq;
  };
}
