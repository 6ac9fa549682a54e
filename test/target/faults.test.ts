// Every fault knob, compared off vs on against a real target: each assertion would fail without the knob.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunningTarget } from '../../target/index.ts';
import { arr, at, metric, req, start, waitFor, wsConnect, wsUrl } from './helpers.ts';

async function knobs(base: string, patch: Record<string, unknown>): Promise<void> {
  const r = await req(base, 'PUT', '/admin/faults', patch);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function minMs(base: string, method: string, path: string, n = 3): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, (await req(base, method, path)).ms);
  return best;
}

function topic(stats: unknown, name: string): unknown {
  return arr(at(stats, 'topics')).find((x) => at(x, 'topic') === name);
}

void describe('fault knobs', () => {
  let t: RunningTarget;
  let base = '';
  before(async () => {
    t = await start({ FAULT_TASK_FAILURE_RATE: '0' });
    base = t.url;
  });
  after(async () => {
    await t.close();
  });

  void it('admin: GET shows, PUT merges and validates, DELETE restores the start values', async () => {
    const g = await req(base, 'GET', '/admin/faults');
    assert.equal(g.status, 200);
    assert.equal(at(g.body, 'errorRate'), 0);
    assert.equal(at(g.body, 'agentStartDelayMs'), 20, 'from AGENT_START_DELAY_MS');
    const p = await req(base, 'PUT', '/admin/faults', { errorRate: 0.01, routeLatency: { 'GET /api/agents': { ms: 5 } } });
    assert.equal(at(p.body, 'errorRate'), 0.01);
    assert.deepEqual(at(p.body, 'routeLatency'), { 'GET /api/agents': { ms: 5, jitterMs: 0 } });
    const bad = await req(base, 'PUT', '/admin/faults', { errorRate: 0.5, errrorRate: 1, busDropRate: 2 });
    assert.equal(bad.status, 400);
    assert.equal(at(bad.body, 'code'), 'FAULT_INVALID');
    assert.match(String(at(bad.body, 'error')), /errrorRate/);
    assert.match(String(at(bad.body, 'error')), /busDropRate/);
    assert.equal(at((await req(base, 'GET', '/admin/faults')).body, 'errorRate'), 0.01, 'a rejected PUT changes nothing');
    const d = await req(base, 'DELETE', '/admin/faults');
    assert.equal(at(d.body, 'errorRate'), 0);
    assert.deepEqual(at(d.body, 'routeLatency'), {});
  });

  void it('latencyMs delays every route; routeLatency only its route; admin and /metrics are exempt', async () => {
    assert.ok((await minMs(base, 'GET', '/health')) < 300, 'off: fast');
    await knobs(base, { latencyMs: 300 });
    assert.ok((await req(base, 'GET', '/health')).ms >= 300, 'on: /health delayed');
    assert.ok((await req(base, 'GET', '/api/agents')).ms >= 300, 'on: /api/agents delayed');
    assert.ok((await minMs(base, 'GET', '/metrics')) < 300, '/metrics exempt');
    assert.ok((await minMs(base, 'GET', '/admin/faults')) < 300, 'admin exempt');
    await req(base, 'DELETE', '/admin/faults');
    await knobs(base, { routeLatency: { 'GET /api/agents/:id/status': { ms: 300, jitterMs: 10 } } });
    const id = String(at((await req(base, 'GET', '/api/agents?limit=1')).body, 'items', 0, 'id'));
    assert.ok((await req(base, 'GET', `/api/agents/${id}/status`)).ms >= 300, 'the chosen route is delayed');
    assert.ok((await minMs(base, 'GET', '/health')) < 300, 'other routes are not');
    await req(base, 'DELETE', '/admin/faults');
    assert.ok((await minMs(base, 'GET', `/api/agents/${id}/status`)) < 300, 'reset: fast again');
  });

  void it('latencyJitterMs spreads the added delay over 0..jitter', async () => {
    await knobs(base, { latencyMs: 50, latencyJitterMs: 400 });
    const ms: number[] = [];
    for (let i = 0; i < 10; i++) ms.push((await req(base, 'GET', '/health')).ms);
    await req(base, 'DELETE', '/admin/faults');
    assert.ok(Math.min(...ms) >= 50, 'the fixed part always applies');
    assert.ok(Math.max(...ms) - Math.min(...ms) >= 100, `delays vary: ${ms.map(Math.round).join(', ')}`);
  });

  void it('errorRate answers 503 FAULT_INJECTED at the set rate; routeErrorRate per route', async () => {
    const count503 = async (n: number, path = '/health'): Promise<number> => {
      let k = 0;
      for (let i = 0; i < n; i++) if ((await req(base, 'GET', path)).status === 503) k += 1;
      return k;
    };
    assert.equal(await count503(20), 0, 'off');
    await knobs(base, { errorRate: 1 });
    const r = await req(base, 'GET', '/health');
    assert.equal(r.status, 503);
    assert.equal(at(r.body, 'code'), 'FAULT_INJECTED');
    assert.equal((await req(base, 'GET', '/metrics')).status, 200, '/metrics exempt');
    await knobs(base, { errorRate: 0.5 });
    const half = await count503(200);
    assert.ok(half > 50 && half < 150, `about half of 200 failed, got ${half}`);
    await knobs(base, { errorRate: 0, routeErrorRate: { 'POST /api/tasks': 1 } });
    assert.equal((await req(base, 'POST', '/api/tasks', { mode: 'autonomous' })).status, 503);
    assert.equal((await req(base, 'GET', '/health')).status, 200);
    const text = String((await req(base, 'GET', '/metrics')).body);
    assert.ok(Number(metric(text, 'http_requests_total{method="GET",route="/health",status="503"}')) >= 1, 'errors visible in metrics');
    await req(base, 'DELETE', '/admin/faults');
  });

  void it('leakBytesPerRequest makes RSS grow in /metrics; off it does not', async () => {
    const rss = async (): Promise<number> =>
      Number(metric(String((await req(base, 'GET', '/metrics')).body), 'process_resident_memory_bytes'));
    const leaked = async (): Promise<number> => Number(metric(String((await req(base, 'GET', '/metrics')).body), 'target_leaked_bytes'));
    const r0 = await rss();
    for (let i = 0; i < 80; i++) await req(base, 'GET', '/health');
    assert.equal(await leaked(), 0, 'off: nothing retained');
    const r1 = await rss();
    assert.ok(r1 - r0 < 60 * 1024 * 1024, `off: RSS grew only ${r1 - r0} bytes`);
    await knobs(base, { leakBytesPerRequest: 1024 * 1024 });
    for (let i = 0; i < 80; i++) await req(base, 'GET', '/health');
    const r2 = await rss();
    assert.equal(await leaked(), 80 * 1024 * 1024);
    assert.ok(r2 - r1 >= 60 * 1024 * 1024, `on: RSS grew ${r2 - r1} bytes for 80 MiB leaked`);
    await req(base, 'DELETE', '/admin/faults');
    const rel = await req(base, 'POST', '/admin/leak/release');
    assert.equal(at(rel.body, 'releasedBytes'), 80 * 1024 * 1024);
    assert.equal(await leaked(), 0);
  });

  void it('slowConsumerMs builds queue depth and consumer lag', async () => {
    const sub = await wsConnect(wsUrl(base, '/ws/bus?topic=agent_results'));
    try {
      for (let i = 0; i < 5; i++) await req(base, 'POST', '/api/bus/agent_results', { payload: i });
      const off = topic((await req(base, 'GET', '/api/bus/stats')).body, 'agent_results');
      assert.equal(at(off, 'depth'), 0, 'off: no backlog');
      await sub.next((m) => at(m, 'payload') === 4);
      await knobs(base, { slowConsumerMs: 500 });
      for (let i = 5; i < 10; i++) await req(base, 'POST', '/api/bus/agent_results', { payload: i });
      await new Promise((r) => setTimeout(r, 50));
      const on = topic((await req(base, 'GET', '/api/bus/stats')).body, 'agent_results');
      assert.ok(Number(at(on, 'depth')) >= 3, `on: backlog ${String(at(on, 'depth'))}`);
      assert.ok(Number(at(on, 'lagMs')) >= 40, `on: lag ${String(at(on, 'lagMs'))}`);
      const text = String((await req(base, 'GET', '/metrics')).body);
      assert.ok(Number(metric(text, 'bus_queue_depth{topic="agent_results"}')) >= 2);
      assert.ok(Number(metric(text, 'bus_consumer_lag_seconds{topic="agent_results"}')) > 0);
      await req(base, 'DELETE', '/admin/faults');
      await sub.next((m) => at(m, 'payload') === 9, 5000);
    } finally {
      await sub.close();
    }
  });

  void it('busDropRate loses messages (seq gaps); busDuplicateRate repeats them (same id and seq)', async () => {
    const sub = await wsConnect(wsUrl(base, '/ws/bus?topic=scheduled_tasks'));
    try {
      const first = await req(base, 'POST', '/api/bus/scheduled_tasks', { payload: 'a' });
      assert.equal(at(await sub.next(), 'seq'), at(first.body, 'seq'), 'off: delivered');
      await knobs(base, { busDropRate: 1 });
      for (let i = 0; i < 3; i++) await req(base, 'POST', '/api/bus/scheduled_tasks', { payload: 'lost' });
      await knobs(base, { busDropRate: 0, busDuplicateRate: 1 });
      const dup = await req(base, 'POST', '/api/bus/scheduled_tasks', { payload: 'twice' });
      await req(base, 'DELETE', '/admin/faults');
      const last = await req(base, 'POST', '/api/bus/scheduled_tasks', { payload: 'end' });
      await sub.next((m) => at(m, 'payload') === 'end');
      const got = sub.messages.map((m) => [at(m, 'payload'), at(m, 'seq'), at(m, 'id')]);
      const s0 = Number(at(first.body, 'seq'));
      assert.deepEqual(
        got.map((g) => g.slice(0, 2)),
        [
          ['a', s0],
          ['twice', s0 + 4],
          ['twice', s0 + 4],
          ['end', s0 + 5],
        ],
      );
      assert.equal(got[1]?.[2], got[2]?.[2], 'duplicate has the same id');
      assert.equal(got[1]?.[2], at(dup.body, 'id'));
      assert.equal(at(last.body, 'seq'), s0 + 5);
      const st = topic((await req(base, 'GET', '/api/bus/stats')).body, 'scheduled_tasks');
      assert.equal(at(st, 'dropped'), 3);
      assert.equal(at(st, 'duplicated'), 1);
    } finally {
      await sub.close();
    }
  });

  void it('llmTtftMs, llmTokensPerSecond and llmSlowdown pace the simulator', async () => {
    const ttft = async (): Promise<{ first: number; total: number }> => {
      const t0 = performance.now();
      const res = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true, max_tokens: 5 }),
      });
      const reader = res.body?.getReader();
      assert.ok(reader);
      await reader.read();
      const first = performance.now() - t0;
      while (!(await reader.read()).done) {
        /* drain */
      }
      return { first, total: performance.now() - t0 };
    };
    const offs = [await ttft(), await ttft(), await ttft()];
    const off = { first: Math.min(...offs.map((o) => o.first)), total: Math.min(...offs.map((o) => o.total)) };
    assert.ok(off.first < 350 && off.total < 400, `off: ${JSON.stringify(off)}`);
    await knobs(base, { llmSlowdown: 40 }); // ttft 10 ms → 400 ms
    assert.ok((await ttft()).first >= 400, 'slowdown stretches TTFT');
    await knobs(base, { llmSlowdown: 1, llmTtftMs: 350 });
    assert.ok((await ttft()).first >= 350, 'TTFT knob');
    await knobs(base, { llmTtftMs: 0, llmTokensPerSecond: 10 });
    const slow = await ttft();
    assert.ok(slow.total >= 400, `5 tokens at 10/s take >= 400 ms, took ${slow.total}`);
    await req(base, 'DELETE', '/admin/faults');
  });

  void it('agentStartDelayMs slows agent start-up', async () => {
    const spawnOne = async (): Promise<{ id: string; statusSoon: unknown }> => {
      const r = await req(base, 'POST', '/api/agents', { count: 1 });
      const id = String(at(r.body, 'agents', 0, 'id'));
      await new Promise((res) => setTimeout(res, 300));
      return { id, statusSoon: at((await req(base, 'GET', `/api/agents/${id}/status`)).body, 'status') };
    };
    const fast = await spawnOne();
    assert.equal(fast.statusSoon, 'healthy', 'off: healthy within 300 ms (delay 20 ms)');
    await knobs(base, { agentStartDelayMs: 1200 });
    const slow = await spawnOne();
    assert.equal(slow.statusSoon, 'starting', 'on: still starting');
    const s = await waitFor('slow agent healthy', async () => {
      const st = await req(base, 'GET', `/api/agents/${slow.id}/status`);
      return at(st.body, 'status') === 'healthy' ? st.body : undefined;
    });
    assert.ok(Number(at(s, 'healthyAt')) - Number(at(s, 'startedAt')) >= 1195);
    await req(base, 'DELETE', '/admin/faults');
  });

  void it('agentStartFailureRate makes start-up end failed; a retry can succeed', async () => {
    await knobs(base, { agentStartFailureRate: 1 });
    const r = await req(base, 'POST', '/api/agents', { count: 2 });
    const ids = arr(at(r.body, 'agents')).map((a) => String(at(a, 'id')));
    for (const id of ids) {
      await waitFor(`agent ${id} failed`, async () =>
        at((await req(base, 'GET', `/api/agents/${id}/status`)).body, 'status') === 'failed' ? true : undefined,
      );
    }
    const text = String((await req(base, 'GET', '/metrics')).body);
    assert.ok(Number(metric(text, 'agents{state="failed"}')) >= 2);
    await req(base, 'DELETE', '/admin/faults');
    const id = ids[0] ?? '';
    assert.equal((await req(base, 'POST', `/agents/${id}/start`)).status, 202);
    await waitFor('retried agent healthy', async () =>
      at((await req(base, 'GET', `/api/agents/${id}/status`)).body, 'status') === 'healthy' ? true : undefined,
    );
  });

  void it('taskFailureRate fails tasks and publishes failed results', async () => {
    const run = async (): Promise<unknown> => {
      const r = await req(base, 'POST', '/api/tasks', { mode: 'autonomous' });
      return waitFor('task finished', async () => {
        const g = await req(base, 'GET', `/api/tasks/${String(at(r.body, 'id'))}`);
        const s = at(g.body, 'status');
        return s === 'completed' || s === 'failed' ? g.body : undefined;
      });
    };
    assert.equal(at(await run(), 'status'), 'completed');
    await knobs(base, { taskFailureRate: 1 });
    const failed = await run();
    assert.equal(at(failed, 'status'), 'failed');
    assert.match(String(at(failed, 'error')), /injected/);
    await req(base, 'DELETE', '/admin/faults');
  });

  void it('slackReplyDelayMs delays the chat.postMessage reply', async () => {
    const secret = 'knob-secret';
    const arrivals = new Map<string, number>();
    const sink = createServer((rq, rs) => {
      const chunks: Buffer[] = [];
      rq.on('data', (c: Buffer) => chunks.push(c));
      rq.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        arrivals.set(String(at(body, 'metadata', 'event_payload', 'correlation_id')), Date.now());
        rs.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const addr = sink.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const t2 = await start({ SLACK_SIGNING_SECRET: secret, SLACK_API_URL: `http://127.0.0.1:${port}` });
    try {
      const send = async (id: string): Promise<number> => {
        const body = JSON.stringify({
          type: 'event_callback',
          event_id: id,
          event: { type: 'app_mention', text: 'hi', channel: 'C1', ts: '1.2' },
        });
        const ts = Math.floor(Date.now() / 1000);
        const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
        const t0 = Date.now();
        const r = await fetch(`${t2.url}/slack/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig },
          body,
        });
        assert.equal(r.status, 200);
        const at0 = await waitFor(`reply ${id}`, () => arrivals.get(id));
        return at0 - t0;
      };
      assert.ok((await send('EvFast')) < 1500, 'off: prompt reply');
      assert.equal((await req(t2.url, 'PUT', '/admin/faults', { slackReplyDelayMs: 1500 })).status, 200);
      assert.ok((await send('EvSlow')) >= 1500, 'on: reply delayed');
    } finally {
      await t2.close();
      await new Promise((r) => sink.close(r));
    }
  });

  void it('knobs set by env at start apply from the first request', async () => {
    const t2 = await start({ FAULT_ERROR_RATE: '1', FAULT_ROUTE_LATENCY: 'GET /metrics=1' });
    try {
      const h = await req(t2.url, 'GET', '/health');
      assert.equal(h.status, 503);
      const k = await req(t2.url, 'GET', '/admin/faults');
      assert.equal(at(k.body, 'errorRate'), 1);
      assert.deepEqual(at(k.body, 'routeLatency'), { 'GET /metrics': { ms: 1, jitterMs: 0 } });
    } finally {
      await t2.close();
    }
  });
});
