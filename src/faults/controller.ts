/**
 * The fault controller: a loopback-only HTTP API that load scripts call on their schedule (plain
 * `k6/http`, so the same script works on real k6) to break the platform on purpose, and that records
 * every action with its times in `faults.jsonl` (the report marks them on its charts).
 *
 *   GET  /health                 → {"ok":true,"actions":{action:{available,how}}}
 *   POST /faults {"action","durationMs"?,"mode"?}  → 200 the fault record once it is in effect
 *   GET  /faults                 → {"faults":[record…]}
 *   POST /faults/:id/recovery {"recoveryMs"}       → 200 (the script's measured recovery, for the report)
 *   GET  /cluster                → the platform's processes with per-instance request counts
 *
 * Faults run one at a time: a fault waits until the previous one is over (a restarted broker is back,
 * a partition healed, a crashed process running again). Errors are `{ "error", "code" }`: 400
 * FAULT_INVALID / FAULT_UNKNOWN, 409 FAULT_UNAVAILABLE (the one line saying what to configure),
 * 500 FAULT_FAILED, 403 LOOPBACK_ONLY.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CodedError } from '../../shared/errors.ts';
import { isFaultAction, PARTITION_MODES, type FaultAction, type PartitionMode } from '../../lib/fault-plan.ts';
import type { Broker } from '../rabbitmq/broker.ts';
import { availability, backendFor, type FaultSetup } from './actions.ts';
import type { PartitionProxy } from './tcp-proxy.ts';

export interface FaultRecord {
  id: string;
  action: FaultAction;
  params: { durationMs: number; mode?: PartitionMode };
  /** Epoch ms the action started. */
  at: number;
  /** Epoch ms the fault was in effect (broker down, process killed, partition up). */
  appliedAt: number | null;
  /** Epoch ms it was over (broker back, process restarted, partition healed, instance healthy). */
  endedAt: number | null;
  ok: boolean;
  detail: Record<string, unknown>;
  error?: string;
  /** Set by the script: first delivery (or success) after the fault, ms after `at`. */
  recoveryMs?: number;
}

export interface ControllerOptions {
  readonly setup: FaultSetup;
  readonly broker?: Broker;
  readonly proxy?: PartitionProxy;
  /** The bundled cluster's balancer (its `/admin/cluster`). */
  readonly clusterUrl?: string;
  /** `faults.jsonl`: one JSON line per fault, end and recovery. */
  readonly logPath?: string;
  /** Human-readable lines (the run shows them). */
  readonly say?: (line: string) => void;
  /** Test start for `+12.3s` in human lines (epoch ms); default when the controller starts. */
  readonly t0?: number;
}

class HttpError extends CodedError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

function isLoopback(a: string | undefined): boolean {
  return a !== undefined && (a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.'));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > 64 * 1024) throw new HttpError(413, 'FAULT_INVALID', 'request body over 64 KiB');
    chunks.push(b);
  }
  if (size === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'FAULT_INVALID', 'request body must be JSON like {"action":"partition","durationMs":5000}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new HttpError(400, 'FAULT_INVALID', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ClusterNode {
  id: string;
  role: string;
  state: string;
  pid: number | null;
  restarts: number;
  healthyAt: number | null;
  requests: number;
}

function runCommand(command: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const add = (c: Buffer): void => {
      output = (output + c.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, output: e.message });
    });
  });
}

