/**
 * The reference platform answers bad input in its own `{error, code}` shape and never echoes a long URL;
 * deeply nested JSON is a 400, not a 500; bodies must be JSON (a text/plain or form POST, which a browser
 * sends cross-site without a CORS preflight, creates nothing); /admin/* answers only requests addressed to a
 * loopback name (a DNS-rebinding page reaches 127.0.0.1 with its own name in Host).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import type { RunningTarget } from '../../target/index.ts';
import { at, req, start } from './helpers.ts';

let t: RunningTarget;

before(async () => {
  t = await start();
});
after(async () => {
  await t.close();
});

async function agentCount(): Promise<number> {
  return Number(at((await req(t.url, 'GET', '/api/agents?limit=1000')).body, 'total'));
}

/** A raw request with any Host header (fetch does not let a caller set Host). */
function withHost(path: string, host: string, method = 'GET'): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: t.port, path, method, headers: { host } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
      });
    });
    r.on('error', reject);
    r.end();
  });
}

void test('malformed and over-long URLs: the platform shape, the URL not echoed back', async () => {
  const bad = await req(t.url, 'GET', '/api/agents/%zz/status');
  assert.deepEqual([bad.status, at(bad.body, 'code')], [400, 'BAD_URL']);
  assert.deepEqual(Object.keys(bad.body as object).sort(), ['code', 'error']);
  const long = 'a'.repeat(5000);
  const tooLong = await req(t.url, 'GET', `/api/agents/${long}/status`);
  assert.deepEqual([tooLong.status, at(tooLong.body, 'code')], [414, 'URI_TOO_LONG']);
  assert.deepEqual(Object.keys(tooLong.body as object).sort(), ['code', 'error']);
  assert.ok(!JSON.stringify(tooLong.body).includes('aaaaaaaaaa'), 'the URL is not echoed');
});

void test('JSON nested 5,000 deep is a 400 with a reason; nesting within reason still parses', async () => {
  const deep = await fetch(`${t.url}/api/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '['.repeat(5000) + ']'.repeat(5000),
  });
  assert.equal(deep.status, 400);
  assert.deepEqual(await deep.json(), { error: 'JSON body nests deeper than 64 levels: flatten it', code: 'BODY_TOO_DEEP' });
  const strings = await req(t.url, 'POST', '/api/agents', { count: 1, namePrefix: '[[[[[[[[[['.repeat(10) });
  assert.equal(strings.status, 201, 'brackets inside strings do not count');
});

void test('bodies must be JSON: text/plain and form POSTs create nothing (415)', async () => {
  const before = await agentCount();
  for (const [type, body] of [
    ['text/plain', '{"count":1}'],
    ['application/x-www-form-urlencoded', 'count=1'],
    ['multipart/form-data; boundary=x', '--x--'],
  ] as const) {
    const r = await fetch(`${t.url}/api/agents`, { method: 'POST', headers: { 'content-type': type }, body });
    assert.equal(r.status, 415, type);
    const json = (await r.json()) as { code: string; error: string };
    assert.equal(json.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(json.error, /^send the body as application\/json/);
  }
  assert.equal(await agentCount(), before, 'no agent was created');
  const ok = await req(t.url, 'POST', '/api/agents', { count: 1 });
  assert.equal(ok.status, 201, 'a JSON POST still works');
});

void test('/admin/* answers requests addressed to a loopback name only (DNS rebinding)', async () => {
  for (const host of ['evil.example.com', 'localhost.evil.example', `evil.example.com:${String(t.port)}`]) {
    const r = await withHost('/admin/faults', host);
    assert.deepEqual([r.status, at(r.body, 'code')], [403, 'ADMIN_HOST_NOT_LOOPBACK'], host);
  }
  for (const host of [`127.0.0.1:${String(t.port)}`, `localhost:${String(t.port)}`, 'localhost', `[::1]:${String(t.port)}`]) {
    assert.equal((await withHost('/admin/faults', host)).status, 200, host);
  }
  assert.equal((await withHost('/api/agents', 'evil.example.com')).status, 200, 'the public API is not affected');
});
