/**
 * HTTP/2 over TLS, as k6 negotiates it (ALPN, h2 first): against a real node:http2 server, the
 * client runs requests as streams of one session per origin (reused, multiplexed, a timed-out
 * stream cancelled without losing the session), and k6/http reports `proto: HTTP/2.0` with bodies,
 * gzip, cookies, posts and batches working as on HTTP/1.1.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ConnectionPool } from '../../../engine/modules/http/client.ts';
import type { ClientRequest } from '../../../engine/modules/http/exchange.ts';
import { runSource, tempDir, selfSignedCert } from '../conformance/run-helpers.ts';
import { clientRequest } from './client-request.ts';

let server: Http2SecureServer;
let port = 0;
let sessions = 0;
let refusals = 0;

function handle(rq: Http2ServerRequest, rs: Http2ServerResponse): void {
  const url = rq.url;
  if (url === '/never') return; // never answers: the client's timeout cancels the stream
  if (url === '/slow') {
    setTimeout(() => {
      rs.end('slow');
    }, 300);
    return;
  }
  if (url === '/slower') {
    setTimeout(() => {
      if (!rs.stream.destroyed) rs.end('slower');
    }, 1500);
    return;
  }
  // Half a response, then the whole session goes away.
  if (url === '/cut') {
    rs.writeHead(200);
    rs.write('partial');
    setTimeout(() => {
      rs.stream.session?.destroy();
    }, 30);
    return;
  }
  // The stream is reset (NO_ERROR) before any response.
  if (url === '/reset') {
    rs.stream.close(constants.NGHTTP2_NO_ERROR);
    return;
  }
  // Refused (the server did not process it) the first time: Go's transport sends it again.
  if (url === '/refuse-once') {
    refusals++;
    if (refusals === 1) rs.stream.close(constants.NGHTTP2_REFUSED_STREAM);
    else rs.end(`answered after ${String(refusals - 1)} refusal`);
    return;
  }
  if (url === '/echo') {
    const parts: Buffer[] = [];
    rq.on('data', (c: Buffer) => parts.push(c));
    rq.on('end', () => {
      rs.end(`${rq.method} ${String(Buffer.concat(parts).length)} bytes, content-length ${rq.headers['content-length'] ?? 'none'}`);
    });
    return;
  }
  if (url === '/gzip') {
    rs.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' }).end(gzipSync('unzipped over h2'));
    return;
  }
  if (url === '/cookies') {
    rs.writeHead(200, { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] }).end('cookies');
    return;
  }
  if (url === '/seen-cookies') {
    rs.end(`cookie ${rq.headers.cookie ?? 'none'}`);
    return;
  }
  if (url.startsWith('/said')) {
    rs.end(`${rq.method} ${url} ua=${String(rq.headers['user-agent'])} x=${String(rq.headers['x-n'] ?? 'none')}`);
    return;
  }
  rs.writeHead(200, { 'x-served-as': rq.httpVersion }).end(`hello ${rq.httpVersion} ${url}`);
}

before(async () => {
  const tlsCert = selfSignedCert();
  server = createSecureServer({ ...tlsCert, allowHTTP1: true }, handle);
  server.on('session', () => {
    sessions++;
  });
  port = await new Promise((r) => {
    server.listen(0, '127.0.0.1', () => {
      r((server.address() as AddressInfo).port);
    });
  });
});
after(() => {
  server.close();
});

const now = (): number => performance.now();
const req = (path: string, extra: Partial<ClientRequest> = {}): ClientRequest => clientRequest(port, path, { tls: true, ...extra });
const text = (ex: { chunks: readonly Buffer[] }): string => Buffer.concat(ex.chunks).toString('utf8');

void test('client: h2 chosen by ALPN, one session reused and multiplexed; a timed-out stream is cancelled, the session lives on', async () => {
  sessions = 0;
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const first = await pool.requestAsync(req('/a'), undefined);
    assert.equal(first.error, undefined);
    assert.equal(first.versionMajor, 2);
    assert.equal(first.status, 200);
    assert.equal(text(first), 'hello 2.0 /a');
    assert.ok(first.newConn !== undefined && first.newConn.tls > 0, 'the first request opened the connection and shook hands');
    assert.ok(first.tSent >= first.tConn && first.tFirst >= first.tSent && first.tEnd >= first.tFirst, 'phases in order');
    assert.ok(first.received > 500, 'wire bytes include the handshake');
    const again = await pool.requestAsync(req('/b'), undefined);
    assert.equal(again.newConn, undefined, 'same session');
    const many = await Promise.all([1, 2, 3, 4].map((i) => pool.requestAsync(req(`/m${String(i)}`), undefined)));
    assert.deepEqual(
      many.map((m) => [m.status, text(m), m.newConn === undefined]),
      [1, 2, 3, 4].map((i) => [200, `hello 2.0 /m${String(i)}`, true]),
    );
    const post = await pool.requestAsync(req('/echo', { method: 'POST', body: Buffer.from('x'.repeat(3000)) }), undefined);
    assert.equal(text(post), 'POST 3000 bytes, content-length 3000');
    const stuck = await pool.requestAsync(req('/never', { timeoutMs: 200 }), undefined);
    assert.equal(stuck.error?.code, 'request-timeout');
    const after = await pool.requestAsync(req('/c'), undefined);
    assert.equal(after.status, 200);
    assert.equal(after.newConn, undefined, 'the session survived the cancelled stream');
    assert.equal(sessions, 1, 'one HTTP/2 session for everything');
  } finally {
    pool.close();
  }
});

const SCRIPT = `import http from 'k6/http';
import { check } from 'k6';
export const options = { iterations: 1, insecureSkipTLSVerify: true };
export default async function () {
  const base = 'https://127.0.0.1:' + __ENV.PORT;
  const r = await http.get(base + '/page');
  console.log('get ' + r.proto + ' ' + r.status_text + ' ' + r.headers['X-Served-As'] + ' [' + r.body + ']');
  console.log('gzip [' + (await http.get(base + '/gzip')).body + ']');
  const c = await http.get(base + '/cookies');
  console.log('cookies ' + Object.keys(c.cookies).sort().join(',') + ' [' + (await http.get(base + '/seen-cookies')).body + ']');
  console.log('post [' + (await http.post(base + '/echo', { a: '1', b: '2' })).body + ']');
  const batch = await http.batch([base + '/1', base + '/2', base + '/3']);
  console.log('batch ' + batch.map((b) => b.proto + ':' + b.status).join(' '));
}
`;

void test("k6/http over h2: proto HTTP/2.0, Go's status text, canonical headers, gzip, cookies, form posts, batch; proto tag in the samples", async () => {
  const out = join(tempDir(), 'out.json');
  const run = await runSource(SCRIPT, ['-q', '--no-summary', '--out', `json=${out}`, '-e', `PORT=${String(port)}`]);
  assert.equal(run.code, 0, run.stderr);
  const said = new Map([...run.stderr.matchAll(/msg="(\w+) ([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  assert.equal(said.get('get'), 'HTTP/2.0 200 OK 2.0 [hello 2.0 /page]');
  assert.equal(said.get('gzip'), '[unzipped over h2]');
  assert.equal(said.get('cookies'), 'a,b [cookie a=1; b=2]');
  assert.equal(said.get('post'), '[POST 7 bytes, content-length 7]');
  assert.equal(said.get('batch'), 'HTTP/2.0:200 HTTP/2.0:200 HTTP/2.0:200');
  const protos = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"metric":"http_reqs","type":"Point"'))
    .map((l) => (JSON.parse(l) as { data: { tags: Record<string, string> } }).data.tags.proto);
  assert.equal(protos.length, 8);
  assert.ok(
    protos.every((p) => p === 'HTTP/2.0'),
    protos.join(','),
  );
});

void test('client: a response cut short by the session dying, or a stream reset before any response, is an error, never a success; a refused stream is retried', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const cut = await pool.requestAsync(req('/cut'), undefined);
    assert.ok(cut.error !== undefined, `cut short: error expected, got status ${String(cut.status)} body ${text(cut)}`);
    const reset = await pool.requestAsync(req('/reset'), undefined);
    assert.ok(reset.error !== undefined, 'reset before the response: error expected');
    assert.equal(reset.status, 0);
    refusals = 0;
    const refused = await pool.requestAsync(req('/refuse-once', { method: 'POST', body: Buffer.from('again') }), undefined);
    assert.equal(refused.error, undefined);
    assert.equal(text(refused), 'answered after 1 refusal', 'a refused stream is sent once more');
  } finally {
    pool.close();
  }
});

void test("client: noConnectionReuse sessions are never shared (Go's singleUse): two overlapping requests, two sessions, both answered", async () => {
  sessions = 0;
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const a = pool.requestAsync(req('/slow', { close: true }), undefined);
    await new Promise((r) => setTimeout(r, 100));
    const b = await pool.requestAsync(req('/a', { close: true }), undefined);
    const first = await a;
    assert.deepEqual([first.status, text(first), b.status, text(b)], [200, 'slow', 200, 'hello 2.0 /a']);
    assert.equal(sessions, 2);
  } finally {
    pool.close();
  }
});

void test('client: closing the pool fails at once what is in flight: streams of every session (race losers too) and TLS handshakes', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  const racing = Promise.all([1, 2, 3].map(() => pool.requestAsync(req('/slower'), undefined)));
  await new Promise((r) => setTimeout(r, 300));
  const t0 = now();
  pool.close();
  const results = await racing;
  assert.ok(
    results.every((r) => r.error !== undefined && r.status === 0),
    results.map((r) => `${String(r.status)} ${r.error?.message ?? ''}`).join('; '),
  );
  assert.ok(now() - t0 < 1000, 'failed at the close, not at the 1.5 s answer');
  // A server that accepts TCP but never speaks TLS: the handshake hangs until the pool closes.
  const silent = createNetServer(() => {
    /* never answers */
  });
  const silentPort: number = await new Promise((r) => {
    silent.listen(0, '127.0.0.1', () => {
      r((silent.address() as AddressInfo).port);
    });
  });
  const pool2 = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const hanging = pool2.requestAsync(
      req('/', { port: silentPort, host: `127.0.0.1:${String(silentPort)}`, timeoutMs: 10_000 }),
      undefined,
    );
    await new Promise((r) => setTimeout(r, 100));
    const t1 = now();
    pool2.close();
    const r = await hanging;
    assert.notEqual(r.error?.code, 'request-timeout');
    assert.ok(r.error !== undefined && now() - t1 < 1000, 'the handshake in flight fails at the close');
  } finally {
    silent.close();
  }
});

