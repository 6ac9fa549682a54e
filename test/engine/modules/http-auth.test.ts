/**
 * Credentials in the URL, as k6 handles them: Basic by default (Go's client), k6's digest exchange
 * with `auth: 'digest'` (an unauthenticated request, its 401 expected, then the answer to the
 * challenge), and the `url`/`name` tags with the credentials masked (k6's URL.Clean). The digest
 * maths is checked against the RFC 2617 and RFC 7616 examples, the exchange against http-auth's
 * server-side digest check (an independent implementation).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { digestAuthorization, maskCredentials, parseDigestChallenge } from '../../../engine/modules/http/digest.ts';
import { runSource, tempDir } from '../conformance/run-helpers.ts';

void test('digest responses equal the RFC examples (RFC 2617 MD5; RFC 7616 MD5 and SHA-256)', () => {
  const rfc2617 = digestAuthorization(
    {
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      algorithm: 'MD5',
      qop: 'auth',
    },
    { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life', cnonce: '0a4f113b', nc: 1 },
  );
  assert.match(rfc2617 ?? '', /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(rfc2617 ?? '', /opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001, cnonce="0a4f113b"$/);
  const rfc7616 = (algorithm: string): string | undefined =>
    digestAuthorization(
      {
        realm: 'http-auth@example.org',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
        algorithm,
        qop: 'auth',
      },
      {
        method: 'GET',
        uri: '/dir/index.html',
        username: 'Mufasa',
        password: 'Circle of Life',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
        nc: 1,
      },
    );
  assert.match(rfc7616('MD5') ?? '', /response="8ca523f5e9506fed4657c9700eebdbec"/);
  assert.match(rfc7616('SHA-256') ?? '', /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
  assert.equal(rfc7616('SHA-512-256'), undefined, 'an unknown algorithm is not answered');
});

void test('challenges: quoted commas, qop lists, a Basic challenge before the Digest one; no Digest, no challenge', () => {
  const c = parseDigestChallenge('Basic realm="x", Digest realm="a, b", nonce="n\\"1", qop="auth-int, auth", algorithm=SHA-256, opaque=o');
  assert.deepEqual(c, { realm: 'a, b', nonce: 'n"1', opaque: 'o', algorithm: 'SHA-256', qop: 'auth' });
  assert.equal(parseDigestChallenge('Digest realm="r", nonce="n", qop="auth-int"')?.qop, 'auth-int');
  assert.equal(parseDigestChallenge('Digest realm="r", nonce="n"')?.qop, '');
  assert.equal(parseDigestChallenge('Basic realm="r"'), undefined);
  assert.equal(parseDigestChallenge('Digest realm="r"'), undefined, 'no nonce');
  assert.equal(parseDigestChallenge(undefined), undefined);
});

void test('URL credentials are masked as k6 masks them', () => {
  assert.equal(maskCredentials('http://alice:s3cret@api.dev:8080/x?y=1'), 'http://****:****@api.dev:8080/x?y=1');
  assert.equal(maskCredentials('https://alice@api.dev/'), 'https://****@api.dev/');
  assert.equal(maskCredentials('http://alice:@api.dev/'), 'http://****:****@api.dev/');
  assert.equal(maskCredentials('http://api.dev/path@x'), 'http://api.dev/path@x', 'an @ after the host is not userinfo');
});

interface HttpAuth {
  digest(o: { realm: string }, check: (user: string, cb: (ha1: string) => void) => void): { check(next: RequestListener): RequestListener };
}
const httpAuth = createRequire(import.meta.url)('http-auth') as HttpAuth;

const PASSWORD = 'pa:ss@w0rd';
let basic: Server;
let digest: Server;
let echo: Server;
const ports = { basic: 0, digest: 0, echo: 0 };
/** The Authorization header of every request the digest server got, in order. */
const digestSaw: (string | undefined)[] = [];
const listen = (s: Server): Promise<number> =>
  new Promise((r) => {
    s.listen(0, '127.0.0.1', () => {
      r((s.address() as AddressInfo).port);
    });
  });

