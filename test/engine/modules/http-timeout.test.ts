/**
 * A request that times out is measured as k6 measures it (its tracer's Done): the time until the client
 * gave up goes to http_req_waiting (no response byte came) or http_req_receiving (the body stalled), and so
 * into http_req_duration, so a hanging server fails a latency threshold (exit 99) as it does on k6.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { runSource } from '../conformance/run-helpers.ts';

let server: Server;
let port = 0;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hang') return; // accepts the request, never answers
    if (req.url === '/stall') {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('only part of the body');
      return; // the rest never comes
    }
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const SCRIPT = `import http from 'k6/http';
export const options = { iterations: 1, thresholds: { http_req_duration: ['p(95)<200'] } };
export default async function () {
  const show = (name, r) => console.log(name + ' ' + r.status + ' ' + r.error_code + ' ' + JSON.stringify(r.timings));
  show('hang', await http.get('http://127.0.0.1:' + __ENV.PORT + '/hang', { timeout: '600ms' }));
  show('stall', await http.get('http://127.0.0.1:' + __ENV.PORT + '/stall', { timeout: '600ms' }));
  show('refused', await http.get('http://127.0.0.1:1/none', { timeout: '600ms' }));
}
`;

interface Timings {
  blocked: number;
  connecting: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
}

void test('timed-out requests record the time until the client gave up; a hanging server fails p(95)<200 (exit 99)', async () => {
  const r = await runSource(SCRIPT, ['-q', '--no-summary', '-e', `PORT=${String(port)}`]);
  const lines = new Map(
    [...r.stderr.matchAll(/msg="(\w+) (\d+) (\d+) (\{(?:[^"\\]|\\.)*\})"/g)].map((m) => [
      m[1] ?? '',
      { status: m[2], code: m[3], t: JSON.parse((m[4] ?? '{}').replace(/\\"/g, '"')) as Timings },
    ]),
  );
  const hang = lines.get('hang');
  assert.ok(hang, r.stderr);
  assert.equal(hang.status, '0');
  assert.equal(hang.code, '1050', 'request timeout');
  // The timeout covers the whole request: on a loaded machine connecting takes part of it.
  assert.ok(
    hang.t.blocked + hang.t.connecting + hang.t.sending + hang.t.waiting >= 550,
    `waiting until the timeout: ${JSON.stringify(hang.t)}`,
  );
  assert.ok(hang.t.waiting > 0, 'the time after sending counts as waiting');
  assert.equal(hang.t.receiving, 0);
  assert.ok(Math.abs(hang.t.duration - (hang.t.sending + hang.t.waiting + hang.t.receiving)) < 1e-9);

  const stall = lines.get('stall');
  assert.ok(stall, r.stderr);
  assert.equal(stall.code, '1050');
  // The headers came at once; the wait for the rest of the body is receiving. On a loaded machine the
  // head can take a while to arrive, so the bound is the part of the timeout left after it, not 600 ms.
  const beforeBody = stall.t.blocked + stall.t.connecting + stall.t.sending + stall.t.waiting;
  assert.ok(stall.t.receiving >= 550 - beforeBody, `the stalled body counts as receiving: ${JSON.stringify(stall.t)}`);
  assert.ok(stall.t.receiving >= 100, `receiving, not waiting, holds the stall: ${JSON.stringify(stall.t)}`);
  assert.ok(beforeBody + stall.t.receiving >= 550);

  const refused = lines.get('refused');
  assert.ok(refused, r.stderr);
  assert.equal(refused.code, '1212');
  assert.deepEqual(
    [refused.t.blocked, refused.t.sending, refused.t.waiting, refused.t.receiving, refused.t.duration],
    [0, 0, 0, 0, 0],
    'no connection, no phase reached (k6: blocked counts only once a connection was obtained)',
  );

  assert.equal(r.code, 99, `the hang crosses p(95)<200:\n${r.stderr}`);
  assert.match(r.stderr, /thresholds on metrics 'http_req_duration' have been crossed/);
});

// The client keeps one timeout timer per VU, armed for the earliest deadline it knows of: a request
// with a shorter timeout started after a longer one must still end at its own deadline, and the longer
// one must still end at its own once the timer fired for the shorter.
const TWO_TIMEOUTS = `import http from 'k6/http';
export const options = { iterations: 1 };
export const agentload = { vuMode: 'async' };
export default async function () {
  const gaveUp = (r) => Math.round(r.timings.blocked + r.timings.sending + r.timings.waiting);
  const [l, s] = await Promise.all([
    http.get('http://127.0.0.1:' + __ENV.PORT + '/hang', { timeout: '2500ms' }),
    http.get('http://127.0.0.1:' + __ENV.PORT + '/hang', { timeout: '300ms' }),
  ]);
  console.log('short ' + s.error_code + ' ' + gaveUp(s));
  console.log('long ' + l.error_code + ' ' + gaveUp(l));
}
`;

void test('concurrent requests with different timeouts each time out at their own deadline', async () => {
  const r = await runSource(TWO_TIMEOUTS, ['-q', '--no-summary', '-e', `PORT=${String(port)}`]);
  const ended = new Map([...r.stderr.matchAll(/msg="(short|long) (\d+) (\d+)"/g)].map((m) => [m[1] ?? '', [m[2], Number(m[3])] as const]));
  const short = ended.get('short');
  const long = ended.get('long');
  assert.ok(short !== undefined && long !== undefined, r.stderr);
  assert.equal(short[0], '1050');
  assert.equal(long[0], '1050');
  // Measured from each request's start until the client gave up. Generous bounds for a loaded machine,
  // still far apart: the short one may not wait for the long one's deadline.
  assert.ok(short[1] >= 250 && short[1] < 1800, `short gave up after ${String(short[1])} ms`);
  assert.ok(long[1] >= 2400, `long gave up after ${String(long[1])} ms`);
  assert.equal(r.code, 0, r.stderr);
});
