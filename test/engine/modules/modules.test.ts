/** k6 module semantics: encodings and hashes against known vectors, and behaviour inside a real run. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCryptoModule } from '../../../engine/modules/crypto.ts';
import { b64decode, b64encode } from '../../../engine/modules/encoding.ts';
import { errorCodeOf } from '../../../engine/modules/http.ts';
import { runScript, tempDir } from '../conformance/run-helpers.ts';

void test('k6/encoding: std, rawstd, url, rawurl', () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0xfe]).buffer;
  assert.equal(b64encode('hello?'), 'aGVsbG8/');
  assert.equal(b64encode('hi', 'rawstd'), 'aGk');
  assert.equal(b64encode(bytes, 'url'), '-__-');
  assert.equal(b64encode('hi', 'url'), 'aGk=');
  assert.equal(b64encode('hi', 'rawurl'), 'aGk');
  assert.equal(b64decode('aGVsbG8/', 'std', 's'), 'hello?');
  assert.ok(b64decode('aGk', 'rawstd') instanceof ArrayBuffer);
  assert.throws(() => b64encode('x', 'nope'), /unsupported base64 variant "nope"/);
});

void test('k6/crypto: known digests and HMAC (RFC 4231 case 2)', () => {
  const c = createCryptoModule() as Record<string, (...a: unknown[]) => unknown>;
  assert.equal(c.md5?.('abc', 'hex'), '900150983cd24fb0d6963f7d28e17f72');
  assert.equal(c.sha256?.('abc', 'hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(
    c.hmac?.('sha256', 'Jefe', 'what do ya want for nothing?', 'hex'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
  assert.equal((c.randomBytes?.(16) as ArrayBuffer).byteLength, 16);
  assert.throws(() => c.sha256?.('abc', 'base32'), /unsupported output encoding "base32"/);
});

void test('k6/http error codes for network failures', () => {
  assert.equal(errorCodeOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1 })).code, 1212);
  assert.equal(errorCodeOf(Object.assign(new Error('x'), { code: 'request-timeout' })).code, 1050);
  assert.equal(errorCodeOf(Object.assign(new Error('x'), { code: 'ENOTFOUND' })).code, 1101);
  assert.equal(errorCodeOf(new Error('odd')).code, 1000);
});

void test('in a run: SharedArray + open() shared and frozen, pending timers keep iterations open, async group rejected', async () => {
  const dir = tempDir();
  const run = await runScript('modules.js', ['-q', '--no-summary', '--summary-export', join(dir, 's.json')], {});
  assert.equal(run.code, 0, run.stderr);
  const m = (
    JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as {
      metrics: Record<string, { count?: number; passes?: number; fails?: number }>;
    }
  ).metrics;
  const checks = m.checks ?? {};
  assert.equal(checks.passes, 2);
  assert.equal(checks.fails, 0);
  assert.equal(m.timer_fired?.count, 2, "each VU's timer fired before its iteration ended");
  assert.match(run.stderr, /group\(\\"async group\\"\): async functions are not supported \(k6 rejects them too\)/);
});

void test('a forgotten await in a one-iteration run is still reported once (at the end of the run)', async () => {
  const run = await runScript('forgot-await-once.js', ['-q', '--no-summary'], {});
  assert.equal(run.code, 0, run.stderr);
  assert.equal((run.stderr.match(/add await: `await sleep\(0\.01\)`/g) ?? []).length, 1, run.stderr);
});
