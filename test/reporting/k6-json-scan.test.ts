/** The byte scanner of k6 JSON lines on its own: each reader accepts k6's fixed layout and refuses anything else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fractionAt, nameEndAt, nameIsAt, sameTagsAt, scan, tagsEndAt, valueAt, viewOf } from '../../src/reporting/k6-json-scan.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

void test('valueAt reads a JSON number before "," exactly as Number() does, in plain and exponent forms', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      const text = JSON.stringify(x);
      const buf = b(`${text},"tags":null}}\n`);
      assert.equal(valueAt(buf, 0), Number(text));
      assert.equal(scan.end, text.length);
    }),
  );
  assert.equal(valueAt(b('12.5,'), 0), 12.5);
  assert.ok(Number.isNaN(valueAt(b(',"tags"'), 0)), 'no digits: not a number (Number("") would be 0)');
  assert.ok(Number.isNaN(valueAt(b('"1",'), 0)), 'a string is not a number');
});

void test('fractionAt sums the fraction digits and stops at the zone', () => {
  assert.equal(fractionAt(b('.25Z"'), 0), 0.25);
  assert.equal(scan.end, 3);
  assert.equal(fractionAt(b('Z"'), 0), 0);
  assert.equal(scan.end, 0);
  assert.ok(Number.isNaN(fractionAt(b(`.${'1'.repeat(30)}Z`), 0)), 'more digits than the scale table');
});

void test('nameEndAt finds the closing quote and refuses escapes; nameIsAt compares a known name', () => {
  assert.equal(nameEndAt(b('http_reqs","type"'), 0), 9);
  const h = scan.hash;
  assert.equal(nameEndAt(b('http_reqs","other"'), 0), 9);
  assert.equal(scan.hash, h, 'the hash covers the name only');
  assert.equal(nameEndAt(b('a\\"b","type"'), 0), -1);
  assert.equal(nameEndAt(b('abc\n'), 0), -1);
  const line = b('vus","type"\n');
  assert.equal(nameIsAt(line, 0, line.length - 1, b('vus')), true);
  assert.equal(nameIsAt(line, 0, line.length - 1, b('vu')), false, 'a prefix of the name is not the name');
});

void test('tagsEndAt takes tags followed by }}\\n (object or null) and refuses a "}" in a value or metadata after them', () => {
  const obj = b('{"a":"b"}}}\n');
  assert.equal(tagsEndAt(obj, 0), 9);
  const key = scan.hash;
  assert.equal(tagsEndAt(b('{"a":"b"}}}\nmore'), 0), 9);
  assert.equal(scan.hash, key, 'same bytes, same key');
  assert.equal(tagsEndAt(b('{"a":"c"}}}\n'), 0), 9);
  assert.notEqual(scan.hash, key);
  assert.equal(tagsEndAt(b('null}}\n'), 0), 4);
  assert.equal(tagsEndAt(b('{"a":"}"}}}\n'), 0), -1);
  assert.equal(tagsEndAt(b('{"a":"b"},"metadata":{"x":"y"}}}\n'), 0), -1);
  assert.equal(tagsEndAt(b('{"a":"b"'), 0), -1, 'no closing brace before the buffer ends');
});

void test('sameTagsAt matches the previous tags only when the line ends right after them', () => {
  const prev = b('{"endpoint":"health","status":"200"}');
  const line = b(`${prev.toString('latin1')}}}\n`);
  const lim = line.length - 1;
  assert.equal(sameTagsAt(line, viewOf(line), 0, lim, prev, viewOf(prev), prev.length), true);
  const other = b('{"endpoint":"health","status":"503"}}}\n');
  assert.equal(sameTagsAt(other, viewOf(other), 0, other.length - 1, prev, viewOf(prev), prev.length), false);
  const longer = b(`${prev.toString('latin1')},"metadata":{}}}\n`);
  assert.equal(sameTagsAt(longer, viewOf(longer), 0, longer.length - 1, prev, viewOf(prev), prev.length), false);
});
