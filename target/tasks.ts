/**
 * Tasks: stored, published on the bus, run by agents, results published on `agent_results`.
 * `scheduled` tasks go through `scheduled_tasks` and are moved to `task_submissions` when due.
 */
import { randomUUID } from 'node:crypto';
import type { AgentManager, AgentRuntime } from './agents.ts';
import type { BusAdapter, BusMessage } from './bus.ts';
import type { Knobs } from './config.ts';
import { TargetError } from './errors.ts';
import { sleep } from './sleep.ts';
import { TASK_MODES, TASK_STATES, type Store, type Task, type TaskMode, type TaskStatus } from './store.ts';

export interface TaskRequest {
  mode: TaskMode;
  input: unknown;
  iterations?: number | undefined;
  delayMs?: number | undefined;
  agents?: number | undefined;
}

interface Plan {
  iterations: number;
  agents: number;
  delayMs: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The plan a bus message carries, so any process (API instance or worker) can run the task. */
function planOf(v: unknown): Plan | undefined {
  if (!isRecord(v)) return undefined;
  const { iterations, agents, delayMs } = v;
  return typeof iterations === 'number' && typeof agents === 'number' && typeof delayMs === 'number'
    ? { iterations, agents, delayMs }
    : undefined;
}

function intField(body: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new TargetError(400, 'TASK_INVALID', `task field ${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates a `POST /api/tasks` body. */
export function parseTaskRequest(body: unknown): TaskRequest {
  if (!isRecord(body))
    throw new TargetError(400, 'TASK_INVALID', `task body must be a JSON object like {"mode":"autonomous"}, got ${JSON.stringify(body)}`);
  const mode = body.mode;
  if (typeof mode !== 'string' || !(TASK_MODES as readonly string[]).includes(mode)) {
    throw new TargetError(400, 'TASK_INVALID', `task mode must be one of ${TASK_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  return {
    mode: mode as TaskMode,
    input: body.input ?? null,
    iterations: intField(body, 'iterations', 1, 100),
    delayMs: intField(body, 'delayMs', 0, 3_600_000),
    agents: intField(body, 'agents', 1, 20),
  };
}

export interface TaskDefaults {
  workMs: number;
  collaborativeAgents: number;
  continuousIterations: number;
}

export class TaskEngine {
  private readonly plans = new Map<string, Plan>();
  private readonly counts: Record<TaskStatus, number> = { queued: 0, running: 0, completed: 0, failed: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly finishedListeners: Array<(t: Task) => void> = [];

  constructor(
    private readonly store: Store,
    private readonly bus: BusAdapter,
    private readonly agents: () => AgentManager,
    private readonly knobs: () => Knobs,
    private readonly defaults: TaskDefaults,
    private readonly onChange: (t: Task) => void,
  ) {
    this.bus.declareGroup('task_submissions', 'agents');
    this.bus.subscribe(
      'scheduled_tasks',
      (m) => {
        this.schedule(m);
      },
      { group: 'scheduler' },
    );
  }

  async init(): Promise<void> {
    const c = await this.store.taskCounts();
    for (const s of TASK_STATES) this.counts[s] = c[s] ?? 0;
  }

  onFinished(fn: (t: Task) => void): void {
    this.finishedListeners.push(fn);
  }

  stateCounts(): Record<TaskStatus, number> {
    return { ...this.counts };
  }

  async submit(req: TaskRequest): Promise<Task> {
    const t: Task = {
      id: `tsk_${randomUUID()}`,
      mode: req.mode,
      status: 'queued',
      input: req.input,
      result: null,
      agentIds: [],
      error: null,
      createdAt: Date.now(),
      startedAt: null,
      completedAt: null,
    };
    const plan: Plan = {
      iterations: req.iterations ?? this.defaults.continuousIterations,
      agents: req.agents ?? this.defaults.collaborativeAgents,
      delayMs: req.delayMs ?? 1000,
    };
    await this.store.insertTask(t);
    await this.store.addTaskLog(t.id, 'queued', { mode: t.mode });
    this.plans.set(t.id, plan);
    this.counts.queued += 1;
    this.onChange(t);
    if (t.mode === 'scheduled') {
      await this.bus.publish('scheduled_tasks', { taskId: t.id, mode: t.mode, runAt: t.createdAt + plan.delayMs, plan }, t.id);
    } else {
      await this.bus.publish('task_submissions', { taskId: t.id, mode: t.mode, plan }, t.id);
    }
    return t;
  }

  private schedule(m: BusMessage): void {
    const p = isRecord(m.payload) ? m.payload : {};
    const taskId = typeof p.taskId === 'string' ? p.taskId : undefined;
    const runAt = typeof p.runAt === 'number' ? p.runAt : Date.now();
    if (taskId === undefined) return;
    this.later(Math.max(0, runAt - Date.now()), { taskId, mode: 'scheduled', plan: p.plan }, taskId);
  }

  /** Publishes on `task_submissions` after `ms`; a broker that is away (RabbitMQ) gets it again every second. */
  private later(ms: number, payload: Record<string, unknown>, key: string): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.bus.publish('task_submissions', payload, key).catch(() => {
        this.later(1000, payload, key);
      });
    }, ms);
    this.timers.add(timer);
  }

  private move(t: Task, to: TaskStatus): void {
    // Per process: in a cluster another process may have counted the task as queued.
    this.counts[t.status] = Math.max(0, this.counts[t.status] - 1);
    this.counts[to] += 1;
    t.status = to;
    this.onChange(t);
  }

  /** Runs one `task_submissions` message on `agent` (called by the agent's bus consumer). */
  async handle(agent: AgentRuntime, m: BusMessage): Promise<void> {
    const p = isRecord(m.payload) ? m.payload : {};
    const taskId = typeof p.taskId === 'string' ? p.taskId : undefined;
    if (taskId === undefined) return;
    const plan = this.plans.get(taskId) ?? planOf(p.plan);
    if (plan === undefined) return; // unknown
    this.plans.delete(taskId);
    const t = await this.store.getTask(taskId);
    if (t === undefined) return;
    // Claimed once across processes; a task whose process died while running it comes back redelivered.
    const claimed =
      t.status === 'queued' &&
      (await this.store.db.run("UPDATE tasks SET status = 'running' WHERE id = ? AND status = 'queued'", [t.id])) === 1;
    const takenOver = !claimed && t.status === 'running' && m.redelivered === true;
    if (!claimed && !takenOver) return; // already taken (a duplicated message) or finished
    if (takenOver) await this.store.addTaskLog(t.id, 'redelivered', { agentId: agent.agent.id });

    const k = this.knobs();
    const work = this.defaults.workMs;
    t.startedAt = Date.now();
    t.agentIds = [agent.agent.id];
    this.move(t, 'running');
    await this.store.addTaskLog(t.id, 'started', { agentId: agent.agent.id });
    await this.store.updateTask(t);

    let output: unknown;
    if (t.mode === 'collaborative') {
      const helpers = this.agents()
        .healthy()
        .filter((a) => a !== agent)
        .slice(0, Math.max(0, plan.agents - 1));
      t.agentIds = [agent.agent.id, ...helpers.map((h) => h.agent.id)];
      const parts = await Promise.all(
        t.agentIds.map(async (id, i) => {
          await sleep(work);
          return `part ${i + 1} by ${id}`;
        }),
      );
      await sleep(work); // the coordinator merges the parts
      output = { summary: `merged ${parts.length} contributions`, parts };
    } else if (t.mode === 'continuous') {
      const steps: string[] = [];
      for (let i = 1; i <= plan.iterations; i++) {
        await sleep(work);
        steps.push(`step ${i}`);
        await this.bus.publish('agent_results', { taskId: t.id, mode: t.mode, step: i, final: false, agentIds: t.agentIds }, t.id);
      }
      output = { steps };
    } else {
      await sleep(work);
      output = { answer: `done by ${agent.agent.name}` };
    }

    const failed = k.taskFailureRate > 0 && Math.random() < k.taskFailureRate;
    t.completedAt = Date.now();
    if (failed) {
      t.error = 'injected task failure (knob taskFailureRate)';
      t.result = null;
    } else {
      t.result = output;
    }
    agent.tasksCompleted += 1;
    this.move(t, failed ? 'failed' : 'completed');
    // Log first: whoever reads the task as finished must also find its final log entry.
    await this.store.addTaskLog(t.id, t.status, { agentIds: t.agentIds, error: t.error });
    await this.store.updateTask(t);
    await this.store.addLog(agent.agent.id, failed ? 'error' : 'info', `task ${t.id} (${t.mode}) ${t.status}`);
    await this.bus.publish(
      'agent_results',
      {
        taskId: t.id,
        mode: t.mode,
        status: t.status,
        agentIds: t.agentIds,
        output: t.result,
        error: t.error,
        final: true,
        durationMs: t.completedAt - t.createdAt,
      },
      t.id,
    );
    for (const fn of this.finishedListeners) fn(t);
  }

  async view(id: string): Promise<Task & { durationMs: number | null; log: unknown[] }> {
    const t = await this.store.getTask(id);
    if (t === undefined)
      throw new TargetError(404, 'TASK_NOT_FOUND', `task ${JSON.stringify(id)} does not exist: create one with POST /api/tasks`);
    const log = await this.store.taskLog(id);
    return { ...t, durationMs: t.completedAt === null ? null : t.completedAt - t.createdAt, log };
  }

  close(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
