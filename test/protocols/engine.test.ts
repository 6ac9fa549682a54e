/** End to end: k6 scripts using k6/websockets and k6/x/sql run through the embedded engine (runEngine). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { runEngine } from '../../engine/index.ts';
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
});
