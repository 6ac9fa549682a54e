import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

const short = { DURATION: '5s', BURST_DURATION: '3s', RATE: '20', BURST_RATE: '40', DRAIN_TIMEOUT: '4' };

void test('eventbus passes at smoke size: no loss, no duplicates, delivery within the objective', async () => {
  assertPassed(await runHealthy('eventbus', { env: short }));
});

void test('eventbus fails (99) on bus_messages_lost when the bus drops 5 % of messages', async () => {
  assertCrossed(await runScenario('eventbus', { env: short, targetEnv: { FAULT_BUS_DROP_RATE: '0.05' } }), 'bus_messages_lost');
});

void test('eventbus fails (99) on bus_messages_duplicated when the bus duplicates 5 % of messages', async () => {
  assertCrossed(await runScenario('eventbus', { env: short, targetEnv: { FAULT_BUS_DUPLICATE_RATE: '0.05' } }), 'bus_messages_duplicated');
});

void test('eventbus fails (99) on the maximum consumer lag (a Trend, not the last value) when consumers take 300 ms per message', async () => {
  assertCrossed(
    await runScenario('eventbus', { env: { ...short, DRAIN_TIMEOUT: '2' }, targetEnv: { FAULT_SLOW_CONSUMER_MS: '300' } }),
    'bus_consumer_lag_ms',
  );
});
