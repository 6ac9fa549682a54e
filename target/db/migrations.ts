/**
 * One migration list, two dialects. Each migration renders its SQL for the dialect at hand;
 * times are epoch milliseconds in BIGINT columns, JSON is TEXT (SQLite) or JSONB (PostgreSQL).
 */
export type DialectName = 'sqlite' | 'postgres';

export interface Dialect {
  readonly name: DialectName;
  /** A JSON column type. */
  readonly json: string;
  /** An auto-incrementing integer primary key column definition. */
  readonly serialPk: string;
}

export const DIALECTS: Readonly<Record<DialectName, Dialect>> = {
  sqlite: { name: 'sqlite', json: 'TEXT', serialPk: 'INTEGER PRIMARY KEY AUTOINCREMENT' },
  postgres: { name: 'postgres', json: 'JSONB', serialPk: 'BIGSERIAL PRIMARY KEY' },
};

export interface Migration {
  readonly version: number;
  readonly name: string;
  up(d: Dialect): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'agents, tasks, task_log, logs',
    up: (d) => [
      `CREATE TABLE agents (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
        created_at BIGINT NOT NULL, started_at BIGINT, healthy_at BIGINT, properties ${d.json} NOT NULL)`,
      'CREATE INDEX agents_status ON agents (status)',
      `CREATE TABLE tasks (
        id TEXT PRIMARY KEY, mode TEXT NOT NULL, status TEXT NOT NULL, input ${d.json}, result ${d.json},
        agent_ids ${d.json} NOT NULL, error TEXT, created_at BIGINT NOT NULL, started_at BIGINT, completed_at BIGINT)`,
      'CREATE INDEX tasks_status ON tasks (status, mode)',
      `CREATE TABLE task_log (
        id ${d.serialPk}, task_id TEXT NOT NULL REFERENCES tasks (id), at BIGINT NOT NULL, event TEXT NOT NULL, detail ${d.json})`,
      'CREATE INDEX task_log_task ON task_log (task_id, id)',
      `CREATE TABLE logs (
        id ${d.serialPk}, agent_id TEXT NOT NULL REFERENCES agents (id), at BIGINT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL)`,
      'CREATE INDEX logs_agent ON logs (agent_id, id)',
    ],
  },
  {
    version: 2,
    name: 'knowledge graph',
    up: (d) => [
      `CREATE TABLE knowledge_nodes (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, properties ${d.json} NOT NULL, created_at BIGINT NOT NULL)`,
      'CREATE INDEX knowledge_nodes_kind ON knowledge_nodes (kind)',
      `CREATE TABLE knowledge_edges (
        src TEXT NOT NULL REFERENCES knowledge_nodes (id), dst TEXT NOT NULL REFERENCES knowledge_nodes (id),
        relation TEXT NOT NULL, PRIMARY KEY (src, dst, relation))`,
      'CREATE INDEX knowledge_edges_dst ON knowledge_edges (dst)',
    ],
  },
  {
    version: 3,
    name: 'agent state (saved by agents, cached in Redis when REDIS_URL is set)',
    up: (d) => [
      `CREATE TABLE agent_state (
        agent_id TEXT PRIMARY KEY, state ${d.json} NOT NULL, version BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 4,
    name: 'bus sequences and delivery log',
    up: (d) => [
      'CREATE TABLE bus_sequences (topic TEXT PRIMARY KEY, seq BIGINT NOT NULL)',
      `CREATE TABLE bus_deliveries (
        id ${d.serialPk}, msg_id TEXT NOT NULL, topic TEXT NOT NULL, seq BIGINT NOT NULL, msg_key TEXT,
        published_at BIGINT NOT NULL, delivered_at BIGINT NOT NULL, redelivered INTEGER NOT NULL, consumer TEXT NOT NULL, payload ${d.json})`,
      'CREATE INDEX bus_deliveries_key ON bus_deliveries (msg_key, id)',
      'CREATE INDEX bus_deliveries_published ON bus_deliveries (topic, published_at, id)',
    ],
  },
];
