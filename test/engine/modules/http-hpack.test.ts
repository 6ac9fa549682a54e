/**
 * HPACK (RFC 7541) as h2.ts decodes response headers and encodes requests: the RFC's Appendix C examples
 * (literals, indexing, Huffman, eviction from a 256-octet table), dynamic table size updates, and malformed
 * blocks rejected (each an HpackError, which the session turns into a COMPRESSION_ERROR).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHeaders, HpackDecoder, HpackError, huffmanDecode, huffmanEncode } from '../../../engine/modules/http/hpack.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Decodes each block in turn with one decoder: the header lists, and the table's size and entry count after each. */
function decodeAll(d: HpackDecoder, blocks: readonly string[]): { headers: string[][]; sizes: [number, number][] } {
  const headers: string[][] = [];
  const sizes: [number, number][] = [];
  for (const b of blocks) {
    const buf = hex(b);
    const out: string[] = [];
    d.decode(buf, 0, buf.length, out);
    headers.push(out);
    sizes.push([d.size, d.entries]);
  }
  return { headers, sizes };
}

void test('RFC 7541 C.2: literal with indexing, without indexing, never indexed; indexed', () => {
  const one = (block: string): { out: string[]; size: number } => {
    const d = new HpackDecoder();
    const r = decodeAll(d, [block]);
    return { out: r.headers[0] ?? [], size: d.size };
  };
  assert.deepEqual(one('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'), {
    out: ['custom-key', 'custom-header'],
    size: 55,
  });
  assert.deepEqual(one('040c 2f73 616d 706c 652f 7061 7468'), { out: [':path', '/sample/path'], size: 0 });
  assert.deepEqual(one('1008 7061 7373 776f 7264 0673 6563 7265 74'), { out: ['password', 'secret'], size: 0 });
  assert.deepEqual(one('82'), { out: [':method', 'GET'], size: 0 });
});

const REQUESTS = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQUESTS_EXPECTED = [
  REQUESTS,
  [...REQUESTS, 'cache-control', 'no-cache'],
  [':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com', 'custom-key', 'custom-value'],
];

void test('RFC 7541 C.3 and C.4: three requests on one connection, without and with Huffman coding', () => {
  const plain = decodeAll(new HpackDecoder(), [
    '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '8286 84be 5808 6e6f 2d63 6163 6865',
    '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
  ]);
  assert.deepEqual(plain.headers, REQUESTS_EXPECTED);
  assert.deepEqual(plain.sizes, [
    [57, 1],
    [110, 2],
    [164, 3],
  ]);
  const huffman = decodeAll(new HpackDecoder(), [
    '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
    '8286 84be 5886 a8eb 1064 9cbf',
    '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
  ]);
  assert.deepEqual(huffman.headers, REQUESTS_EXPECTED);
  assert.deepEqual(huffman.sizes, plain.sizes);
});

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const RESPONSES_EXPECTED = [
  [':status', '302', 'cache-control', 'private', 'date', DATE1, 'location', LOCATION],
  [':status', '307', 'cache-control', 'private', 'date', DATE1, 'location', LOCATION],
  [
    ':status',
    '200',
    'cache-control',
    'private',
    'date',
    DATE2,
    'location',
    LOCATION,
    'content-encoding',
    'gzip',
    'set-cookie',
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
  ],
];

void test('RFC 7541 C.5 and C.6: three responses in a 256-octet table (entries evicted), without and with Huffman coding', () => {
  // The table holds 4 entries after the first response; each later one evicts the oldest it needs room for.
  const sizes = [
    [222, 4],
    [222, 4],
    [215, 3],
  ];
  const plain = decodeAll(new HpackDecoder(256), [
    `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768
     7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
    '4803 3330 37c1 c0bf',
    `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153
     444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
     3d31`,
  ]);
  assert.deepEqual(plain.headers, RESPONSES_EXPECTED);
  assert.deepEqual(plain.sizes, sizes);
  const huffman = decodeAll(new HpackDecoder(256), [
    `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8
     e9ae 82ae 43d3`,
    '4883 640e ffc1 c0bf',
    `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b
     3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
  ]);
  assert.deepEqual(huffman.headers, RESPONSES_EXPECTED);
  assert.deepEqual(huffman.sizes, sizes);
});

