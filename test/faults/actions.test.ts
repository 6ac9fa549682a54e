/**
 * Every fault action against real processes: a real RabbitMQ broker (test/support/rabbitmq.ts), the
 * partition proxy in front of it, the platform as 2 API instances and a consumer worker behind the
 * balancer sharing a real PostgreSQL (test/support/postgres.ts; the scenario tests cover the shared SQLite
 * file), and the fault controller's HTTP API. Each test proves the fault really happened (connections
 * refused, a process gone, bytes dropped) and that the platform came back.
 *
 * @heavy — starts RabbitMQ brokers and clusters of processes: runs after the other files (scripts/test.mjs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as amqpConnect } from 'amqplib';
import { startCluster, type RunningCluster } from '../../target/cluster/index.ts';
import { FaultController } from '../../src/faults/controller.ts';
import { labPlan, viaProxy } from '../../src/faults/lab.ts';
import { PartitionProxy } from '../../src/faults/tcp-proxy.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { startBroker, type Broker } from '../support/rabbitmq.ts';
import { alive } from '../support/processes.ts';
import { TEST_ENV, arr, at, req, waitFor } from '../target/helpers.ts';

let broker: Broker;
let pg: PostgresServer;
let proxy: PartitionProxy;
let cluster: RunningCluster;
let controller: FaultController;
let faultsUrl = '';
let dir = '';

interface Node {
  id: string;
  role: string;
  pid: number | null;
  state: string;
  restarts: number;
}

async function nodes(): Promise<Node[]> {
  return arr(at((await req(cluster.url, 'GET', '/admin/cluster')).body, 'instances')) as Node[];
}

async function node(id: string): Promise<Node> {
  const n = (await nodes()).find((x) => x.id === id);
  if (n === undefined) throw new Error(`no ${id}`);
  return n;
}

/** Publishes through the balancer with `concurrency` loops until stopped; returns the statuses seen. */
function pump(concurrency = 4): { stop: () => Promise<number[]> } {
  let running = true;
  const statuses: number[] = [];
  const loops = Array.from({ length: concurrency }, async (_, i) => {
    let n = 0;
    while (running) {
      try {
        const r = await fetch(`${cluster.url}/api/bus/agent_results`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: `pump-${i}`, payload: { n: n++ } }),
          signal: AbortSignal.timeout(15_000),
        });
        await r.arrayBuffer();
        statuses.push(r.status);
      } catch {
        statuses.push(0);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

function tcpRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      resolve(e.code === 'ECONNREFUSED');
    });
  });
}

/** Sends the AMQP 0-9-1 protocol header; resolves with the first bytes the far side answers within `ms`. */
function amqpHello(port: number, ms: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve(Buffer.concat(got));
    }, ms);
    s.on('connect', () => {
      s.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
    });
    s.on('data', (d: Buffer) => {
      got.push(d);
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(got));
    });
    s.on('error', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
  });
}

async function fault(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await req(faultsUrl, 'POST', '/faults', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as Record<string, unknown>;
}

async function over(id: unknown, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `fault ${String(id)} over`,
    async () => {
      const list = arr(at((await req(faultsUrl, 'GET', '/faults')).body, 'faults'));
      return list.some((f) => at(f, 'id') === id && typeof at(f, 'endedAt') === 'number') ? true : undefined;
    },
    timeoutMs,
    100,
  );
}

/** The platform processes' last error lines and the supervisor's notes (restarts), for failure messages. */
const platformLines: string[] = [];

async function publishOk(): Promise<void> {
  await waitFor(
    'a publish through the platform succeeds',
    async () => {
      const r = await req(cluster.url, 'POST', '/api/bus/agent_results', { payload: { probe: true } });
      return r.status === 202 ? true : undefined;
    },
    60_000,
    200,
  );
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agentload-faults-'));
  [broker, pg] = await Promise.all([startBroker(), startPostgres('agentload_faults')]);
  proxy = new PartitionProxy({ host: '127.0.0.1', port: broker.port });
  await proxy.listen();
  cluster = await startCluster({
    cfg: { instances: 2, workers: 1, healthIntervalMs: 200, balancerHealth: true, restart: true },
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...TEST_ENV,
      SEED_AGENTS: '1',
      DATABASE_URL: pg.url,
      AMQP_URL: viaProxy(broker.url, proxy.port),
      AMQP_HEARTBEAT_S: '2',
      AMQP_CONNECT_TIMEOUT_MS: '3000',
      BUS_DELIVERY_LOG: 'agent_results',
    },
    onLine: (id, line) => {
      platformLines.push(`[${id}] ${line}`);
      if (platformLines.length > 100) platformLines.shift();
    },
  });
  const plan = labPlan('bus-durability', {});
  assert.ok(plan !== undefined);
  controller = new FaultController({
    setup: { ...plan.setup, instances: 2, workers: 1 },
    broker,
    proxy,
    clusterUrl: cluster.url,
    logPath: join(dir, 'faults.jsonl'),
  });
  faultsUrl = await controller.listen();
});

