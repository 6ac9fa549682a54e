import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_KNOBS, knobsFromEnv, mergeKnobs, readConfig, redactUrl } from '../../target/config.ts';
import { TargetError } from '../../target/errors.ts';
import { readClusterConfig } from '../../target/cluster/config.ts';
import { isLoopback } from '../../target/server.ts';
import { slackSignature, verifySlackRequest } from '../../target/slack.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof TargetError ? e.code : `not a TargetError: ${String(e)}`;
  }
  return 'no error';
}

void describe('knobs from env', () => {
  void it('reads every FAULT_* form and TARGET_FAULTS, env variables winning', () => {
    const k = knobsFromEnv({
      TARGET_FAULTS: '{"errorRate":0.2,"slowConsumerMs":7}',
      FAULT_ERROR_RATE: '0.1',
      FAULT_LATENCY_MS: '5',
      FAULT_LATENCY_JITTER_MS: '2',
      FAULT_ROUTE_LATENCY: 'GET /api/agents=200:50, /health=10',
      FAULT_ROUTE_ERROR_RATE: 'POST /api/tasks=0.5',
      FAULT_LEAK_BYTES_PER_REQUEST: '1024',
      FAULT_BUS_DROP_RATE: '0.01',
      FAULT_BUS_DUPLICATE_RATE: '0.02',
      FAULT_SLACK_REPLY_DELAY_MS: '100',
      LLM_TTFT_MS: '80',
      LLM_TOKENS_PER_SECOND: '30',
      FAULT_LLM_SLOWDOWN: '2',
      AGENT_START_DELAY_MS: '900',
      AGENT_START_JITTER_MS: '100',
      FAULT_AGENT_START_FAILURE_RATE: '0.3',
      FAULT_TASK_FAILURE_RATE: '0.05',
      FAULT_AGENT_MEMORY_GROWTH_BYTES: '4096',
      FAULT_CACHE_BYPASS_RATE: '0.25',
      FAULT_SCHEDULER_DRIFT_MS: '1500',
      FAULT_JOB_PROVISION_SLOWDOWN: '3',
      FAULT_JOB_FAILURE_RATE: '0.1',
      FAULT_LLM_RATE_LIMIT_RATE: '0.2',
      LLM_RETRY_AFTER_MS: '250',
      LLM_MODEL_LOAD_MS: '2000',
      FAULT_LLM_CONCURRENCY_SLOWDOWN: '0.5',
    });
    assert.deepEqual(k, {
      latencyMs: 5,
      latencyJitterMs: 2,
      routeLatency: { 'GET /api/agents': { ms: 200, jitterMs: 50 }, '/health': { ms: 10, jitterMs: 0 } },
      errorRate: 0.1,
      routeErrorRate: { 'POST /api/tasks': 0.5 },
      leakBytesPerRequest: 1024,
      slowConsumerMs: 7,
      busDropRate: 0.01,
      busDuplicateRate: 0.02,
      slackReplyDelayMs: 100,
      llmTtftMs: 80,
      llmTokensPerSecond: 30,
      llmSlowdown: 2,
      agentStartDelayMs: 900,
      agentStartJitterMs: 100,
      agentStartFailureRate: 0.3,
      taskFailureRate: 0.05,
      agentMemoryGrowthBytes: 4096,
      cacheBypassRate: 0.25,
      schedulerDriftMs: 1500,
      jobProvisionSlowdown: 3,
      jobFailureRate: 0.1,
      llmRateLimitRate: 0.2,
      llmRetryAfterMs: 250,
      llmModelLoadMs: 2000,
      llmConcurrencySlowdown: 0.5,
    });
    assert.deepEqual(knobsFromEnv({}), DEFAULT_KNOBS);
  });

  void it('names the variable and the value when one is bad', () => {
    assert.throws(
      () => knobsFromEnv({ FAULT_BUS_DROP_RATE: 'lots' }),
      (e: unknown) =>
        e instanceof TargetError &&
        e.code === 'CONFIG_INVALID' &&
        e.message.includes('FAULT_BUS_DROP_RATE') &&
        e.message.includes('"lots"'),
    );
    assert.equal(
      code(() => knobsFromEnv({ FAULT_ROUTE_LATENCY: 'nonsense' })),
      'FAULT_INVALID',
    );
    assert.equal(
      code(() => knobsFromEnv({ FAULT_ROUTE_LATENCY: 'agents=5' })),
      'CONFIG_INVALID',
    );
    assert.equal(
      code(() => knobsFromEnv({ TARGET_FAULTS: '{' })),
      'FAULT_INVALID',
    );
    assert.equal(
      code(() => knobsFromEnv({ FAULT_LEAK_BYTES_PER_REQUEST: '1.5' })),
      'CONFIG_INVALID',
    );
  });

  void it('mergeKnobs rejects unknown keys and out-of-range values, all reported, nothing applied', () => {
    assert.throws(
      () => mergeKnobs(DEFAULT_KNOBS, { latncyMs: 1, errorRate: -1 }),
      (e: unknown) => e instanceof TargetError && e.code === 'FAULT_INVALID' && /latncyMs/.test(e.message) && /errorRate/.test(e.message),
    );
    assert.equal(
      code(() => mergeKnobs(DEFAULT_KNOBS, [])),
      'FAULT_INVALID',
    );
    assert.equal(
      code(() => mergeKnobs(DEFAULT_KNOBS, { llmSlowdown: 0.5 })),
      'FAULT_INVALID',
    );
    assert.equal(
      code(() => mergeKnobs(DEFAULT_KNOBS, { routeLatency: { 'GET /x': { ms: 1, extra: 2 } } })),
      'FAULT_INVALID',
    );
    assert.deepEqual(mergeKnobs(DEFAULT_KNOBS, { routeLatency: { '/x': 7 } }).routeLatency, { '/x': { ms: 7, jitterMs: 0 } });
  });
});

