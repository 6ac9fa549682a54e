/**
 * k6/http cookies (engine/modules/http/cookies.ts, cookie-syntax.ts, cookie-args.ts) against k6's behaviour: Go's cookie jar and
 * Set-Cookie parsing as k6 uses them, params.cookies, Response.cookies, and one run over a real server.
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  VuCookieJar,
  cookieHeaderFor,
  jarForIteration,
  jarForRequest,
  requestCookies,
  responseCookies,
  storeResponseCookies,
} from '../../engine/modules/http/cookies.ts';
import { K6_NO_EXPIRES, parseGoCookieDate } from '../../engine/modules/http/cookie-syntax.ts';

const code = (c: string) => (e: unknown) => typeof e === 'object' && e !== null && (e as { code?: unknown }).code === c;
const url = (s: string) => new URL(s);
const httpDate = (ms: number) => new Date(ms).toUTCString();

void describe('Cookie header', () => {
  void test('an empty jar and no params.cookies: the user header is returned unchanged (fast path)', () => {
    const jar = new VuCookieJar();
    assert.equal(cookieHeaderFor(jar, url('http://h.test/'), undefined, undefined), undefined);
    assert.equal(cookieHeaderFor(jar, url('http://h.test/'), undefined, 'mine=1'), 'mine=1');
    assert.equal(cookieHeaderFor(undefined, url('http://h.test/'), null, undefined), undefined);
  });

  void test('order: user header, then params.cookies, then the jar (longest path first, then oldest)', () => {
    const jar = new VuCookieJar();
    const u = url('http://h.test/a/b');
    storeResponseCookies(jar, u, ['root=1; Path=/', 'deep=2; Path=/a/b', 'mid=3; Path=/a']);
    storeResponseCookies(jar, u, ['root2=4; Path=/']);
    assert.equal(cookieHeaderFor(jar, u, { p: 'x', q: 7 }, 'user=0'), 'user=0; p=x; q=7; deep=2; mid=3; root=1; root2=4');
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'deep=2; mid=3; root=1; root2=4');
    assert.equal(
      cookieHeaderFor(jar, u, undefined, ''),
      'deep=2; mid=3; root=1; root2=4',
      'an empty user header counts as none (Go Header.Get)',
    );
  });

  void test('params.cookies without replace keeps the jar cookie of the same name; replace: true drops it', () => {
    const jar = new VuCookieJar();
    const u = url('http://h.test/');
    storeResponseCookies(jar, u, ['sid=jar', 'other=o']);
    assert.equal(cookieHeaderFor(jar, u, { sid: 'mine' }, undefined), 'sid=mine; sid=jar; other=o');
    assert.equal(cookieHeaderFor(jar, u, { sid: { value: 'mine' } }, undefined), 'sid=mine; sid=jar; other=o');
    assert.equal(cookieHeaderFor(jar, u, { sid: { value: 'mine', replace: true } }, undefined), 'sid=mine; other=o');
    assert.equal(cookieHeaderFor(jar, u, { sid: { value: 'mine', replace: false } }, undefined), 'sid=mine; sid=jar; other=o');
    assert.equal(
      cookieHeaderFor(jar, u, { gone: null, skip: undefined }, undefined),
      'sid=jar; other=o',
      'null/undefined entries are skipped',
    );
    assert.deepEqual(jar.cookiesForURL('http://h.test/'), { sid: ['jar'], other: ['o'] }, 'params.cookies never enter the jar');
  });

  void test('params.cookies work without a jar too', () => {
    assert.equal(cookieHeaderFor(undefined, url('http://h.test/'), { a: '1' }, undefined), 'a=1');
    assert.equal(cookieHeaderFor(undefined, url('http://h.test/'), {}, 'u=1'), 'u=1');
    assert.equal(cookieHeaderFor(undefined, url('http://h.test/'), {}, undefined), undefined);
  });

  void test('values are sanitised like Go: invalid bytes dropped, a space or comma quotes the value', () => {
    const u = url('http://h.test/');
    assert.equal(
      cookieHeaderFor(undefined, u, { a: 'hello world', b: 'x,y', c: 'q"u;o\\te', d: 'ünï', e: 'plain' }, undefined),
      'a="hello world"; b="x,y"; c=quote; d=n; e=plain',
    );
    assert.equal(cookieHeaderFor(undefined, u, { 'bad\r\nname': 'v' }, undefined), 'bad--name=v');
  });

  void test('params.cookies that are not an object, or an entry with an unknown key, are usage errors', () => {
    const u = url('http://h.test/');
    assert.throws(
      () => cookieHeaderFor(undefined, u, 'session=s3cret', undefined),
      (e: unknown) => code('invalid-cookies')(e) && !String(e).includes('s3cret'),
      'the message does not echo what may be a session token',
    );
    assert.throws(() => cookieHeaderFor(undefined, u, [['a', '1']], undefined), code('invalid-cookies'));
    assert.throws(() => cookieHeaderFor(undefined, u, { a: { value: '1', replce: true } }, undefined), /unknown key "replce"/);
    assert.throws(() => cookieHeaderFor(undefined, u, { a: { value: {} } }, undefined), code('invalid-cookies'));
  });
});

void describe('the jar: matching and storage (Go cookiejar rules)', () => {
  void test('a cookie is not sent to another host, another path, or a non-http scheme', () => {
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://a.test/app/page'), ['host=1', 'root=2; Path=/', 'admin=3; Path=/admin']);
    assert.deepEqual(jar.cookiesForURL('http://a.test/app/x'), { host: ['1'], root: ['2'] });
    assert.deepEqual(jar.cookiesForURL('http://a.test/other'), { root: ['2'] }, 'host=1 has the default path /app');
    assert.deepEqual(jar.cookiesForURL('http://a.test/admin/users'), { root: ['2'], admin: ['3'] });
    assert.deepEqual(jar.cookiesForURL('http://a.test/administrator'), { root: ['2'] }, '/admin does not path-match /administrator');
    assert.deepEqual(jar.cookiesForURL('http://b.test/app/x'), {});
    assert.deepEqual(jar.cookiesForURL('http://sub.a.test/app/x'), {}, 'host-only cookies skip subdomains');
    assert.deepEqual(jar.cookiesForURL('ftp://a.test/app/x'), {});
    assert.equal(cookieHeaderFor(jar, url('http://b.test/'), undefined, undefined), undefined);
    storeResponseCookies(jar, url('ws://a.test/'), ['ws=1; Path=/']);
    assert.deepEqual(jar.cookiesForURL('http://a.test/'), { root: ['2'] }, 'a ws:// response stores nothing (Go jar: http/https only)');
  });

  void test('Domain= shares a cookie with subdomains; a foreign or malformed Domain is ignored', () => {
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://www.shop.test/'), [
      'wide=1; Domain=shop.test',
      'dot=2; Domain=.SHOP.test',
      'foreign=3; Domain=evil.test',
      'sibling=4; Domain=api.shop.test',
      'bad=5; Domain=..shop.test',
    ]);
    assert.deepEqual(jar.cookiesForURL('http://api.shop.test/'), { wide: ['1'], dot: ['2'] });
    assert.deepEqual(jar.cookiesForURL('http://shop.test/'), { wide: ['1'], dot: ['2'] });
    assert.deepEqual(jar.cookiesForURL('http://evil.test/'), {});
    assert.deepEqual(jar.cookiesForURL('http://www.shop.test/'), { wide: ['1'], dot: ['2'] });
  });

  void test('IP hosts: cookies stay on that address; Domain must be the address itself', () => {
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://127.0.0.1:9000/'), ['a=1', 'b=2; Domain=127.0.0.1', 'c=3; Domain=127.0.0.2']);
    assert.deepEqual(jar.cookiesForURL('http://127.0.0.1:1234/'), { a: ['1'], b: ['2'] }, 'ports do not separate cookies');
    assert.deepEqual(jar.cookiesForURL('http://127.0.0.2/'), {});
    assert.deepEqual(jar.cookiesForURL('http://localhost:9000/'), {});
    storeResponseCookies(jar, url('http://[::1]:9000/x'), ['six=6; Path=/']);
    assert.deepEqual(jar.cookiesForURL('http://[::1]/'), { six: ['6'] });
  });

  void test('Secure cookies go to https only (also on localhost); HttpOnly cookies are sent', () => {
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://localhost/'), ['s=1; Secure', 'h=2; HttpOnly']);
    assert.deepEqual(jar.cookiesForURL('http://localhost/'), { h: ['2'] });
    assert.deepEqual(jar.cookiesForURL('https://localhost/'), { s: ['1'], h: ['2'] });
  });

  void test('a new Set-Cookie replaces the cookie with the same name, domain and path; the same name on another path is kept', () => {
    const jar = new VuCookieJar();
    const u = url('http://h.test/a/b');
    storeResponseCookies(jar, u, ['n=1; Path=/', 'n=2; Path=/a']);
    assert.deepEqual(jar.cookiesForURL(u.href), { n: ['2', '1'] });
    storeResponseCookies(jar, u, ['n=3; Path=/']);
    assert.deepEqual(jar.cookiesForURL(u.href), { n: ['2', '3'] });
  });

  void test('a replaced cookie keeps its place (creation order); each change shows in the next Cookie header', () => {
    const jar = new VuCookieJar();
    const u = url('http://h.test/a?q=1');
    storeResponseCookies(jar, u, ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'a=1; b=2');
    storeResponseCookies(jar, u, ['a=3; Path=/']);
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'a=3; b=2', 'new value, same place');
    storeResponseCookies(jar, u, ['a=3; Path=/; Secure']);
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'b=2', 'now Secure: not sent over http');
    storeResponseCookies(jar, u, ['c=4; Path=/a']);
    assert.equal(cookieHeaderFor(jar, url('http://h.test/a?q=2'), undefined, undefined), 'c=4; b=2', 'another query string, same path');
    assert.equal(cookieHeaderFor(jar, url('http://h.test/b?q=1'), undefined, undefined), 'b=2', 'another path');
    jar.delete('http://h.test/', 'b');
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'c=4');
    storeResponseCookies(jar, u, ['c=5; Path=/a; Max-Age=3600']);
    storeResponseCookies(jar, u, ['c=5; Path=/a; Max-Age=1']);
    storeResponseCookies(jar, u, [`c=5; Path=/a; Expires=${httpDate(Date.now() - 1000)}`]);
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), undefined, 'expired by the server');
  });

  void test('Max-Age<=0 and a past Expires delete the stored cookie; a future Expires keeps it; invalid cookies are ignored', () => {
    const jar = new VuCookieJar();
    const u = url('http://h.test/');
    storeResponseCookies(jar, u, ['a=1', 'b=2', 'c=3', 'd=4', 'e=5']);
    storeResponseCookies(jar, u, [
      'a=x; Max-Age=0',
      'b=x; Max-Age=-5',
      `c=x; Expires=${httpDate(Date.now() - 60_000)}`,
      `d=4b; Expires=${httpDate(Date.now() + 3_600_000)}`,
      'noequals',
      'sp ace=1',
      'q=a"b',
    ]);
    assert.deepEqual(jar.cookiesForURL(u.href), { d: ['4b'], e: ['5'] });
    storeResponseCookies(jar, u, ['e=6; Max-Age=0; Expires=' + httpDate(Date.now() + 3_600_000)]);
    assert.deepEqual(jar.cookiesForURL(u.href), { d: ['4b'] }, 'Max-Age wins over Expires');
  });

  void test('a cookie expires on time (Max-Age counts from when it was stored, not from the last use; a shorter new Max-Age wins)', async () => {
    const jar = new VuCookieJar();
    const u = url('http://h.test/');
    storeResponseCookies(jar, u, ['short=1; Max-Age=3600', 'long=2; Max-Age=3600']);
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'short=1; long=2');
    storeResponseCookies(jar, u, ['short=1; Max-Age=1']);
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'short=1; long=2');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'short=1; long=2');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(cookieHeaderFor(jar, u, undefined, undefined), 'long=2', 'short=1 is gone 1.2 s after it was stored');
  });
});

void describe('CookieJar methods (what scripts call)', () => {
  void test('scripts see only cookiesForURL, set, clear and delete; JSON is {} (as k6 returns a jar from setup())', () => {
    assert.deepEqual(Object.getOwnPropertyNames(VuCookieJar.prototype).sort(), ['clear', 'constructor', 'cookiesForURL', 'delete', 'set']);
    const jar = new VuCookieJar();
    jar.set('http://h.test/', 'a', '1');
    assert.deepEqual(Object.keys(jar), []);
    assert.equal(JSON.stringify(jar), '{}');
  });

  void test('set: defaults to a host cookie on the URL directory; returns true (also when the jar ignores the cookie)', () => {
    const jar = new VuCookieJar();
    assert.equal(jar.set('https://h.test/cookies/x', 'my_cookie', 'hello world'), true);
    assert.deepEqual(jar.cookiesForURL('https://h.test/cookies/y'), { my_cookie: ['hello world'] });
    assert.deepEqual(jar.cookiesForURL('https://h.test/'), {}, 'default path /cookies');
    assert.equal(cookieHeaderFor(jar, url('https://h.test/cookies/'), undefined, undefined), 'my_cookie="hello world"');
    assert.equal(jar.set('https://h.test/', 'x', '1', { domain: 'other.test' }), true);
    assert.deepEqual(jar.cookiesForURL('https://other.test/'), {});
    assert.equal(jar.set('http://h.test/', 'n', 5), true);
    assert.deepEqual(jar.cookiesForURL('http://h.test/'), { n: ['5'] });
  });

  void test('set options: domain, path, secure, http_only, max_age (negative deletes), expires (RFC 1123)', () => {
    const jar = new VuCookieJar();
    jar.set('https://www.h.test/a', 'c', 'v', { domain: 'h.test', path: '/', secure: true, http_only: true, max_age: 600 });
    assert.deepEqual(jar.cookiesForURL('https://api.h.test/z'), { c: ['v'] });
    assert.deepEqual(jar.cookiesForURL('http://api.h.test/z'), {}, 'secure');
    jar.set('https://www.h.test/a', 'c', '', { domain: 'h.test', path: '/', max_age: -1 });
    assert.deepEqual(jar.cookiesForURL('https://api.h.test/z'), {}, 'max_age -1 deleted it');
    jar.set('http://h.test/', 'e', '1', { path: '/', expires: httpDate(Date.now() + 3_600_000) });
    jar.set('http://h.test/', 'old', '1', { path: '/', expires: 'Mon, 02 Jan 2006 15:04:05 GMT' });
    jar.set('http://h.test/', 'z', '1', { PATH: '/', Max_Age: 0, expires: '' });
    assert.deepEqual(jar.cookiesForURL('http://h.test/'), { e: ['1'], z: ['1'] });
  });

  void test('set rejects a bad url, name, value, option or expires date with a usage error', () => {
    const jar = new VuCookieJar();
    assert.throws(() => jar.set('h.test/path', 'a', '1'), code('invalid-cookie-url'));
    assert.throws(() => jar.set(42, 'a', '1'), code('invalid-cookie-url'));
    assert.throws(() => jar.set('http://h.test/', '', '1'), code('invalid-cookie-name'));
    assert.throws(() => jar.set('http://h.test/', 'a', undefined), code('invalid-cookie-value'));
    assert.throws(
      () => jar.set('http://h.test/', 'a', '1', { httpOnly: true }),
      (e: unknown) => code('invalid-cookie-options')(e) && /unknown option "httpOnly"/.test(String(e)),
    );
    assert.throws(() => jar.set('http://h.test/', 'a', '1', { expires: '2030-01-01' }), code('invalid-cookie-options'));
    assert.throws(
      () => jar.set('http://h.test/', 'a', '1', { expires: 'Mon, 02-Jan-2006 15:04:05 GMT' }),
      code('invalid-cookie-options'),
      'RFC 1123 only',
    );
    assert.throws(() => jar.set('http://h.test/', 'a', '1', 'path=/'), code('invalid-cookie-options'));
    assert.throws(() => jar.set('http://h.test/', 'a', '1', { domain: ['h.test'] }), code('invalid-cookie-options'));
    assert.deepEqual(jar.cookiesForURL('http://h.test/'), {}, 'nothing was stored by the failed calls');
  });

  void test('cookiesForURL lists every value of a name; a bad url is a usage error', () => {
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://h.test/a/b'), ['n=deep; Path=/a', 'n=root; Path=/', 'm=1; Path=/']);
    assert.deepEqual(jar.cookiesForURL('http://h.test/a/b'), { n: ['deep', 'root'], m: ['1'] });
    assert.throws(() => jar.cookiesForURL('http://[::1'), code('invalid-cookie-url'));
    assert.throws(() => jar.cookiesForURL(undefined), code('invalid-cookie-url'));
  });

  void test('delete(url, name) removes the cookie stored under the URL host and directory (k6 rule), nothing else', () => {
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://h.test/cookies'), ['one=1', 'two=2']);
    storeResponseCookies(jar, url('http://h.test/a/b'), ['three=3']);
    jar.delete('http://h.test/cookies', 'one');
    assert.deepEqual(jar.cookiesForURL('http://h.test/a/b'), { three: ['3'], two: ['2'] });
    jar.delete('http://h.test/a/b/c', 'two');
    assert.deepEqual(jar.cookiesForURL('http://h.test/a/b'), { three: ['3'], two: ['2'] }, 'two lives at path /, not /a/b');
    jar.delete('http://other.test/', 'two');
    assert.deepEqual(jar.cookiesForURL('http://h.test/'), { two: ['2'] }, 'another host deletes nothing');
    jar.delete('http://h.test/a/x', 'three');
    assert.deepEqual(jar.cookiesForURL('http://h.test/a/b'), { two: ['2'] });
    assert.throws(() => jar.delete('http://h.test/', ''), code('invalid-cookie-name'));
  });

  void test('clear(url) removes the URL cookies stored under its host and directory; an emptied jar takes the fast path again', () => {
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://h.test/cookies/set'), ['one=1; Path=/', 'two=2; Path=/', 'deep=3; Path=/x']);
    storeResponseCookies(jar, url('http://other.test/'), ['keep=1']);
    jar.clear('http://h.test/x/y');
    assert.deepEqual(
      jar.cookiesForURL('http://h.test/x/y'),
      { one: ['1'], two: ['2'] },
      'directory /x: deep (Path=/x) removed, the Path=/ cookies stay',
    );
    jar.clear('http://h.test/cookies/set');
    assert.deepEqual(jar.cookiesForURL('http://h.test/x/y'), { one: ['1'], two: ['2'] }, 'directory /cookies: nothing stored there');
    jar.clear('http://h.test/');
    assert.deepEqual(jar.cookiesForURL('http://h.test/x/y'), {});
    assert.deepEqual(jar.cookiesForURL('http://other.test/'), { keep: ['1'] });
    jar.clear('http://other.test/');
    assert.equal(cookieHeaderFor(jar, url('http://other.test/'), undefined, 'u=1'), 'u=1');
  });

  void test('jarForIteration: every iteration starts with an empty VU jar unless noCookiesReset', () => {
    const first = jarForIteration(undefined, undefined);
    first.set('http://h.test/', 'a', '1');
    const second = jarForIteration(first, false);
    assert.notEqual(second, first);
    assert.deepEqual(second.cookiesForURL('http://h.test/'), {});
    assert.equal(jarForIteration(first, true), first);
    assert.deepEqual(jarForIteration(first, true).cookiesForURL('http://h.test/'), { a: ['1'] });
    assert.notEqual(jarForIteration(undefined, true), undefined);
  });

  void test('jarForRequest: params.jar selects a jar; anything else is a usage error', () => {
    const vu = new VuCookieJar();
    const local = new VuCookieJar();
    assert.equal(jarForRequest(undefined, vu), vu);
    assert.equal(jarForRequest(null, vu), vu);
    assert.equal(jarForRequest(local, vu), local);
    assert.throws(
      () =>
        jarForRequest(
          {
            cookiesForURL() {
              return {};
            },
          },
          vu,
        ),
      code('invalid-cookie-jar'),
    );
  });
});

void describe('Response.cookies and Response.request.cookies', () => {
  void test('fields as k6 reports them: raw domain and path, Go max_age, expires in ms', () => {
    const cookies = responseCookies(url('http://h.test/'), [
      'a=1; Domain=.Example.com; Path=/p; Max-Age=0; HttpOnly; Secure; Expires=Wed, 21 Oct 2015 07:28:00 GMT',
      'a=2; Max-Age=60; Expires=Wed, 21-Oct-2015 07:28:00 GMT',
      'b="quoted"; max-age=007; expires=not a date',
      'c=3; Max-Age=-1; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'no equals sign',
      'bad name=1',
      'v=a"b',
    ]);
    assert.deepEqual(cookies, {
      a: [
        { name: 'a', value: '1', domain: '.Example.com', path: '/p', http_only: true, secure: true, max_age: -1, expires: 1445412480000 },
        { name: 'a', value: '2', domain: '', path: '', http_only: false, secure: false, max_age: 60, expires: 1445412480000 },
      ],
      b: [{ name: 'b', value: 'quoted', domain: '', path: '', http_only: false, secure: false, max_age: 0, expires: K6_NO_EXPIRES }],
      c: [{ name: 'c', value: '3', domain: '', path: '', http_only: false, secure: false, max_age: -1, expires: 0 }],
    });
    assert.deepEqual(responseCookies(url('http://h.test/'), []), {});
  });

  void test('expires beyond 2262 wraps like Go UnixNano()/1e6, as k6 shows it', () => {
    const [c] = responseCookies(url('http://h.test/'), ['far=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT']).far ?? [];
    // Go: (253402300799 s * 1e9) overflows int64; k6 reports the wrapped value / 1e6.
    assert.equal(c?.expires, Number(BigInt.asIntN(64, 253402300799n * 1_000_000_000n) / 1_000_000n));
  });

  void test('a cookie named __proto__ is an own property, not a prototype change', () => {
    const cookies = responseCookies(url('http://h.test/'), ['__proto__=x']);
    assert.equal(Object.getPrototypeOf(cookies), Object.prototype);
    const own = Object.getOwnPropertyDescriptor(cookies, '__proto__')?.value as { value: string }[] | undefined;
    assert.equal(own?.[0]?.value, 'x');
    const jar = new VuCookieJar();
    storeResponseCookies(jar, url('http://h.test/'), ['__proto__=y']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(jar.cookiesForURL('http://h.test/'), '__proto__')?.value, ['y']);
  });

  void test('dates: Go RFC 1123 and the dashed Set-Cookie form; anything else has no expiry', () => {
    assert.equal(parseGoCookieDate('Sun, 06 Nov 1994 08:49:37 GMT'), 784111777);
    assert.equal(parseGoCookieDate('sun, 06-nov-1994 08:49:37 UTC'), 784111777);
    assert.equal(parseGoCookieDate('Sun, 06 Nov 1994 08:49:37 GMT+1'), 784111777 - 3600);
    assert.equal(parseGoCookieDate('Sun, 06-Nov-1994 08:49:37 GMT', false), undefined);
    assert.equal(parseGoCookieDate('Sun, 6 Nov 1994 08:49:37 GMT'), undefined);
    assert.equal(parseGoCookieDate('Sun, 31 Feb 1994 08:49:37 GMT'), undefined);
    assert.equal(parseGoCookieDate('Sunday, 06-Nov-94 08:49:37 GMT'), undefined);
    assert.equal(parseGoCookieDate('Sun, 06 Nov 1994 24:00:00 GMT'), undefined);
  });

  void test('dates: any toUTCString() date from 1970 to 9999 parses to its second (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799 }), (sec) => {
        assert.equal(parseGoCookieDate(new Date(sec * 1000).toUTCString()), sec);
        assert.equal(parseGoCookieDate(new Date(sec * 1000).toUTCString().replace(/ (\w{3}) (\d{4}) /, '-$1-$2 ')), sec);
      }),
      { numRuns: 500 },
    );
  });

  void test('request.cookies parses the Cookie header that was sent', () => {
    assert.deepEqual(requestCookies('a=1; b="x y"; a=2; bad name=3'), {
      a: [
        { name: 'a', value: '1', replace: false },
        { name: 'a', value: '2', replace: false },
      ],
      b: [{ name: 'b', value: 'x y', replace: false }],
    });
    assert.deepEqual(requestCookies(undefined), {});
  });
});

// ---------------------------------------------------------------------------------------------------
// End to end: a real server, requests sent the way the http module sends them (redirects followed here).

interface Sent {
  status: number;
  cookieSeen: string;
  setCookie: string[];
  finalUrl: URL;
  hops: number;
}

/** One k6-style request: Cookie header per hop (user header on the first hop only), Set-Cookie stored per hop. */
async function send(
  jar: VuCookieJar | undefined,
  target: string,
  params: { cookies?: unknown; cookieHeader?: string } = {},
): Promise<Sent> {
  let u = new URL(target);
  for (let hop = 0; ; hop++) {
    const cookie = cookieHeaderFor(jar, u, params.cookies, hop === 0 ? params.cookieHeader : undefined);
    const res = await new Promise<IncomingMessage & { text: string }>((resolve, reject) => {
      const req = request(u, { headers: cookie === undefined ? {} : { cookie } }, (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (text += d));
        r.on('end', () => resolve(Object.assign(r, { text })));
      });
      req.on('error', reject);
      req.end();
    });
    const setCookie = res.headers['set-cookie'] ?? [];
    storeResponseCookies(jar, u, setCookie);
    const location = res.headers.location;
    if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location !== undefined && hop < 10) {
      u = new URL(location, u);
      continue;
    }
    return { status: res.statusCode ?? 0, cookieSeen: res.text, setCookie, finalUrl: u, hops: hop };
  }
}

