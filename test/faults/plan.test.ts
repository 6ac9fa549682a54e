/**
 * Fault plans, share accounting and which faults a setup can apply: pure functions, exact expectations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/config.ts';
import {
  busDurabilityTimeline,
  checkPlanFits,
  failoverTimeline,
  parseFaultPlan,
  scenarioFaultTimeline,
  shareDeviation,
} from '../../lib/fault-plan.ts';
import { availability, commandVariable, refusals } from '../../src/faults/actions.ts';
import { labPlan, viaProxy } from '../../src/faults/lab.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

void describe('fault plans (FAULTS)', () => {
  void it('parses actions, times, durations and modes, in time order', () => {
    assert.deepEqual(parseFaultPlan('partition@30s:5s/cut, consumer-crash@1m, broker-kill@10s:2s, instance-add@1m30s'), [
      { action: 'broker-kill', atS: 10, durationS: 2, mode: 'blackhole' },
      { action: 'partition', atS: 30, durationS: 5, mode: 'cut' },
      { action: 'consumer-crash', atS: 60, durationS: 0, mode: 'blackhole' },
      { action: 'instance-add', atS: 90, durationS: 0, mode: 'blackhole' },
    ]);
    assert.deepEqual(parseFaultPlan('none'), []);
    assert.deepEqual(parseFaultPlan('  '), []);
  });

  void it('refuses an unknown action, naming it and the known ones', () => {
    const e = configError(() => parseFaultPlan('consumer-crash@5s,explode@10s'));
    assert.equal(e.variable, 'FAULTS');
    assert.equal(
      e.message,
      'FAULTS names unknown fault action "explode": use broker-restart, broker-kill, consumer-crash, publisher-crash, partition, instance-kill, instance-add',
    );
  });

  void it('refuses malformed items, a partition without a duration and a mode on other actions', () => {
    assert.match(configError(() => parseFaultPlan('partition')).message, /must look like action@time/);
    assert.match(configError(() => parseFaultPlan('partition@10s')).message, /a partition needs a duration/);
    assert.match(configError(() => parseFaultPlan('broker-kill@10s/cut')).message, /only for partitions/);
    assert.match(configError(() => parseFaultPlan('broker-kill@soon')).message, /must look like/);
  });

  void it('a fault at or after the end of the faults phase is refused with the fix', () => {
    checkPlanFits(parseFaultPlan('consumer-crash@47s'), 48);
    const e = configError(() => {
      checkPlanFits(parseFaultPlan('consumer-crash@48s'), 48);
    });
    assert.equal(e.message, 'FAULTS: consumer-crash at 48s ends after the faults phase (48s): move it earlier or lengthen DURATION');
    assert.match(
      configError(() => {
        checkPlanFits(parseFaultPlan('partition@40s:10s'), 48);
      }).message,
      /partition at 40s for 10s ends after/,
    );
  });

  void it('default plans fit their scenarios at both sizes, and a plan that does not fit is refused', () => {
    for (const SIZE of ['smoke', 'full']) {
      assert.equal(busDurabilityTimeline({ SIZE }).plan.length, 4);
      assert.deepEqual(
        failoverTimeline({ SIZE }).plan.map((f) => f.action),
        ['instance-kill', 'instance-add'],
      );
    }
    const smoke = busDurabilityTimeline({}).plan;
    assert.deepEqual(
      smoke.map((f) => `${f.action}@${f.atS}:${f.durationS}`),
      ['consumer-crash@8:0', 'partition@14:4', 'publisher-crash@22:0', 'broker-restart@28:0'],
    );
    assert.deepEqual(
      failoverTimeline({}).plan.map((f) => `${f.action}@${f.atS}`),
      ['instance-kill@14', 'instance-add@20'],
    );
    // Defaults follow DURATION; an explicit plan that does not fit is refused.
    assert.deepEqual(
      busDurabilityTimeline({ DURATION: '20s' }).plan.map((f) => f.atS),
      [5, 7, 11, 13],
    );
    assert.throws(
      () => busDurabilityTimeline({ DURATION: '20s', FAULTS: 'broker-restart@26s' }),
      /broker-restart at 26s ends after the faults phase \(22s\)/,
    );
    assert.equal(scenarioFaultTimeline('api-latency', {}), undefined);
    assert.equal(scenarioFaultTimeline('api-latency', { FAULTS: 'instance-kill@5s' })?.plan.length, 1);
  });
});

void describe('share deviation', () => {
  void it('is the largest relative distance from an even share', () => {
    assert.equal(shareDeviation([100, 100, 100]), 0);
    assert.ok(Math.abs(shareDeviation([110, 100, 90]) - 0.1) < 1e-12);
    assert.ok(Math.abs(shareDeviation([150, 50]) - 0.5) < 1e-12);
    assert.equal(shareDeviation([]), 0);
    assert.equal(shareDeviation([0, 0]), 0);
  });
});

void describe('which faults a setup can apply', () => {
  const bundled = labPlan('bus-durability', {});
  const ownBroker = labPlan('bus-durability', { TARGET_AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672' });
  const ownSystem = labPlan('failover', { BASE_URL: 'http://127.0.0.1:9' });

  void it('the bundled lab: a broker of ours, a proxy, 2 API instances and 2 workers; everything applies', () => {
    assert.ok(bundled !== undefined);
    assert.deepEqual(bundled.broker, { kind: 'start' });
    assert.deepEqual(bundled.platform, { instances: 2, workers: 2, deliveryLog: true });
    assert.deepEqual(
      Object.values(availability(bundled.setup)).map((a) => a.available),
      [true, true, true, true, true, true, true],
    );
    assert.deepEqual(labPlan('failover', { SIZE: 'full', TARGET_INSTANCES: '5' })?.platform, {
      instances: 5,
      workers: 2,
      deliveryLog: false,
    });
    assert.equal(labPlan('api-latency', {}), undefined, 'no lab for other scenarios');
    assert.deepEqual(labPlan('api-latency', { TARGET_INSTANCES: '3' })?.platform, { instances: 3, workers: 0, deliveryLog: false });
  });

  void it('a broker we did not start: broker faults are refused with the variable to set', () => {
    assert.ok(ownBroker !== undefined);
    assert.deepEqual(refusals(['broker-restart', 'partition', 'consumer-crash'], ownBroker.setup), [
      'fault broker-restart cannot be applied: agentload did not start the broker (TARGET_AMQP_URL is set): set AGENTLOAD_FAULT_BROKER_RESTART_CMD to a command that restarts your broker, e.g. "systemctl restart rabbitmq-server"',
    ]);
    const withCmd = labPlan('bus-durability', {
      TARGET_AMQP_URL: 'amqp://127.0.0.1',
      AGENTLOAD_FAULT_BROKER_RESTART_CMD: 'systemctl restart rabbitmq-server',
    });
    assert.ok(withCmd !== undefined);
    assert.deepEqual(refusals(['broker-restart'], withCmd.setup), []);
    assert.equal(availability(withCmd.setup)['broker-restart'].how, 'command (AGENTLOAD_FAULT_BROKER_RESTART_CMD)');
  });

  void it('your own system: process faults need commands; a one-process platform cannot lose an instance', () => {
    assert.ok(ownSystem !== undefined);
    assert.equal(ownSystem.platform, undefined);
    assert.deepEqual(
      refusals(['instance-kill', 'instance-add'], ownSystem.setup).map((l) => l.split(':')[0]),
      ['fault instance-kill cannot be applied', 'fault instance-add cannot be applied'],
    );
    assert.match(
      refusals(['instance-kill'], ownSystem.setup)[0] ?? '',
      /BASE_URL points at your own system.*AGENTLOAD_FAULT_INSTANCE_KILL_CMD/,
    );
    const single = labPlan('failover', { TARGET_INSTANCES: '1', TARGET_WORKERS: '0' });
    assert.ok(single !== undefined);
    assert.match(refusals(['instance-kill'], single.setup)[0] ?? '', /runs as one process: set TARGET_INSTANCES=2/);
    const oneApi = labPlan('failover', { TARGET_INSTANCES: '1', TARGET_WORKERS: '1' });
    assert.ok(oneApi !== undefined);
    assert.match(refusals(['instance-kill'], oneApi.setup)[0] ?? '', /one API instance, and killing it leaves none/);
    assert.equal(commandVariable('publisher-crash'), 'AGENTLOAD_FAULT_PUBLISHER_CRASH_CMD');
  });

  void it('the platform reaches the broker through the proxy with the same credentials, vhost and options', () => {
    assert.equal(viaProxy('amqp://u:p%40ss@broker.example:5672/vh?heartbeat=5', 40123), 'amqp://u:p%40ss@127.0.0.1:40123/vh?heartbeat=5');
  });
});
