import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestFiles, MAX_BUCKETS } from '../../src/report/ingest.ts';
import { mergedAgg } from '../../src/report/model.ts';
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
  for (let s = 0; s < MAX_BUCKETS * 3; s++) lines.push(pointLine('http_req_duration', start + s * 1000, s % 50, { name: 'a', vu: String(s), iter: String(s) }));
  writeFileSync(join(d, 'out.json'), lines.join('\n') + '\n');
  const acc = await ingestFiles([join(d, 'out.json')]);
  assert.ok(acc.buckets.size <= MAX_BUCKETS, `${acc.buckets.size} buckets`);
  assert.equal(acc.bucketMs, 4000);
  assert.equal(acc.tagsets.length, 1, 'per-iteration tags (vu, iter) do not create tag sets');
  assert.equal(mergedAgg(acc, 'http_req_duration')?.n, MAX_BUCKETS * 3);
});