void test('dynamic table size updates: shrinking evicts, 0 empties, growing back is allowed up to the limit, and an entry larger than the table empties it', () => {
  const d = new HpackDecoder();
  decodeAll(d, ['400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572', '4001 6101 62']); // custom-key (55), a: b (34)
  assert.deepEqual([d.size, d.entries], [89, 2]);
  // Size update to 40 (001 + 5-bit prefix: 0x3f then 40 - 31 = 9): only the newest (34) fits.
  const r = decodeAll(d, ['3f09 be']);
  assert.deepEqual(r.headers[0], ['a', 'b'], 'index 62 is the newest entry, still there');
  assert.deepEqual([d.size, d.entries, d.maxSize], [34, 1, 40]);
  decodeAll(d, ['20']);
  assert.deepEqual([d.size, d.entries], [0, 0]);
  assert.throws(() => decodeAll(d, ['be']), HpackError, 'the table is empty: index 62 is beyond it');
  decodeAll(d, ['3fe1 1f']); // back to 4096
  assert.equal(d.maxSize, 4096);
  // Two updates in a row at the start of a block are allowed (RFC 7541 4.2).
  decodeAll(d, ['3f09 3fe1 1f 82']);
  // A 40-octet table and an entry of 32 + 1 + 8: too large, the table is emptied and nothing is added.
  decodeAll(d, ['3f09 4001 6102 6263']); // a: bc = 35, fits
  assert.deepEqual([d.size, d.entries], [35, 1]);
  decodeAll(d, ['4001 6108 3132 3334 3536 3738']); // a: 12345678 = 41 > 40
  assert.deepEqual([d.size, d.entries], [0, 0]);
});

void test('malformed blocks are rejected: index 0 or beyond the table, truncated integers and strings, Huffman EOS or bad padding, a size update too large or after a header', () => {
  const bad = (block: string, why: string, limit = 4096): void => {
    const buf = hex(block);
    assert.throws(() => new HpackDecoder(limit).decode(buf, 0, buf.length, []), HpackError, why);
  };
  bad('80', 'index 0');
  bad('be', 'index 62 with an empty dynamic table');
  bad('ff', 'an integer whose continuation is missing');
  bad('ff80', 'an integer cut inside its continuation');
  bad('ffffffffffff7f', 'an integer too large');
  bad('400a 6375 7374', 'a name shorter than its length');
  bad('40', 'a literal with no name');
  bad('4001 61', 'a literal with no value');
  // 'a' is 00011 (5 bits); padding must be the EOS code's leading ones, at most 7 bits.
  bad('4001 6181 18', 'padding with zero bits');
  bad('4001 6182 1fff', 'more than 7 bits of padding');
  bad('4001 6184 ffff ffff', 'EOS inside a Huffman string');
  bad('3fe2 1f', 'a size update above the 4096 allowed');
  bad('82 20', 'a size update after a header');
  bad('21', 'a size update above a limit of 0', 0);
  // The same string with its padding right ('a' then three one-bits) decodes.
  const out: string[] = [];
  new HpackDecoder().decode(hex('4001 6181 1f'), 0, 5, out);
  assert.deepEqual(out, ['a', 'a']);
});

void test('Huffman: every octet round-trips, and strings of each length decode back', () => {
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const s = all.toString('latin1');
  const coded = huffmanEncode(s);
  assert.equal(huffmanDecode(coded, 0, coded.length), s);
  for (const t of ['', 'a', 'no-cache', 'www.example.com', 'custom-value', '\u00ff\u0000\u00fe']) {
    const c = huffmanEncode(t);
    assert.equal(huffmanDecode(c, 0, c.length), t, JSON.stringify(t));
  }
  assert.deepEqual(huffmanEncode('www.example.com'), hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'), 'RFC 7541 C.4.1');
});

void test('encodeHeaders: static matches indexed, other headers literal without indexing (no table state), decoded back as given', () => {
  const list = [
    ':authority',
    'h.example:8443',
    ':method',
    'GET',
    ':path',
    '/',
    ':scheme',
    'https',
    'user-agent',
    'k6',
    'x-long',
    'v'.repeat(300),
  ];
  const block = encodeHeaders(list);
  assert.deepEqual([...block.subarray(0, 1)], [0x01], ':authority by its static name index, not indexed');
  const d = new HpackDecoder();
  const out: string[] = [];
  d.decode(block, 0, block.length, out);
  assert.deepEqual(out, list);
  assert.equal(d.entries, 0, 'nothing added to the table');
  assert.ok(block.includes(Buffer.from([0x82, 0x84, 0x87])), ':method GET, :path / and :scheme https indexed');
});
