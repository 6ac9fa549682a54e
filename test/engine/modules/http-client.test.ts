/**
 * The engine's HTTP/1.1 client (engine/modules/http/client.ts) against real local servers:
 * node:http for well-formed traffic, raw node:net servers for what node:http never sends
 * (a response cut short, a keep-alive connection closed under a request, garbage).
 */
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ConnectionPool } from '../../../engine/modules/http/client.ts';
import { requestHead, type ClientRequest, type Exchange } from '../../../engine/modules/http/exchange.ts';
import { timingsOf } from '../../../engine/modules/http/response.ts';
import { selfSignedCert } from '../conformance/run-helpers.ts';
import { clientRequest } from './client-request.ts';

const now = (): number => performance.now();

function listen(server: Server | NetServer): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const req = clientRequest;

const bodyOf = (ex: Exchange): string => Buffer.concat(ex.chunks).toString('utf8');
const headerOf = (ex: Exchange, name: string): string | undefined => {
  for (let i = 0; i + 1 < ex.rawHeaders.length; i += 2) if (ex.rawHeaders[i]?.toLowerCase() === name) return ex.rawHeaders[i + 1];
  return undefined;
};

/** `size` bytes that differ from one position (and one seed) to the next, so a byte read into the wrong place shows. */
function patterned(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2_654_435_761;
  for (let i = 0; i < size; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

let server: Server;
let port = 0;
let connections = 0;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

before(async () => {
  server = createServer((rq: IncomingMessage, rs: ServerResponse) => {
    let body = '';
    rq.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    rq.on('end', () => {
      seen.push({ method: rq.method ?? '', url: rq.url ?? '', headers: rq.headers, body });
      switch (rq.url) {
        case '/chunked':
          rs.writeHead(200, { 'content-type': 'text/plain' });
          rs.write('hello ');
          setTimeout(() => {
            rs.end('world');
          }, 20);
          return;
        case '/gzip': {
          const z = gzipSync(Buffer.from('compressed body'));
          rs.writeHead(200, { 'content-encoding': 'gzip', 'content-length': z.length });
          rs.end(z);
          return;
        }
        case '/early':
          rs.writeEarlyHints({ link: '</style.css>; rel=preload' });
          rs.end('after hints');
          return;
        case '/slow':
          setTimeout(() => {
            rs.end('late');
          }, 3000).unref();
          return;
        case '/big':
          rs.end('x'.repeat(1_000_000));
          return;
        case '/nocontent':
          rs.writeHead(204).end();
          return;
        case '/bytes-a':
        case '/bytes-b': {
          // Distinct bytes in 16 KiB pieces, each after a turn of the event loop: two of these at once
          // arrive interleaved, in many reads per response.
          const body = patterned(rq.url === '/bytes-a' ? 1 : 2, 300_000);
          rs.writeHead(200, { 'content-length': body.length });
          let at = 0;
          const next = (): void => {
            if (at >= body.length) {
              rs.end();
              return;
            }
            rs.write(body.subarray(at, at + 16_384));
            at += 16_384;
            setImmediate(next);
          };
          next();
          return;
        }
        default:
          rs.setHeader('set-cookie', ['a=1', 'b=2']);
          rs.end(`${rq.method ?? ''} ${rq.url ?? ''} ${String(body.length)}`);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => {
    connections++;
  });
  port = await listen(server);
});

after(() => {
  server.closeAllConnections();
  server.close();
});

void test('keep-alive: one VU reuses its connection; headers, body and phases are measured', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const before = connections;
  const a = await pool.requestAsync(req(port, '/a?x=1'), undefined);
  const b = await pool.requestAsync(req(port, '/b'), undefined);
  assert.equal(a.error, undefined);
  assert.equal(a.status, 200);
  assert.equal(bodyOf(a), 'GET /a?x=1 0');
  assert.equal(bodyOf(b), 'GET /b 0');
  assert.equal(connections - before, 1, 'the second request reused the first connection');
  assert.ok(a.newConn !== undefined && a.newConn.connecting > 0, 'the first request opened the connection');
  assert.equal(b.newConn, undefined, 'the second did not');
  assert.ok(a.tConn >= a.t0 && a.tSent >= a.tConn && a.tFirst >= a.tSent && a.tEnd >= a.tFirst);
  assert.ok(a.sent > 0 && a.received > bodyOf(a).length, 'bytes on the wire counted both ways');
  const cookies = [];
  for (let i = 0; i + 1 < a.rawHeaders.length; i += 2)
    if (a.rawHeaders[i]?.toLowerCase() === 'set-cookie') cookies.push(a.rawHeaders[i + 1]);
  assert.deepEqual(cookies, ['a=1', 'b=2'], 'repeated headers are kept apart');
  assert.equal(a.remoteAddress, '127.0.0.1');
  assert.equal(a.remotePort, port);
  pool.close();
});

void test('concurrent requests of one VU open a connection each, then share them', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const before = connections;
  const first = await Promise.all([1, 2, 3].map((i) => pool.requestAsync(req(port, `/c${String(i)}`), undefined)));
  assert.deepEqual(first.map(bodyOf), ['GET /c1 0', 'GET /c2 0', 'GET /c3 0']);
  assert.equal(connections - before, 3);
  await Promise.all([4, 5, 6].map((i) => pool.requestAsync(req(port, `/c${String(i)}`), undefined)));
  assert.equal(connections - before, 3, 'the idle connections were reused');
  pool.close();
});

void test('request bodies, Content-Length, chunked and gzip responses, 1xx, 204, HEAD, large bodies', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const post = await pool.requestAsync(
    req(port, '/post', { method: 'POST', body: Buffer.from('{"a":1}'), headers: { 'Content-Type': 'application/json' } }),
    undefined,
  );
  assert.equal(bodyOf(post), 'POST /post 7');
  assert.equal(seen.at(-1)?.headers['content-length'], '7');
  assert.equal(seen.at(-1)?.headers['content-type'], 'application/json');
  const empty = await pool.requestAsync(req(port, '/empty', { method: 'PUT' }), undefined);
  assert.equal(bodyOf(empty), 'PUT /empty 0');
  assert.equal(seen.at(-1)?.headers['content-length'], '0', 'PUT without a body sends Content-Length: 0, like Go');
  for (const ex of [post, empty]) assert.equal(ex.error, undefined);
  const chunked = await pool.requestAsync(req(port, '/chunked'), undefined);
  assert.equal(bodyOf(chunked), 'hello world');
  const gz = await pool.requestAsync(req(port, '/gzip'), undefined);
  assert.equal(headerOf(gz, 'content-encoding'), 'gzip', 'the client hands the raw body over; k6/http decodes it');
  const early = await pool.requestAsync(req(port, '/early'), undefined);
  assert.equal(early.status, 200, 'a 103 Early Hints response is skipped');
  assert.equal(bodyOf(early), 'after hints');
  const none = await pool.requestAsync(req(port, '/nocontent'), undefined);
  for (const ex of [chunked, gz, early, none]) assert.equal(ex.error, undefined);
  assert.equal(none.status, 204);
  assert.equal(bodyOf(none), '');
  const head = await pool.requestAsync(req(port, '/head', { method: 'HEAD' }), undefined);
  assert.equal(head.error, undefined);
  assert.equal(head.status, 200);
  assert.equal(bodyOf(head), '', 'no body is read after a HEAD response');
  assert.notEqual(headerOf(head, 'content-length'), '0', 'the server announced a body length it does not send');
  const after = await pool.requestAsync(req(port, '/after-head'), undefined);
  assert.equal(bodyOf(after), 'GET /after-head 0', 'the connection is still in step after HEAD');
  const big = await pool.requestAsync(req(port, '/big'), undefined);
  assert.equal(bodyOf(big).length, 1_000_000);
  const discarded = await pool.requestAsync(req(port, '/big', { keepBody: false }), undefined);
  assert.equal(discarded.chunks.length, 0);
  assert.ok(discarded.received > 1_000_000);
  pool.close();
});

void test('bodies read in many pieces on connections at once arrive byte for byte (plain http reads share one buffer)', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const [a, b] = await Promise.all([
    pool.requestAsync(req(port, '/bytes-a'), undefined),
    pool.requestAsync(req(port, '/bytes-b'), undefined),
  ]);
  for (const ex of [a, b]) assert.equal(ex.error, undefined);
  assert.ok(a.chunks.length > 2 && b.chunks.length > 2, 'each body came in several reads');
  assert.ok(Buffer.concat(a.chunks).equals(patterned(1, 300_000)), 'the first body is intact');
  assert.ok(Buffer.concat(b.chunks).equals(patterned(2, 300_000)), 'the second body is intact');
  pool.close();
});

void test('a timeout ends the request with request-timeout and frees the VU', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const t0 = now();
  const ex = await pool.requestAsync(req(port, '/slow', { timeoutMs: 150 }), undefined);
  assert.equal(ex.error?.code, 'request-timeout');
  assert.ok(now() - t0 < 2500, 'it did not wait for the slow response');
  const next = await pool.requestAsync(req(port, '/after-timeout'), undefined);
  assert.equal(bodyOf(next), 'GET /after-timeout 0', 'a fresh connection replaces the timed-out one');
  pool.close();
});

void test('a request that times out before the outbox wrote it shows the wait until it gave up in its duration (in sending)', async () => {
  // A request made from a setImmediate callback of its own (the engine's iteration loop has the outbox flush
  // right after its wake immediate, engine/executors/iteration.ts; other code does not) is written at the next
  // turn's check phase; a turn busier than its timeout (here: the rest of this callback) lets the timeout fire first. Like a request written at once that got no answer, its duration
  // must be the time until it gave up, not 0.
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  await pool.requestAsync(req(port, '/warm'), undefined); // a keep-alive connection to reuse
  const ex = await new Promise<Exchange>((resolve) => {
    setImmediate(() => {
      pool.request(req(port, '/slow', { timeoutMs: 20 }), undefined, resolve);
      const until = now() + 60;
      while (now() < until); // the thread busy past the timeout
    });
  });
  assert.equal(ex.error?.code, 'request-timeout');
  const t = timingsOf(ex);
  assert.ok(t.duration >= 20, `http_req_duration ${String(t.duration)} ms covers the wait until the timeout`);
  assert.equal(t.duration, t.sending + t.waiting + t.receiving);
  pool.close();
});

void test('an interruption stops an in-flight request', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const handlers = new Set<{ interrupt(r: unknown): void }>();
  const intr = {
    aborted: false,
    add: (h: { interrupt(r: unknown): void }) => {
      handlers.add(h);
    },
    delete: (h: { interrupt(r: unknown): void }) => {
      handlers.delete(h);
    },
  };
  const p = pool.requestAsync(req(port, '/slow'), intr);
  setTimeout(() => {
    for (const h of handlers) h.interrupt(undefined);
  }, 100);
  const ex = await p;
  assert.equal(ex.error?.code, 'interrupted');
  assert.equal(handlers.size, 0, 'the exchange unregistered itself');
  pool.close();
});

