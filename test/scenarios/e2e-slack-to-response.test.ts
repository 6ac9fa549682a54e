import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

const short = { DURATION: '6s', RATE: '2', REPLY_TIMEOUT: '10' };

void test('slack-to-response passes: signed events in, replies matched at the sink by correlation id', async () => {
  const r = await runHealthy('slack-to-response', { env: short, slackSink: true });
  assertPassed(r);
  const s = r.sinkStats as { matched: number; unmatched: number; expected: number };
  assert.ok(s.matched > 0, 'replies were matched');
  assert.equal(s.matched, s.expected, 'every event got its reply');
  assert.equal(s.unmatched, 0);
});

void test('slack-to-response fails (99) on the simple-request objective when Slack replies are 3.5 s late', async () => {
  const r = await runScenario('slack-to-response', {
    env: { ...short, COMPLEX_SHARE: '0' },
    slackSink: true,
    targetEnv: { FAULT_SLACK_REPLY_DELAY_MS: '3500' },
  });
  assertCrossed(r, 'slack_e2e_latency{complexity:simple}');
});

void test('slack-to-response: a wrong signing secret is refused by the bot and fails on slack_event_accepted', async () => {
  const r = await runScenario('slack-to-response', {
    env: { ...short, DURATION: '3s', SLACK_SIGNING_SECRET: 'not-the-secret' },
    slackSink: true,
  });
  assertCrossed(r, 'slack_event_accepted');
  assert.ok(!r.stdout.includes('not-the-secret') && !r.stderr.includes('not-the-secret'), 'the secret is never printed');
});
