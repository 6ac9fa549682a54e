import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunningTarget } from '../../target/index.ts';
import { arr, at, metric, req, start, waitFor, wsConnect, wsUrl } from './helpers.ts';
import { storageSuite } from './suite.ts';

storageSuite('sqlite', () => ({}));

void describe('routes without storage differences', () => {
  let t: RunningTarget;
  let base = '';
  before(async () => {
    t = await start({ ARTIFACT_MAX_BYTES: '65536' });
    base = t.url;
  });
  after(async () => {
    await t.close();
  });

  void it('unknown routes answer 404 NOT_FOUND', async () => {
    const r = await req(base, 'GET', '/api/nope');
    assert.equal(r.status, 404);
    assert.equal(at(r.body, 'code'), 'NOT_FOUND');
  });

  void it('bus: publish over HTTP, subscribe over WebSocket, ids, per-topic seq, stats', async () => {
    const sub = await wsConnect(wsUrl(base, '/ws/bus?topic=agent_results'));
    const other = await wsConnect(wsUrl(base, '/ws/bus?topic=slack_events'));
    try {
      const before = Date.now();
      const one = await req(base, 'POST', '/api/bus/agent_results', { payload: { n: 1 }, key: 'k1' });
      assert.equal(one.status, 202);
      const batch = await req(base, 'POST', '/api/bus/agent_results', { messages: [{ payload: { n: 2 } }, { payload: { n: 3 } }] });
      assert.equal(batch.status, 202);
      const seqs = [at(one.body, 'seq'), ...arr(at(batch.body, 'items')).map((x) => at(x, 'seq'))].map(Number);
      assert.deepEqual(seqs, [seqs[0], (seqs[0] ?? 0) + 1, (seqs[0] ?? 0) + 2], 'consecutive per-topic sequence');
      const got = [await sub.next(), await sub.next(), await sub.next()];
      assert.deepEqual(
        got.map((m) => at(m, 'payload', 'n')),
        [1, 2, 3],
      );
      assert.deepEqual(
        got.map((m) => at(m, 'seq')),
        seqs,
      );
      assert.equal(at(got[0], 'id'), at(one.body, 'id'));
      assert.equal(at(got[0], 'key'), 'k1');
      assert.equal(at(got[0], 'topic'), 'agent_results');
      assert.ok(Number(at(got[0], 'publishedAt')) >= before && Number(at(got[0], 'deliveredAt')) >= Number(at(got[0], 'publishedAt')));
      const s = await req(base, 'POST', '/api/bus/slack_events', { payload: 'x' });
      assert.equal(at(s.body, 'seq'), 1, 'sequence is per topic');
      assert.equal(at(await other.next(), 'payload'), 'x');
      assert.equal(sub.messages.length, 3, 'topic filter');
      const stats = await req(base, 'GET', '/api/bus/stats');
      const ar = arr(at(stats.body, 'topics')).find((x) => at(x, 'topic') === 'agent_results');
      assert.ok(Number(at(ar, 'published')) >= 3);
      assert.equal(at(ar, 'depth'), 0);
      assert.equal(at(ar, 'lagMs'), 0);
      assert.ok(Number(at(ar, 'consumers')) >= 1);
      const unknown = await req(base, 'POST', '/api/bus/nope', { payload: 1 });
      assert.equal(unknown.status, 404);
      assert.equal(at(unknown.body, 'code'), 'BUS_TOPIC_UNKNOWN');
    } finally {
      await sub.close();
      await other.close();
    }
  });

  void it('WebSocket upgrade on an unknown path is refused with 404', async () => {
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(wsUrl(base, '/ws/nope'));
    const status = await new Promise<number>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
      });
      ws.once('error', reject);
      ws.once('open', () => {
        reject(new Error('opened'));
      });
    });
    assert.equal(status, 404);
    ws.terminate();
  });

  void it('bus WebSocket with an unknown topic closes with 1008', async () => {
    const c = await wsConnect(wsUrl(base, '/ws/bus?topic=nope'));
    const code = await new Promise<number>((resolve) =>
      c.ws.once('close', (n) => {
        resolve(n);
      }),
    );
    assert.equal(code, 1008);
  });

  void it('broadcast: one publish reaches every subscriber with seq and server time', async () => {
    const subs = await Promise.all([1, 2, 3].map(() => wsConnect(wsUrl(base, '/ws/broadcast'))));
    const elsewhere = await wsConnect(wsUrl(base, '/ws/broadcast?channel=other'));
    try {
      for (const s of subs) assert.equal(at(await s.next(), 'type'), 'welcome');
      await elsewhere.next();
      const r = await req(base, 'POST', '/api/broadcast', { payload: { hello: 1 } });
      assert.equal(r.status, 200);
      assert.equal(at(r.body, 'recipients'), 3);
      for (const s of subs) {
        const m = await s.next();
        assert.equal(at(m, 'type'), 'broadcast');
        assert.deepEqual(at(m, 'payload'), { hello: 1 });
        assert.equal(at(m, 'seq'), at(r.body, 'seq'));
        assert.equal(at(m, 'serverTime'), at(r.body, 'serverTime'));
      }
      // publish from a socket: everyone in the channel, sender included, gets the next seq
      subs[0]?.ws.send(JSON.stringify({ type: 'broadcast', payload: 'via ws' }));
      for (const s of subs) {
        const m = await s.next();
        assert.equal(at(m, 'payload'), 'via ws');
        assert.equal(at(m, 'seq'), Number(at(r.body, 'seq')) + 1);
      }
      subs[1]?.ws.send(JSON.stringify({ type: 'ping', id: 7 }));
      const pong = await subs[1]?.next((m) => m.type === 'pong');
      assert.equal(at(pong, 'id'), 7);
      assert.equal(elsewhere.messages.filter((m) => m.type === 'broadcast').length, 0, 'channels are separate');
    } finally {
      for (const s of [...subs, elsewhere]) await s.close();
    }
  });

  void it('monitor stream: snapshots and live agent/task events with seq and server time', async () => {
    const mon = await wsConnect(wsUrl(base, '/ws/monitor'));
    try {
      const snap = await mon.next((m) => m.type === 'snapshot');
      assert.equal(typeof at(snap, 'agents', 'healthy'), 'number');
      assert.equal(arr(at(snap, 'bus')).length, 4);
      assert.ok(Number(at(snap, 'memory', 'rss')) > 0);
      const r = await req(base, 'POST', '/api/tasks', { mode: 'autonomous' });
      const ev = await mon.next((m) => m.type === 'task' && m.id === at(r.body, 'id') && m.status === 'completed');
      const spawned = await req(base, 'POST', '/api/agents', { count: 1 });
      const agentId = at(spawned.body, 'agents', 0, 'id');
      await mon.next((m) => m.type === 'agent' && m.id === agentId && m.status === 'starting');
      await mon.next((m) => m.type === 'agent' && m.id === agentId && m.status === 'healthy');
      assert.equal(typeof ev.seq, 'number');
      assert.equal(typeof ev.serverTime, 'number');
      const periodic = await mon.next((m) => m.type === 'snapshot');
      assert.ok(Number(periodic.seq) > Number(snap.seq));
    } finally {
      await mon.close();
    }
  });

  void it('LLM: OpenAI chat completions, streaming and not', async () => {
    const plain = await req(base, 'POST', '/v1/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: 'hi there' }],
      max_tokens: 5,
    });
    assert.equal(plain.status, 200);
    assert.equal(at(plain.body, 'object'), 'chat.completion');
    assert.equal(
      String(at(plain.body, 'choices', 0, 'message', 'content'))
        .trim()
        .split(' ').length,
      5,
    );
    assert.deepEqual(at(plain.body, 'usage'), { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });

    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true, max_tokens: 4 }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e !== '')
      .map((e) => e.replace(/^data: /, ''));
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as unknown);
    assert.equal(chunks.length, 5, '4 token chunks and a finish chunk');
    assert.equal(at(chunks[0], 'choices', 0, 'delta', 'role'), 'assistant');
    assert.equal(at(chunks[4], 'choices', 0, 'finish_reason'), 'length');
    assert.equal(at(chunks[0], 'object'), 'chat.completion.chunk');

    const bad = await req(base, 'POST', '/v1/chat/completions', { prompt: 'no messages' });
    assert.equal(bad.status, 400);
    assert.equal(at(bad.body, 'code'), 'LLM_INVALID');
    const models = await req(base, 'GET', '/v1/models');
    assert.equal(at(models.body, 'data', 0, 'id'), 'agentload-sim');
  });

  void it('LLM: Ollama-style /api/generate streams NDJSON', async () => {
    const res = await fetch(`${base}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'why', options: { num_predict: 3 } }),
    });
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.equal(lines.length, 4);
    assert.deepEqual(
      lines.map((l) => at(l, 'done')),
      [false, false, false, true],
    );
    assert.equal(at(lines[3], 'eval_count'), 3);
    assert.ok(Number(at(lines[3], 'total_duration')) > 0);
    const whole = await req(base, 'POST', '/api/generate', { prompt: 'why', stream: false, options: { num_predict: 2 } });
    assert.equal(String(at(whole.body, 'response')).trim().split(' ').length, 2);
    assert.equal(at(whole.body, 'done'), true);
  });

  void it('artifacts: streamed upload with sha256; 413 beyond ARTIFACT_MAX_BYTES', async () => {
    const data = Buffer.alloc(60_000, 7);
    const ok = await fetch(`${base}/api/artifacts?name=a.bin`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
    });
    assert.equal(ok.status, 201);
    const meta: unknown = await ok.json();
    assert.equal(at(meta, 'bytes'), 60_000);
    assert.equal(at(meta, 'sha256'), createHash('sha256').update(data).digest('hex'));
    assert.equal(at(meta, 'name'), 'a.bin');
    const got = await req(base, 'GET', `/api/artifacts/${String(at(meta, 'id'))}`);
    assert.deepEqual(got.body, meta);
    assert.equal(at((await req(base, 'GET', '/api/artifacts/art_nope')).body, 'code'), 'ARTIFACT_NOT_FOUND');

    const big = await fetch(`${base}/api/artifacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(70_000, 1),
    });
    assert.equal(big.status, 413);
    assert.equal(at(await big.json(), 'code'), 'ARTIFACT_TOO_LARGE');

    // chunked (no Content-Length): the limit is enforced while streaming
    function* chunks(): Generator<Uint8Array> {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(10_000, 2);
    }
    const streamed = await fetch(`${base}/api/artifacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: ReadableStream.from(chunks()),
      duplex: 'half',
    });
    assert.equal(streamed.status, 413);
    const small = await fetch(`${base}/api/artifacts`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: ReadableStream.from([Buffer.from('abc')]),
      duplex: 'half',
    });
    assert.equal(small.status, 201);
    assert.equal(at(await small.json(), 'bytes'), 3);
  });

  void it('metrics: requests by route and status, bus per topic, process memory, event-loop lag', async () => {
    await req(base, 'GET', '/health');
    const text = String((await req(base, 'GET', '/metrics')).body);
    assert.ok(Number(metric(text, 'http_requests_total{method="GET",route="/health",status="200"}')) >= 1);
    assert.ok(Number(metric(text, 'http_requests_total{method="GET",route="unmatched",status="404"}')) >= 1);
    assert.ok(Number(metric(text, 'process_resident_memory_bytes')) > 0);
    assert.ok(metric(text, 'nodejs_heap_size_used_bytes') !== undefined);
    assert.ok(metric(text, 'nodejs_eventloop_lag_seconds') !== undefined);
    for (const topic of ['slack_events', 'task_submissions', 'agent_results', 'scheduled_tasks']) {
      assert.ok(metric(text, `bus_queue_depth{topic="${topic}"}`) !== undefined, topic);
      assert.ok(metric(text, `bus_consumer_lag_seconds{topic="${topic}"}`) !== undefined, topic);
    }
    await waitFor('ws gauge', () => (metric(text, 'ws_clients{endpoint="broadcast"}') !== undefined ? true : undefined));
  });
});

void describe('tasks without a healthy agent', () => {
  void it('wait on the bus (depth grows) and run once an agent is healthy', async () => {
    const t = await start({ SEED_AGENTS: '0' });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(String(at((await req(t.url, 'POST', '/api/tasks', { mode: 'autonomous' })).body, 'id')));
      const stats = await req(t.url, 'GET', '/api/bus/stats');
      const ts = arr(at(stats.body, 'topics')).find((x) => at(x, 'topic') === 'task_submissions');
      assert.equal(at(ts, 'depth'), 3);
      assert.equal(at((await req(t.url, 'GET', `/api/tasks/${ids[0] ?? ''}`)).body, 'status'), 'queued');
      await req(t.url, 'POST', '/api/agents', { count: 1 });
      for (const id of ids) {
        await waitFor(`task ${id}`, async () =>
          at((await req(t.url, 'GET', `/api/tasks/${id}`)).body, 'status') === 'completed' ? true : undefined,
        );
      }
    } finally {
      await t.close();
    }
  });
});

void describe('graceful close', () => {
  void it('closes WebSocket clients with 1001 and stops listening', async () => {
    const t = await start();
    const c = await wsConnect(wsUrl(t.url, '/ws/broadcast'));
    const code = new Promise<number>((resolve) =>
      c.ws.once('close', (n) => {
        resolve(n);
      }),
    );
    await t.close();
    assert.equal(await code, 1001);
    await assert.rejects(fetch(`${t.url}/health`));
  });
});
