/**
 * Runs the platform's processes: API instances (`api-N`, behind the balancer) and consumer workers
 * (`worker-N`), each `scripts/target.mjs` with its role, on a free loopback port, sharing the bus and the
 * database. Health-checks them, restarts one that dies unasked (automatic recovery, with back-off), and
 * kills, crashes or adds processes on request (the fault controller's scale down/up and crashes).
 *
 * Every child has an IPC channel to this process and exits when it closes, so no child outlives the
 * supervisor, however the supervisor ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TargetError } from '../errors.ts';
import { sleep } from '../sleep.ts';
import { toError } from '../../shared/errors.ts';
import type { ClusterConfig } from './config.ts';

export type ClusterRole = 'api' | 'worker';
export type NodeState = 'starting' | 'healthy' | 'unhealthy' | 'restarting' | 'crashed' | 'stopped';

export interface NodeInfo {
  readonly id: string;
  readonly role: ClusterRole;
  readonly pid: number | null;
  readonly url: string | null;
  readonly state: NodeState;
  readonly restarts: number;
  /** Epoch ms the current process was spawned. */
  readonly startedAt: number;
  /** Epoch ms it first passed a health check (since its last start), null before. */
  readonly healthyAt: number | null;
  /** Requests the balancer sent it (whole life, restarts included) and those still open. */
  readonly requests: number;
  readonly inflight: number;
  readonly proxyErrors: number;
}

export type KillWhen = 'now' | 'mid-message' | 'in-flight';

export interface KillOptions {
  readonly signal: 'SIGKILL' | 'SIGTERM';
  /** true: a crash the supervisor recovers from (restarts it); false: scale down (it stays gone). */
  readonly restart: boolean;
  /** `mid-message`: while it holds a delivered, unacknowledged message; `in-flight`: while the balancer has a request open on it. */
  readonly when: KillWhen;
}

export interface KillResult {
  readonly id: string;
  readonly pid: number;
  readonly signal: string;
  /** Epoch ms the signal was sent. */
  readonly at: number;
  readonly detail: Record<string, unknown>;
}

interface Node {
  id: string;
  role: ClusterRole;
  child: ChildProcess | undefined;
  pid: number | null;
  url: string | null;
  state: NodeState;
  restarts: number;
  startedAt: number;
  healthyAt: number | null;
  requests: number;
  inflight: number;
  proxyErrors: number;
  /** Why the current process is being ended on purpose, if it is. */
  ending: 'stop' | 'crash' | undefined;
  exited: Promise<void>;
  /** Active or passive health failures in a row. */
  failures: number;
}

const ENTRY = fileURLToPath(new URL('../../scripts/target.mjs', import.meta.url));
const LISTENING = /listening on (http:\/\/\S+)/;

export interface SupervisorOptions {
  readonly cfg: ClusterConfig;
  /** Environment every node starts with (role, id and port are added). */
  readonly env: Readonly<Record<string, string>>;
  /** Lines a node writes to stderr. */
  readonly onLine: (id: string, line: string) => void;
  readonly startTimeoutMs?: number;
}

export class Supervisor {
  private readonly nodes = new Map<string, Node>();
  private readonly counters: Record<ClusterRole, number> = { api: 0, worker: 0 };
  private closed = false;
  private health: NodeJS.Timeout | undefined;

  constructor(private readonly o: SupervisorOptions) {}

  /** Starts the first API instance alone (it migrates and seeds the shared database), then the rest. */
  async start(): Promise<void> {
    await this.add('api');
    const rest: Array<Promise<unknown>> = [];
    for (let i = 1; i < this.o.cfg.instances; i++) rest.push(this.add('api'));
    for (let i = 0; i < this.o.cfg.workers; i++) rest.push(this.add('worker'));
    await Promise.all(rest);
    this.health = setInterval(() => {
      void this.checkAll();
    }, this.o.cfg.healthIntervalMs);
    this.health.unref();
  }

  list(): NodeInfo[] {
    return [...this.nodes.values()].map((n) => ({
      id: n.id,
      role: n.role,
      pid: n.pid,
      url: n.url,
      state: n.state,
      restarts: n.restarts,
      startedAt: n.startedAt,
      healthyAt: n.healthyAt,
      requests: n.requests,
      inflight: n.inflight,
      proxyErrors: n.proxyErrors,
    }));
  }