void describe('config', () => {
  void it('defaults, and one-line errors naming the variable', () => {
    const c = readConfig({});
    assert.equal(c.sqlitePath, ':memory:');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.slackApiUrl, undefined);
    assert.equal(c.artifactMaxBytes, 10 * 1024 * 1024);
    assert.equal(readConfig({ SLACK_API_URL: 'http://127.0.0.1:1/api/' }).slackApiUrl, 'http://127.0.0.1:1/api');
    assert.equal(
      code(() => readConfig({ SLACK_API_URL: 'ftp://x' })),
      'CONFIG_INVALID',
    );
    assert.equal(
      code(() => readConfig({ SEED_AGENTS: '-1' })),
      'CONFIG_INVALID',
    );
    assert.throws(
      () => readConfig({ DATABASE_URL: 'mysql://u:pw-123@h/db' }),
      (e: unknown) => e instanceof TargetError && e.code === 'CONFIG_INVALID' && !e.message.includes('pw-123'),
    );
  });

  void it('redactUrl hides passwords', () => {
    assert.equal(redactUrl('postgres://u:secret@127.0.0.1:5432/db'), 'postgres://u:***@127.0.0.1:5432/db');
    assert.equal(redactUrl('postgres://u@h/db'), 'postgres://u@h/db');
  });

  void it('isLoopback accepts loopback addresses only', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.0.0.5']) assert.equal(isLoopback(a), true, a);
    for (const a of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', undefined]) assert.equal(isLoopback(a), false, String(a));
  });
});