void describe('end to end over a local server', () => {
  let server: Server;
  let base = '';
  let local = '';
  before(async () => {
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const cookies: string[] = [];
      if (path === '/login') {
        res.writeHead(302, { location: '/home', 'set-cookie': ['session=abc; Path=/; HttpOnly', 'admin_only=1; Path=/admin'] });
        res.end();
        return;
      }
      if (path === '/home') cookies.push('visited=yes; Path=/');
      if (path === '/logout') cookies.push('session=; Max-Age=0; Path=/', `visited=; Path=/; Expires=${httpDate(0)}`);
      if (path === '/bounce') {
        res.writeHead(302, { location: `${local}/echo` });
        res.end();
        return;
      }
      res.writeHead(200, cookies.length > 0 ? { 'set-cookie': cookies } : {});
      res.end(req.headers.cookie ?? '');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    local = `http://localhost:${port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  void test('login redirect stores cookies from each hop; later requests send them; logout expires them', async () => {
    const jar = new VuCookieJar();
    const login = await send(jar, `${base}/login`);
    assert.equal(login.hops, 1);
    assert.equal(login.cookieSeen, 'session=abc', 'the redirect hop cookie is sent to /home; admin_only (Path=/admin) is not');
    assert.deepEqual(
      responseCookies(login.finalUrl, login.setCookie),
      {
        visited: [
          { name: 'visited', value: 'yes', domain: '', path: '/', http_only: false, secure: false, max_age: 0, expires: K6_NO_EXPIRES },
        ],
      },
      'Response.cookies has the final response only',
    );
    assert.equal((await send(jar, `${base}/echo`)).cookieSeen, 'session=abc; visited=yes');
    assert.equal((await send(jar, `${base}/admin/panel`)).cookieSeen, 'admin_only=1; session=abc; visited=yes');
    assert.equal(
      (await send(jar, `${base}/echo`, { cookies: { session: { value: 'forged', replace: true } }, cookieHeader: 'mine=1' })).cookieSeen,
      'mine=1; session=forged; visited=yes',
    );
    assert.equal((await send(jar, `${local}/echo`)).cookieSeen, '', 'cookies of 127.0.0.1 are not sent to localhost');
    await send(jar, `${base}/logout`);
    assert.equal((await send(jar, `${base}/admin/x`)).cookieSeen, 'admin_only=1');
    assert.deepEqual(jar.cookiesForURL(`${base}/`), {});
  });

  void test('a redirect to another host gets no cookies of the first host and no user Cookie header', async () => {
    const jar = new VuCookieJar();
    await send(jar, `${base}/login`);
    const r = await send(jar, `${base}/bounce`, { cookieHeader: 'mine=1', cookies: { p: '1' } });
    assert.equal(r.finalUrl.hostname, 'localhost');
    assert.equal(r.cookieSeen, 'p=1', 'params.cookies follow the redirect (k6), jar cookies of 127.0.0.1 and the user header do not');
  });

  void test('a local jar (params.jar) is separate from the VU jar; jar.set cookies reach the server', async () => {
    const vu = new VuCookieJar();
    const mine = new VuCookieJar();
    mine.set(`${base}/`, 'token', 'hello world');
    assert.equal((await send(jarForRequest(mine, vu), `${base}/echo`)).cookieSeen, 'token="hello world"');
    await send(jarForRequest(mine, vu), `${base}/login`);
    assert.deepEqual(vu.cookiesForURL(`${base}/`), {}, 'the VU jar stayed empty');
    assert.equal((await send(jarForRequest(undefined, vu), `${base}/echo`)).cookieSeen, '');
    mine.delete(`${base}/`, 'token');
    assert.equal((await send(mine, `${base}/echo`)).cookieSeen, 'session=abc; visited=yes');
  });
});