export class FaultController {
  private readonly server: Server;
  private readonly records: FaultRecord[] = [];
  /** Resolves when the last fault is over; the next one starts after it. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly t0: number;
  private closed = false;
  private nextWorker = 0;

  constructor(private readonly o: ControllerOptions) {
    this.t0 = o.t0 ?? Date.now();
    this.server = createServer((req, res) => {
      void this.route(req, res);
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const a = this.server.address();
        resolve(`http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`);
      });
    });
  }

  faults(): readonly FaultRecord[] {
    return this.records;
  }

  private log(entry: Record<string, unknown>): void {
    if (this.o.logPath === undefined) return;
    try {
      appendFileSync(this.o.logPath, `${JSON.stringify(entry)}\n`);
    } catch {
      /* the run folder went away */
    }
  }

  private rel(t: number): string {
    return `+${((t - this.t0) / 1000).toFixed(1)}s`;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!isLoopback(req.socket.remoteAddress))
        throw new HttpError(403, 'LOOPBACK_ONLY', 'the fault controller answers loopback clients only');
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const method = req.method ?? 'GET';
      if (method === 'GET' && path === '/health') {
        send(res, 200, { ok: true, actions: availability(this.o.setup) });
        return;
      }
      if (method === 'GET' && path === '/faults') {
        send(res, 200, { faults: this.records });
        return;
      }
      if (method === 'GET' && path === '/cluster') {
        send(res, 200, await this.cluster());
        return;
      }
      if (method === 'POST' && path === '/faults') {
        send(res, 200, await this.apply(await readJson(req)));
        return;
      }
      const rec = /^\/faults\/([^/]+)\/recovery$/.exec(path);
      if (method === 'POST' && rec?.[1] !== undefined) {
        send(res, 200, this.recovery(rec[1], await readJson(req)));
        return;
      }
      throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${path}: see docs/faults.md`);
    } catch (e) {
      if (e instanceof HttpError) send(res, e.status, { error: e.message, code: e.code });
      else send(res, 500, { error: e instanceof Error ? e.message : String(e), code: 'FAULT_FAILED' });
    }
  }

  private recovery(id: string, body: Record<string, unknown>): FaultRecord {
    const r = this.records.find((x) => x.id === id);
    if (r === undefined) throw new HttpError(404, 'FAULT_UNKNOWN', `no fault ${JSON.stringify(id)}: see GET /faults`);
    const ms = body.recoveryMs;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new HttpError(400, 'FAULT_INVALID', `recoveryMs must be a number of milliseconds >= 0, got ${JSON.stringify(ms)}`);
    r.recoveryMs = ms;
    this.log({ kind: 'recovery', id, recoveryMs: ms, at: Date.now() });
    this.o.say?.(`fault ${r.id} ${r.action}: recovered ${(ms / 1000).toFixed(1)} s after it started`);
    return r;
  }

  /** Validates and runs one fault (after the previous one is over); resolves once it is in effect. */
  async apply(body: Record<string, unknown>): Promise<FaultRecord> {
    const action = body.action;
    if (typeof action !== 'string' || !isFaultAction(action)) {
      this.log({ kind: 'refused', action, at: Date.now(), error: 'unknown action' });
      throw new HttpError(
        400,
        'FAULT_UNKNOWN',
        `unknown fault action ${JSON.stringify(action)}: use broker-restart, broker-kill, consumer-crash, publisher-crash, partition, instance-kill, instance-add`,
      );
    }
    const durationMs = body.durationMs ?? 0;
    if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0 || durationMs > 3_600_000) {
      throw new HttpError(400, 'FAULT_INVALID', `durationMs must be a number in 0..3600000, got ${JSON.stringify(durationMs)}`);
    }
    const mode = body.mode ?? 'blackhole';
    if (typeof mode !== 'string' || !(PARTITION_MODES as readonly string[]).includes(mode)) {
      throw new HttpError(400, 'FAULT_INVALID', `mode must be blackhole or cut, got ${JSON.stringify(mode)}`);
    }
    if (action === 'partition' && durationMs <= 0) throw new HttpError(400, 'FAULT_INVALID', 'a partition needs durationMs > 0');
    const backend = backendFor(action, this.o.setup);
    if (backend.kind === 'none') {
      this.log({ kind: 'refused', action, at: Date.now(), error: backend.why });
      throw new HttpError(409, 'FAULT_UNAVAILABLE', backend.why);
    }
    const record: FaultRecord = {
      id: `f${this.records.length + 1}`,
      action,
      params: action === 'partition' ? { durationMs, mode: mode as PartitionMode } : { durationMs },
      at: 0,
      appliedAt: null,
      endedAt: null,
      ok: false,
      detail: {},
    };
    this.records.push(record);
    // One fault at a time: `inEffect` settles when this one is in effect (or failed); the queue moves on
    // when it is over.
    let effect: { resolve: () => void; reject: (e: unknown) => void } = { resolve: () => undefined, reject: () => undefined };
    const inEffect = new Promise<void>((resolve, reject) => {
      effect = { resolve, reject };
    });
    const run = this.queue.then(async () => {
      try {
        if (this.closed) throw new Error('the fault controller is shutting down');
        record.at = Date.now();
        const steps = backend.kind === 'command' ? this.viaCommand(record, backend.command) : this.builtin(record, mode as PartitionMode);
        await steps.applied;
        record.appliedAt ??= Date.now();
        record.ok = true;
        this.log({ kind: 'fault', ...record });
        this.o.say?.(
          `fault ${record.id} ${action}${durationMs > 0 ? ` (${durationMs} ms${action === 'partition' ? `, ${mode}` : ''})` : ''} applied at ${this.rel(record.at)}`,
        );
        effect.resolve();
        try {
          await steps.over;
        } catch (e) {
          record.detail.endError = e instanceof Error ? e.message : String(e);
        }
        record.endedAt ??= Date.now();
        this.log({ kind: 'end', id: record.id, endedAt: record.endedAt, detail: record.detail });
        this.o.say?.(
          `fault ${record.id} ${action} over at ${this.rel(record.endedAt)}${typeof record.detail.endError === 'string' ? ` (${record.detail.endError})` : ''}`,
        );
      } catch (e) {
        effect.reject(e);
      }
    });
    this.queue = run;
    try {
      await inEffect;
    } catch (e) {
      record.error = e instanceof Error ? e.message : String(e);
      this.log({ kind: 'failed', id: record.id, action, at: record.at, error: record.error });
      this.o.say?.(`fault ${record.id} ${action} failed: ${record.error}`);
      throw new HttpError(500, 'FAULT_FAILED', `fault ${action} failed: ${record.error}`);
    }
    return record;
  }

  private viaCommand(r: FaultRecord, command: string): { applied: Promise<void>; over: Promise<void> } {
    const run = runCommand(
      command,
      {
        FAULT_ACTION: r.action,
        FAULT_DURATION_MS: String(r.params.durationMs),
        FAULT_MODE: r.params.mode ?? '',
      },
      Math.max(120_000, r.params.durationMs + 60_000),
    ).then(({ code, output }) => {
      r.detail.command = { exitCode: code, output: output.trim().split('\n').slice(-3).join(' | ') };
      if (code !== 0) throw new Error(`the command exited with ${String(code)}: ${output.trim().split('\n').slice(-1)[0] ?? ''}`);
    });
    // A partition command lasts as long as the partition: it is in effect once started.
    return r.action === 'partition' ? { applied: Promise.resolve(), over: run } : { applied: run, over: Promise.resolve() };
  }

  private builtin(r: FaultRecord, mode: PartitionMode): { applied: Promise<void>; over: Promise<void> } {
    const down = r.params.durationMs;
    switch (r.action) {
      case 'broker-restart':
      case 'broker-kill': {
        const b = this.need(this.o.broker, 'broker');
        const applied = r.action === 'broker-restart' ? b.stop() : b.kill();
        const over = applied.then(async () => {
          r.appliedAt = Date.now();
          await sleep(down);
          await b.start();
          r.detail.downMs = Date.now() - r.appliedAt;
        });
        return { applied, over };
      }
      case 'partition': {
        const p = this.need(this.o.proxy, 'proxy');
        const before = { ...p.counts };
        let healed: () => void = () => undefined;
        const over = new Promise<void>((resolve) => {
          healed = resolve;
        });
        p.partition(mode, down, () => {
          r.detail.bytesDropped = p.counts.bytesDropped - before.bytesDropped;
          r.detail.refused = p.counts.refused - before.refused;
          healed();
        });
        return { applied: Promise.resolve(), over };
      }
      case 'consumer-crash':
      case 'publisher-crash':
      case 'instance-kill': {
        const role = r.action === 'consumer-crash' ? 'worker' : 'api';
        const crash = r.action !== 'instance-kill';
        const applied = this.pick(role).then(async (n) => {
          const res = await this.admin(`/admin/cluster/instances/${encodeURIComponent(n.id)}/kill`, {
            signal: 'SIGKILL',
            restart: crash,
            when: r.action === 'consumer-crash' ? 'mid-message' : r.action === 'publisher-crash' ? 'in-flight' : 'now',
          });
          r.appliedAt = typeof res.at === 'number' ? res.at : Date.now();
          r.detail = {
            instance: n.id,
            pid: res.pid,
            ...(typeof res.detail === 'object' && res.detail !== null ? (res.detail as Record<string, unknown>) : {}),
          };
          return n.id;
        });
        const over = applied.then(async (id) => {
          if (!crash) return;
          // A crash is over when the supervisor has the process healthy again.
          for (let i = 0; i < 1200 && !this.closed; i++) {
            const n = (await this.nodes()).find((x) => x.id === id);
            if (n?.state === 'healthy' && (n.healthyAt ?? 0) > (r.appliedAt ?? 0)) {
              r.detail.restartedAt = n.healthyAt;
              return;
            }
            await sleep(100);
          }
          throw new Error(`${id} did not come back`);
        });
        return { applied: applied.then(() => undefined), over };
      }
      case 'instance-add': {
        const applied = this.admin('/admin/cluster/instances', { role: 'api' }).then((n) => {
          r.appliedAt = Date.now();
          r.endedAt = typeof n.healthyAt === 'number' ? n.healthyAt : Date.now();
          r.detail = { instance: n.id, pid: n.pid, healthyAt: n.healthyAt };
        });
        return { applied, over: Promise.resolve() };
      }
    }
  }

  private need<T>(v: T | undefined, what: string): T {
    if (v === undefined) throw new Error(`no ${what} to act on`);
    return v;
  }

  private async admin(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const base = this.need(this.o.clusterUrl, 'cluster');
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const out = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(typeof out.error === 'string' ? out.error : `cluster admin answered ${res.status}`);
    return out;
  }

  private async nodes(): Promise<ClusterNode[]> {
    const base = this.need(this.o.clusterUrl, 'cluster');
    const res = await fetch(`${base}/admin/cluster`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { instances?: ClusterNode[] };
    return body.instances ?? [];
  }

  /** A healthy process of `role` (workers in turn; for API instances the newest). */
  private async pick(role: 'api' | 'worker'): Promise<ClusterNode> {
    const healthy = (await this.nodes()).filter((n) => n.role === role && n.state === 'healthy');
    if (healthy.length === 0) throw new Error(`no healthy ${role === 'api' ? 'API instance' : 'consumer worker'} to act on`);
    const n = role === 'api' ? healthy[healthy.length - 1] : healthy[this.nextWorker++ % healthy.length];
    if (n === undefined) throw new Error(`no healthy ${role} to act on`);
    return n;
  }

  private async cluster(): Promise<Record<string, unknown>> {
    const command = this.o.setup.env.AGENTLOAD_CLUSTER_STATS_CMD;
    if (command !== undefined && command.trim() !== '') {
      const { code, output } = await runCommand(command, {}, 30_000);
      if (code !== 0) throw new HttpError(500, 'FAULT_FAILED', `AGENTLOAD_CLUSTER_STATS_CMD exited with ${String(code)}`);
      try {
        return JSON.parse(output) as Record<string, unknown>;
      } catch {
        throw new HttpError(
          500,
          'FAULT_FAILED',
          'AGENTLOAD_CLUSTER_STATS_CMD must print JSON {"instances":[{"id","role","state","requests"}]}',
        );
      }
    }
    if (this.o.clusterUrl === undefined) {
      throw new HttpError(
        501,
        'CLUSTER_VIEW_UNAVAILABLE',
        'no view of the platform\'s processes: run the bundled platform as a cluster, or set AGENTLOAD_CLUSTER_STATS_CMD to a command printing {"instances":[{"id","role","state","requests"}]}',
      );
    }
    return { instances: await this.nodes() };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.o.proxy?.heal();
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => {
        resolve();
      });
    });
  }
}