after(async () => {
  await controller.close();
  await cluster.close();
  await proxy.close();
  await broker.close();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
});

void describe('fault actions on real processes', () => {
  void it('partition (black hole): bytes to and from the broker are dropped, then it heals and the platform publishes again', async () => {
    const dropped = proxy.counts.bytesDropped;
    const f = await fault({ action: 'partition', durationMs: 2500, mode: 'blackhole' });
    assert.equal(proxy.state(), 'blackhole');
    const answer = await amqpHello(proxy.port, 1000);
    assert.equal(answer.length, 0, 'the broker never answered through the partition');
    assert.ok(proxy.counts.bytesDropped >= dropped + 8, `bytes dropped: ${proxy.counts.bytesDropped - dropped}`);
    assert.ok((await amqpHello(broker.port, 3000)).length > 0, 'control: the broker itself answers');
    await over(f.id);
    assert.equal(proxy.state(), 'open');
    assert.equal((await amqpHello(proxy.port, 3000))[0], 1, 'after it healed, a METHOD frame comes back');
    await publishOk();
  });

  void it('partition (cut): open connections are reset and new ones refused for its duration', async () => {
    const refused = proxy.counts.refused;
    const f = await fault({ action: 'partition', durationMs: 1500, mode: 'cut' });
    assert.equal((await amqpHello(proxy.port, 500)).length, 0);
    assert.ok(proxy.counts.refused > refused, 'a new connection was refused');
    await over(f.id);
    await publishOk();
  });

  void it('broker-restart: connections are refused while it is down; it comes back with the platform reconnected', async () => {
    const pid = broker.pid();
    assert.ok(pid !== undefined);
    const f = await fault({ action: 'broker-restart' });
    assert.equal(await tcpRefused(broker.port), true, 'AMQP port refuses connections');
    assert.equal(alive(pid), false, 'the broker process is gone');
    await over(f.id);
    const c = await amqpConnect(broker.url);
    await c.close();
    await publishOk();
  });

  void it('broker-kill: kill -9, down for the given time, then started again', async () => {
    const pid = broker.pid();
    assert.ok(pid !== undefined);
    const f = await fault({ action: 'broker-kill', durationMs: 1500 });
    assert.equal(alive(pid), false, 'kill -9 took the broker down');
    assert.equal(await tcpRefused(broker.port), true);
    await over(f.id);
    assert.ok(Number(at(f, 'appliedAt')) >= Number(at(f, 'at')));
    await publishOk();
  });

  void it('consumer-crash: the worker dies holding a message, is restarted, and the message is delivered again', async () => {
    // After the broker faults above, a worker may be restarting: wait until it runs.
    const before = await waitFor(
      'worker-1 running',
      async () => {
        const n = await node('worker-1');
        return n.pid !== null && n.state === 'healthy' ? { ...n, pid: n.pid } : undefined;
      },
      60_000,
      200,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; platform said:\n${platformLines.join('\n')}`);
    });
    const since = Date.now();
    const p = pump(2);
    // The worker consumes again (after the broker faults above it may still be reconnecting).
    await waitFor(
      'the worker records deliveries',
      async () => {
        const r = await req(cluster.url, 'GET', `/api/bus/deliveries?topic=agent_results&publishedAfter=${since}&limit=1`);
        return arr(at(r.body, 'items')).length > 0 ? true : undefined;
      },
      60_000,
      200,
    );
    const f = await fault({ action: 'consumer-crash' });
    const held = at(f, 'detail', 'held', 'id');
    assert.equal(typeof held, 'string', `killed mid-message: ${JSON.stringify(at(f, 'detail'))}`);
    assert.equal(alive(before.pid), false, 'the worker process is gone');
    await over(f.id);
    await p.stop();
    const after = await node('worker-1');
    assert.equal(after.state, 'healthy');
    assert.notEqual(after.pid, before.pid);
    // The held message may be any message of the topic (an earlier one the broker gave back, say).
    const rowsOfHeld = async (): Promise<unknown[]> => {
      const rows: unknown[] = [];
      for (let after = 0; ;) {
        const r = await req(cluster.url, 'GET', `/api/bus/deliveries?topic=agent_results&after=${after}&limit=5000`);
        rows.push(...arr(at(r.body, 'items')).filter((x) => at(x, 'msgId') === held));
        const next = at(r.body, 'next');
        if (typeof next !== 'number') return rows;
        after = next;
      }
    };
    const log = await waitFor(
      'the held message delivered again',
      async () => {
        const rows = await rowsOfHeld();
        return rows.some((x) => at(x, 'redelivered') === true) ? rows : undefined;
      },
      30_000,
      200,
    ).catch(async (e: unknown) => {
      throw new Error(`${String(e)}: rows of ${String(held)}: ${JSON.stringify(await rowsOfHeld())}; fault ${JSON.stringify(f)}`);
    });
    assert.ok(log.length >= 2, 'recorded before the crash and again after it');
  });

  void it('publisher-crash: an API instance dies with requests in flight and is restarted', async () => {
    const p = pump(4);
    await new Promise((r) => setTimeout(r, 300));
    const f = await fault({ action: 'publisher-crash' });
    const id = String(at(f, 'detail', 'instance'));
    const pid = Number(at(f, 'detail', 'pid'));
    assert.ok(Number(at(f, 'detail', 'inflight')) >= 1, `requests in flight: ${JSON.stringify(at(f, 'detail'))}`);
    assert.equal(alive(pid), false, `${id} is gone`);
    await over(f.id);
    const statuses = await p.stop();
    assert.ok(statuses.filter((s) => s === 202).length > 0);
    assert.equal((await node(id)).state, 'healthy');
  });

  void it('instance-kill removes an API instance for good; the balancer stops sending it traffic', async () => {
    const f = await fault({ action: 'instance-kill' });
    const id = String(at(f, 'detail', 'instance'));
    assert.equal(alive(Number(at(f, 'detail', 'pid'))), false);
    await new Promise((r) => setTimeout(r, 1500));
    const n = await node(id);
    assert.equal(n.state, 'stopped');
    assert.equal(n.pid, null, 'not restarted');
    const answered = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await req(cluster.url, 'GET', '/health');
      assert.equal(r.status, 200);
      assert.equal(at(r.body, 'db'), 'postgres', 'every instance on the shared PostgreSQL');
      answered.add(r.headers.get('x-agentload-node') ?? '?');
    }
    assert.ok(!answered.has(id), `served by ${[...answered].join(', ')}`);
  });

  void it('instance-add starts an API instance that is healthy and takes traffic', async () => {
    const f = await fault({ action: 'instance-add' });
    const id = String(at(f, 'detail', 'instance'));
    assert.match(id, /^api-\d+$/);
    assert.ok(Number(at(f, 'detail', 'healthyAt')) >= Number(at(f, 'at')));
    await waitFor(
      `${id} serves a request`,
      async () => {
        const r = await req(cluster.url, 'GET', '/health');
        return r.headers.get('x-agentload-node') === id ? true : undefined;
      },
      10_000,
      10,
    );
  });

  void it('unknown actions and faults this setup cannot apply are refused with one line; every action is in faults.jsonl', async () => {
    const unknown = await req(faultsUrl, 'POST', '/faults', { action: 'explode' });
    assert.equal(unknown.status, 400);
    assert.equal(at(unknown.body, 'code'), 'FAULT_UNKNOWN');
    const plan = labPlan('bus-durability', { TARGET_AMQP_URL: broker.url });
    assert.ok(plan !== undefined);
    const other = new FaultController({ setup: plan.setup });
    const url = await other.listen();
    try {
      const r = await req(url, 'POST', '/faults', { action: 'broker-restart' });
      assert.equal(r.status, 409);
      assert.equal(at(r.body, 'code'), 'FAULT_UNAVAILABLE');
      assert.match(
        String(at(r.body, 'error')),
        /^fault broker-restart cannot be applied: agentload did not start the broker \(TARGET_AMQP_URL is set\): set AGENTLOAD_FAULT_BROKER_RESTART_CMD to /,
      );
      assert.doesNotMatch(String(at(r.body, 'error')), /\n/);
    } finally {
      await other.close();
    }
    const lines = readFileSync(join(dir, 'faults.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const faults = lines.filter((l) => l.kind === 'fault').map((l) => l.action);
    assert.deepEqual(faults, [
      'partition',
      'partition',
      'broker-restart',
      'broker-kill',
      'consumer-crash',
      'publisher-crash',
      'instance-kill',
      'instance-add',
    ]);
    assert.equal(lines.filter((l) => l.kind === 'end').length, 8);
    assert.ok(lines.some((l) => l.kind === 'refused' && l.action === 'explode'));
  });
});
