import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestFiles, MAX_BUCKETS, RunAccumulator, type FileInfo } from '../../src/reporting/ingest.ts';
import { metricLine, tmp } from './helpers.ts';

// Byte-level fast paths (no newline search, tags compared by bytes, time second cached) must give
// what the line-by-line string/JSON.parse path gives, for k6's layout and for unusual valid JSON.
const TAGS = [
  '{"name":"a","scenario":"s"}',
  '{"name":"a","scenario":"s","status":"200"}', // the previous tags are a prefix of these bytes
  '{"name":"a"}',
  'null',
  '{}',
  '{"name":"caf\u00e9","scenario":"s"}', // raw UTF-8
  '{"name":"caf\\u00e9","scenario":"s"}', // the same tag, escaped: one tag set with the line above
  '{"name":"q\\"}}","scenario":"s"}', // "}" and an escaped quote inside a value
  '{"name":"a","scenario":"s"},"metadata":{"vu":"1","iter":"2"}', // metadata after the tags
  '{"name":"a","vu":"7","iter":"3"}', // dropped keys: same tag set as {"name":"a"}
];
const VALUES = ['1', '0', '-0', '12.5', '0.012345678901234567', '123456789.123456789', '1.5e2', '-2.25E-3', '7e+1', '-3'];
const TIMES = [
  '2026-01-01T12:00:00.123456789Z',
  '2026-01-01T12:00:00.5Z',
  '2026-01-01T12:00:00Z',
  '2026-01-01T12:00:01.000000001Z',
  '2026-01-01T13:00:00.25+01:00',
  '2026-01-01T12:00:02.999Z',
];
// 'http_req' is a prefix of two others, 'café' is UTF-8: the next-metric guess compares bytes up to the closing quote
const METRICS = ['http_req_duration', 'http_reqs', 'checks', 'm.x', 'http_req', 'caf\u00e9'];

function line(m: number, t: number, v: number, g: number): string {
  return `{"metric":"${METRICS[m] ?? ''}","type":"Point","data":{"time":"${TIMES[t] ?? ''}","value":${VALUES[v] ?? ''},"tags":${TAGS[g] ?? ''}}}`;
}

function header(): string[] {
  return [
    metricLine('http_req_duration', 'trend'),
    metricLine('http_reqs', 'counter'),
    metricLine('checks', 'rate'),
    metricLine('m.x', 'gauge'),
    metricLine('http_req', 'counter'),
    metricLine('caf\u00e9', 'trend'),
  ];
}

/** The reference: every line through the public string path (fast string parse or JSON.parse), which takes lines as read from the file: latin1-decoded bytes. */
function byStrings(lines: readonly string[]): RunAccumulator {
  const acc = new RunAccumulator();
  const info: FileInfo = { path: 'ref', lines: 0, points: 0, badLines: 0, truncated: false, firstTime: Infinity, lastTime: -Infinity };
  acc.files.push(info);
  for (const l of lines) if (!acc.line(Buffer.from(l, 'utf8').toString('latin1'), info)) info.badLines++;
  return acc;
}

function summary(acc: RunAccumulator): unknown {
  const totals: Record<string, string[]> = {};
  for (const [m, per] of acc.totals)
    totals[m] = [...per]
      .map(
        ([id, a]) =>
          `${JSON.stringify(acc.tagsets[id])} n=${a.n} sum=${a.sum} min=${a.min} max=${a.max} nz=${a.nonzero} last=${a.last}@${a.lastTime} ${JSON.stringify(a.sketch?.snapshot())}`,
      )
      .sort();
  const buckets = [...acc.buckets]
    .map(
      ([s, ms]) =>
        `${s}:${[...ms]
          .map(([m, a]) => `${m}=${a.n}/${a.sum}/${JSON.stringify(a.sketch?.snapshot())}`)
          .sort()
          .join(',')}`,
    )
    .sort();
  const f = acc.files[0];
  return {
    totals,
    buckets,
    first: acc.firstTime,
    last: acc.lastTime,
    tagsets: acc.tagsets.length,
    points: f?.points,
    bad: f?.badLines,
    fileFirst: f?.firstTime,
    fileLast: f?.lastTime,
  };
}

async function check(lines: readonly string[]): Promise<void> {
  const d = tmp();
  const f = join(d, 'out.json');
  writeFileSync(f, lines.join('\n') + '\n');
  const acc = await ingestFiles([f]);
  assert.deepEqual(summary(acc), summary(byStrings(lines)));
  assert.equal(acc.files[0]?.lines, lines.length);
}

void test('byte fast paths read unusual but valid lines (escapes, UTF-8, metadata, null tags, exponents, offsets) as the string path does', async () => {
  const fc = (await import('fast-check')).default;
  const idx = (n: number): ReturnType<typeof fc.integer> => fc.integer({ min: 0, max: n - 1 });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(idx(METRICS.length), idx(TIMES.length), idx(VALUES.length), idx(TAGS.length), fc.integer({ min: 1, max: 4 })), {
        minLength: 1,
        maxLength: 40,
      }),
      async (specs) => {
        const lines = header();
        // runs of the same line shape, as k6 writes them (the "same tags as before" path)
        for (const [m, t, v, g, rep] of specs) for (let r = 0; r < rep; r++) lines.push(line(m, t, v, g));
        await check(lines);
      },
    ),
    { numRuns: 40 },
  );
});

void test('byte fast paths across read-chunk boundaries (a 3 MB file) give the string path figures', async () => {
  const lines = header();
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  while (lines.length < 14000) {
    const m = rnd(METRICS.length);
    const t = rnd(TIMES.length);
    const g = rnd(TAGS.length);
    for (let r = rnd(9) + 1; r > 0; r--) lines.push(line(m, t, rnd(VALUES.length), g));
    // a long tag value now and then, so lines straddle the 1 MB chunk edges at varied offsets
    if (rnd(5) === 0)
      lines.push(
        `{"metric":"http_reqs","type":"Point","data":{"time":"${TIMES[0] ?? ''}","value":1,"tags":{"name":"${'x'.repeat(rnd(400))}"}}}`,
      );
  }
  await check(lines);
});

void test('byte fast paths keep the time series right while it coarsens (several samples per second, past MAX_BUCKETS)', async () => {
  const lines = header();
  const start = Date.UTC(2026, 0, 1, 12, 0, 0);
  for (let s = 0; s < MAX_BUCKETS * 3 + 7; s++)
    for (let k = 0; k < 3; k++) {
      // the third metric lags 1.5 s behind (k6 output is only roughly in time order)
      const iso = new Date(start + s * 1000 + k * 300 - (k === 2 ? 1500 : 0)).toISOString().replace('Z', '123Z');
      lines.push(
        `{"metric":"${METRICS[k] ?? ''}","type":"Point","data":{"time":"${iso}","value":${(s % 17) + k},"tags":${TAGS[(s + k) % 3] ?? ''}}}`,
      );
    }
  const d = tmp();
  const f = join(d, 'out.json');
  writeFileSync(f, lines.join('\n') + '\n');
  const acc = await ingestFiles([f]);
  assert.ok(acc.bucketMs > 1000, `bucketMs ${acc.bucketMs}`);
  await check(lines);
});
