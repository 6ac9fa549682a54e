/** The platform's data access: typed rows over the two-dialect Db, plus the faker seed. */
import { randomUUID } from 'node:crypto';
import { faker } from '@faker-js/faker/locale/en';
import { insertMany, readJson, type Db, type Param, type Row } from './db/db.ts';

export type AgentStatus = 'stopped' | 'starting' | 'healthy' | 'failed';
export const AGENT_STATES: readonly AgentStatus[] = ['stopped', 'starting', 'healthy', 'failed'];
export type TaskMode = 'collaborative' | 'autonomous' | 'continuous' | 'scheduled';
export const TASK_MODES: readonly TaskMode[] = ['collaborative', 'autonomous', 'continuous', 'scheduled'];
export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed';
export const TASK_STATES: readonly TaskStatus[] = ['queued', 'running', 'completed', 'failed'];

export interface Agent {
  id: string;
  name: string;
  role: string;
  model: string;
  status: AgentStatus;
  createdAt: number;
  startedAt: number | null;
  healthyAt: number | null;
  properties: unknown;
}

export interface Task {
  id: string;
  mode: TaskMode;
  status: TaskStatus;
  input: unknown;
  result: unknown;
  agentIds: string[];
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
}

export interface LogEntry {
  id: number;
  at: number;
  level: string;
  message: string;
}
export interface TaskLogEntry {
  at: number;
  event: string;
  detail: unknown;
}
export interface KnowledgeNode {
  id: string;
  kind: string;
  name: string;
  properties: unknown;
  createdAt: number;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const json = (v: unknown): string => JSON.stringify(v ?? null);

function toAgent(r: Row): Agent {
  return {
    id: str(r.id),
    name: str(r.name),
    role: str(r.role),
    model: str(r.model),
    status: str(r.status) as AgentStatus,
    createdAt: num(r.created_at),
    startedAt: numOrNull(r.started_at),
    healthyAt: numOrNull(r.healthy_at),
    properties: readJson(r.properties),
  };
}

function toTask(r: Row): Task {
  const ids = readJson(r.agent_ids);
  return {
    id: str(r.id),
    mode: str(r.mode) as TaskMode,
    status: str(r.status) as TaskStatus,
    input: readJson(r.input),
    result: readJson(r.result),
    agentIds: Array.isArray(ids) ? ids.map(String) : [],
    error: r.error === null || r.error === undefined ? null : str(r.error),
    createdAt: num(r.created_at),
    startedAt: numOrNull(r.started_at),
    completedAt: numOrNull(r.completed_at),
  };
}

function toNode(r: Row): KnowledgeNode {
  return { id: str(r.id), kind: str(r.kind), name: str(r.name), properties: readJson(r.properties), createdAt: num(r.created_at) };
}

export const ROLES = ['researcher', 'planner', 'coder', 'reviewer', 'support'] as const;
export const NODE_KINDS = ['person', 'project', 'document', 'concept', 'team'] as const;
const MODELS = ['agentload-sim', 'gpt-sim-mini', 'llama-sim-8b'] as const;

export function newAgent(name: string, role: string): Agent {
  return {
    id: `agt_${randomUUID()}`,
    name,
    role,
    model: faker.helpers.arrayElement(MODELS),
    status: 'stopped',
    createdAt: Date.now(),
    startedAt: null,
    healthyAt: null,
    properties: {
      skills: faker.helpers.arrayElements(['search', 'summarise', 'plan', 'code', 'review', 'translate'], 2),
      team: faker.company.name(),
    },
  };
}

export class Store {
  constructor(readonly db: Db) {}

  async insertAgents(agents: readonly Agent[]): Promise<void> {
    await this.db.tx((q) =>
      insertMany(
        q,
        'agents',
        ['id', 'name', 'role', 'model', 'status', 'created_at', 'started_at', 'healthy_at', 'properties'],
        agents.map((a) => [a.id, a.name, a.role, a.model, a.status, a.createdAt, a.startedAt, a.healthyAt, json(a.properties)]),
      ),
    );
  }

  async updateAgentState(a: Pick<Agent, 'id' | 'status' | 'startedAt' | 'healthyAt'>): Promise<void> {
    await this.db.run('UPDATE agents SET status = ?, started_at = ?, healthy_at = ? WHERE id = ?', [
      a.status,
      a.startedAt,
      a.healthyAt,
      a.id,
    ]);
  }

