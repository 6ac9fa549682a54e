import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { RunningTarget } from '../../target/index.ts';
import { at, metric, req, start, waitFor } from './helpers.ts';

const SECRET = 'test-signing-secret-9f8e';
const TOKEN = 'xoxb-test-token-123';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A little Slack Web API stand-in: records every request, answers {"ok":true}. */
async function startSink(): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      got.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/api`, got, server };
}

/** Signs independently of the target's own code: HMAC-SHA256 over "v0:{ts}:{body}". */
function sign(body: string, ts: number, secret = SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
  };
}
const now = (): number => Math.floor(Date.now() / 1000);

async function post(base: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}/slack/events`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

function mention(eventId: string, text: string, clientMsgId?: string): string {
  return JSON.stringify({
    type: 'event_callback',
    team_id: 'T1',
    api_app_id: 'A1',
    event_id: eventId,
    event_time: now(),
    event: {
      type: 'app_mention',
      user: 'U1',
      text,
      ts: '1700000000.000100',
      channel: 'C123',
      ...(clientMsgId !== undefined ? { client_msg_id: clientMsgId } : {}),
    },
  });
}

void describe('Slack Events API', () => {
  let t: RunningTarget;
  let sink: Awaited<ReturnType<typeof startSink>>;
  before(async () => {
    sink = await startSink();
    t = await start({ SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: sink.url });
  });
  after(async () => {
    await t.close();
    await new Promise((r) => sink.server.close(r));
  });

  void it('rejects missing signature headers with 401', async () => {
    const body = mention('Ev0', 'hi');
    const h = sign(body, now());
    for (const drop of ['x-slack-signature', 'x-slack-request-timestamp']) {
      const headers = Object.fromEntries(Object.entries(h).filter(([k]) => k !== drop));
      const r = await post(t.url, body, headers);
      assert.equal(r.status, 401, drop);
      assert.equal(at(r.body, 'code'), 'SLACK_SIGNATURE_MISSING', drop);
    }
  });

  void it('rejects a wrong signature, a wrong secret and a tampered body with 401', async () => {
    const body = mention('Ev1', 'hi');
    const ts = now();
    const bad = { ...sign(body, ts), 'x-slack-signature': 'v0=deadbeef' };
    assert.deepEqual(
      [(await post(t.url, body, bad)).status, at((await post(t.url, body, bad)).body, 'code')],
      [401, 'SLACK_SIGNATURE_INVALID'],
    );
    const other = await post(t.url, body, sign(body, ts, 'another-secret'));
    assert.equal(other.status, 401);
    assert.equal(at(other.body, 'code'), 'SLACK_SIGNATURE_INVALID');
    const tampered = await post(t.url, body.replace('hi', 'ho'), sign(body, ts));
    assert.equal(tampered.status, 401);
    assert.equal(at(tampered.body, 'code'), 'SLACK_SIGNATURE_INVALID');
  });

  void it('rejects timestamps outside the 5-minute window, even when correctly signed', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c' });
    // 310, not 301: the server reads its clock a moment later (a second later on a loaded machine), which would bring +301 to 300.
    for (const ts of [now() - 310, now() + 310]) {
      const r = await post(t.url, body, sign(body, ts));
      assert.equal(r.status, 401, String(ts));
      assert.equal(at(r.body, 'code'), 'SLACK_TIMESTAMP_STALE');
    }
    const inside = await post(t.url, body, sign(body, now() - 290));
    assert.equal(inside.status, 200, 'inside the window');
  });

  void it('answers url_verification with the challenge', async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'abc123', type: 'url_verification' });
    const r = await post(t.url, body, sign(body, now()));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { challenge: 'abc123' });
  });

  void it('turns a mention into a task and replies via chat.postMessage with the correlation id', async () => {
    const body = mention('EvPOS1', '<@U0BOT> summarise the incident', 'corr-1111');
    const r = await post(t.url, body, sign(body, now()));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { ok: true });
    const reply = await waitFor('reply at the sink', () =>
      sink.got.find((g) => at(g.body, 'metadata', 'event_payload', 'correlation_id') === 'corr-1111'),
    );
    assert.equal(reply.path, '/api/chat.postMessage');
    assert.equal(reply.headers.authorization, `Bearer ${TOKEN}`);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    assert.equal(at(reply.body, 'channel'), 'C123');
    assert.equal(at(reply.body, 'thread_ts'), '1700000000.000100');
    assert.match(String(at(reply.body, 'text')), /\[correlation_id=corr-1111\]/);
    assert.equal(at(reply.body, 'metadata', 'event_payload', 'event_id'), 'EvPOS1');
    assert.equal(at(reply.body, 'metadata', 'event_payload', 'status'), 'completed');
    const taskId = String(at(reply.body, 'metadata', 'event_payload', 'task_id'));
    const task = await req(t.url, 'GET', `/api/tasks/${taskId}`);
    assert.equal(at(task.body, 'mode'), 'autonomous');
    assert.equal(at(task.body, 'input', 'correlationId'), 'corr-1111');
  });

  void it('uses event_id as the correlation id without client_msg_id; "complex" runs collaboratively', async () => {
    const body = mention('EvPOS2', 'a complex question');
    await post(t.url, body, sign(body, now()));
    const reply = await waitFor('reply', () =>
      sink.got.find((g) => at(g.body, 'metadata', 'event_payload', 'correlation_id') === 'EvPOS2'),
    );
    const task = await req(t.url, 'GET', `/api/tasks/${String(at(reply.body, 'metadata', 'event_payload', 'task_id'))}`);
    assert.equal(at(task.body, 'mode'), 'collaborative');
  });

  void it('acknowledges a retried event_id once and replies once', async () => {
    const body = mention('EvDUP', 'hello', 'corr-dup');
    const first = await post(t.url, body, sign(body, now()));
    const retry = await post(t.url, body, { ...sign(body, now()), 'x-slack-retry-num': '1' });
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.equal(at(retry.body, 'duplicate'), true);
    await waitFor('first reply', () => sink.got.find((g) => at(g.body, 'metadata', 'event_payload', 'correlation_id') === 'corr-dup'));
    // a later event's reply arriving proves the pipeline drained past any second reply
    const later = mention('EvAFTER', 'hello', 'corr-after');
    await post(t.url, later, sign(later, now()));
    await waitFor('later reply', () => sink.got.find((g) => at(g.body, 'metadata', 'event_payload', 'correlation_id') === 'corr-after'));
    assert.equal(sink.got.filter((g) => at(g.body, 'metadata', 'event_payload', 'correlation_id') === 'corr-dup').length, 1);
  });

  void it('ignores bot messages and other event types', async () => {
    const bot = JSON.stringify({
      type: 'event_callback',
      event_id: 'EvBOT',
      event: { type: 'message', bot_id: 'B1', text: 'x', channel: 'C1', ts: '1.1' },
    });
    const r = await post(t.url, bot, sign(bot, now()));
    assert.equal(r.status, 200);
    assert.equal(at(r.body, 'ignored'), 'event');
  });

  void it('counts replies as skipped when SLACK_API_URL is unset', async () => {
    const t2 = await start({ SLACK_SIGNING_SECRET: SECRET });
    try {
      const body = mention('EvSKIP', 'hello');
      assert.equal((await post(t2.url, body, sign(body, now()))).status, 200);
      await waitFor('skipped reply counted', async () => {
        const text = String((await req(t2.url, 'GET', '/metrics')).body);
        return metric(text, 'slack_replies_total{result="skipped"}') === 1 ? true : undefined;
      });
    } finally {
      await t2.close();
    }
    const text = String((await req(t.url, 'GET', '/metrics')).body);
    assert.ok(Number(metric(text, 'slack_replies_total{result="sent"}')) >= 3);
  });
});
