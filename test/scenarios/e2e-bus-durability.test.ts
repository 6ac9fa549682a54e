/**
 * bus-durability end to end through the run command, with no variables but a shorter plan: it starts a
 * RabbitMQ broker, the platform as API instances and consumer workers, the fault controller; applies a
 * consumer crash, a partition, a publisher crash and a broker restart; passes with zero loss; writes the
 * fault log and the report's faults table; and leaves no process behind. The unsafe twin (a bus without
 * confirms or acks) loses messages under the same plan and fails with exit 99 on bus_messages_lost; a run
 * killed with kill -9 takes every process it started with it.
 *
 * @heavy — starts RabbitMQ brokers and clusters of processes: runs after the other files (scripts/test.mjs).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crossed, describeRun, faultLog, watchFaultRun } from './fault-run.ts';

// 30 s of publishing at 20/s: consumer-crash@6s, partition@10s:4s, publisher-crash@15s, broker-restart@19s;
// 2 API instances and one consumer worker (fewer processes on a shared CI machine).
const SHORT = { DURATION: '30s', RETRY_FOR: '45s', TARGET_WORKERS: '1' };

void test('bus-durability passes on the healthy platform: every fault applied and recovered, nothing lost, nothing left running', async () => {
  const r = await watchFaultRun('bus-durability', { env: SHORT });
  try {
    assert.equal(r.code, 0, describeRun(r));
    assert.deepEqual(crossed(r.runDir), []);
    assert.ok(
      r.seen.some((p) => p.command.includes('beam.smp')),
      'a RabbitMQ broker ran',
    );
    assert.ok(r.seen.filter((p) => p.command.includes('scripts/target.mjs')).length >= 4, 'a supervisor and 3 platform processes ran');
    assert.deepEqual(r.left, [], describeRun(r));
    const log = faultLog(r.runDir);
    assert.deepEqual(
      log.filter((l) => l.kind === 'fault').map((l) => l.action),
      ['consumer-crash', 'partition', 'publisher-crash', 'broker-restart'],
    );
    const recoveries = log.filter((l) => l.kind === 'recovery').map((l) => Number(l.recoveryMs));
    assert.equal(recoveries.length, 4);
    assert.ok(
      recoveries.every((ms) => ms >= 0 && ms < 60_000),
      `recoveries ${recoveries.join(', ')}`,
    );
    const summary = JSON.parse(readFileSync(join(r.runDir ?? '', 'summary-export.json'), 'utf8')) as {
      metrics: Record<string, Record<string, number>>;
    };
    assert.equal(summary.metrics.bus_messages_lost?.count, 0);
    assert.ok((summary.metrics.bus_messages_published?.count ?? 0) >= 500, 'messages were published');
    const html = readFileSync(join(r.runDir ?? '', 'report.html'), 'utf8');
    assert.match(html, /<table id="faults">.*broker-restart.*<\/table>/s, 'the report lists the faults');
  } finally {
    r.project.cleanup();
  }
});

void test('bus-durability twin: a bus without confirms or acks loses messages under the same plan (exit 99, bus_messages_lost)', async () => {
  const r = await watchFaultRun('bus-durability', { env: { ...SHORT, AMQP_DELIVERY: 'at-most-once', DRAIN_TIMEOUT: '8' } });
  try {
    assert.equal(r.code, 99, describeRun(r));
    assert.ok(
      crossed(r.runDir).some((c) => c.startsWith('bus_messages_lost: ')),
      describeRun(r),
    );
    assert.match(r.stderr, /thresholds on metrics '[^']*bus_messages_lost/);
    assert.deepEqual(r.left, [], describeRun(r));
  } finally {
    r.project.cleanup();
  }
});

void test('a run killed with kill -9 takes its broker, platform processes and fault controller with it', async () => {
  const r = await watchFaultRun('bus-durability', {
    env: { ...SHORT, FAULTS: 'none', TARGET_WORKERS: '0' },
    onReady: (pid) => {
      setTimeout(() => {
        process.kill(pid, 'SIGKILL');
      }, 1000);
    },
    graceMs: 20_000,
  });
  try {
    assert.equal(r.code, null, 'killed');
    assert.ok(
      r.seen.some((p) => p.command.includes('beam.smp')),
      'a broker was running when the run was killed',
    );
    assert.deepEqual(r.left, [], describeRun(r));
  } finally {
    r.project.cleanup();
  }
});
