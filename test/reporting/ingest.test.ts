import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestFiles, MAX_BUCKETS } from '../../src/reporting/ingest.ts';
import { mergedAgg } from '../../src/reporting/merged-aggregates.ts';
import { metricLine, pointLine, tmp } from './helpers.ts';

void test('lines off the fast path (metadata, "}" in a tag, UTF-8, time offsets, exponents) read the same as JSON.parse', async () => {
  const d = tmp();
  const t = '2026-01-01T12:00:00.5+01:00';
  const lines = [
    metricLine('m', 'trend'),
    `{"metric":"m","type":"Point","data":{"time":"${t}","value":1.5e2,"tags":{"name":"café } bar","scenario":"s"},"metadata":{"vu":"3","iter":"9"}}}`,
    `{"metric":"m","type":"Point","data":{"time":"${t}","value":-2,"tags":{"name":"café } bar","scenario":"s"}}}`,
    `{"metric":"m","type":"Point","data":{"time":"2026-01-01T11:00:00.25Z","value":7,"tags":null}}`,
    `{"type":"Point","metric":"m","data":{"value":3,"time":"2026-01-01T11:00:00Z","tags":{"name":"x"}}}`,
    'not json at all',
  ];
  const f = join(d, 'out.json');
  writeFileSync(f, lines.join('\n') + '\n');
  const acc = await ingestFiles([f]);
  const info = acc.files[0];
  assert.equal(info?.points, 4);
  assert.equal(info.badLines, 1);
  assert.equal(info.truncated, false);
  const cafe = mergedAgg(acc, 'm', { name: 'café } bar' });
  assert.equal(cafe?.n, 2);
  assert.equal(cafe.sum, 148);
  assert.equal(mergedAgg(acc, 'm')?.n, 4);
  assert.equal(acc.firstTime, Date.parse('2026-01-01T11:00:00Z'));
  assert.equal(acc.lastTime, Date.parse('2026-01-01T11:00:00.5Z'));
});

void test('memory stays bounded: the time series coarsens past MAX_BUCKETS and tags outside the kept set are dropped', async () => {
  const d = tmp();
  const start = Date.UTC(2026, 0, 1);
  const lines = [metricLine('http_req_duration', 'trend')];
  for (let s = 0; s < MAX_BUCKETS * 3; s++)
    lines.push(pointLine('http_req_duration', start + s * 1000, s % 50, { name: 'a', vu: String(s), iter: String(s) }));
  writeFileSync(join(d, 'out.json'), lines.join('\n') + '\n');
  const acc = await ingestFiles([join(d, 'out.json')]);
  assert.ok(acc.buckets.size <= MAX_BUCKETS, `${acc.buckets.size} buckets`);
  assert.equal(acc.bucketMs, 4000);
  assert.equal(acc.tagsets.length, 1, 'per-iteration tags (vu, iter) do not create tag sets');
  assert.equal(mergedAgg(acc, 'http_req_duration')?.n, MAX_BUCKETS * 3);
});

void test('the byte-level number parser gives exactly what Number() gives', async () => {
  const fc = (await import('fast-check')).default;
  const d = tmp();
  const f = join(d, 'out.json');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.double({ min: -1e7, max: 1e7, noNaN: true }), fc.integer({ min: 0, max: 12 })), { minLength: 1, maxLength: 50 }),
      async (vals) => {
        const texts = vals.map(([v, k]) => (k === 12 ? JSON.stringify(v) : v.toFixed(k)));
        const start = Date.UTC(2026, 0, 1);
        const lines = [
          metricLine('m', 'trend'),
          ...texts.map(
            (t, i) =>
              `{"metric":"m","type":"Point","data":{"time":"${new Date(start + i).toISOString()}","value":${t},"tags":{"name":"a"}}}`,
          ),
        ];
        writeFileSync(f, lines.join('\n') + '\n');
        const acc = await ingestFiles([f]);
        const a = mergedAgg(acc, 'm');
        const nums = texts.map(Number);
        assert.equal(a?.n, nums.length);
        // === on purpose: -0 and 0 are the same figure here (max(-0, 0) depends on order).
        assert.ok(a.min === Math.min(...nums), `min ${a.min} vs ${Math.min(...nums)}`);
        assert.ok(a.max === Math.max(...nums), `max ${a.max} vs ${Math.max(...nums)}`);
        assert.ok(a.sum === nums.reduce((x, y) => x + y, 0), `sum ${a.sum}`);
      },
    ),
    { numRuns: 60 },
  );
});
