/**
 * A very long line in a k6 JSON output (a huge tag value, or garbage) costs the ingest its length, not its
 * length squared: the line's pieces are joined once when its end arrives. Measured as the bytes Buffer.concat
 * copies (deterministic, whatever the machine's speed), plain and gzipped, with the line still read right.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ingestFiles } from '../../src/reporting/ingest.ts';
import { tmp } from './helpers.ts';

const MB = 2 ** 20;

/** Runs `fn` while counting the bytes Buffer.concat produces. */
async function concatBytes(fn: () => Promise<void>): Promise<number> {
  const restore = Buffer.concat; // eslint-disable-line @typescript-eslint/unbound-method -- put back as it was
  const original = Buffer.concat.bind(Buffer);
  let bytes = 0;
  Buffer.concat = ((list: readonly Uint8Array[], totalLength?: number): Buffer => {
    const out = original(list, totalLength);
    bytes += out.length;
    return out;
  }) as typeof Buffer.concat;
  try {
    await fn();
  } finally {
    Buffer.concat = restore;
  }
  return bytes;
}

void test('a 48 MB line is joined once (plain and gzip), and read right', async () => {
  const d = tmp();
  const size = 48 * MB;
  const point =
    '{"metric":"x","type":"Point","data":{"time":"2026-01-01T00:00:00Z","value":1,"tags":{"big":"' + 'y'.repeat(size) + '"}}}\n';
  const text =
    '{"type":"Metric","data":{"name":"x","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"x"}\n' +
    point +
    'not json ' +
    'z'.repeat(size) +
    '\n';
  const plain = join(d, 'out.json');
  writeFileSync(plain, text);
  const gz = join(d, 'out.json.gz');
  writeFileSync(gz, gzipSync(text, { level: 1 }));
  for (const file of [plain, gz]) {
    let info: { lines: number; points: number; badLines: number } | undefined;
    const copied = await concatBytes(async () => {
      info = (await ingestFiles([file])).files[0];
    });
    assert.deepEqual([info?.lines, info?.points, info?.badLines], [3, 1, 1], `${file}: the long point is read, the long garbage counted`);
    assert.ok(
      copied < 3 * (2 * size),
      `${file}: Buffer.concat copied ${(copied / MB).toFixed(0)} MB for two ${String(size / MB)} MB lines`,
    );
  }
});