before(async () => {
  basic = createServer((rq: IncomingMessage, rs: ServerResponse) => {
    // Redirects: relative (same host, the URL keeps its credentials) and to another domain (localhost).
    if (rq.url === '/hop-same') {
      rs.writeHead(302, { Location: '/basic' }).end();
      return;
    }
    if (rq.url === '/hop-away') {
      rs.writeHead(302, { Location: `http://localhost:${String(ports.echo)}/echo` }).end();
      return;
    }
    const ok = rq.headers.authorization === `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
    rs.writeHead(ok ? 200 : 401).end(ok ? 'basic ok' : `got ${rq.headers.authorization ?? 'none'}`);
  });
  const realm = 'agentload';
  const check = httpAuth.digest({ realm }, (user, cb) => {
    cb(createHash('md5').update(`${user}:${realm}:${PASSWORD}`).digest('hex'));
  });
  const guarded = check.check((rq, rs) => {
    rs.end(`welcome ${(rq as IncomingMessage & { user?: string }).user ?? ''}`);
  });
  digest = createServer((rq, rs) => {
    digestSaw.push(rq.headers.authorization);
    guarded(rq, rs);
  });
  echo = createServer((rq, rs) => {
    rs.end(`auth ${rq.headers.authorization ?? 'none'}`);
  });
  ports.basic = await listen(basic);
  ports.digest = await listen(digest);
  ports.echo = await new Promise((r) => {
    echo.listen(0, 'localhost', () => {
      r((echo.address() as AddressInfo).port);
    });
  });
});
after(() => {
  for (const s of [basic, digest, echo]) {
    s.closeAllConnections();
    s.close();
  }
});

const SCRIPT = `import http from 'k6/http';
export const options = { iterations: 1 };
const pw = encodeURIComponent(__ENV.PW);
export default async function () {
  const show = (name, r) => console.log(name + ' ' + r.status + ' [' + r.body + ']');
  show('basic', await http.get('http://alice:' + pw + '@127.0.0.1:' + __ENV.BASIC + '/basic'));
  show('digest', await http.get('http://alice:' + pw + '@127.0.0.1:' + __ENV.DIGEST + '/digest?q=1', { auth: 'digest' }));
  show('wrong', await http.get('http://alice:nope@127.0.0.1:' + __ENV.DIGEST + '/digest', { auth: 'digest' }));
  show('same', await http.get('http://alice:' + pw + '@127.0.0.1:' + __ENV.BASIC + '/hop-same'));
  show('away', await http.get('http://alice:' + pw + '@127.0.0.1:' + __ENV.BASIC + '/hop-away'));
  show('ownaway', await http.get('http://127.0.0.1:' + __ENV.BASIC + '/hop-away', { headers: { authorization: 'Bearer own-token' } }));
  show('template', await http.get(http.url\`http://alice:\${pw}@127.0.0.1:\${__ENV.BASIC}/basic\`));
  try { (await http.get('http://alice:' + pw + '@127.0.0.1:' + __ENV.BASIC + '/basic')).json(); } catch (e) { console.log('json ' + e.message); }
  try { await http.get('http://alice:' + pw + '@127.0.0.1:' + __ENV.BASIC + '/ntlm', { auth: 'ntlm' }); } catch (e) { console.log('ntlm ' + e.message); }
}
`;

void test("in a run: Basic from the URL, k6's digest exchange against a real digest server, credentials never in outputs", async () => {
  const out = join(tempDir(), 'out.json');
  const run = await runSource(SCRIPT, [
    '-q',
    '--no-summary',
    '--out',
    `json=${out}`,
    '-e',
    `PW=${PASSWORD}`,
    '-e',
    `BASIC=${String(ports.basic)}`,
    '-e',
    `DIGEST=${String(ports.digest)}`,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const said = new Map([...run.stderr.matchAll(/msg="(\w+) ([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  assert.equal(said.get('basic'), '200 [basic ok]');
  assert.equal(said.get('digest'), '200 [welcome alice]');
  assert.equal(said.get('wrong')?.startsWith('401 '), true);
  assert.deepEqual(
    digestSaw.map((a) => (a === undefined ? 'none' : a.split(' ')[0])),
    ['none', 'Digest', 'none', 'Digest'],
    'each digest probe goes out without credentials',
  );
  assert.equal(said.get('same'), '200 [basic ok]', 'a relative redirect keeps the credentials of the URL');
  assert.equal(said.get('away'), '200 [auth none]', 'URL credentials are not sent to another domain');
  assert.equal(said.get('ownaway'), '200 [auth none]', 'nor is an Authorization header of the script');
  assert.equal(said.get('template'), '200 [basic ok]');
  assert.match(said.get('json') ?? '', /cannot parse the response of GET http:\/\/\*\*\*\*:\*\*\*\*@127\.0\.0\.1:\d+\/basic as JSON/);
  assert.match(
    run.stderr,
    /msg="ntlm k6\/http: params\.auth \\"ntlm\\" is not supported by the embedded engine; use \\"basic\\" or \\"digest\\"/,
  );
  const json = readFileSync(out, 'utf8');
  const reqs = json
    .split('\n')
    .filter((l) => l.includes('"metric":"http_reqs","type":"Point"'))
    .map((l) => (JSON.parse(l) as { data: { tags: Record<string, string> } }).data.tags);
  const basicUrl = `http://****:****@127.0.0.1:${String(ports.basic)}`;
  assert.deepEqual(
    reqs.map((t) => [t.url, t.status, t.expected_response]),
    [
      [`${basicUrl}/basic`, '200', 'true'],
      [`http://****:****@127.0.0.1:${String(ports.digest)}/digest?q=1`, '401', 'true'], // the probe: its 401 is expected
      [`http://****:****@127.0.0.1:${String(ports.digest)}/digest?q=1`, '200', 'true'],
      [`http://****:****@127.0.0.1:${String(ports.digest)}/digest`, '401', 'true'],
      [`http://****:****@127.0.0.1:${String(ports.digest)}/digest`, '401', 'false'], // the answer was refused
      [`${basicUrl}/hop-same`, '302', 'true'],
      [`${basicUrl}/basic`, '200', 'true'],
      [`${basicUrl}/hop-away`, '302', 'true'],
      [`http://localhost:${String(ports.echo)}/echo`, '200', 'true'],
      [`http://127.0.0.1:${String(ports.basic)}/hop-away`, '302', 'true'],
      [`http://localhost:${String(ports.echo)}/echo`, '200', 'true'],
      [`${basicUrl}/basic`, '200', 'true'], // http.url
      [`${basicUrl}/basic`, '200', 'true'],
    ],
  );
  assert.equal(reqs[11]?.name, 'http://****:****@127.0.0.1:${}/basic', 'an http.url name keeps its placeholders, credentials masked');
  assert.ok(
    reqs.every((t, i) => i === 11 || t.name === t.url),
    'name is the masked URL too',
  );
  const pwInUrl = encodeURIComponent(PASSWORD);
  for (const text of [json, run.stdout, run.stderr]) {
    assert.ok(!text.includes(PASSWORD) && !text.includes(pwInUrl), 'the password appears nowhere');
  }
});
