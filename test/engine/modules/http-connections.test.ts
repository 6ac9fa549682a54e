/**
 * k6's connection options on real servers: connections are kept per VU by default, not across
 * iterations with noVUConnectionReuse, never with noConnectionReuse (Go then sends
 * `Connection: close`); insecureSkipTLSVerify also holds in setup() (VU 0 loads k6/http before the
 * options are known); each as a script option and as its `k6 run` flag.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { runSource, selfSignedCert } from '../conformance/run-helpers.ts';

let plain: Server;
let secure: Server;
let connections = 0;
let closeHeaders = 0;
const ports = { plain: 0, secure: 0 };
const listen = (s: Server): Promise<number> =>
  new Promise((r) => {
    s.listen(0, '127.0.0.1', () => {
      r((s.address() as AddressInfo).port);
    });
  });

before(async () => {
  plain = createServer((rq, rs) => {
    if (rq.headers.connection === 'close') closeHeaders++;
    rs.end('ok');
  });
  plain.on('connection', () => {
    connections++;
  });
  const tlsCert = selfSignedCert();
  secure = createHttpsServer(tlsCert, (_rq, rs) => {
    rs.end('secure');
  });
  ports.plain = await listen(plain);
  ports.secure = await listen(secure);
});
after(() => {
  for (const s of [plain, secure]) {
    s.closeAllConnections();
    s.close();
  }
});

/** 1 VU, 3 iterations of 2 requests: the TCP connections the server saw and the `Connection: close` headers. */
async function connectionsFor(options: string, flags: string[] = []): Promise<{ connections: number; closeHeaders: number }> {
  connections = 0;
  closeHeaders = 0;
  const script = `import http from 'k6/http';
export const options = { vus: 1, iterations: 3${options} };
export default async function () {
  for (let i = 0; i < 2; i++) { const r = await http.get('http://127.0.0.1:${String(ports.plain)}/'); if (r.status !== 200) throw new Error(r.error); }
}
`;
  const run = await runSource(script, ['-q', '--no-summary', ...flags]);
  assert.equal(run.code, 0, run.stderr);
  return { connections, closeHeaders };
}

void test('connections: one per VU by default; one per iteration with noVUConnectionReuse; one per request with noConnectionReuse', async () => {
  assert.deepEqual(await connectionsFor(''), { connections: 1, closeHeaders: 0 });
  assert.deepEqual(await connectionsFor(', noVUConnectionReuse: true'), { connections: 3, closeHeaders: 0 });
  assert.deepEqual(await connectionsFor(', noConnectionReuse: true'), { connections: 6, closeHeaders: 6 });
});

void test('the same from the k6 run flags', async () => {
  assert.deepEqual(await connectionsFor('', ['--no-vu-connection-reuse']), { connections: 3, closeHeaders: 0 });
  assert.deepEqual(await connectionsFor('', ['--no-connection-reuse']), { connections: 6, closeHeaders: 6 });
});

const TLS_SCRIPT = (option: string): string => `import http from 'k6/http';
export const options = { iterations: 1${option} };
export async function setup() { const r = await http.get('https://127.0.0.1:${String(ports.secure)}/'); console.log('setup ' + r.status + ' ' + r.error); }
export default async function () { const r = await http.get('https://127.0.0.1:${String(ports.secure)}/'); console.log('iteration ' + r.status + ' ' + r.error); }
`;

void test('insecureSkipTLSVerify holds in setup() and iterations, as an option or the flag; without it the certificate is refused', async () => {
  for (const [option, flags] of [
    [', insecureSkipTLSVerify: true', []],
    ['', ['--insecure-skip-tls-verify']],
  ] as const) {
    const run = await runSource(TLS_SCRIPT(option), ['-q', '--no-summary', ...flags]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /msg="setup 200 "/, `${option}${flags.join(' ')}: setup`);
    assert.match(run.stderr, /msg="iteration 200 "/);
  }
  const strict = await runSource(TLS_SCRIPT(''), ['-q', '--no-summary']);
  assert.match(strict.stderr, /msg="setup 0 [^"]*self-signed certificate"/);
  assert.match(strict.stderr, /msg="iteration 0 [^"]*self-signed certificate"/);
});
