/**
 * Forward proxies from the environment, as k6 takes them (Go's ProxyFromEnvironment): the
 * NO_PROXY/loopback rules as a table, then a real proxy on loopback (absolute-form requests for
 * http://, CONNECT tunnels for https://, Basic credentials) in front of origins the client never
 * resolves itself (`*.agentload.test` names only the proxy knows).
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { ProxyConfigError, proxyFromEnv, type ProxyChoice } from '../../../engine/modules/http/proxy.ts';
import { runSource, selfSignedCert } from '../conformance/run-helpers.ts';

const key = (c: ProxyChoice): string => (c === undefined ? 'direct' : c instanceof ProxyConfigError ? `error: ${c.message}` : c.key);

void test('proxyFromEnv: scheme picks the variable; NO_PROXY, localhost and loopback go direct', () => {
  const choose = proxyFromEnv({
    HTTP_PROXY: 'http://plain.proxy:3128',
    https_proxy: 'secure.proxy:8443',
    NO_PROXY: 'example.com, .sub.org, *.star.net, 10.1.0.0/16, 192.168.1.5, 172.16.0.9:8080, internal.io:9000, [fd00::1]',
  });
  const cases: Array<[boolean, string, number, string]> = [
    [false, 'api.staging.dev', 80, 'http://plain.proxy:3128'],
    [true, 'api.staging.dev', 443, 'http://secure.proxy:8443'], // no scheme: http:// (Go's parseProxy)
    [false, 'localhost', 80, 'direct'],
    [false, '127.0.0.1', 8080, 'direct'],
    [true, '127.9.9.9', 443, 'direct'],
    [false, '::1', 80, 'direct'],
    [false, 'example.com', 80, 'direct'], // the domain itself
    [false, 'api.example.com', 80, 'direct'], // and its subdomains
    [false, 'notexample.com', 80, 'http://plain.proxy:3128'],
    [false, 'sub.org', 80, 'http://plain.proxy:3128'], // a leading dot: subdomains only
    [false, 'a.sub.org', 80, 'direct'],
    [false, 'star.net', 80, 'http://plain.proxy:3128'], // *. is the same as a leading dot
    [false, 'x.star.net', 80, 'direct'],
    [false, '10.1.200.3', 80, 'direct'], // CIDR
    [false, '10.2.0.1', 80, 'http://plain.proxy:3128'],
    [false, '192.168.1.5', 80, 'direct'],
    [false, '172.16.0.9', 8080, 'direct'], // ip:port matches that port only
    [false, '172.16.0.9', 80, 'http://plain.proxy:3128'],
    [false, 'internal.io', 9000, 'direct'],
    [false, 'internal.io', 80, 'http://plain.proxy:3128'],
    [false, 'fd00::1', 80, 'direct'],
    [false, 'API.EXAMPLE.COM', 80, 'direct'], // case does not matter
  ];
  for (const [tls, host, port, want] of cases)
    assert.equal(key(choose(tls, host, port)), want, `${tls ? 'https' : 'http'}://${host}:${String(port)}`);
  assert.equal(key(proxyFromEnv({ HTTP_PROXY: 'http://p:1', NO_PROXY: '*' })(false, 'anything.dev', 80)), 'direct');
  assert.equal(key(proxyFromEnv({ HTTP_PROXY: 'http://p:1' })(true, 'anything.dev', 443)), 'direct', 'https needs HTTPS_PROXY');
  assert.equal(
    key(proxyFromEnv({ HTTP_PROXY: 'http://upper:1', http_proxy: 'http://lower:1' })(false, 'a.dev', 80)),
    'http://upper:1',
    'upper case first, as Go',
  );
  assert.equal(key(proxyFromEnv({})(false, 'a.dev', 80)), 'direct');
  const secret = proxyFromEnv({ HTTP_PROXY: 'http://me:s3cr%40t@p.dev:3128' })(false, 'a.dev', 80);
  assert.ok(secret !== undefined && !(secret instanceof ProxyConfigError));
  assert.equal(secret.authorization, `Basic ${Buffer.from('me:s3cr@t').toString('base64')}`);
  assert.doesNotMatch(secret.key, /s3cr/, 'credentials stay out of the pool key');
  // Go's edges: a value that does not parse is ignored (direct), a prefix too long is no CIDR, mapped loopback, CGI.
  assert.equal(key(proxyFromEnv({ HTTP_PROXY: 'http://[bad' })(false, 'a.dev', 80)), 'direct');
  assert.equal(key(proxyFromEnv({ HTTP_PROXY: 'http://me:%zz@p.dev:1' })(false, 'a.dev', 80)), 'direct', 'a bad %-escape in credentials');
  assert.equal(
    key(proxyFromEnv({ HTTP_PROXY: 'http://p:1', NO_PROXY: '10.0.0.0/33' })(false, '10.0.0.1', 80)),
    'http://p:1',
    'no CIDR, no crash',
  );
  assert.equal(key(proxyFromEnv({ HTTP_PROXY: 'http://p:1' })(false, '::ffff:127.0.0.1', 80)), 'direct');
  assert.equal(key(proxyFromEnv({ HTTP_PROXY: 'http://p:1' })(false, '::ffff:7f00:1', 80)), 'direct', 'as WHATWG URL writes it');
  assert.equal(
    key(proxyFromEnv({ HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' })(false, '127.0.0.1', 80)),
    'error: refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy',
  );
  assert.equal(
    key(proxyFromEnv({ HTTPS_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' })(true, 'a.dev', 443)),
    'http://p:1',
    'the CGI rule is for HTTP_PROXY only',
  );
  const socks = proxyFromEnv({ HTTPS_PROXY: 'socks5://me:pw@p.dev:1080' })(true, 'a.dev', 443);
  assert.ok(socks instanceof ProxyConfigError);
  assert.match(socks.message, /HTTPS_PROXY: the embedded engine supports http:\/\/ proxies only, got socks5:/);
  assert.doesNotMatch(socks.message, /pw/);
});

/** An origin the client only reaches through the proxy, plain and TLS. */
let origin: Server;
let tlsOrigin: Server;
/** A forward proxy that asks for `proxyuser:proxy-s3cret` and maps `*.agentload.test` to the origins. */
let proxy: Server;
const seen: { line: string; auth: string | undefined }[] = [];
let proxyConnections = 0;
const AUTH = `Basic ${Buffer.from('proxyuser:proxy-s3cret').toString('base64')}`;