  /** The balancer's backends: healthy API instances, or every API instance ever started when health checks are off. */
  backends(): Node[] {
    return [...this.nodes.values()].filter(
      (n) => n.role === 'api' && n.url !== null && (!this.o.cfg.balancerHealth || n.state === 'healthy'),
    );
  }

  /** Every node with a URL (admin broadcasts). */
  live(): Node[] {
    return [...this.nodes.values()].filter(
      (n) => n.url !== null && n.child !== undefined && n.state !== 'stopped' && n.state !== 'crashed',
    );
  }

  private isClosed(): boolean {
    return this.closed;
  }

  healthChecks(): boolean {
    return this.o.cfg.balancerHealth;
  }

  /** A request to `n` failed to connect: out of the rotation until a health check passes. */
  markDown(n: Node): void {
    if (!this.o.cfg.balancerHealth) return;
    if (n.state === 'healthy') n.state = 'unhealthy';
  }

  private spawnNode(n: Node): Promise<void> {
    const env: Record<string, string> = {
      ...this.o.env,
      TARGET_ROLE: n.role,
      TARGET_NODE_ID: n.id,
      HOST: '127.0.0.1',
      PORT: '0',
      TARGET_INSTANCES: '',
      TARGET_WORKERS: '',
      DOTENV_CONFIG_PATH: '/dev/null',
    };
    // Its own process group: a terminal Ctrl+C reaches the supervisor only, which stops its processes in
    // order (rather than seeing them all exit at once and restarting them); the IPC channel still ends them
    // with the supervisor.
    const child = spawn(process.execPath, [ENTRY], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    n.child = child;
    n.pid = child.pid ?? null;
    n.url = null;
    n.state = 'starting';
    n.startedAt = Date.now();
    n.healthyAt = null;
    n.failures = 0;
    n.ending = undefined;
    n.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    let errBuf = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      errBuf += chunk;
      let nl = errBuf.indexOf('\n');
      while (nl >= 0) {
        const line = errBuf.slice(0, nl);
        errBuf = errBuf.slice(nl + 1);
        if (line.trim() !== '') this.o.onLine(n.id, line);
        nl = errBuf.indexOf('\n');
      }
    });
    child.once('exit', (code, signal) => {
      this.exited(n, child, code, signal);
    });
    return new Promise<void>((resolve, reject) => {
      let out = '';
      let done = false;
      const timer = setTimeout(() => {
        finish(new Error(`${n.id} did not listen within ${(this.o.startTimeoutMs ?? 60_000) / 1000} s`));
      }, this.o.startTimeoutMs ?? 60_000);
      const finish = (e?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (e !== undefined) reject(e);
        else resolve();
      };
      child.once('exit', (code, signal) => {
        finish(new Error(`${n.id} exited (${signal ?? `code ${String(code)}`}) before listening`));
      });
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        if (done) return; // keep draining the pipe
        out += chunk;
        const m = LISTENING.exec(out);
        if (m?.[1] === undefined) return;
        n.url = m[1];
        finish();
      });
    });
  }

  private exited(n: Node, child: ChildProcess, code: number | null, signal: string | null): void {
    if (n.child !== child) return;
    n.child = undefined;
    n.pid = null;
    n.inflight = 0;
    if (this.closed || n.ending === 'stop') {
      n.state = 'stopped';
      return;
    }
    const asked = n.ending === 'crash';
    if (!asked && !this.o.cfg.restart) {
      n.state = 'crashed';
      this.o.onLine(n.id, `exited (${signal ?? `code ${String(code)}`}); TARGET_RESTART=never: left down`);
      return;
    }
    n.state = 'restarting';
    const delay = asked ? 0 : Math.min(5000, 250 * 2 ** Math.min(n.restarts, 5));
    if (!asked) this.o.onLine(n.id, `exited (${signal ?? `code ${String(code)}`}); restarting in ${delay} ms`);
    n.restarts += 1;
    void sleep(delay).then(async () => {
      if (this.isClosed() || n.state !== 'restarting') return;
      try {
        await this.spawnNode(n);
        await this.check(n);
      } catch (e) {
        if (!this.isClosed()) this.o.onLine(n.id, `restart failed: ${toError(e).message}`);
      }
    });
  }

  private async check(n: Node): Promise<void> {
    const url = n.url;
    if (url === null || n.child === undefined) return;
    let ok = false;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(Math.max(1000, this.o.cfg.healthIntervalMs)) });
      await res.arrayBuffer();
      ok = res.ok;
    } catch {
      ok = false;
    }
    if (n.url !== url) return; // restarted meanwhile
    if (ok) {
      n.failures = 0;
      if (n.state !== 'healthy') {
        n.state = 'healthy';
        n.healthyAt ??= Date.now();
      }
    } else if (n.state === 'healthy' || n.state === 'starting') {
      n.failures += 1;
      if (n.state === 'healthy') n.state = 'unhealthy';
    }
  }

  private async checkAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => this.check(n)));
  }

  /** Starts a new process of `role`; resolves once it passed a health check. */
  async add(role: ClusterRole): Promise<NodeInfo> {
    if (this.closed) throw new TargetError(409, 'CLUSTER_CLOSED', 'the cluster is shutting down');
    this.counters[role] += 1;
    const n: Node = {
      id: `${role}-${this.counters[role]}`,
      role,
      child: undefined,
      pid: null,
      url: null,
      state: 'starting',
      restarts: 0,
      startedAt: Date.now(),
      healthyAt: null,
      requests: 0,
      inflight: 0,
      proxyErrors: 0,
      ending: undefined,
      exited: Promise.resolve(),
      failures: 0,
    };
    this.nodes.set(n.id, n);
    await this.spawnNode(n);
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 60_000);
    const healthy = (): boolean => n.state === 'healthy';
    while (!healthy()) {
      if (Date.now() > deadline || n.child === undefined)
        throw new TargetError(500, 'CLUSTER_START_FAILED', `${n.id} did not become healthy`);
      await this.check(n);
      if (!healthy()) await sleep(50);
    }
    const info = this.list().find((x) => x.id === n.id);
    if (info === undefined) throw new TargetError(500, 'CLUSTER_START_FAILED', `${n.id} vanished`);
    return info;
  }

  /** Ends a process: a crash (it is restarted) or a scale-down (it stays gone). */
  async kill(id: string, o: KillOptions): Promise<KillResult> {
    const n = this.nodes.get(id);
    if (n === undefined)
      throw new TargetError(404, 'CLUSTER_NODE_UNKNOWN', `no process ${JSON.stringify(id)} in the cluster: see GET /admin/cluster`);
    const child = n.child;
    if (child === undefined || n.pid === null) throw new TargetError(409, 'CLUSTER_NODE_DOWN', `${id} is not running (state ${n.state})`);
    const detail: Record<string, unknown> = {};
    if (o.when === 'mid-message') {
      try {
        // Up to 10 s for a message to arrive (a worker that is still reconnecting to its broker has none).
        const res = await fetch(`${n.url ?? ''}/admin/bus/hold?timeoutMs=10000`, { method: 'POST', signal: AbortSignal.timeout(15_000) });
        const body = (await res.json()) as Record<string, unknown>;
        if (res.ok) detail.held = body.held;
        else detail.nothingHeld = body.error ?? res.status;
      } catch (e) {
        detail.nothingHeld = toError(e).message;
      }
    } else if (o.when === 'in-flight') {
      const until = Date.now() + 3000;
      while (n.inflight === 0 && Date.now() < until) await sleep(2);
      detail.inflight = n.inflight;
    }
    const pid = n.pid;
    n.ending = o.restart ? 'crash' : 'stop';
    const at = Date.now();
    child.kill(o.signal);
    await n.exited;
    if (!o.restart && n.state !== 'stopped') n.state = 'stopped';
    return { id, pid, signal: o.signal, at, detail };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.health);
    const running = [...this.nodes.values()].filter((n) => n.child !== undefined);
    for (const n of running) {
      n.ending = 'stop';
      n.child?.kill('SIGTERM');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running.map((n) => n.exited)),
      new Promise((r) => {
        timer = setTimeout(r, 10_000);
      }),
    ]);
    clearTimeout(timer);
    for (const n of running) n.child?.kill('SIGKILL');
    await Promise.all(running.map((n) => n.exited));
  }
}
