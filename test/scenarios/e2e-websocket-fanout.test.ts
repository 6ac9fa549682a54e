import { test } from 'node:test';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

const small = { WS_CLIENTS: '10', WS_MESSAGES: '10', PUBLISH_RATE: '10', CONNECT_WINDOW: '2' };

void test('websocket-fanout passes at smoke size: every subscriber gets every message once', async () => {
  assertPassed(await runHealthy('websocket-fanout', { env: small }));
});

void test('websocket-fanout fails (99) on message latency when publishing gets 400 ms slower', async () => {
  const r = await runScenario('websocket-fanout', { env: small, targetEnv: { FAULT_ROUTE_LATENCY: 'POST /api/broadcast=400' } });
  assertCrossed(r, 'ws_fanout_latency');
});
