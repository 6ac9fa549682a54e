/**
 * db — database latency by query class through `k6/x/sql` (xk6-sql's API): simple select, join,
 * bulk insert and a JSON / knowledge-graph query.
 *
 * Proves: P95 per query class (`db_query_duration{query_class:simple_select|join|bulk_insert|json_query}`)
 * at a fixed arrival rate per class, and the failure rate (`db_query_failed`). Raise DB_POOL and the rates to
 * find where the pool runs out (latency climbs, `dropped_iterations` appear).
 *
 * Needs from the system: a PostgreSQL or SQLite database with the reference platform's knowledge-graph tables
 * (`knowledge_nodes(id TEXT, kind, name, properties JSON, created_at)`, `knowledge_edges(src, dst, relation)`).
 * With DB_PREPARE=true (default) setup creates them if absent and seeds 200 nodes if the table is empty.
 * Rows written by the bulk-insert class have kind `agentload-bulk` and are deleted in teardown.
 * On a k6 binary this needs a build with xk6-sql and its drivers (see README, `xk6 build`).
 *
 * Variables:
 *   DB_DRIVER      sqlite3 (default) | postgres
 *   DB_DSN         required: a SQLite file path, or postgres://user:pass@host:5432/db?sslmode=disable (never logged)
 *   DB_POOL        max open connections per VU, default 4
 *   DB_PREPARE     create/seed the tables if needed, default true
 *   DB_BULK_ROWS   rows per bulk insert, default 50
 *   SIZE           smoke (default: 10 queries/s per class, bulk 2/s, 15 s) | full (100/s, bulk 10/s, 5 min)
 *   RATE, BULK_RATE, DURATION
 *   DB_RAMP_TO     when set, simple selects ramp from RATE to this rate over DURATION (ramping-arrival-rate):
 *                  the pool exhaustion point is where their latency climbs and `dropped_iterations` appear
 *   PROFILE        mvp (default) | production
 */
import exec from 'k6/execution';
import { bool, bySize, duration, int, oneOf, optional, required, size } from '../lib/config.ts';
import { errorMessage } from '../lib/k6.ts';
import { dbMetrics } from '../lib/metrics.ts';
import { openDb, type Database, type Row } from '../lib/sql.ts';
import { arrival, rampingArrival, type ScriptOptions } from '../lib/scenario.ts';
import { QUERY_CLASSES, dbThresholds, selectProfile, type QueryClass } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const DRIVER = oneOf(env, 'DB_DRIVER', ['sqlite3', 'postgres'] as const, 'sqlite3');
const DSN = required(env, 'DB_DSN', 'set DB_DSN to a SQLite file path or a postgres:// URL (DB_DRIVER=postgres)');
const POOL = int(env, 'DB_POOL', 4, { min: 1 });
const PREPARE = bool(env, 'DB_PREPARE', true);
const BULK_ROWS = int(env, 'DB_BULK_ROWS', 50, { min: 1, max: 1000 });
const RATE = int(env, 'RATE', bySize(sz, { smoke: 10, full: 100 }), { min: 1 });
const BULK_RATE = int(env, 'BULK_RATE', bySize(sz, { smoke: 2, full: 10 }), { min: 1 });
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '15s', full: '5m' }));
const pg = DRIVER === 'postgres';
const RAMP_TO = optional(env, 'DB_RAMP_TO') !== undefined ? int(env, 'DB_RAMP_TO', RATE, { min: 1 }) : undefined;

