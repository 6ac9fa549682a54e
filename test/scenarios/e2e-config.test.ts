import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from './helpers.ts';

void test('a bad variable stops the run in init code (exit 107) with one line naming it, before any traffic', async () => {
  const r = await runScenario('websocket-fanout', { env: { WS_CLIENTS: 'lots' } });
  assert.equal(r.code, 107, r.stderr);
  assert.match(r.stderr, /WS_CLIENTS must be an integer, got \\?"lots\\?"/);
  assert.equal(r.summary?.metrics.http_reqs, undefined, 'no request was sent');
});

void test('a missing target is refused with the fix (BASE_URL unset → exit 107)', async () => {
  const r = await runScenario('api-latency', { env: { BASE_URL: '' } });
  assert.equal(r.code, 107, r.stderr);
  assert.match(r.stderr, /BASE_URL is not set: run through `npm run k6/);
});

void test('slack-to-response without a signing secret is refused and names SLACK_SIGNING_SECRET', async () => {
  const r = await runScenario('slack-to-response', { env: { SLACK_SIGNING_SECRET: '' }, slackSink: true });
  assert.equal(r.code, 107, r.stderr);
  assert.match(r.stderr, /SLACK_SIGNING_SECRET is not set/);
});
