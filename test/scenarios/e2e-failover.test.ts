/**
 * failover end to end through the run command: 3 API instances and a worker behind the balancer, one
 * instance killed and one added mid-run. Healthy: even share, no task lost, no error burst, fast scale-up,
 * nothing left running. Twin: a balancer without health checks keeps sending a third of the traffic to
 * the dead instance, so the errors never stop (exit 99 on http_req_failed{phase:recovered}). Ctrl+C stops
 * the run gracefully (105) and everything it started with it.
 *
 * failover's faults never touch the broker, so the runs share one (TARGET_AMQP_URL, each in its own
 * namespace): the broker a run starts itself is covered by e2e-bus-durability.test.ts.
 *
 * @heavy — starts RabbitMQ brokers and clusters of processes: runs after the other files (scripts/test.mjs).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startBroker, type Broker } from '../support/rabbitmq.ts';
import { crossed, describeRun, faultLog, watchFaultRun } from './fault-run.ts';

let broker: Broker | undefined;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker?.close();
});

// 20 s of traffic: instance-kill@10s, instance-add@14s.
let runs = 0;
function short(): Record<string, string> {
  runs += 1;
  return { DURATION: '20s', TASK_TIMEOUT: '20', TARGET_AMQP_URL: broker?.url ?? '', AMQP_NAMESPACE: `failover-${runs}` };
}

void test('failover passes on the healthy platform: even share, no task lost, bounded burst, scale-up, nothing left running', async () => {
  const r = await watchFaultRun('failover', { env: short() });
  try {
    assert.equal(r.code, 0, describeRun(r));
    assert.deepEqual(crossed(r.runDir), []);
    assert.deepEqual(r.left, [], describeRun(r));
    const log = faultLog(r.runDir);
    assert.deepEqual(
      log.filter((l) => l.kind === 'fault').map((l) => l.action),
      ['instance-kill', 'instance-add'],
    );
    const summary = JSON.parse(readFileSync(join(r.runDir ?? '', 'summary-export.json'), 'utf8')) as {
      metrics: Record<string, Record<string, number>>;
    };
    assert.ok((summary.metrics.failover_tasks_accepted?.count ?? 0) >= 40, 'tasks were accepted');
    assert.equal(summary.metrics.failover_tasks_lost?.count, 0);
    assert.ok((summary.metrics.failover_share_deviation?.max ?? 1) <= 0.1);
  } finally {
    r.project.cleanup();
  }
});

void test('failover twin: without health checks the balancer keeps failing a share of requests after the kill (exit 99)', async () => {
  const r = await watchFaultRun('failover', { env: { ...short(), TARGET_BALANCER_HEALTH: 'off' } });
  try {
    assert.equal(r.code, 99, describeRun(r));
    assert.ok(crossed(r.runDir).includes('http_req_failed{phase:recovered}: rate<=0.05'), describeRun(r));
    assert.match(r.stderr, /thresholds on metrics '[^']*http_req_failed\{phase:recovered\}/);
    assert.deepEqual(r.left, [], describeRun(r));
  } finally {
    r.project.cleanup();
  }
});

void test('Ctrl+C stops the run gracefully (105, interrupted) and every process it started', async () => {
  const r = await watchFaultRun('failover', {
    env: { ...short(), FAULTS: 'none', TARGET_INSTANCES: '2', TARGET_WORKERS: '0' },
    onReady: (pid) => {
      setTimeout(() => {
        process.kill(pid, 'SIGINT');
      }, 4000);
    },
    graceMs: 5000,
  });
  try {
    assert.equal(r.code, 105, describeRun(r));
    const manifest = JSON.parse(readFileSync(join(r.runDir ?? '', 'run.json'), 'utf8')) as { interrupted: boolean };
    assert.equal(manifest.interrupted, true);
    assert.ok(
      r.seen.some((p) => p.command.includes('scripts/target.mjs')),
      'the platform was running',
    );
    assert.deepEqual(r.left, [], describeRun(r));
  } finally {
    r.project.cleanup();
  }
});
