/**
 * The test broker's start-up failures are CodedErrors a caller can branch on: a broker that is not up in
 * time is stopped and reported with `rabbitmq-start-timeout` and its last log lines.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CodedError } from '../../shared/errors.ts';
import { BrokerError, startRabbitmq } from '../../src/rabbitmq/broker.ts';

void test('a broker not up within startTimeoutMs fails with a BrokerError coded rabbitmq-start-timeout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-broker-timeout-'));
  try {
    await assert.rejects(startRabbitmq({ dir, startTimeoutMs: 1 }), (e: unknown) => {
      assert.ok(e instanceof BrokerError, String(e));
      assert.ok(e instanceof CodedError);
      assert.equal(e.code, 'rabbitmq-start-timeout');
      assert.match(e.message, /did not accept AMQP connections on 127\.0\.0\.1:\d+ within 0\.001 s/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
