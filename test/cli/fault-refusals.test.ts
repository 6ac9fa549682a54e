/**
 * Bad input to fault scenarios is refused before anything starts — one line, exit 104, no broker, no
 * platform, nothing left running, a run folder with only run.json and a failing junit.xml: an unknown
 * fault action, a fault after the test ends, a broker URL that does not answer (its password never
 * shown), a broker we did not start asked to restart, your own system asked to lose an instance without
 * a command to do it, and a fault scenario sent to the cloud.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, watchFaultRun } from '../scenarios/fault-run.ts';
import { errorLines } from './helpers.ts';

async function refused(name: string, env: Record<string, string>, args: readonly string[] = []): Promise<string[]> {
  const r = await watchFaultRun(name, { env, args, timeoutMs: 60_000 });
  try {
    assert.equal(r.code, 104, describeRun(r));
    assert.deepEqual(
      r.seen.filter((p) => /beam\.smp|target\.mjs|faults\/main\.ts/.test(p.command)),
      [],
      'nothing was started',
    );
    assert.deepEqual(r.left, []);
    // As every refusal once the scenario is known: a run folder with run.json and a failing junit.xml only.
    const dirs = r.project.runDirs();
    assert.equal(dirs.length, 1, 'one run folder, for run.json and a failing junit.xml');
    assert.deepEqual(readdirSync(dirs[0] ?? '').sort(), ['junit.xml', 'run.json'], 'nothing was bundled or run');
    assert.equal((JSON.parse(readFileSync(join(dirs[0] ?? '', 'run.json'), 'utf8')) as { exitCode: number }).exitCode, 104);
    return errorLines(r.stderr);
  } finally {
    r.project.cleanup();
  }
}

void test('an unknown fault action: one line naming it and the known ones', async () => {
  assert.deepEqual(await refused('bus-durability', { FAULTS: 'consumer-crash@5s,explode@10s' }), [
    'agentload: FAULTS names unknown fault action "explode": use broker-restart, broker-kill, consumer-crash, publisher-crash, partition, instance-kill, instance-add',
  ]);
});

void test('a fault after the test ends: one line with the fix', async () => {
  assert.deepEqual(await refused('failover', { FAULTS: 'instance-kill@10m' }), [
    'agentload: FAULTS: instance-kill at 600s ends after the faults phase (32s): move it earlier or lengthen DURATION',
  ]);
});

void test('a TARGET_AMQP_URL that does not answer: one line, credentials not shown', async () => {
  const lines = await refused('bus-durability', { TARGET_AMQP_URL: 'amqp://agent:s3cret-pw@127.0.0.1:1', FAULTS: 'consumer-crash@5s' });
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(
    lines[0] ?? '',
    /^agentload: TARGET_AMQP_URL amqp:\/\/\*\*\*@127\.0\.0\.1:1\/? does not answer \(.*ECONNREFUSED.*\): start that broker, fix the URL, or unset it to let agentload start one$/,
  );
  assert.doesNotMatch(lines.join('\n'), /s3cret/);
});

void test('restarting a broker agentload did not start is refused, saying how to configure it', async () => {
  const lines = await refused('bus-durability', { TARGET_AMQP_URL: 'amqp://127.0.0.1:1' });
  assert.equal(
    lines[0],
    'agentload: fault broker-restart cannot be applied: agentload did not start the broker (TARGET_AMQP_URL is set): set AGENTLOAD_FAULT_BROKER_RESTART_CMD to a command that restarts your broker, e.g. "systemctl restart rabbitmq-server"',
  );
});

void test('your own system cannot lose or gain an instance without a command for it', async () => {
  const lines = await refused('failover', { BASE_URL: 'http://127.0.0.1:9' });
  assert.match(
    lines[0] ?? '',
    /^agentload: fault instance-kill cannot be applied: the platform's processes are not agentload's \(BASE_URL points at your own system\): set AGENTLOAD_FAULT_INSTANCE_KILL_CMD to /,
  );
  assert.match(lines[1] ?? '', /^ {2}fault instance-add cannot be applied: .*AGENTLOAD_FAULT_INSTANCE_ADD_CMD/);
  assert.match(lines[2] ?? '', /^ {2}failover reads each instance's request count, .*: set AGENTLOAD_CLUSTER_STATS_CMD to /);
});

void test('--cloud cannot run a fault scenario: the controller is on this machine', async () => {
  assert.deepEqual(await refused('bus-durability', {}, ['--cloud']), [
    'agentload: --cloud cannot run bus-durability: its faults are applied by a fault controller on this machine, which Grafana Cloud cannot reach: run it locally (drop --cloud)',
  ]);
});