void test("GODEBUG=http2client=0 (Go's switch, which k6 users set) keeps https on HTTP/1.1; the pool option does the same", async () => {
  const saved = process.env.GODEBUG;
  process.env.GODEBUG = 'madvdontneed=1,http2client=0';
  try {
    const run = await runSource(SCRIPT, ['-q', '--no-summary', '-e', `PORT=${String(port)}`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /msg="get HTTP\/1\.1 200 OK 1\.1 \[hello 1\.1 \/page\]"/);
  } finally {
    if (saved === undefined) Reflect.deleteProperty(process.env, 'GODEBUG');
    else process.env.GODEBUG = saved;
  }
  const pool = new ConnectionPool({ now, rejectUnauthorized: false, http2: false });
  try {
    const r = await pool.requestAsync(req('/x'), undefined);
    assert.deepEqual([r.versionMajor, text(r)], [1, 'hello 1.1 /x']);
  } finally {
    pool.close();
  }
});

void test('client: a VU repeating a request reuses its HTTP/2 headers only while method, path, authority and headers object are the same; peer address on every stream', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  const ua = { 'User-Agent': 'same-object' };
  const other = { 'User-Agent': 'same-object', 'X-N': '2' };
  try {
    const said: string[] = [];
    for (const r of [
      req('/said/a', { headers: ua }),
      req('/said/a', { headers: ua }),
      req('/said/b', { headers: ua }),
      req('/said/b', { headers: ua, method: 'DELETE' }),
      req('/said/b', { headers: other }),
      req('/said/b', { headers: ua, host: 'other.example' }),
      req('/said/b', { headers: ua, method: 'POST', body: Buffer.from('x') }),
      req('/said/b', { headers: ua }),
    ]) {
      const ex = await pool.requestAsync(r, undefined);
      assert.equal(ex.versionMajor, 2);
      assert.deepEqual([ex.remoteAddress, ex.remotePort], ['127.0.0.1', port]);
      said.push(text(ex));
    }
    assert.deepEqual(said, [
      'GET /said/a ua=same-object x=none',
      'GET /said/a ua=same-object x=none',
      'GET /said/b ua=same-object x=none',
      'DELETE /said/b ua=same-object x=none',
      'GET /said/b ua=same-object x=2',
      'GET /said/b ua=same-object x=none',
      'POST /said/b ua=same-object x=none',
      'GET /said/b ua=same-object x=none',
    ]);
  } finally {
    pool.close();
  }
});
