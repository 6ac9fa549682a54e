/**
 * `k6/http` on the engine's client, inside a real run: bodies decoded from gzip, the Host header
 * override, remote address, https with insecureSkipTLSVerify, and data_sent/data_received equal
 * to the bytes the server saw on its sockets.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runEngine } from '../../../engine/index.ts';
import { Capture, tempDir, selfSignedCert } from '../conformance/run-helpers.ts';

const SCRIPT = `import http from 'k6/http';
export const options = { vus: 1, iterations: 1, insecureSkipTLSVerify: true };
export default async function () {
  const out = {};
  const g = await http.get(__ENV.BASE + '/gzip');
  out.gzip = [g.body, g.headers['Content-Encoding']];
  const h = await http.get(__ENV.BASE + '/host', { headers: { Host: 'example.test' } });
  out.host = h.body;
  out.remote = [h.remote_ip, h.remote_port, h.proto];
  const p = await http.post(__ENV.BASE + '/len', 'abc', { headers: { 'Content-Length': '999' } });
  out.len = p.body;
  const r = await http.post(__ENV.BASE + '/see-other', 'x');
  out.redirected = [r.status, r.url, r.body];
  out.stopped = (await http.get(__ENV.BASE + '/see-other', { redirects: 0 })).status;
  if (__ENV.TLS) {
    const s = await http.get(__ENV.TLS + '/');
    out.tls = [s.status, s.body, s.timings.tls_handshaking > 0, s.error_code];
  }
  await http.post(__ENV.BASE + '/report', JSON.stringify(out), { headers: { 'Content-Type': 'application/json' } });
}
`;

void describe('k6/http in a run (one run without and one with https)', () => {
  const dir = tempDir();
  let report: Record<string, unknown> = {};
  const sockets = new Set<Socket>();
  const server = createServer((rq, rs) => {
    let body = '';
    rq.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    rq.on('end', () => {
      if (rq.url === '/gzip') {
        const z = gzipSync(Buffer.from('decoded by k6/http'));
        rs.writeHead(200, { 'content-encoding': 'gzip', 'content-length': z.length }).end(z);
      } else if (rq.url === '/host') rs.end(rq.headers.host);
      else if (rq.url === '/len') rs.end(String(body.length));
      else if (rq.url === '/see-other') rs.writeHead(303, { location: '/landed' }).end();
      else if (rq.url === '/landed') rs.end(`${rq.method ?? ''} landed`);
      else {
        report = JSON.parse(body) as Record<string, unknown>;
        rs.end('ok');
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
  });
  const tls = createHttpsServer(selfSignedCert(), (_rq, rs) => {
    rs.end('secure');
  });
  const script = join(dir, 'http.js');
  writeFileSync(script, SCRIPT);
  const run = async (env: Record<string, string>): Promise<Record<string, { count: number }>> => {
    const stderr = new Capture();
    const code = await runEngine({
      script,
      cwd: dir,
      stdout: new Capture(),
      stderr,
      handleSignals: false,
      args: ['-q', '--no-summary', '--summary-export', join(dir, 's.json')],
      env,
    });
    assert.equal(code, 0, stderr.text);
    return (JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { metrics: Record<string, { count: number }> }).metrics;
  };
  let port = 0;
  let base = '';
  let plain: Record<string, unknown> = {};
  let m: Record<string, { count: number }> = {};
  let serverRead = 0;
  let serverWritten = 0;
  let secure: Record<string, unknown> = {};
  let withTls: Record<string, { count: number }> = {};

  before(async () => {
    await new Promise<void>((r) => {
      server.listen(0, '127.0.0.1', r);
    });
    await new Promise<void>((r) => {
      tls.listen(0, '127.0.0.1', r);
    });
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${String(port)}`;
    m = await run({ BASE: base });
    plain = report;
    for (const s of sockets) {
      serverRead += s.bytesRead;
      serverWritten += s.bytesWritten;
    }
    withTls = await run({ BASE: base, TLS: `https://localhost:${String((tls.address() as AddressInfo).port)}` });
    secure = report;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    tls.closeAllConnections();
    tls.close();
  });

  void test('a gzip body is decoded, its Content-Encoding kept', () => {
    assert.deepEqual(plain.gzip, ['decoded by k6/http', 'gzip']);
  });
  void test('a Host header overrides the Host line', () => {
    assert.equal(plain.host, 'example.test');
  });
  void test('the response has the remote address and protocol', () => {
    assert.deepEqual(plain.remote, ['127.0.0.1', port, 'HTTP/1.1']);
  });
  void test("a Content-Length header is replaced by the body's real length", () => {
    assert.equal(plain.len, '3');
  });
  void test('a 303 is followed as GET; redirects: 0 returns the redirection', () => {
    assert.deepEqual(plain.redirected, [200, `${base}/landed`, 'GET landed']);
    assert.equal(plain.stopped, 303);
    assert.deepEqual(
      Object.keys(plain).sort(),
      ['gzip', 'host', 'len', 'redirected', 'remote', 'stopped'],
      'nothing else reported (no https in the first run)',
    );
  });
  void test('each redirect hop is a request', () => {
    assert.equal(m.http_reqs?.count, 7, 'each redirect hop is a request');
  });
  void test('data_sent and data_received equal the bytes the server read and wrote', () => {
    assert.equal(m.data_sent?.count, serverRead, 'data_sent equals the bytes the server read');
    assert.equal(m.data_received?.count, serverWritten, 'data_received equals the bytes the server wrote');
  });
  void test('https with insecureSkipTLSVerify: a self-signed certificate is accepted, its bytes counted', () => {
    assert.deepEqual(secure.tls, [200, 'secure', true, 0], 'https with insecureSkipTLSVerify: a self-signed certificate is accepted');
    assert.ok((withTls.data_received?.count ?? 0) > (m.data_received?.count ?? 0), "the https request's bytes are counted");
  });
});

const COOKIE_SCRIPT = `import http from 'k6/http';
import exec from 'k6/execution';
export const options = { vus: 1, iterations: 2, noCookiesReset: __ENV.KEEP === '1' };
export default async function () {
  const out = { iter: exec.vu.iterationInInstance };
  out.before = (await http.get(__ENV.BASE + '/whoami')).body;
  const login = await http.get(__ENV.BASE + '/login');
  out.login = [login.url, login.body];
  const jar = http.cookieJar();
  out.jar = jar.cookiesForURL(__ENV.BASE + '/');
  const withParams = await http.get(__ENV.BASE + '/whoami', { cookies: { extra: '1', session: { value: 'override', replace: true } } });
  out.params = withParams.body;
  const own = new http.CookieJar();
  own.set(__ENV.BASE, 'mine', 'x');
  out.ownJar = (await http.get(__ENV.BASE + '/whoami', { jar: own })).body;
  const set = await http.get(__ENV.BASE + '/set');
  out.resCookies = set.cookies.flavour && set.cookies.flavour.map((c) => [c.value, c.path, c.http_only, c.max_age]);
  await http.post(__ENV.BASE + '/report', JSON.stringify(out), { headers: { 'Content-Type': 'application/json' } });
}
`;

void test('k6/http cookies in a run: a login redirect sets the VU jar, params.cookies and jars, reset per iteration unless noCookiesReset', async () => {
  const dir = tempDir();
  const reports: Record<string, unknown>[] = [];
  const server = createServer((rq, rs) => {
    let body = '';
    rq.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    rq.on('end', () => {
      if (rq.url === '/login') rs.writeHead(302, { location: '/home', 'set-cookie': 'session=abc; Path=/; HttpOnly' }).end();
      else if (rq.url === '/home') rs.end(`home ${rq.headers.cookie ?? '(none)'}`);
      else if (rq.url === '/whoami') rs.end(rq.headers.cookie ?? '(none)');
      else if (rq.url === '/set')
        rs.writeHead(200, { 'set-cookie': ['flavour=oat; Path=/x; HttpOnly; Max-Age=60', 'flavour=rye; Path=/'] }).end();
      else {
        reports.push(JSON.parse(body) as Record<string, unknown>);
        rs.end('ok');
      }
    });
  });
  await new Promise<void>((r) => {
    server.listen(0, '127.0.0.1', r);
  });
  const base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const script = join(dir, 'cookies.js');
  writeFileSync(script, COOKIE_SCRIPT);
  const run = async (keep: boolean): Promise<void> => {
    const stderr = new Capture();
    const code = await runEngine({
      script,
      cwd: dir,
      stdout: new Capture(),
      stderr,
      handleSignals: false,
      args: ['-q', '--no-summary'],
      env: { BASE: base, KEEP: keep ? '1' : '0' },
    });
    assert.equal(code, 0, stderr.text);
  };
  try {
    await run(false);
    assert.equal(reports.length, 2);
    const [first, second] = reports;
    assert.deepEqual(first, {
      iter: 0,
      before: '(none)',
      login: [`${base}/home`, 'home session=abc'],
      jar: { session: ['abc'] },
      params: 'extra=1; session=override',
      ownJar: 'mine=x',
      resCookies: [
        ['oat', '/x', true, 60],
        ['rye', '/', false, 0],
      ],
    });
    assert.equal(second?.before, '(none)', 'a new iteration starts with an empty jar');
    reports.length = 0;
    await run(true);
    assert.equal(reports[1]?.before, 'session=abc; flavour=rye', 'noCookiesReset keeps the jar across iterations');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

const BATCH_SCRIPT = `import http from 'k6/http';
export const options = { vus: 1, iterations: 1, batch: Number(__ENV.BATCH), batchPerHost: Number(__ENV.PER_HOST) };
export default async function () {
  const reqs = [];
  for (let i = 0; i < 10; i++) reqs.push(__ENV.A + '/hold?' + i);
  for (let i = 0; i < 10; i++) reqs.push(['GET', __ENV.B + '/hold?' + i]);
  const list = await http.batch(reqs);
  const named = await http.batch({ one: __ENV.A + '/hold?x', two: { method: 'GET', url: __ENV.B + '/hold?y' } });
  await http.post(__ENV.A + '/report', JSON.stringify({ list: list.map((r) => r.body), named: [named.one.body, named.two.body] }));
}
`;

void test('http.batch keeps the input shape and runs at most batch in total and batchPerHost per host at once', async () => {
  const dir = tempDir();
  let report: { list: string[]; named: string[] } | undefined;
  let now = 0;
  let peak = 0;
  const perHost = new Map<string, number>();
  let peakPerHost = 0;
  // Requests are held until as many as the limits allow are in flight at once (or 3 s passed), so the
  // peak does not depend on how fast a loaded machine opens connections.
  let expectPeak = 0;
  const held: (() => void)[] = [];
  const releaseAll = (): void => {
    for (const release of held.splice(0)) release();
  };
  const server = createServer((rq, rs) => {
    let body = '';
    rq.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    rq.on('end', () => {
      if (rq.url === '/report') {
        report = JSON.parse(body) as typeof report;
        rs.end('ok');
        return;
      }
      const host = rq.headers.host ?? '';
      now++;
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      peak = Math.max(peak, now);
      peakPerHost = Math.max(peakPerHost, perHost.get(host) ?? 0);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        now--;
        perHost.set(host, (perHost.get(host) ?? 1) - 1);
        rs.end(rq.url?.slice('/hold?'.length));
      };
      held.push(release);
      setTimeout(release, 3000);
      if (now >= expectPeak) setTimeout(releaseAll, 20);
    });
  });
  await new Promise<void>((r) => {
    server.listen(0, '127.0.0.1', r);
  });
  const port = String((server.address() as AddressInfo).port);
  const script = join(dir, 'batch.js');
  writeFileSync(script, BATCH_SCRIPT);
  const run = async (batch: number, perHostLimit: number, peakAllowed: number): Promise<void> => {
    peak = 0;
    peakPerHost = 0;
    report = undefined;
    expectPeak = peakAllowed;
    const stderr = new Capture();
    const code = await runEngine({
      script,
      cwd: dir,
      stdout: new Capture(),
      stderr,
      handleSignals: false,
      args: ['-q', '--no-summary'],
      env: { A: `http://127.0.0.1:${port}`, B: `http://localhost:${port}`, BATCH: String(batch), PER_HOST: String(perHostLimit) },
    });
    assert.equal(code, 0, stderr.text);
  };
  try {
    await run(20, 6, 12);
    const digits = Array.from({ length: 10 }, (_, i) => String(i));
    assert.deepEqual(report, { list: [...digits, ...digits], named: ['x', 'y'] });
    assert.equal(peakPerHost, 6, "k6's default batchPerHost");
    assert.equal(peak, 12, 'two hosts, six each');
    await run(3, 0, 3);
    assert.equal(peak, 3, 'batch caps the total');
    await run(0, 2, 4);
    assert.equal(peakPerHost, 2);
    assert.equal(peak, 4);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

const UPLOAD_SCRIPT = `import http from 'k6/http';
export const options = { vus: 1, iterations: 1 };
export default async function () {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]).buffer;
  const res = await http.post(__ENV.BASE + '/upload', {
    field: 'plain value',
    doc: http.file('hello "file"', 'notes.txt', 'text/plain'),
    blob: http.file(bytes, 'b.bin'),
  });
  if (res.status !== 200) throw new Error('upload failed: ' + res.status + ' ' + res.body);
  let refused = '';
  try { http.file({ not: 'bytes' }); } catch (e) { refused = String(e.message); }
  await http.post(__ENV.BASE + '/report', JSON.stringify({ upload: res.json(), refused }));
}
`;

void test('http.file() bodies go out as multipart/form-data that a real parser reads back', async () => {
  const dir = tempDir();
  let report: { upload: unknown; refused: string } | undefined;
  const server = createServer((rq, rs) => {
    const chunks: Buffer[] = [];
    rq.on('data', (c: Buffer) => {
      chunks.push(c);
    });
    rq.on('end', () => {
      const body = Buffer.concat(chunks);
      if (rq.url === '/report') {
        report = JSON.parse(body.toString('utf8')) as typeof report;
        rs.end('ok');
        return;
      }
      // undici's multipart parser (Node's fetch Response) reads the upload; fine for a test server.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      void new globalThis.Response(body, { headers: { 'content-type': rq.headers['content-type'] ?? '' } }).formData().then(
        async (form) => {
          const out: Record<string, unknown> = {};
          for (const [k, v] of form.entries()) {
            out[k] = typeof v === 'string' ? v : { name: v.name, type: v.type, bytes: [...new Uint8Array(await v.arrayBuffer())] };
          }
          rs.end(JSON.stringify(out));
        },
        (e: unknown) => {
          rs.writeHead(400).end(String(e));
        },
      );
    });
  });
  await new Promise<void>((r) => {
    server.listen(0, '127.0.0.1', r);
  });
  const script = join(dir, 'upload.js');
  writeFileSync(script, UPLOAD_SCRIPT);
  try {
    const stderr = new Capture();
    const code = await runEngine({
      script,
      cwd: dir,
      stdout: new Capture(),
      stderr,
      handleSignals: false,
      args: ['-q', '--no-summary'],
      env: { BASE: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}` },
    });
    assert.equal(code, 0, stderr.text);
    assert.deepEqual(report?.upload, {
      field: 'plain value',
      doc: { name: 'notes.txt', type: 'text/plain', bytes: [...Buffer.from('hello "file"')] },
      blob: { name: 'b.bin', type: 'application/octet-stream', bytes: [0, 1, 2, 250, 255] },
    });
    assert.match(report.refused, /http\.file\(data\): data must be a string, an ArrayBuffer or an array of bytes/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
