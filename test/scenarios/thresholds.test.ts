import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../lib/config.ts';
import type { SoakBudget as ReportSoakBudget } from '../../src/reporting/types.ts';
import {
  API_ENDPOINT_P95_MS,
  PROFILES,
  agentThresholds,
  allHealthyObjectiveMs,
  apiThresholds,
  eventbusThresholds,
  mergeThresholds,
  production,
  selectProfile,
  taskThresholds,
} from '../../objectives/index.ts';

void test('the per-endpoint API profile holds the design targets', () => {
  assert.deepEqual(API_ENDPOINT_P95_MS, { health: 50, agents_list: 100, agent_status: 50, agent_logs: 200, agent_start: 500 });
  assert.equal(production.websocket.messageP95Ms, 100);
  assert.equal(production.eventbus.maxLost, 0, 'zero loss');
  assert.equal(PROFILES.mvp.eventbus.maxLost, 0, 'zero loss in mvp too');
});

void test('PROFILE selects; unknown names are refused with the variable named; LATENCY_SCALE scales latency only', () => {
  assert.equal(selectProfile({}).name, 'mvp');
  assert.equal(selectProfile({ PROFILE: 'production' }).name, 'production');
  assert.throws(
    () => selectProfile({ PROFILE: 'prod' }),
    (e) => e instanceof ConfigError && e.code === 'config-invalid' && e.variable === 'PROFILE',
  );
  const scaled = selectProfile({ PROFILE: 'production', LATENCY_SCALE: '3' });
  assert.equal(scaled.api.p95Ms.health, 150);
  assert.equal(scaled.eventbus.deliveryP95Ms, 300);
  assert.equal(scaled.eventbus.maxLost, 0, 'loss objective unchanged');
  assert.equal(scaled.api.maxErrorRate, production.api.maxErrorRate, 'error objective unchanged');
  assert.throws(() => selectProfile({ LATENCY_SCALE: 'x' }), ConfigError);
});

void test('thresholds are keyed by tagged sub-metrics in k6 syntax', () => {
  assert.deepEqual(apiThresholds(production, ['health', 'agent_start']), {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{endpoint:health}': ['p(95)<50', 'p(99)<100'],
    'http_req_duration{endpoint:agent_start}': ['p(95)<500', 'p(99)<1000'],
  });
  assert.deepEqual(apiThresholds(PROFILES.mvp, ['health'])['http_req_duration{endpoint:health}'], ['p(95)<100'], 'mvp has no P99 bar');
  assert.deepEqual(eventbusThresholds(production).bus_messages_lost, ['count<=0']);
  assert.deepEqual(taskThresholds(production, ['autonomous'], { autonomous: 9.9 })['task_completed{mode:autonomous}'], ['count>=9']);
  assert.deepEqual(agentThresholds(production, [20, 25])['agents_all_healthy_time{agents:25}'], ['max<7000']);
});

void test('agent objectives: exact N, else the next larger N listed, else the largest', () => {
  assert.equal(allHealthyObjectiveMs(production, 20), 5000);
  assert.equal(allHealthyObjectiveMs(production, 21), 7000);
  assert.equal(allHealthyObjectiveMs(production, 3), 3000);
  assert.equal(allHealthyObjectiveMs(production, 100), 7000);
});

void test('mergeThresholds concatenates expressions per metric', () => {
  assert.deepEqual(mergeThresholds({ a: ['x'] }, { a: ['y'], b: ['z'] }), { a: ['x', 'y'], b: ['z'] });
});

void test('the soak budget is the report soak analysis budget type (passed to it as is)', () => {
  const budget: ReportSoakBudget = production.soak;
  assert.equal(budget.memoryGrowthMBPerHour, 10);
  assert.equal(PROFILES.mvp.soak.latencyDriftMsPerHour, 20);
});

void test('issue 12 targets: cache, scheduler, state store, jobs (scaled by the time factor), LLM per provider, per-agent memory', async () => {
  const t = await import('../../objectives/index.ts');
  assert.deepEqual(t.cacheThresholds(production, { direct: true }), {
    cache_hit: ['rate>0.95'],
    cache_redis_duration: ['p(95)<5'],
    cache_fallback_duration: ['p(95)<50'],
    cache_read_failed: ['rate<0.01'],
    redis_command_duration: ['p(95)<5'],
  });
  assert.deepEqual(t.cacheThresholds(PROFILES.mvp, { direct: false }).cache_hit, ['rate>0.9']);
  assert.deepEqual(t.schedulerThresholds(production).schedule_start_drift, ['p(95)<1000']);
  assert.deepEqual(t.stateStoreThresholds(production).state_write_duration, ['p(95)<100']);
  assert.deepEqual(t.stateStoreThresholds(production).db_pool_errors, ['count<=0']);
  assert.deepEqual(t.provisioningThresholds(production, 1).job_ready_time, ['med<=27000', 'p(95)<37000', 'p(99)<63000']);
  assert.deepEqual(t.provisioningThresholds(production, 0.02).job_ready_time, ['med<=540', 'p(95)<740', 'p(99)<1260']);
  // 45 jobs/h per slot × 4 slots × 0.5 h of platform time (36 s at × 0.02).
  assert.deepEqual(t.jobSweepThresholds(production, [4], 36, 0.02)['job_completed{concurrency:4}'], ['count>=90']);
  assert.deepEqual(t.llmThresholds(production, 'local').llm_ttft, ['p(95)<500']);
  assert.deepEqual(t.llmThresholds(production, 'hosted').llm_ttft, ['p(95)<1000']);
  assert.deepEqual(t.llmThresholds(production).llm_failed, ['rate<0.001'], 'seed: < 0.1 % after retries');
  assert.equal(production.agents.maxMemoryPerAgentBytes, 30 * 1024 * 1024);
  assert.equal(PROFILES.mvp.agents.maxMemoryPerAgentBytes, 50 * 1024 * 1024);
  assert.deepEqual(eventbusThresholds(production).bus_queue_depth, ['max<=1000'], 'a Trend: the maximum, not the last value');
});
