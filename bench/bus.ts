/**
 * The event bus through the platform, side by side in one run:
 *
 * 1. Throughput and delivery latency: the platform (its own process) with the in-process bus, then with
 *    RabbitMQ (persistent messages, publisher confirms, manual acks); BUS_BENCH_CONCURRENCY HTTP publishers
 *    in a closed loop for BUS_BENCH_SECONDS, one WebSocket subscriber timing every delivery (publish request
 *    start → frame received, one clock). Both runs record deliveries in the delivery log (a durable consumer
 *    group writing to SQLite), so RabbitMQ persists every message and the in-process bus does the same
 *    consumer work.
 * 2. Recovery after each fault: the platform as 2 API instances and 2 consumer workers on RabbitMQ through
 *    the partition proxy, publishing at BUS_BENCH_RATE msgs/s; each fault applied by the fault controller;
 *    recovery = fault start → first delivery (delivery log) of a message published once it was in effect.
 *
 *   npm run bench:bus
 *   BUS_BENCH_SECONDS=20 BUS_BENCH_CONCURRENCY=64 npm run bench:bus
 *
 * Loopback only; every phase is bounded in time and everything started is stopped at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { FaultController } from '../src/faults/controller.ts';
import { labPlan, viaProxy } from '../src/faults/lab.ts';
import { PartitionProxy } from '../src/faults/tcp-proxy.ts';
import { startRabbitmq, type Broker } from '../src/rabbitmq/broker.ts';
import { startTargetProcess } from '../src/run/target-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BUS_BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BUS_BENCH_CONCURRENCY ?? 32);
const RATE = Number(process.env.BUS_BENCH_RATE ?? 50);
const PLATFORM_ENV = { SEED_AGENTS: '1', SEED_KNOWLEDGE_NODES: '10', BUS_DELIVERY_LOG: 'agent_results' };

interface Throughput {
  label: string;
  published: number;
  failed: number;
  delivered: number;
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = q * (sorted.length - 1);
  const lo = sorted[Math.floor(i)] ?? 0;
  const hi = sorted[Math.ceil(i)] ?? 0;
  return lo + (hi - lo) * (i - Math.floor(i));
}

const agent = new Agent({ keepAlive: true, maxSockets: 512 });

function post(base: string, path: string, body: unknown): Promise<number> {
  const text = JSON.stringify(body);
  const u = new URL(path, base);
  return new Promise((resolve) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', () => {
      resolve(0);
    });
    req.on('timeout', () => {
      req.destroy();
    });
    req.end(text);
  });
}

async function throughput(label: string, env: Record<string, string>): Promise<Throughput> {
  const target = await startTargetProcess({ root: ROOT, env: { ...PLATFORM_ENV, ...env } });
  try {
    const latencies: number[] = [];
    const ws = new WebSocket(`${target.url.replace('http', 'ws')}/ws/bus?topic=agent_results`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', reject);
    });
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      const m = JSON.parse(data.toString('utf8')) as { payload?: { sentAt?: number; bench?: string } };
      if (m.payload?.bench === label && typeof m.payload.sentAt === 'number') latencies.push(now - m.payload.sentAt);
    });
    await new Promise((r) => setTimeout(r, 500));
    let published = 0;
    let failed = 0;
    const end = Date.now() + SECONDS * 1000;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < end) {
          const status = await post(target.url, '/api/bus/agent_results', { payload: { bench: label, sentAt: Date.now() } });
          if (status === 202) published++;
          else failed++;
        }
      }),
    );
    const seconds = (Date.now() - t0) / 1000;
    // Let the last deliveries arrive.
    const settleEnd = Date.now() + 10_000;
    while (latencies.length < published && Date.now() < settleEnd) await new Promise((r) => setTimeout(r, 100));
    ws.close();
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      label,
      published,
      failed,
      delivered: latencies.length,
      seconds,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
    };
  } finally {
    await target.close();
  }
}

interface RecoveryRow {
  action: string;
  recoveryMs: number | null;
  downMs: number | null;
  note: string;
}

async function recoveries(broker: Broker): Promise<RecoveryRow[]> {
  const proxy = new PartitionProxy({ host: '127.0.0.1', port: broker.port });
  await proxy.listen();
  const scratch = mkdtempSync(join(tmpdir(), 'agentload-bench-bus-'));
  const target = await startTargetProcess({
    root: ROOT,
    env: {
      ...PLATFORM_ENV,
      AMQP_URL: viaProxy(broker.url, proxy.port),
      AMQP_NAMESPACE: 'bench-faults',
      TARGET_INSTANCES: '2',
      TARGET_WORKERS: '2',
      SQLITE_PATH: join(scratch, 'p.sqlite'),
    },
    startTimeoutMs: 120_000,
  });
  const plan = labPlan('bus-durability', {});
  if (plan === undefined) throw new Error('no lab plan');
  const controller = new FaultController({ setup: plan.setup, broker, proxy, clusterUrl: target.url });
  const faults = await controller.listen();
  let running = true;
  const pump = (async () => {
    let n = 0;
    const start = Date.now();
    while (running) {
      const due = start + (n * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      void post(target.url, '/api/bus/agent_results', { key: 'bench', payload: { n: n++ } });
    }
  })();
  const rows: RecoveryRow[] = [];
  try {
    await new Promise((r) => setTimeout(r, 2000));
    for (const [action, extra] of [
      ['consumer-crash', {}],
      ['partition', { durationMs: 4000 }],
      ['publisher-crash', {}],
      ['broker-restart', {}],
      ['broker-kill', {}],
    ] as const) {
      const res = await fetch(`${faults}/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action, ...extra }),
      });
      const f = (await res.json()) as { at?: number; appliedAt?: number; id?: string; error?: string };
      if (!res.ok || f.at === undefined || f.appliedAt === undefined) {
        rows.push({ action, recoveryMs: null, downMs: null, note: f.error ?? `status ${res.status}` });
        continue;
      }
      let recoveryMs: number | null = null;
      const deadline = Date.now() + 120_000;
      while (recoveryMs === null && Date.now() < deadline) {
        const d = (await (
          await fetch(`${target.url}/api/bus/deliveries?topic=agent_results&publishedAfter=${f.appliedAt}&limit=1`)
        ).json()) as { items?: Array<{ deliveredAt: number }> };
        const first = d.items?.[0];
        if (first !== undefined) recoveryMs = first.deliveredAt - f.at;
        else await new Promise((r) => setTimeout(r, 100));
      }
      // Wait for the fault to be over before the next one.
      let downMs: number | null = null;
      for (let i = 0; i < 1200; i++) {
        const list = (await (await fetch(`${faults}/faults`)).json()) as { faults: Array<{ id: string; endedAt: number | null }> };
        const me = list.faults.find((x) => x.id === f.id);
        if (me?.endedAt !== null && me?.endedAt !== undefined) {
          downMs = me.endedAt - f.at;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      rows.push({ action, recoveryMs, downMs, note: '' });
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    running = false;
    await pump;
    await controller.close();
    await target.close();
    await proxy.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

console.log(`bench:bus — ${SECONDS} s closed loop, ${CONCURRENCY} publishers, one WebSocket subscriber; recovery at ${RATE} msgs/s`);
const broker = await startRabbitmq();
try {
  const rows = [await throughput('in-process', {}), await throughput('rabbitmq', { AMQP_URL: broker.url, AMQP_NAMESPACE: 'bench' })];
  console.log('\n| bus | published/s | delivered/s | failed | delivery p50 | p95 | p99 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.label}${r.label === 'rabbitmq' ? ' (persistent + confirms)' : ''} | ${fmt(r.published / r.seconds)} | ${fmt(r.delivered / r.seconds)} | ${r.failed} | ${fmt(r.p50)} ms | ${fmt(r.p95)} ms | ${fmt(r.p99)} ms |`,
    );
  }
  const rec = await recoveries(broker);
  console.log(
    '\n| fault (2 API instances, 2 workers, RabbitMQ) | recovery (fault → first delivery of a later message) | fault over after |',
  );
  console.log('|---|---:|---:|');
  for (const r of rec)
    console.log(
      `| ${r.action} | ${r.recoveryMs === null ? `– ${r.note}` : `${fmt(r.recoveryMs / 1000, 2)} s`} | ${r.downMs === null ? '–' : `${fmt(r.downMs / 1000, 1)} s`} |`,
    );
} finally {
  await broker.close();
  agent.destroy();
}