  async listAgents(o: { limit: number; offset: number; status?: string | undefined }): Promise<{ items: Agent[]; total: number }> {
    const where = o.status !== undefined ? 'WHERE status = ?' : '';
    const p: Param[] = o.status !== undefined ? [o.status] : [];
    const items = (
      await this.db.all(`SELECT * FROM agents ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`, [...p, o.limit, o.offset])
    ).map(toAgent);
    const total = num((await this.db.all(`SELECT COUNT(*) AS n FROM agents ${where}`, p))[0]?.n ?? 0);
    return { items, total };
  }

  async allAgents(): Promise<Agent[]> {
    return (await this.db.all('SELECT * FROM agents ORDER BY created_at, id')).map(toAgent);
  }

  async addLog(agentId: string, level: string, message: string): Promise<void> {
    await this.db.run('INSERT INTO logs (agent_id, at, level, message) VALUES (?, ?, ?, ?)', [agentId, Date.now(), level, message]);
  }

  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  async pageLogs(agentId: string, limit: number, cursor: number | undefined): Promise<{ items: LogEntry[]; nextCursor: number | null }> {
    const rows =
      cursor === undefined
        ? await this.db.all('SELECT id, at, level, message FROM logs WHERE agent_id = ? ORDER BY id DESC LIMIT ?', [agentId, limit + 1])
        : await this.db.all('SELECT id, at, level, message FROM logs WHERE agent_id = ? AND id < ? ORDER BY id DESC LIMIT ?', [
            agentId,
            cursor,
            limit + 1,
          ]);
    const items = rows.slice(0, limit).map((r) => ({ id: num(r.id), at: num(r.at), level: str(r.level), message: str(r.message) }));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last !== undefined ? last.id : null };
  }

  async insertTask(t: Task): Promise<void> {
    await this.db.run(
      'INSERT INTO tasks (id, mode, status, input, result, agent_ids, error, created_at, started_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [t.id, t.mode, t.status, json(t.input), null, json(t.agentIds), null, t.createdAt, null, null],
    );
  }

  async updateTask(t: Task): Promise<void> {
    await this.db.run('UPDATE tasks SET status = ?, result = ?, agent_ids = ?, error = ?, started_at = ?, completed_at = ? WHERE id = ?', [
      t.status,
      t.result === null || t.result === undefined ? null : json(t.result),
      json(t.agentIds),
      t.error,
      t.startedAt,
      t.completedAt,
      t.id,
    ]);
  }

  async getTask(id: string): Promise<Task | undefined> {
    const r = (await this.db.all('SELECT * FROM tasks WHERE id = ?', [id]))[0];
    return r === undefined ? undefined : toTask(r);
  }

  async listTasks(o: { status?: string | undefined; mode?: string | undefined; limit: number }): Promise<Task[]> {
    const conds: string[] = [];
    const p: Param[] = [];
    if (o.status !== undefined) {
      conds.push('status = ?');
      p.push(o.status);
    }
    if (o.mode !== undefined) {
      conds.push('mode = ?');
      p.push(o.mode);
    }
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    return (await this.db.all(`SELECT * FROM tasks ${where} ORDER BY created_at DESC, id LIMIT ?`, [...p, o.limit])).map(toTask);
  }

  async taskCounts(): Promise<Record<string, number>> {
    const rows = await this.db.all('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status');
    return Object.fromEntries(rows.map((r) => [str(r.status), num(r.n)]));
  }

  async addTaskLog(taskId: string, event: string, detail: unknown): Promise<void> {
    await this.db.run('INSERT INTO task_log (task_id, at, event, detail) VALUES (?, ?, ?, ?)', [taskId, Date.now(), event, json(detail)]);
  }

  async taskLog(taskId: string): Promise<TaskLogEntry[]> {
    return (await this.db.all('SELECT at, event, detail FROM task_log WHERE task_id = ? ORDER BY id', [taskId])).map((r) => ({
      at: num(r.at),
      event: str(r.event),
      detail: readJson(r.detail),
    }));
  }

  async getNode(id: string): Promise<KnowledgeNode | undefined> {
    const r = (await this.db.all('SELECT * FROM knowledge_nodes WHERE id = ?', [id]))[0];
    return r === undefined ? undefined : toNode(r);
  }

