/**
 * Agent life cycle: stopped → starting → healthy (after the start-up delay knob). A healthy agent holds
 * its working memory and consumes `task_submissions` in the shared `agents` consumer group.
 */
import type { BusAdapter, BusMessage, Subscription } from './bus.ts';
import type { Knobs } from './config.ts';
import { TargetError } from './errors.ts';
import { AGENT_STATES, ROLES, newAgent, type Agent, type AgentStatus, type Store } from './store.ts';

export interface AgentRuntime {
  agent: Agent;
  busy: boolean;
  tasksCompleted: number;
  memory: Buffer | null;
  timer: NodeJS.Timeout | null;
  sub: Subscription | null;
}

export interface AgentStatusView {
  id: string;
  name: string;
  status: AgentStatus;
  startedAt: number | null;
  healthyAt: number | null;
  uptimeMs: number;
  busy: boolean;
  tasksCompleted: number;
  memoryBytes: number;
}

export type TaskHandler = (agent: AgentRuntime, m: BusMessage) => Promise<void>;

export class AgentManager {
  private readonly agents = new Map<string, AgentRuntime>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly bus: BusAdapter,
    private readonly knobs: () => Knobs,
    private readonly memoryBytes: number,
    private readonly onTask: TaskHandler,
    private readonly onChange: (a: Agent) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Loads every agent from the database and starts it. */
  async load(): Promise<void> {
    for (const a of await this.store.allAgents()) {
      this.agents.set(a.id, { agent: { ...a, status: 'stopped' }, busy: false, tasksCompleted: 0, memory: null, timer: null, sub: null });
    }
    for (const id of this.agents.keys()) await this.start(id);
  }

  async spawn(count: number, role: string | undefined, namePrefix: string | undefined): Promise<Agent[]> {
    const base = this.agents.size;
    const created = Array.from({ length: count }, (_, i) =>
      newAgent(`${namePrefix ?? 'agent'}-${base + i + 1}`, role ?? ROLES[(base + i) % ROLES.length] ?? 'researcher'),
    );
    await this.store.insertAgents(created);
    for (const a of created) this.agents.set(a.id, { agent: a, busy: false, tasksCompleted: 0, memory: null, timer: null, sub: null });
    for (const a of created) await this.start(a.id);
    return created.map((a) => ({ ...a }));
  }

  private get(id: string): AgentRuntime {
    const r = this.agents.get(id);
    if (r === undefined)
      throw new TargetError(404, 'AGENT_NOT_FOUND', `agent ${JSON.stringify(id)} does not exist: list agents with GET /api/agents`);
    return r;
  }

  private set(r: AgentRuntime, status: AgentStatus, now: number): void {
    r.agent.status = status;
    if (status === 'starting') {
      r.agent.startedAt = now;
      r.agent.healthyAt = null;
    }
    if (status === 'healthy') r.agent.healthyAt = now;
    this.onChange(r.agent);
    this.store
      .updateAgentState(r.agent)
      .then(() => this.store.addLog(r.agent.id, 'info', `agent ${status}`))
      .catch(this.onError);
  }

  /** Starts a stopped or failed agent; returns its status after the call. */
  async start(id: string): Promise<AgentStatus> {
    const r = this.get(id);
    if (r.agent.status === 'healthy' || r.agent.status === 'starting' || this.closed) return r.agent.status;
    this.set(r, 'starting', Date.now());
    const k = this.knobs();
    const delay = k.agentStartDelayMs + Math.random() * k.agentStartJitterMs;
    r.timer = setTimeout(() => {
      r.timer = null;
      if (this.closed || r.agent.status !== 'starting') return;
      const rate = this.knobs().agentStartFailureRate;
      if (rate > 0 && Math.random() < rate) {
        this.set(r, 'failed', Date.now());
        return;
      }
      // Knob agentMemoryGrowthBytes: each agent also holds that much per agent already running (memory
      // superlinear in N, as a platform that shares state badly would).
      const bytes = this.memoryBytes + this.knobs().agentMemoryGrowthBytes * this.healthy().length;
      r.memory = bytes > 0 ? Buffer.alloc(bytes, 0x5a) : null;
      this.set(r, 'healthy', Date.now());
      r.sub = this.bus.subscribe('task_submissions', (m) => this.run(r, m), { group: 'agents' });
    }, delay);
    await Promise.resolve();
    return r.agent.status;
  }

  private async run(r: AgentRuntime, m: BusMessage): Promise<void> {
    r.busy = true;
    try {
      await this.onTask(r, m);
    } finally {
      r.busy = false;
    }
  }

  stop(id: string): AgentStatus {
    const r = this.get(id);
    this.halt(r);
    if (r.agent.status !== 'stopped') this.set(r, 'stopped', Date.now());
    return r.agent.status;
  }

  private halt(r: AgentRuntime): void {
    if (r.timer !== null) clearTimeout(r.timer);
    r.timer = null;
    r.sub?.close();
    r.sub = null;
    r.memory = null;
  }

  status(id: string): AgentStatusView {
    const r = this.get(id);
    const a = r.agent;
    return {
      id: a.id,
      name: a.name,
      status: a.status,
      startedAt: a.startedAt,
      healthyAt: a.healthyAt,
      uptimeMs: a.status === 'healthy' && a.healthyAt !== null ? Date.now() - a.healthyAt : 0,
      busy: r.busy,
      tasksCompleted: r.tasksCompleted,
      memoryBytes: r.memory?.length ?? 0,
    };
  }

  has(id: string): boolean {
    return this.agents.has(id);
  }

  healthy(): AgentRuntime[] {
    return [...this.agents.values()].filter((r) => r.agent.status === 'healthy');
  }

  counts(): Record<AgentStatus, number> {
    const out = Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as Record<AgentStatus, number>;
    for (const r of this.agents.values()) out[r.agent.status] += 1;
    return out;
  }

  close(): void {
    this.closed = true;
    for (const r of this.agents.values()) this.halt(r);
  }
}
