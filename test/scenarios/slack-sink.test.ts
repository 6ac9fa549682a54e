import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSlackSink, replyCorrelationId } from '../../src/slack-sink/index.ts';

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return (await r.json()) as Record<string, unknown>;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

void test('a reply carrying the correlation id in metadata matches, and the long-poll returns its latency', async () => {
  const sink = await startSlackSink({ port: 0 });
  try {
    assert.deepEqual(await post(`${sink.url}/expect`, { correlationId: 'c-1' }).then((b) => b.ok), true);
    const wait = getJson(`${sink.url}/matches/c-1?timeoutMs=5000`);
    await new Promise((r) => setTimeout(r, 30));
    const reply = await post(`${sink.apiUrl}/chat.postMessage`, {
      channel: 'C1',
      thread_ts: '1.000001',
      text: 'done',
      metadata: { event_type: 'agentload_reply', event_payload: { correlation_id: 'c-1' } },
    });
    assert.equal(reply.ok, true, 'answers like Slack');
    assert.equal(reply.channel, 'C1');
    assert.equal(typeof reply.ts, 'string');
    const m = await wait;
    assert.equal(m.status, 200);
    assert.equal(m.body.matched, true, 'matched');
    assert.equal(m.body.late, false, 'not late');
    assert.equal(typeof m.body.latencyMs, 'number');
    assert.ok((m.body.latencyMs as number) >= 0);
    assert.deepEqual(sink.stats(), { received: 1, matched: 1, unmatched: 0, late: 0, duplicates: 0, pending: 0, expected: 1, givenUp: 0 });
  } finally {
    await sink.close();
  }
});

void test('text token, thread_ts alias and form-encoded bodies match; strangers are unmatched; repeats are duplicates', async () => {
  const sink = await startSlackSink({ port: 0 });
  try {
    await post(`${sink.url}/expect`, { correlationId: 'c-text' });
    await post(`${sink.url}/expect`, { correlationId: 'c-thread', keys: ['1700000000.000042'] });
    await post(`${sink.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'answer [correlation_id=c-text]' });
    const form = new URLSearchParams({ channel: 'C2', text: 'real bot reply', thread_ts: '1700000000.000042' });
    const fr = await fetch(`${sink.apiUrl}/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    assert.equal(((await fr.json()) as { ok: boolean }).ok, true);
    await post(`${sink.apiUrl}/chat.postMessage`, { channel: 'C1', text: 'again [correlation_id=c-text]' });
    await post(`${sink.apiUrl}/chat.postMessage`, { channel: 'C9', text: 'nobody asked' });
    const t = await getJson(`${sink.url}/matches/c-thread?timeoutMs=0`);
    assert.equal(t.body.matched, true, 'thread_ts alias matched');
    assert.deepEqual(sink.stats(), { received: 4, matched: 2, unmatched: 1, late: 0, duplicates: 1, pending: 0, expected: 2, givenUp: 0 });
    const stats = await getJson(`${sink.url}/stats`);
    assert.equal(stats.body.unmatched, 1);
  } finally {
    await sink.close();
  }
});

void test('a waiter that times out gives up, and a reply after that (or after lateAfterMs) is late', async () => {
  let clock = 1000;
  const sink = await startSlackSink({ port: 0, lateAfterMs: 500, now: () => clock });
  try {
    await post(`${sink.url}/expect`, { correlationId: 'slow' });
    await post(`${sink.url}/expect`, { correlationId: 'over-deadline' });
    const m = await getJson(`${sink.url}/matches/slow?timeoutMs=20`);
    assert.equal(m.body.matched, false, 'no reply within the wait');
    await post(`${sink.apiUrl}/chat.postMessage`, { channel: 'C', text: 'x [correlation_id=slow]' });
    clock += 600;
    await post(`${sink.apiUrl}/chat.postMessage`, { channel: 'C', text: 'x [correlation_id=over-deadline]' });
    const late = await getJson(`${sink.url}/matches/over-deadline?timeoutMs=0`);
    assert.equal(late.body.late, true);
    assert.equal(late.body.latencyMs, 600);
    const s = sink.stats();
    assert.equal(s.givenUp, 1);
    assert.equal(s.late, 2);
    assert.equal(s.matched, 2);
  } finally {
    await sink.close();
  }
});

void test('errors: unknown correlation 404, bad expect 400, duplicate registration 409, missing channel, wrong token', async () => {
  const sink = await startSlackSink({ port: 0, token: 'xoxb-test' });
  try {
    const unknown = await getJson(`${sink.url}/matches/never`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'SINK_UNKNOWN_CORRELATION');
    const bad = await fetch(`${sink.url}/expect`, { method: 'POST', body: '{}' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'SINK_BAD_EXPECT');
    await post(`${sink.url}/expect`, { correlationId: 'twice' });
    const dup = await fetch(`${sink.url}/expect`, { method: 'POST', body: JSON.stringify({ correlationId: 'twice' }) });
    assert.equal(dup.status, 409);
    const noAuth = await post(`${sink.apiUrl}/chat.postMessage`, { channel: 'C', text: 'x' });
    assert.deepEqual(noAuth, { ok: false, error: 'invalid_auth' });
    const noChannel = await post(`${sink.apiUrl}/chat.postMessage`, { text: 'x' }, { authorization: 'Bearer xoxb-test' });
    assert.deepEqual(noChannel, { ok: false, error: 'channel_not_found' });
    assert.equal(sink.stats().received, 0, 'refused calls are not received replies');
  } finally {
    await sink.close();
  }
});

void test('replyCorrelationId prefers metadata over the text token', () => {
  assert.equal(replyCorrelationId({ text: 'a [correlation_id=t1]', metadata: { event_payload: { correlation_id: 'm1' } } }), 'm1');
  assert.equal(replyCorrelationId({ text: 'a [correlation_id=t1]' }), 't1');
  assert.equal(replyCorrelationId({ text: 'nothing here' }), null);
});