  async findNodes(o: {
    kind?: string | undefined;
    key?: string | undefined;
    value?: string | undefined;
    limit: number;
  }): Promise<KnowledgeNode[]> {
    const conds: string[] = [];
    const p: Param[] = [];
    if (o.kind !== undefined) {
      conds.push('kind = ?');
      p.push(o.kind);
    }
    if (o.key !== undefined) {
      if (o.value !== undefined) {
        conds.push(`${this.db.jsonText('properties', o.key)} = ?`);
        p.push(o.value);
      } else conds.push(`${this.db.jsonText('properties', o.key)} IS NOT NULL`);
    }
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    return (await this.db.all(`SELECT * FROM knowledge_nodes ${where} ORDER BY id LIMIT ?`, [...p, o.limit])).map(toNode);
  }

  async neighbors(id: string): Promise<Array<{ relation: string; node: KnowledgeNode }>> {
    const rows = await this.db.all(
      `SELECT e.relation AS relation, n.* FROM knowledge_edges e JOIN knowledge_nodes n ON n.id = e.dst
       WHERE e.src = ? ORDER BY e.relation, n.id`,
      [id],
    );
    return rows.map((r) => ({ relation: str(r.relation), node: toNode(r) }));
  }

  async insertNodes(nodes: ReadonlyArray<{ kind: string; name: string; properties: unknown }>): Promise<string[]> {
    const now = Date.now();
    const rows = nodes.map((n) => [`kn_${randomUUID()}`, n.kind, n.name, json(n.properties ?? {}), now] as const);
    await this.db.tx((q) => insertMany(q, 'knowledge_nodes', ['id', 'kind', 'name', 'properties', 'created_at'], rows));
    return rows.map((r) => r[0]);
  }

  /** Fills an empty database with deterministic faker data. Returns whether it seeded. */
  async seed(o: { seed: number; agents: number; knowledgeNodes: number }): Promise<boolean> {
    const existing = num((await this.db.all('SELECT COUNT(*) AS n FROM agents'))[0]?.n ?? 0);
    if (existing > 0) return false;
    faker.seed(o.seed);
    const agents = Array.from({ length: o.agents }, (_, i) =>
      newAgent(`${faker.person.firstName()}-${i + 1}`, ROLES[i % ROLES.length] ?? 'researcher'),
    );
    const nodes = Array.from({ length: o.knowledgeNodes }, (_, i) => {
      const kind = NODE_KINDS[i % NODE_KINDS.length] ?? 'concept';
      return [
        `kn_seed_${String(i).padStart(6, '0')}`,
        kind,
        faker.lorem.words(2),
        json({
          owner: faker.person.fullName(),
          tag: faker.helpers.arrayElement(['alpha', 'beta', 'gamma', 'delta']),
          score: faker.number.int({ min: 0, max: 100 }),
          city: faker.location.city(),
        }),
        Date.now(),
      ] as const;
    });
    const edges = new Map<string, readonly [string, string, string]>();
    for (let i = 0; i < nodes.length && nodes.length > 1; i++) {
      for (let k = 0; k < 2; k++) {
        const j = faker.number.int({ min: 0, max: nodes.length - 1 });
        if (j === i) continue;
        const rel = faker.helpers.arrayElement(['owns', 'mentions', 'depends_on', 'member_of']);
        const src = nodes[i]?.[0] ?? '';
        const dst = nodes[j]?.[0] ?? '';
        edges.set(`${src}|${dst}|${rel}`, [src, dst, rel]);
      }
    }
    await this.insertAgents(agents);
    await this.db.tx(async (q) => {
      await insertMany(q, 'knowledge_nodes', ['id', 'kind', 'name', 'properties', 'created_at'], nodes);
      await insertMany(q, 'knowledge_edges', ['src', 'dst', 'relation'], [...edges.values()]);
      const logs: Param[][] = [];
      for (const a of agents) {
        for (let i = 0; i < 10; i++) logs.push([a.id, a.createdAt - (10 - i) * 1000, 'info', faker.hacker.phrase()]);
      }
      await insertMany(q, 'logs', ['agent_id', 'at', 'level', 'message'], logs);
    });
    return true;
  }
}