void describe('Slack v0 signature', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const body = Buffer.from('token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow');
  void it('is HMAC-SHA256 of "v0:{ts}:{body}" and verification rejects tampering', () => {
    const independent = `v0=${createHmac('sha256', secret).update(`v0:1531420618:${body.toString()}`).digest('hex')}`;
    assert.equal(slackSignature(secret, '1531420618', body), independent);
    const headers = { 'x-slack-signature': slackSignature(secret, '1531420618', body), 'x-slack-request-timestamp': '1531420618' };
    assert.doesNotThrow(() => {
      verifySlackRequest(secret, headers, body, 1531420618 + 10);
    });
    assert.equal(
      code(() => {
        verifySlackRequest(secret, headers, Buffer.concat([body, Buffer.from('x')]), 1531420618);
      }),
      'SLACK_SIGNATURE_INVALID',
    );
    assert.equal(
      code(() => {
        verifySlackRequest(secret, headers, body, 1531420618 + 301);
      }),
      'SLACK_TIMESTAMP_STALE',
    );
    assert.equal(
      code(() => {
        verifySlackRequest(secret, { ...headers, 'x-slack-request-timestamp': '1531420618.5' }, body, 1531420618);
      }),
      'SLACK_TIMESTAMP_STALE',
    );
    assert.equal(
      code(() => {
        verifySlackRequest(secret, {}, body, 1531420618);
      }),
      'SLACK_SIGNATURE_MISSING',
    );
  });
});

void describe('the platform as several processes (TARGET_INSTANCES, TARGET_WORKERS)', () => {
  const amqp = { AMQP_URL: 'amqp://127.0.0.1:5673' };
  void it('one instance and no worker is the single process of old; more is a cluster with its settings', () => {
    assert.equal(readClusterConfig({}), undefined);
    assert.equal(readClusterConfig({ TARGET_INSTANCES: '1', TARGET_WORKERS: '0' }), undefined);
    assert.deepEqual(readClusterConfig({ ...amqp, TARGET_INSTANCES: '3', TARGET_WORKERS: '2' }), {
      instances: 3,
      workers: 2,
      healthIntervalMs: 500,
      balancerHealth: true,
      restart: true,
    });
    const c = readClusterConfig({
      ...amqp,
      TARGET_WORKERS: '1',
      TARGET_BALANCER_HEALTH: 'off',
      TARGET_RESTART: 'never',
      TARGET_HEALTH_INTERVAL_MS: '200',
    });
    assert.deepEqual(c, { instances: 1, workers: 1, healthIntervalMs: 200, balancerHealth: false, restart: false });
  });
  void it('refuses, naming the variable: no shared bus, an in-memory database, bad counts and switches', () => {
    const msg = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        return e instanceof TargetError ? `${e.code}: ${e.message}` : String(e);
      }
      return 'no error';
    };
    assert.match(
      msg(() => readClusterConfig({ TARGET_INSTANCES: '2' })),
      /^CONFIG_INVALID: TARGET_INSTANCES\/TARGET_WORKERS need a bus the processes share: set AMQP_URL/,
    );
    assert.match(
      msg(() => readClusterConfig({ ...amqp, TARGET_INSTANCES: '2', SQLITE_PATH: ':memory:' })),
      /SQLITE_PATH=:memory: cannot be shared/,
    );
    assert.match(
      msg(() => readClusterConfig({ ...amqp, TARGET_INSTANCES: '0' })),
      /^CONFIG_INVALID: .*TARGET_INSTANCES/,
    );
    assert.match(
      msg(() => readClusterConfig({ ...amqp, TARGET_WORKERS: 'two' })),
      /^CONFIG_INVALID: .*TARGET_WORKERS/,
    );
    assert.match(
      msg(() => readClusterConfig({ ...amqp, TARGET_INSTANCES: '2', TARGET_BALANCER_HEALTH: 'maybe' })),
      /^CONFIG_INVALID: TARGET_BALANCER_HEALTH must be on or off, got "maybe"/,
    );
    assert.match(
      msg(() => readClusterConfig({ ...amqp, TARGET_INSTANCES: '2', TARGET_RESTART: 'always' })),
      /^CONFIG_INVALID: TARGET_RESTART must be on-failure or never/,
    );
  });
});