export const options: ScriptOptions = {
  scenarios: {
    simple_select:
      RAMP_TO === undefined
        ? arrival({ exec: 'simpleSelect', rate: RATE, duration: DURATION, tags: { query_class: 'simple_select' } })
        : rampingArrival({
            exec: 'simpleSelect',
            startRate: RATE,
            stages: [{ target: RAMP_TO, duration: DURATION }],
            preAllocatedVUs: Math.max(2, Math.ceil(RATE / 4)),
            maxVUs: Math.max(10, RAMP_TO * 2),
            tags: { query_class: 'simple_select' },
          }),
    join: arrival({ exec: 'join', rate: RATE, duration: DURATION, tags: { query_class: 'join' } }),
    json_query: arrival({ exec: 'jsonQuery', rate: RATE, duration: DURATION, tags: { query_class: 'json_query' } }),
    bulk_insert: arrival({ exec: 'bulkInsert', rate: BULK_RATE, duration: DURATION, tags: { query_class: 'bulk_insert' } }),
  },
  thresholds: dbThresholds(selectProfile(env), QUERY_CLASSES),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const db: Database = openDb(DRIVER, DSN, { max_open_conns: POOL });
const m = dbMetrics();

/** Placeholder n (1-based) in the driver's syntax. */
function ph(n: number): string {
  return pg ? `$${n}` : '?';
}

const JSON_TYPE = pg ? 'JSONB' : 'TEXT';
const TAGS = ['alpha', 'beta', 'gamma', 'delta'] as const;

interface Data {
  readonly ids: string[];
}

async function timed(cls: QueryClass, run: () => Promise<unknown>): Promise<void> {
  const t0 = Date.now();
  try {
    await run();
    m.duration.add(Date.now() - t0, { query_class: cls });
    m.failed.add(false, { query_class: cls });
  } catch (e) {
    m.failed.add(true, { query_class: cls });
    if (exec.scenario.iterationInTest < 3) console.error(`${cls}: ${errorMessage(e)}`);
  }
}

async function prepare(): Promise<void> {
  await db.exec(
    `CREATE TABLE IF NOT EXISTS knowledge_nodes (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, properties ${JSON_TYPE} NOT NULL, created_at BIGINT NOT NULL)`,
  );
  await db.exec(
    'CREATE TABLE IF NOT EXISTS knowledge_edges (src TEXT NOT NULL, dst TEXT NOT NULL, relation TEXT NOT NULL, PRIMARY KEY (src, dst, relation))',
  );
  const rows: Row[] = await db.query('SELECT COUNT(*) AS n FROM knowledge_nodes');
  if (Number(rows[0]?.n ?? 0) > 0) return;
  const n = 200;
  const values: string[] = [];
  const args: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const b = args.length;
    values.push(`(${ph(b + 1)}, ${ph(b + 2)}, ${ph(b + 3)}, ${ph(b + 4)}, ${ph(b + 5)})`);
    args.push(`kn_al_seed_${i}`, 'concept', `node ${i}`, JSON.stringify({ tag: TAGS[i % TAGS.length], score: i % 100 }), Date.now());
  }
  await db.exec(`INSERT INTO knowledge_nodes (id, kind, name, properties, created_at) VALUES ${values.join(', ')}`, ...args);
  const edges: string[] = [];
  const eargs: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const b = eargs.length;
    edges.push(`(${ph(b + 1)}, ${ph(b + 2)}, ${ph(b + 3)})`);
    eargs.push(`kn_al_seed_${i}`, `kn_al_seed_${(i * 7 + 1) % n}`, 'mentions');
  }
  await db.exec(`INSERT INTO knowledge_edges (src, dst, relation) VALUES ${edges.join(', ')}`, ...eargs);
}

export async function setup(): Promise<Data> {
  try {
    if (PREPARE) await prepare();
    const rows: Row[] = await db.query("SELECT id FROM knowledge_nodes WHERE kind <> 'agentload-bulk' ORDER BY id LIMIT 100");
    return { ids: rows.map((r) => String(r.id)) };
  } catch (e) {
    // Measured, not fatal: every query class will count its failures.
    console.error(`db setup against ${DRIVER} failed: ${errorMessage(e)}`);
    return { ids: [] };
  }
}

function pickId(d: Data): string {
  return d.ids[exec.scenario.iterationInTest % Math.max(1, d.ids.length)] ?? 'kn_missing';
}

export async function simpleSelect(d: Data): Promise<void> {
  const id = pickId(d);
  await timed('simple_select', async () => db.query(`SELECT id, kind, name, properties FROM knowledge_nodes WHERE id = ${ph(1)}`, id));
}

export async function join(d: Data): Promise<void> {
  const id = pickId(d);
  await timed('join', async () =>
    db.query(
      `SELECT e.relation, n.id, n.name, n.properties FROM knowledge_edges e JOIN knowledge_nodes n ON n.id = e.dst WHERE e.src = ${ph(1)}`,
      id,
    ),
  );
}

export async function jsonQuery(): Promise<void> {
  const tag = TAGS[exec.scenario.iterationInTest % TAGS.length] ?? 'alpha';
  const where = pg ? `properties->>'tag' = ${ph(1)}` : `json_extract(properties, '$.tag') = ${ph(1)}`;
  await timed('json_query', async () => db.query(`SELECT id, name FROM knowledge_nodes WHERE ${where} LIMIT 50`, tag));
}

export async function bulkInsert(): Promise<void> {
  const values: string[] = [];
  const args: unknown[] = [];
  const prefix = `kn_al_${exec.vu.idInTest}_${exec.scenario.iterationInTest}_${Date.now().toString(36)}`;
  for (let i = 0; i < BULK_ROWS; i++) {
    const b = args.length;
    values.push(`(${ph(b + 1)}, ${ph(b + 2)}, ${ph(b + 3)}, ${ph(b + 4)}, ${ph(b + 5)})`);
    args.push(`${prefix}_${i}`, 'agentload-bulk', `bulk ${i}`, JSON.stringify({ tag: 'bulk', i }), Date.now());
  }
  await timed('bulk_insert', async () =>
    db.exec(`INSERT INTO knowledge_nodes (id, kind, name, properties, created_at) VALUES ${values.join(', ')}`, ...args),
  );
}

export async function teardown(): Promise<void> {
  try {
    await db.exec("DELETE FROM knowledge_nodes WHERE kind = 'agentload-bulk'");
  } catch (e) {
    console.warn(`db teardown: ${errorMessage(e)}`);
  }
  await db.close();
}
