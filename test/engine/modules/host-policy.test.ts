/**
 * The embedded engine enforces the host allowlist where connections are made, so no URL a script builds
 * gets around the run's pre-flight check: k6/http (redirect hops and proxied requests included), WebSockets
 * and SQL refuse a host that is neither loopback nor listed, with k6's blocked-hostname error (1112) and one
 * warning per host. `0.0.0.0` is the refused host here: on Linux it reaches the test's own servers on
 * 127.0.0.1, so every "nothing arrived" below is checked against a control run without the allowlist that
 * does arrive.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { runEngine } from '../../../engine/index.ts';
import { HostPolicy, canonicalHost, hostAllowed, isLoopbackHost, parseAllowedHosts } from '../../../engine/net/host-policy.ts';
import { Capture } from '../conformance/run-helpers.ts';

let origin: Server;
let proxy: Server;
let tcp: TcpServer;
let wss: WebSocketServer;
const seen: string[] = [];
const proxied: string[] = [];
let tcpConnections = 0;
let wsConnections = 0;
const ports = { origin: 0, proxy: 0, tcp: 0, ws: 0 };
const dir = mkdtempSync(join(tmpdir(), 'agentload-host-policy-'));

async function listen(s: Server | TcpServer): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

before(async () => {
  origin = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.headers.host ?? ''} ${req.url ?? ''}`);
    if (req.url === '/hop') {
      res.writeHead(302, { Location: `http://0.0.0.0:${String(ports.origin)}/after-hop` });
      res.end();
      return;
    }
    res.end('ok');
  });
  proxy = createServer((req, res) => {
    proxied.push(req.url ?? '');
    res.end('from the proxy');
  });
  tcp = createTcpServer((s) => {
    tcpConnections++;
    s.destroy();
  });
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const wsListening = new Promise<void>((r) => {
    wss.once('listening', r);
  });
  wss.on('connection', (ws) => {
    wsConnections++;
    ws.close(1000);
  });
  ports.origin = await listen(origin);
  ports.proxy = await listen(proxy);
  ports.tcp = await listen(tcp);
  await wsListening;
  ports.ws = (wss.address() as AddressInfo).port;
});

after(async () => {
  origin.closeAllConnections();
  proxy.closeAllConnections();
  await Promise.all([
    new Promise((r) => origin.close(r)),
    new Promise((r) => proxy.close(r)),
    new Promise((r) => tcp.close(r)),
    new Promise((r) => wss.close(r)),
  ]);
});

let scripts = 0;
async function run(
  source: string,
  allowedHosts: readonly string[] | undefined,
  extra: readonly string[] = [],
): Promise<{ code: number; out: string; err: string }> {
  const script = join(dir, `s${String(scripts++)}.js`);
  writeFileSync(script, source);
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runEngine({
    script,
    args: [
      '-q',
      '--no-summary',
      '-e',
      `ORIGIN=${String(ports.origin)}`,
      '-e',
      `TCP=${String(ports.tcp)}`,
      '-e',
      `WS=${String(ports.ws)}`,
      ...extra,
    ],
    env: {},
    cwd: dir,
    stdout,
    stderr,
    handleSignals: false,
    ...(allowedHosts === undefined ? {} : { allowedHosts }),
  });
  return { code, out: stdout.text, err: stderr.text };
}

/** The script's `console.log('name value...')` lines by name. */
const logged = (err: string): Map<string, string> =>
  new Map([...err.matchAll(/msg="(\w+) ([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));

void test('host rules: loopback in every spelling, listed names and *.wildcards, nothing else', () => {
  for (const h of [
    'localhost',
    'LOCALHOST',
    'api.localhost',
    '127.0.0.1',
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
  ]) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (const h of ['0.0.0.0', '10.0.0.1', '128.0.0.1', 'localhost.example.com', '::', '::ffff:10.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  assert.equal(canonicalHost('Example.COM.'), 'example.com');
  const allowed = parseAllowedHosts(' Staging.Example.com,*.test.io  10.1.2.3 ');
  assert.deepEqual(allowed, ['staging.example.com', '*.test.io', '10.1.2.3']);
  assert.ok(hostAllowed('STAGING.example.com', allowed));
  assert.ok(hostAllowed('a.b.test.io', allowed));
  assert.ok(!hostAllowed('test.io', allowed), 'a wildcard covers subdomains only');
  assert.ok(hostAllowed('10.1.2.3', allowed));
  const policy = new HostPolicy([]);
  assert.equal(policy.refusal('127.0.0.1'), undefined);
  assert.equal(
    policy.refusal('0.0.0.0'),
    'hostname (0.0.0.0) is not allowed: load goes only to loopback and to hosts listed in AGENTLOAD_ALLOWED_HOSTS; to load-test it on purpose, set AGENTLOAD_ALLOWED_HOSTS=0.0.0.0',
  );
});

const HTTP = `import http from 'k6/http';
export const options = { iterations: 1 };
export default async function () {
  const show = (name, r) => console.log(name + ' ' + r.status + ' ' + r.error_code + ' ' + r.url + ' ' + (r.error || '-'));
  show('loopback', await http.get('http://127.0.0.1:' + __ENV.ORIGIN + '/a'));
  show('blocked', await http.get('http://0.0.0.0:' + __ENV.ORIGIN + '/b'));
  show('again', await http.get('http://0.0.0.0:' + __ENV.ORIGIN + '/c'));
  show('redirect', await http.get('http://127.0.0.1:' + __ENV.ORIGIN + '/hop'));
}
`;

void test('k6/http: a refused host fails with 1112 and one warning, redirect hops included; nothing reaches the server', async () => {
  seen.length = 0;
  const control = await run(HTTP, undefined);
  assert.equal(control.code, 0, control.err);
  assert.deepEqual(
    seen.map((s) => s.split(' ')[1]),
    ['/a', '/b', '/c', '/hop', '/after-hop'],
    'control: without the allowlist every request arrives',
  );

  seen.length = 0;
  const r = await run(HTTP, []);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(
    seen.map((s) => s.split(' ')[1]),
    ['/a', '/hop'],
    'only the loopback requests arrived',
  );
  const lines = logged(r.err);
  assert.match(lines.get('loopback') ?? '', /^200 0 /);
  assert.match(
    lines.get('blocked') ?? '',
    /^0 1112 http:\/\/0\.0\.0\.0:\d+\/b hostname \(0\.0\.0\.0\) is not allowed: load goes only to loopback/,
  );
  assert.match(lines.get('again') ?? '', /^0 1112 /);
  assert.match(lines.get('redirect') ?? '', /^0 1112 http:\/\/0\.0\.0\.0:\d+\/after-hop /, 'the redirect hop was refused');
  assert.equal(
    (r.err.match(/level=warning msg="hostname \(0\.0\.0\.0\) is not allowed/g) ?? []).length,
    1,
    `one warning for the host:\n${r.err}`,
  );

  seen.length = 0;
  const listed = await run(HTTP, ['0.0.0.0']);
  assert.equal(listed.code, 0, listed.err);
  assert.equal(seen.length, 5, 'a listed host is reached');
});

void test('k6/http through a proxy: the target is checked before the proxy is contacted', async () => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
  process.env.HTTP_PROXY = `http://127.0.0.1:${String(ports.proxy)}`;
  process.env.NO_PROXY = 'unrelated.invalid';
  const source = `import http from 'k6/http';
export const options = { iterations: 1 };
export default async function () {
  const r = await http.get('http://far.agentload.test/x');
  console.log('proxied ' + r.status + ' ' + r.error_code);
}
`;
  try {
    proxied.length = 0;
    const allowed = await run(source, ['*.agentload.test']);
    assert.equal(logged(allowed.err).get('proxied'), '200 0', allowed.err);
    assert.deepEqual(proxied, ['http://far.agentload.test/x'], 'control: a listed target goes through the proxy');
    proxied.length = 0;
    const refused = await run(source, []);
    assert.equal(logged(refused.err).get('proxied'), '0 1112', refused.err);
    assert.deepEqual(proxied, [], 'the proxy was never asked');
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
});

const WS = `import { WebSocket } from 'k6/websockets';
export const options = { iterations: 1 };
export default function () {
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    const ws = new WebSocket('ws://' + host + ':' + __ENV.WS + '/');
    ws.onerror = (e) => console.log('error' + host.replace(/\\./g, '') + ' ' + e.error);
    ws.onclose = () => console.log('closed' + host.replace(/\\./g, '') + ' ' + ws.readyState);
  }
}
`;

for (const mode of ['async', 'sync']) {
  void test(`WebSockets (${mode} VU mode): a refused host fires error then close and never connects`, async () => {
    wsConnections = 0;
    const control = await run(WS, undefined, ['--vu-mode', mode]);
    assert.equal(control.code, 0, control.err);
    assert.equal(wsConnections, 2, 'control: both sockets connect without the allowlist');
    wsConnections = 0;
    const r = await run(WS, [], ['--vu-mode', mode]);
    assert.equal(r.code, 0, r.err);
    assert.equal(wsConnections, 1, 'only the loopback socket connected');
    const lines = logged(r.err);
    assert.match(lines.get('error0000') ?? '', /hostname \(0\.0\.0\.0\) is not allowed/);
    assert.equal(lines.get('closed0000'), '3');
    assert.equal(lines.get('closed127001'), '3');
    assert.equal(lines.has('error127001'), false);
  });
}

/** k6/ws as k6 scripts use it (blocking: the sync VU mode) and awaited (the async mode). */
const K6_WS = (awaited: boolean): string => `import ws from 'k6/ws';
export const options = { iterations: 1 };
export default ${awaited ? 'async ' : ''}function () {
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    const res = ${awaited ? 'await ' : ''}ws.connect('ws://' + host + ':' + __ENV.WS + '/', null, (socket) => { socket.on('open', () => { socket.close(); }); });
    console.log('ws' + host.replace(/\\./g, '') + ' ' + res.status + ' ' + (res.error || '-'));
  }
}
`;

for (const awaited of [true, false]) {
  void test(`k6/ws (${awaited ? 'async' : 'sync'} VU mode): connect() to a refused host answers with the refusal and never dials`, async () => {
    wsConnections = 0;
    const control = await run(K6_WS(awaited), undefined);
    assert.equal(control.code, 0, control.err);
    assert.equal(wsConnections, 2, `control: both connect without the allowlist\n${control.err}`);
    wsConnections = 0;
    const r = await run(K6_WS(awaited), []);
    assert.equal(r.code, 0, r.err);
    assert.equal(wsConnections, 1, `only the loopback socket connected\n${r.err}`);
    const lines = logged(r.err);
    assert.equal(lines.get('ws127001'), '101 -');
    assert.match(lines.get('ws0000') ?? '', /^0 hostname \(0\.0\.0\.0\) is not allowed: load goes only to loopback/);
    assert.equal(
      (r.err.match(/level=warning msg="hostname \(0\.0\.0\.0\) is not allowed/g) ?? []).length,
      1,
      `one warning for the host:\n${r.err}`,
    );
  });
}

void test('k6/http (sync VU mode): requests a VU thread makes are checked on the engine thread, redirect hops included', async () => {
  const source = HTTP.replace('export default async function', 'export default function').replaceAll('await ', '');
  seen.length = 0;
  const control = await run(source, undefined, ['--vu-mode', 'sync']);
  assert.equal(control.code, 0, control.err);
  assert.equal(seen.length, 5, 'control: without the allowlist every request arrives');
  seen.length = 0;
  const r = await run(source, [], ['--vu-mode', 'sync']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(
    seen.map((x) => x.split(' ')[1]),
    ['/a', '/hop'],
    'only the loopback requests arrived',
  );
  const lines = logged(r.err);
  assert.match(lines.get('blocked') ?? '', /^0 1112 http:\/\/0\.0\.0\.0:\d+\/b hostname \(0\.0\.0\.0\) is not allowed/);
  assert.match(lines.get('redirect') ?? '', /^0 1112 http:\/\/0\.0\.0\.0:\d+\/after-hop /);
});

for (const mode of ['async', 'sync']) {
  void test(`k6/x/sql (${mode} VU mode): a postgres DSN naming a refused host fails at sql.open, in every DSN form, before any connection`, async () => {
    const forms = [
      `postgres://u@0.0.0.0:' + __ENV.TCP + '/db`,
      `postgres://u@127.0.0.1:' + __ENV.TCP + '/db?host=0.0.0.0`,
      `host=0.0.0.0 port=' + __ENV.TCP + ' user=u dbname=db`,
    ];
    const source = (dsn: string): string => `import sql from 'k6/x/sql';
import driver from 'k6/x/sql/driver/postgres';
// Opened by the VUs, not the init-only VU 0: in the sync mode the VU threads make this connection themselves.
const db = __VU === 0 ? null : sql.open(driver, '${dsn}');
export const options = { iterations: 1 };
export default async function () {
  try { await db.query('SELECT 1'); } catch (e) { console.log('query failed'); }
}
`;
    tcpConnections = 0;
    const control = await run(source(forms[0] ?? ''), undefined, ['--vu-mode', mode]);
    assert.equal(control.code, 0, control.err);
    assert.ok(tcpConnections >= 1, 'control: without the allowlist pg connects');
    for (const dsn of forms) {
      tcpConnections = 0;
      const r = await run(source(dsn), [], ['--vu-mode', mode]);
      assert.equal(r.code, 107, `${dsn}: ${r.err}`);
      assert.match(r.err, /sql\.open: hostname \(0\.0\.0\.0\) is not allowed: load goes only to loopback/, dsn);
      assert.equal(tcpConnections, 0, `${dsn}: no connection`);
    }
  });
}

void test('k6/experimental/redis: a refused host rejects the command before any connection', async () => {
  const source = `import redis from 'k6/experimental/redis';
const client = new redis.Client('redis://0.0.0.0:' + __ENV.TCP);
export const options = { iterations: 1 };
export default async function () {
  try { await client.get('k'); } catch (e) { console.log('redis ' + String(e.message === undefined ? e : e.message)); }
}
`;
  tcpConnections = 0;
  const control = await run(source, undefined);
  assert.equal(control.code, 0, control.err);
  assert.ok(tcpConnections >= 1, 'control: without the allowlist the client connects');
  tcpConnections = 0;
  const r = await run(source, []);
  assert.equal(r.code, 0, r.err);
  assert.match(logged(r.err).get('redis') ?? '', /^redis: hostname \(0\.0\.0\.0\) is not allowed/);
  assert.equal(tcpConnections, 0, 'no connection');
});