const listen = (s: Server): Promise<number> =>
  new Promise((r) => {
    s.listen(0, '127.0.0.1', () => {
      r((s.address() as AddressInfo).port);
    });
  });
let ports = { origin: 0, tls: 0, proxy: 0 };

before(async () => {
  const tlsCert = selfSignedCert('secure.agentload.test');
  const answer =
    (scheme: string) =>
    (rq: IncomingMessage, rs: ServerResponse): void => {
      rs.end(`${scheme} ${rq.headers.host ?? ''} ${rq.url ?? ''}`);
    };
  origin = createServer(answer('plain'));
  tlsOrigin = createHttpsServer(tlsCert, answer('tls'));
  proxy = createServer((rq, rs) => {
    seen.push({ line: `${rq.method ?? ''} ${rq.url ?? ''}`, auth: rq.headers['proxy-authorization'] });
    if (rq.headers['proxy-authorization'] !== AUTH) {
      rs.writeHead(407, { 'Proxy-Authenticate': 'Basic' }).end();
      return;
    }
    const u = new URL(rq.url ?? '');
    const up = httpRequest(
      { host: '127.0.0.1', port: ports.origin, path: u.pathname + u.search, method: rq.method, headers: { host: rq.headers.host } },
      (ur) => {
        rs.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(rs);
      },
    );
    rq.pipe(up);
  });
  proxy.on('connect', (rq: IncomingMessage, client: Socket) => {
    seen.push({ line: `CONNECT ${rq.url ?? ''}`, auth: rq.headers['proxy-authorization'] });
    if (rq.headers['proxy-authorization'] !== AUTH) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const up = netConnect({ host: '127.0.0.1', port: ports.tls }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  proxy.on('connection', () => {
    proxyConnections++;
  });
  ports = { origin: await listen(origin), tls: await listen(tlsOrigin), proxy: await listen(proxy) };
});

after(() => {
  for (const s of [origin, tlsOrigin, proxy]) {
    s.closeAllConnections();
    s.close();
  }
});

const SCRIPT = `import http from 'k6/http';
export const options = { iterations: 1, insecureSkipTLSVerify: true };
export default async function () {
  const show = (name, r) => console.log(name + ' ' + r.status + ' [' + r.body + '] ' + r.error + ' ' + r.error_code);
  show('plain', await http.get('http://plain.agentload.test:' + __ENV.ORIGIN + '/a?b=1'));
  show('plain2', await http.get('http://other.agentload.test:' + __ENV.ORIGIN + '/z'));
  show('tls', await http.get('https://secure.agentload.test:' + __ENV.TLS + '/b'));
  show('direct', await http.get('http://127.0.0.1:' + __ENV.ORIGIN + '/c'));
}
`;

async function runWithProxy(credentials: string): Promise<{ lines: Map<string, string>; text: string; code: number }> {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
  // The machine's own NO_PROXY (or no_proxy, read when NO_PROXY is empty) must not exempt the test's hosts.
  process.env.NO_PROXY = 'unrelated.invalid';
  process.env.HTTP_PROXY = `http://${credentials}127.0.0.1:${String(ports.proxy)}`;
  // Without credentials HTTPS_PROXY has no scheme: Go reads `host:port` as http://host:port.
  process.env.HTTPS_PROXY =
    credentials === '' ? `127.0.0.1:${String(ports.proxy)}` : `http://${credentials}127.0.0.1:${String(ports.proxy)}`;
  try {
    const run = await runSource(SCRIPT, ['-q', '--no-summary', '-e', `ORIGIN=${String(ports.origin)}`, '-e', `TLS=${String(ports.tls)}`]);
    const lines = new Map([...run.stderr.matchAll(/msg="(\w+) ([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    return { lines, text: run.stdout + run.stderr, code: run.code };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

void test('through a real proxy: http:// as an absolute-form request, https:// through CONNECT, loopback direct; credentials sent, never shown', async () => {
  seen.length = 0;
  proxyConnections = 0;
  const r = await runWithProxy('proxyuser:proxy-s3cret@');
  assert.equal(r.code, 0, r.text);
  assert.equal(r.lines.get('plain'), `200 [plain plain.agentload.test:${String(ports.origin)} /a?b=1]  0`);
  assert.equal(r.lines.get('plain2'), `200 [plain other.agentload.test:${String(ports.origin)} /z]  0`);
  assert.equal(r.lines.get('tls'), `200 [tls secure.agentload.test:${String(ports.tls)} /b]  0`);
  assert.equal(r.lines.get('direct'), `200 [plain 127.0.0.1:${String(ports.origin)} /c]  0`);
  assert.deepEqual(
    seen.map((x) => x.line),
    [
      `GET http://plain.agentload.test:${String(ports.origin)}/a?b=1`,
      `GET http://other.agentload.test:${String(ports.origin)}/z`,
      `CONNECT secure.agentload.test:${String(ports.tls)}`,
    ],
    'the proxy saw the non-loopback requests, and not the loopback one',
  );
  assert.equal(
    proxyConnections,
    2,
    "plain http to two targets shared one proxy connection (Go's connectMethodKey), the tunnel had its own",
  );
  assert.ok(
    seen.every((x) => x.auth === AUTH),
    'Basic credentials from the proxy URL',
  );
  assert.doesNotMatch(r.text, /proxy-s3cret/);
});

void test('a proxy that refuses: plain http gets its 407 response, a refused CONNECT is a request error', async () => {
  seen.length = 0;
  const r = await runWithProxy('');
  assert.equal(r.code, 0, r.text);
  assert.equal(r.lines.get('plain'), '407 []  1407');
  assert.equal(r.lines.get('tls'), '0 [null] proxy CONNECT: 407 Proxy Authentication Required 1000');
  assert.equal(r.lines.get('direct')?.startsWith('200 '), true);
  assert.ok(seen.every((x) => x.auth === undefined));
});