/** A raw server: `onRequest(socket, n)` is called for the n-th request head seen on each connection. */
async function rawServer(
  onRequest: (socket: Socket, n: number, conn: number) => void,
): Promise<{ port: number; server: NetServer; conns: () => number }> {
  let conns = 0;
  const server = createNetServer((socket) => {
    const conn = ++conns;
    let n = 0;
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        onRequest(socket, ++n, conn);
      }
    });
    socket.on('error', () => undefined);
  });
  return { port: await listen(server), server, conns: () => conns };
}

void test("a reused connection closed under a GET is retried once on a new one; a POST is not (Go's rule)", async () => {
  // Each connection answers its first request, then closes without answering the second.
  const raw = await rawServer((socket, n) => {
    if (n === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else socket.destroy();
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const first = await pool.requestAsync(req(raw.port, '/1'), undefined);
  assert.equal(bodyOf(first), 'ok');
  const retried = await pool.requestAsync(req(raw.port, '/2'), undefined);
  assert.equal(retried.error, undefined, 'the GET succeeded on a second connection');
  assert.equal(retried.retried, true);
  assert.equal(raw.conns(), 2);
  const post = await pool.requestAsync(req(raw.port, '/3', { method: 'POST', body: Buffer.from('x') }), undefined);
  assert.equal(post.error?.code, 'ECONNRESET', 'a POST is never sent twice');
  pool.close();
  raw.server.close();
});

void test('read-until-close bodies, cut-short responses, malformed responses and refused connections', async () => {
  const raw = await rawServer((socket, _n, conn) => {
    if (conn === 1) socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close');
    else if (conn === 2) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort');
    else socket.end('NOT HTTP AT ALL\r\n\r\n');
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  const untilClose = await pool.requestAsync(req(raw.port, '/'), undefined);
  assert.equal(untilClose.error, undefined);
  assert.equal(bodyOf(untilClose), 'until close');
  assert.equal(untilClose.versionMinor, 0);
  const short = await pool.requestAsync(req(raw.port, '/'), undefined);
  assert.equal(short.error?.code, 'ECONNRESET', 'a body shorter than its Content-Length is an error');
  const bad = await pool.requestAsync(req(raw.port, '/'), undefined);
  assert.equal(bad.error?.code, 'HPE_INVALID');
  assert.match(bad.error.message, /malformed HTTP response/);
  raw.server.close();
  const closedPort = raw.port;
  await new Promise((r) => setTimeout(r, 50));
  const refused = await pool.requestAsync(req(closedPort, '/'), undefined);
  assert.equal(refused.error?.code, 'ECONNREFUSED');
  assert.equal(refused.status, 0);
  pool.close();
});

void test('https: the TLS handshake is timed; a self-signed certificate fails unless verification is off', async () => {
  const tlsCert = selfSignedCert();
  const tlsServer = createHttpsServer(tlsCert, (_rq, rs) => {
    rs.end('secure');
  });
  const tlsPort = await listen(tlsServer);
  const insecure = new ConnectionPool({ now, rejectUnauthorized: false });
  const strict = new ConnectionPool({ now, rejectUnauthorized: true });
  const tlsReq = (): ClientRequest => req(tlsPort, '/', { tls: true, hostname: 'localhost', host: `localhost:${String(tlsPort)}` });
  try {
    const ok = await insecure.requestAsync(tlsReq(), undefined);
    assert.equal(ok.error, undefined);
    assert.equal(bodyOf(ok), 'secure');
    assert.ok((ok.newConn?.tls ?? 0) > 0, 'TLS handshake time recorded');
    // Bytes on the wire as k6 counts them: TLS records, and the handshake (certificate included) on the first request.
    const certBytes = (tlsCert.cert.length * 3) / 4 - 100;
    assert.ok(
      ok.received > certBytes,
      `received ${String(ok.received)} includes the certificate (~${String(Math.round(certBytes))} bytes DER)`,
    );
    const again = await insecure.requestAsync(tlsReq(), undefined);
    assert.equal(again.newConn, undefined, 'the connection is reused');
    const plainHead = Buffer.byteLength(requestHead(tlsReq()), 'latin1');
    assert.ok(again.sent > plainHead, `sent ${String(again.sent)} > ${String(plainHead)} plaintext bytes: TLS framing counted`);
    assert.ok(again.sent < ok.sent && again.received < ok.received, 'no handshake on the reused connection');
    const refused = await strict.requestAsync(tlsReq(), undefined);
    assert.equal(refused.status, 0);
    assert.match(refused.error?.code ?? '', /SELF_SIGNED|CERT/);
  } finally {
    insecure.close();
    strict.close();
    tlsServer.closeAllConnections();
    tlsServer.close();
  }
});

void test('https to a host whose first address refuses: TLS starts on the address that answered (no crash, Happy Eyeballs)', async () => {
  const tlsCert = selfSignedCert('dual.agentload.test');
  const tlsServer = createHttpsServer(tlsCert, (_rq, rs) => {
    rs.end('second address');
  });
  const tlsPort = await listen(tlsServer); // on 127.0.0.1 only: 127.0.0.2 refuses
  const realLookup = dns.lookup;
  // A dual-stack-like answer: Node tries 127.0.0.2 first, fails, and swaps the socket's handle for 127.0.0.1.
  const fake = (hostname: string, options: unknown, cb: (...a: unknown[]) => void): void => {
    if (hostname !== 'dual.agentload.test') {
      (realLookup as (...a: unknown[]) => void)(hostname, options, cb);
      return;
    }
    const all = [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    if (typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true) cb(null, all);
    else cb(null, '127.0.0.2', 4);
  };
  Object.assign(dns, { lookup: fake });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const r = await pool.requestAsync(
      req(tlsPort, '/', { tls: true, hostname: 'dual.agentload.test', host: `dual.agentload.test:${String(tlsPort)}` }),
      undefined,
    );
    assert.equal(r.error, undefined);
    assert.equal(bodyOf(r), 'second address');
    assert.equal(r.remoteAddress, '127.0.0.1');
  } finally {
    Object.assign(dns, { lookup: realLookup });
    pool.close();
    tlsServer.closeAllConnections();
    tlsServer.close();
  }
});
