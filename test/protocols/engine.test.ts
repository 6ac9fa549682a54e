/** End to end: k6 scripts using k6/websockets and k6/x/sql run through the embedded engine (runEngine). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { WebSocketServer } from 'ws';
import { runEngine } from '../../engine/index.ts';
import { variablesReadAtInit } from '../../src/run/init-reads.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface JsonLine {
  type: string;
  metric: string;
  data: { value?: number; tags?: Record<string, string> };
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(
  script: string,
  env: Record<string, string>,
  dir: string,
): Promise<{ code: number; output: string; points: JsonLine[] }> {
  const out = collector();
  const err = collector();
  const json = join(dir, `${script}.json`);
  const code = await runEngine({
    script: join(FIXTURES, script),
    args: ['--out', `json=${json}`],
    env,
    cwd: dir,
    stdout: out.stream,
    stderr: err.stream,
    handleSignals: false,
  });
  const points = readFileSync(json, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonLine)
    .filter((l) => l.type === 'Point');
  return { code, output: out.text() + err.text(), points };
}

void describe('protocol modules through the embedded engine', { timeout: 120_000 }, () => {
  let dir = '';
  let wss: WebSocketServer;
  let wsUrl = '';
  let pgServer: PostgresServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentload-protocols-'));
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (s) => {
      s.on('message', (data, isBinary) => {
        s.send(data, { binary: isBinary });
      });
    });
    await new Promise<void>((r) => wss.once('listening', r));
    wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
    pgServer = await startPostgres();
  });
  after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => {
      wss.close(() => {
        r();
      });
    });
    await pgServer.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('runs a WebSocket + SQLite script like k6: ws metrics with k6 tags, data counted per iteration, SQL writes visible', async () => {
    const { code, output, points } = await run('ws-sql.js', { WS_URL: wsUrl, DB: join(dir, 'hits.db') }, dir);
    assert.equal(code, 0, output);
    assert.match(output, /hits=4/);
    const ws = points.filter((p) => p.metric.startsWith('ws_'));
    for (const m of ['ws_sessions', 'ws_connecting', 'ws_msgs_sent', 'ws_msgs_received', 'ws_session_duration']) {
      assert.equal(ws.filter((p) => p.metric === m).length, 4, `${m}: one per iteration`);
    }
    for (const p of ws) {
      assert.deepEqual(
        { ...p.data.tags },
        { group: '', scenario: 'default', endpoint: 'echo', status: '101', subproto: '', url: wsUrl },
        `${p.metric} tags`,
      );
    }
    const sent = points.filter((p) => p.metric === 'data_sent');
    assert.ok(
      sent.length >= 4 && sent.every((p) => (p.data.value ?? 0) > 0 && p.data.tags?.url === undefined),
      'data_sent per iteration with the iteration tags',
    );
    const checks = points.filter((p) => p.metric === 'checks');
    assert.equal(checks.length, 4);
    assert.ok(
      checks.every((p) => p.data.value === 1),
      'rowsAffected() check passed in every iteration',
    );
  });

  void it('runs a PostgreSQL script: RETURNING rows, syntax errors and timeouts as catchable exceptions', async () => {
    const { code, output, points } = await run('pg.js', { DATABASE_URL: pgServer.url }, dir);
    assert.equal(code, 0, output);
    assert.match(output, /events=6/);
    const checks = points.filter((p) => p.metric === 'checks');
    assert.equal(checks.length, 18, 'three checks in each of six iterations');
    assert.deepEqual(
      checks.filter((p) => p.data.value !== 1).map((p) => p.data.tags?.check),
      [],
      'every check passed',
    );
  });

  void it('a forgotten await on db.exec is reported with the fix, and the write still completes within the iteration', async () => {
    const { code, output } = await run('sql-forgot-await.js', { DB: join(dir, 'notes.db') }, dir);
    assert.equal(code, 0, output);
    assert.match(output, /notes=2/);
    assert.match(output, /db\.exec\(\.\.\.\) returns a promise/);
    assert.match(output, /add await/);
  });

  void it('an event handler that throws fails its iteration: logged once as a script exception, the run goes on', async () => {
    const { code, output, points } = await run('ws-handler-throws.js', { WS_URL: wsUrl }, dir);
    assert.equal(code, 0, output);
    const logged = output.split('\n').filter((l) => l.includes('boom in onmessage'));
    assert.equal(logged.length, 2, `one error line per failed iteration:\n${output}`);
    assert.ok(
      logged.every((l) => /level=error/.test(l) && /source=stacktrace/.test(l)),
      `logged as a script exception:\n${logged.join('\n')}`,
    );
    assert.equal(points.filter((p) => p.metric === 'iterations').length, 2, 'both iterations ended (failed, not interrupted)');
    assert.equal(points.filter((p) => p.metric === 'ws_sessions').length, 2);
  });

  void it('an iteration interrupted at the end of its scenario closes the sockets it left open (the run ends)', async () => {
    const { code, output, points } = await run('ws-interrupt.js', { WS_URL: wsUrl }, dir);
    assert.equal(code, 0, output);
    assert.ok(
      points.some((p) => p.metric === 'ws_sessions'),
      'a session was opened',
    );
    // The server notices the close shortly after the run returns (bounded wait).
    for (let i = 0; i < 50 && wss.clients.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(wss.clients.size, 0, 'no socket is left open on the server');
  });

  /**
   * Init code that opens an sql.open pool and runs a query (xk6-sql's CREATE TABLE in init code), then the run
   * ends before any VU starts: exit 104 (a threshold on a metric that does not exist) or 107 (the init code of
   * VU FAIL_VU throws). Each run names its connections (application_name) and records that init code connected.
   */
  const INIT_POOL_SCRIPT = `import sql from 'k6/x/sql';
import driver from 'k6/x/sql/driver/postgres';
const db = sql.open(driver, __ENV.DATABASE_URL);
await db.exec('CREATE TABLE IF NOT EXISTS init_marks (app TEXT NOT NULL, vu INTEGER NOT NULL)');
await db.exec('INSERT INTO init_marks (app, vu) VALUES ($1, $2)', __ENV.APP, __VU);
if (__VU === Number(__ENV.FAIL_VU)) throw new Error('init failed on purpose in VU ' + __VU);
export const options = { vus: 2, iterations: 2, thresholds: { [__ENV.THRESHOLD_ON]: ['count>=0'] } };
export default async function () {
  await db.exec('SELECT 1');
}
`;

  /** What the server says about the runs named `app`: how many times their init code connected, and how many of their connections are still open. */
  async function serverSide(app: string): Promise<{ inits: number; open: number }> {
    const c = new pg.Client({ connectionString: pgServer.url });
    await c.connect();
    try {
      const count = async (q: string): Promise<number> => (await c.query<{ n: number }>(q, [app])).rows[0]?.n ?? -1;
      const inits = await count('SELECT count(*)::int AS n FROM init_marks WHERE app = $1');
      // A closed connection's backend leaves pg_stat_activity a moment after the client has gone: a bounded wait.
      let open = -1;
      for (let i = 0; i < 40; i++) {
        open = await count('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1');
        if (open === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return { inits, open };
    } finally {
      await c.end();
    }
  }

  async function endsBeforeVus(
    app: string,
    env: Record<string, string>,
    how: 'run' | 'validate',
  ): Promise<{ code: number; output: string; inits: number; open: number }> {
    const script = join(dir, 'init-pool.js');
    writeFileSync(script, INIT_POOL_SCRIPT);
    const out = collector();
    const code = await runEngine({
      script,
      args: ['--quiet'],
      env: { DATABASE_URL: `${pgServer.url}?application_name=${app}`, APP: app, THRESHOLD_ON: 'iterations', FAIL_VU: '-1', ...env },
      cwd: dir,
      stdout: out.stream,
      stderr: out.stream,
      handleSignals: false,
      validateOnly: how === 'validate',
    });
    return { code, output: out.text(), ...(await serverSide(app)) };
  }

  void it('a run that ends at its options check (104) closes the pool its init code opened, as the end of a run does', async () => {
    for (const how of ['run', 'validate'] as const) {
      const r = await endsBeforeVus(`check_104_${how}`, { THRESHOLD_ON: 'no_such_metric' }, how);
      assert.equal(r.code, 104, r.output);
      assert.equal(r.inits, 1, `${how}: VU 0's init code connected once`);
      assert.equal(r.open, 0, `${how}: no connection left open on the server`);
    }
  });

  void it('init code that throws (107) has the pool it opened closed: VU 0 on a check, a later VU in a run', async () => {
    const vu0 = await endsBeforeVus('init_throws_vu0', { FAIL_VU: '0' }, 'validate');
    assert.equal(vu0.code, 107, vu0.output);
    assert.deepEqual([vu0.inits, vu0.open], [1, 0], 'VU 0 connected; nothing left open');
    const vu2 = await endsBeforeVus('init_throws_vu2', { FAIL_VU: '2' }, 'run');
    assert.equal(vu2.code, 107, vu2.output);
    assert.deepEqual([vu2.inits, vu2.open], [3, 0], 'VUs 0, 1 and 2 connected; nothing left open');
  });

  void it("the unused-variable check's init run (init-reads.ts) leaves no connection open", async () => {
    const app = 'init_reads';
    const script = join(dir, 'init-pool.js');
    writeFileSync(script, INIT_POOL_SCRIPT);
    const values = { DATABASE_URL: `${pgServer.url}?application_name=${app}`, APP: app, THRESHOLD_ON: 'no_such_metric', FAIL_VU: '-1' };
    const read = await variablesReadAtInit({ script, env: {}, values, cwd: dir });
    assert.equal(read, undefined, 'a plain k6 script records no names');
    assert.deepEqual(await serverSide(app), { inits: 1, open: 0 });
  });
});
