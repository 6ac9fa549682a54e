/**
 * The storage-dependent API tests, run once on SQLite (api.test.ts) and once on PostgreSQL (postgres.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningTarget } from '../../target/index.ts';
import { arr, at, metric, req, start, waitFor, wsConnect, wsUrl } from './helpers.ts';

export function storageSuite(label: string, env: () => Record<string, string>): void {
  void describe(`storage-backed routes (${label})`, () => {
    let t: RunningTarget;
    let base = '';
    before(async () => {
      t = await start(env());
      base = t.url;
      await waitFor('seeded agents healthy', async () => {
        const h = await req(base, 'GET', '/health');
        return at(h.body, 'agents', 'healthy') === 3 ? true : undefined;
      });
    });
    after(async () => {
      await t.close();
    });

    void it('GET /health names the database', async () => {
      const r = await req(base, 'GET', '/health');
      assert.equal(r.status, 200);
      assert.equal(at(r.body, 'status'), 'ok');
      assert.equal(at(r.body, 'db'), label);
    });

    void it('GET /api/agents lists seeded agents with paging', async () => {
      const all = await req(base, 'GET', '/api/agents');
      assert.equal(all.status, 200);
      assert.ok(Number(at(all.body, 'total')) >= 3, 'total');
      const page = await req(base, 'GET', '/api/agents?limit=1&offset=1');
      assert.equal(arr(at(page.body, 'items')).length, 1);
      assert.equal(at(page.body, 'items', 0, 'id'), at(all.body, 'items', 1, 'id'));
      assert.equal(typeof at(all.body, 'items', 0, 'properties', 'team'), 'string', 'JSON properties read back as an object');
      const bad = await req(base, 'GET', '/api/agents?limit=0');
      assert.equal(bad.status, 400);
      assert.equal(at(bad.body, 'code'), 'BAD_QUERY');
    });

    void it('POST /api/agents spawns N agents that become healthy', async () => {
      const r = await req(base, 'POST', '/api/agents', { count: 4, role: 'coder', namePrefix: 'scale' });
      assert.equal(r.status, 201);
      const agents = arr(at(r.body, 'agents'));
      assert.equal(agents.length, 4);
      assert.equal(at(agents[0], 'role'), 'coder');
      const ids = agents.map((a) => String(at(a, 'id')));
      for (const id of ids) {
        const s = await waitFor(`agent ${id} healthy`, async () => {
          const st = await req(base, 'GET', `/api/agents/${id}/status`);
          return at(st.body, 'status') === 'healthy' ? st.body : undefined;
        });
        assert.ok(Number(at(s, 'memoryBytes')) > 0, 'a healthy agent holds memory');
        assert.ok(Number(at(s, 'healthyAt')) >= Number(at(s, 'startedAt')));
      }
      const listed = await req(base, 'GET', '/api/agents?status=healthy&limit=1000');
      const listedIds = arr(at(listed.body, 'items')).map((a) => at(a, 'id'));
      for (const id of ids) assert.ok(listedIds.includes(id), `${id} stored as healthy`);
      const bad = await req(base, 'POST', '/api/agents', { count: 0 });
      assert.equal(bad.status, 400);
      assert.equal(at(bad.body, 'code'), 'AGENT_INVALID');
    });

    void it('POST /agents/:id/start and /stop move an agent through its states', async () => {
      const list = await req(base, 'GET', '/api/agents?limit=1');
      const id = String(at(list.body, 'items', 0, 'id'));
      const stop = await req(base, 'POST', `/agents/${id}/stop`);
      assert.equal(stop.status, 200);
      assert.equal(at(stop.body, 'status'), 'stopped');
      assert.equal(at((await req(base, 'GET', `/api/agents/${id}/status`)).body, 'status'), 'stopped');
      const s = await req(base, 'POST', `/agents/${id}/start`);
      assert.equal((await req(base, 'GET', `/api/agents/${id}/status`)).status, 200);
      assert.equal(s.status, 202);
      assert.equal(at(s.body, 'status'), 'starting');
      await waitFor('restarted agent healthy', async () =>
        at((await req(base, 'GET', `/api/agents/${id}/status`)).body, 'status') === 'healthy' ? true : undefined,
      );
      const again = await req(base, 'POST', `/api/agents/${id}/start`);
      assert.equal(again.status, 200);
      assert.equal(at(again.body, 'status'), 'healthy');
      const apiStop = await req(base, 'POST', `/api/agents/${id}/stop`);
      assert.equal(at(apiStop.body, 'status'), 'stopped');
      assert.equal((await req(base, 'POST', `/api/agents/${id}/start`)).status, 202);
      await waitFor('agent healthy again', async () =>
        at((await req(base, 'GET', `/api/agents/${id}/status`)).body, 'status') === 'healthy' ? true : undefined,
      );
      const missing = await req(base, 'POST', '/agents/agt_nope/start');
      assert.equal(missing.status, 404);
      assert.equal(at(missing.body, 'code'), 'AGENT_NOT_FOUND');
      assert.equal((await req(base, 'GET', '/api/agents/agt_nope/status')).status, 404);
    });

    void it('GET /api/agents/:id/logs pages newest first with a cursor', async () => {
      const list = await req(base, 'GET', '/api/agents?limit=1');
      const id = String(at(list.body, 'items', 0, 'id'));
      const p1 = await req(base, 'GET', `/api/agents/${id}/logs?limit=4`);
      assert.equal(p1.status, 200);
      const items1 = arr(at(p1.body, 'items'));
      assert.equal(items1.length, 4);
      const cursor = at(p1.body, 'nextCursor');
      assert.equal(typeof cursor, 'number');
      const p2 = await req(base, 'GET', `/api/agents/${id}/logs?limit=4&cursor=${String(cursor)}`);
      const items2 = arr(at(p2.body, 'items'));
      assert.ok(items2.length > 0);
      const ids = [...items1, ...items2].map((x) => Number(at(x, 'id')));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => b - a),
        'newest first, pages continue',
      );
      assert.equal(new Set(ids).size, ids.length, 'pages do not overlap');
      const last = await req(base, 'GET', `/api/agents/${id}/logs?limit=1000`);
      assert.equal(at(last.body, 'nextCursor'), null);
      assert.equal((await req(base, 'GET', '/api/agents/agt_nope/logs')).status, 404);
    });

    void it('POST /api/tasks runs every mode through the bus and publishes results', async () => {
      const sub = await wsConnect(wsUrl(base, '/ws/bus?topic=agent_results'));
      try {
        const modes = { autonomous: {}, collaborative: { agents: 3 }, continuous: { iterations: 2 }, scheduled: { delayMs: 150 } };
        const ids: Record<string, string> = {};
        for (const [mode, extra] of Object.entries(modes)) {
          const r = await req(base, 'POST', '/api/tasks', { mode, input: { q: `hello ${mode}` }, ...extra });
          assert.equal(r.status, 202, mode);
          assert.equal(at(r.body, 'status'), 'queued');
          ids[mode] = String(at(r.body, 'id'));
        }
        for (const [mode, id] of Object.entries(ids)) {
          const done = await waitFor(`${mode} task done`, async () => {
            const g = await req(base, 'GET', `/api/tasks/${id}`);
            return at(g.body, 'status') === 'completed' ? g.body : undefined;
          });
          assert.equal(at(done, 'mode'), mode);
          assert.deepEqual(at(done, 'input'), { q: `hello ${mode}` });
          const events = arr(at(done, 'log')).map((e) => at(e, 'event'));
          assert.deepEqual(events, ['queued', 'started', 'completed'], `${mode} log`);
          // Tasks finish in any order (continuous can beat collaborative), so look at every result, not just later ones.
          const final = await sub.find((m) => at(m, 'payload', 'taskId') === id && at(m, 'payload', 'final') === true);
          assert.equal(at(final, 'payload', 'status'), 'completed');
          assert.equal(typeof at(final, 'seq'), 'number');
          if (mode === 'collaborative') assert.equal(arr(at(done, 'agentIds')).length, 3);
          if (mode === 'scheduled')
            assert.ok(Number(at(done, 'startedAt')) - Number(at(done, 'createdAt')) >= 145, 'scheduled waits delayMs');
        }
        const steps = sub.messages.filter((m) => at(m, 'payload', 'taskId') === ids.continuous && at(m, 'payload', 'final') === false);
        assert.equal(steps.length, 2, 'continuous publishes one result per iteration');
      } finally {
        await sub.close();
      }
      const list = await req(base, 'GET', '/api/tasks?mode=scheduled&status=completed');
      assert.ok(arr(at(list.body, 'items')).length >= 1);
      const bad = await req(base, 'POST', '/api/tasks', { mode: 'sometimes' });
      assert.equal(bad.status, 400);
      assert.equal(at(bad.body, 'code'), 'TASK_INVALID');
      const missing = await req(base, 'GET', '/api/tasks/tsk_nope');
      assert.equal(missing.status, 404);
      assert.equal(at(missing.body, 'code'), 'TASK_NOT_FOUND');
    });

    void it('knowledge graph routes: JSON property query, select by id, join, bulk insert', async () => {
      const q = await req(base, 'GET', '/api/knowledge/nodes?key=tag&value=alpha&limit=1000');
      assert.equal(q.status, 200);
      const items = arr(at(q.body, 'items'));
      assert.ok(items.length > 0, 'seed has alpha nodes');
      for (const n of items) assert.equal(at(n, 'properties', 'tag'), 'alpha');
      const all = arr(at((await req(base, 'GET', '/api/knowledge/nodes?limit=1000')).body, 'items'));
      assert.ok(all.length > items.length, 'the filter filters');
      const first = all[0];
      const id = String(at(first, 'id'));
      const one = await req(base, 'GET', `/api/knowledge/nodes/${id}`);
      assert.deepEqual(one.body, first);
      assert.equal((await req(base, 'GET', '/api/knowledge/nodes/kn_nope')).status, 404);
      const withEdges = await waitFor('a node with neighbours', async () => {
        for (const n of all) {
          const nb = await req(base, 'GET', `/api/knowledge/nodes/${String(at(n, 'id'))}/neighbors`);
          if (arr(at(nb.body, 'items')).length > 0) return nb.body;
        }
        return undefined;
      });
      assert.equal(typeof at(withEdges, 'items', 0, 'relation'), 'string');
      assert.equal(typeof at(withEdges, 'items', 0, 'node', 'id'), 'string');
      const ins = await req(base, 'POST', '/api/knowledge/nodes', {
        nodes: [
          { kind: 'concept', name: 'bulk-1', properties: { tag: 'bulktest', score: 1 } },
          { kind: 'concept', name: 'bulk-2', properties: { tag: 'bulktest', score: 2 } },
        ],
      });
      assert.equal(ins.status, 201);
      assert.equal(at(ins.body, 'inserted'), 2);
      const back = arr(at((await req(base, 'GET', '/api/knowledge/nodes?kind=concept&key=tag&value=bulktest')).body, 'items'));
      assert.deepEqual(back.map((n) => at(n, 'name')).sort(), ['bulk-1', 'bulk-2']);
      const score = Number(at(first, 'properties', 'score'));
      const byNumber = arr(at((await req(base, 'GET', `/api/knowledge/nodes?key=score&value=${score}&limit=1000`)).body, 'items'));
      assert.ok(byNumber.length > 0, 'numeric JSON values compare as text on both dialects');
      for (const n of byNumber) assert.equal(at(n, 'properties', 'score'), score);
      const bad = await req(base, 'GET', '/api/knowledge/nodes?key=a%27b');
      assert.equal(bad.status, 400);
    });

    void it('GET /metrics reports agents, tasks and the DB pool', async () => {
      const text = String((await req(base, 'GET', '/metrics')).body);
      assert.ok(Number(metric(text, 'agents{state="healthy"}')) >= 3);
      assert.ok(Number(metric(text, 'tasks{state="completed"}')) >= 4);
      assert.ok(Number(metric(text, 'db_pool_connections{state="total"}')) >= 1);
      assert.ok(Number(metric(text, `db_queries_total{dialect="${label}"}`)) > 0);
    });
  });
}
