/**
 * `--out csv`: k6's columns (header from the enabled system tags, extra_tags, metadata), one row per sample
 * (the same samples as `--out json`, value for value), Go's number and CSV formats, gzip, time formats, and
 * the settings from K6_CSV_* and the `key=value` argument.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { runEngine } from '../../../engine/index.ts';
import { csvConfig, csvField, csvTime, goFloat } from '../../../engine/output/csv.ts';
import { Capture, tempDir } from '../conformance/run-helpers.ts';
import { startReferenceServer, type ReferenceServer } from '../../support/reference-server.ts';

const HEADER =
  'metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata';

const dir = tempDir();
const script = join(dir, 'csv.js');
writeFileSync(
  script,
  `import http from 'k6/http';
import { check, group } from 'k6';
import { Counter } from 'k6/metrics';
const jobs = new Counter('csv_jobs');
export const options = { vus: 1, iterations: 3 };
export default async function () {
  const res = await http.asyncRequest('GET', __ENV.BASE_URL + '/health', null, { tags: { team: 'a,b' } });
  check(res, { 'is 200': (r) => r.status === 200 });
  jobs.add(1.5, { kind: 'x' });
}
`,
);
let server: ReferenceServer;
before(async () => {
  server = await startReferenceServer();
});
after(async () => {
  await server.close();
});

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const stderr = new Capture();
  const code = await runEngine({
    script,
    args,
    env: { BASE_URL: server.url, ...env },
    cwd: dir,
    stdout: new Capture(),
    stderr,
    handleSignals: false,
  });
  return { code, stderr: stderr.text };
}

interface Point {
  metric: string;
  type: string;
  data: { time: string; value: number; tags: Record<string, string>; metadata?: Record<string, string> };
}

void test("k6's header, one row per sample with the same values as --out json, tags in their columns, the rest in extra_tags and metadata", async () => {
  const r = await run(['-q', '--out', 'csv=out.csv', '--out', 'json=out.json']);
  assert.equal(r.code, 0, r.stderr);
  const [header, ...rows] = readFileSync(join(dir, 'out.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(header, HEADER);
  const points = readFileSync(join(dir, 'out.json'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Point)
    .filter((p) => p.type === 'Point');
  assert.equal(rows.length, points.length, 'one row per sample');
  const cols = HEADER.split(',');
  const parse = (row: string): Record<string, string> => {
    // the only quoted field here is extra_tags (it holds "team=a,b")
    const m = /^(.*?),"([^"]*)",(.*)$/.exec(row);
    const fields = m === null ? row.split(',') : [...(m[1] ?? '').split(','), m[2] ?? '', ...(m[3] ?? '').split(',')];
    return Object.fromEntries(cols.map((c, i) => [c, fields[i] ?? '']));
  };
  const reqs = rows.map(parse).filter((f) => f.metric_name === 'http_reqs');
  assert.equal(reqs.length, 3);
  const first = reqs[0] ?? {};
  assert.equal(first.metric_value, '1.000000');
  assert.match(first.timestamp ?? '', /^\d{10}$/, 'unix seconds');
  assert.equal(first.method, 'GET');
  assert.equal(first.status, '200');
  assert.equal(first.url, `${server.url}/health`);
  assert.equal(first.scenario, 'default');
  assert.equal(first.expected_response, 'true');
  assert.equal(first.extra_tags, 'team=a,b');
  assert.equal(first.metadata, '', 'no metadata by default: vu and iter are not among the default system tags (as in k6)');
  const jobs = rows.map(parse).filter((f) => f.metric_name === 'csv_jobs');
  assert.deepEqual(
    jobs.map((f) => [f.metric_value, f.extra_tags]),
    [
      ['1.500000', 'kind=x'],
      ['1.500000', 'kind=x'],
      ['1.500000', 'kind=x'],
    ],
  );
  // value for value, in order, the same samples as the JSON output
  assert.deepEqual(
    rows.map((row) => row.split(',')[0]),
    points.map((p) => p.metric),
  );
  assert.deepEqual(
    rows.map((row) => Number(row.split(',')[2])),
    points.map((p) => Number(p.data.value.toFixed(6))),
  );
  const pairs = (o: Record<string, string> | undefined): string =>
    Object.entries(o ?? {})
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
  assert.deepEqual(
    rows.map((row) => parse(row).metadata),
    points.map((p) => pairs(p.data.metadata)),
    'metadata as the JSON output has it',
  );
});

void test('on worker threads too: every sample of every worker reaches the CSV, as it reaches the JSON output', async () => {
  const r = await run(['-q', '--workers', '2', '--vus', '2', '--iterations', '6', '--out', 'csv=w.csv', '--out', 'json=w.json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = readFileSync(join(dir, 'w.csv'), 'utf8').trimEnd().split('\n').slice(1);
  const points = readFileSync(join(dir, 'w.json'), 'utf8')
    .trimEnd()
    .split('\n')
    .filter((l) => l.includes('"type":"Point"'));
  assert.equal(rows.filter((l) => l.startsWith('http_reqs,')).length, 6);
  assert.deepEqual(rows.map((l) => l.split(',')[0]).sort(), points.map((l) => (JSON.parse(l) as Point).metric).sort());
});

void test('the vus and vus_max gauges carry the run tags, as in k6 (one thread and workers)', async () => {
  for (const workers of ['1', '2']) {
    const r = await run([
      '-q',
      '--workers',
      workers,
      '--vus',
      '2',
      '--duration',
      workers === '1' ? '1200ms' : '2500ms',
      '--tag',
      'testid=t1',
      '--out',
      `json=g${workers}.json`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const gauges = readFileSync(join(dir, `g${workers}.json`), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Point)
      .filter((p) => p.type === 'Point' && (p.metric === 'vus' || p.metric === 'vus_max'));
    assert.ok(gauges.length >= 2, `workers ${workers}: gauges sampled`);
    for (const g of gauges) assert.deepEqual(g.data.tags, { testid: 't1' }, `workers ${workers}: ${g.metric}`);
  }
});

void test('gzip for .gz, timeFormat and fileName from the argument, the time format from K6_CSV_TIME_FORMAT', async () => {
  const gz = await run(['-q', '--out', 'csv=out.csv.gz'], { K6_CSV_TIME_FORMAT: 'rfc3339' });
  assert.equal(gz.code, 0, gz.stderr);
  const text = gunzipSync(readFileSync(join(dir, 'out.csv.gz'))).toString('utf8');
  assert.equal(text.split('\n')[0], HEADER);
  assert.match(text.split('\n')[1] ?? '', /^[a-z_]+,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ,/);
  const kv = await run(['-q', '--out', 'csv=fileName=kv.csv,timeFormat=unix_milli,saveInterval=100ms']);
  assert.equal(kv.code, 0, kv.stderr);
  assert.match(readFileSync(join(dir, 'kv.csv'), 'utf8').split('\n')[1] ?? '', /^[a-z_]+,\d{13},/);
});

void test('bad settings stop the run before it starts (104)', async () => {
  const r = await run(['-q', '--out', 'csv=fileName=x.csv,color=red'], { K6_CSV_TIME_FORMAT: 'iso' });
  assert.equal(r.code, 104);
  assert.match(r.stderr, /unknown key \\"color\\" in --out csv=/);
  assert.match(r.stderr, /csv timeFormat must be one of unix, unix_milli, unix_micro, unix_nano, rfc3339, rfc3339_nano, got \\"iso\\"/);
});

void test('Go formats: %f numbers, encoding/csv quoting, time formats; settings precedence defaults < env < argument', () => {
  assert.deepEqual([0, 1, 0.1234567, 1e6, -2.5, Number.NaN].map(goFloat), [
    '0.000000',
    '1.000000',
    '0.123457',
    '1000000.000000',
    '-2.500000',
    'NaN',
  ]);
  assert.deepEqual(['plain', 'a,b', 'say "hi"', ' lead', '', 'line\nbreak'].map(csvField), [
    'plain',
    '"a,b"',
    '"say ""hi"""',
    '" lead"',
    '',
    '"line\nbreak"',
  ]);
  const t = Date.UTC(2026, 0, 2, 3, 4, 5) + 678.5;
  assert.deepEqual(
    (['unix', 'unix_milli', 'unix_micro', 'unix_nano', 'rfc3339', 'rfc3339_nano'] as const).map((f) => csvTime(t, f)),
    ['1767323045', '1767323045678', '1767323045678500', '1767323045678500000', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05.6785Z'],
  );
  assert.deepEqual(csvConfig('', {}).config, { fileName: 'file.csv', saveIntervalMs: 1000, timeFormat: 'unix' });
  assert.deepEqual(csvConfig('', { K6_CSV_FILENAME: 'env.csv', K6_CSV_SAVE_INTERVAL: '2s' }).config, {
    fileName: 'env.csv',
    saveIntervalMs: 2000,
    timeFormat: 'unix',
  });
  assert.equal(csvConfig('arg.csv', { K6_CSV_FILENAME: 'env.csv' }).config.fileName, 'arg.csv');
});
