/**
 * `--out experimental-prometheus-rw` against a real Prometheus (Debian's binary, remote-write receiver on,
 * on a loopback port): what landed is queried back through PromQL and compared with what the script
 * recorded — k6's names (`k6_*_total`, `_rate`, trend stats as suffixes, time trends in seconds), the
 * values, the labels, pushes during the run (K6_PROMETHEUS_RW_PUSH_INTERVAL) — and the failure paths: a
 * receiver that is down (logged, the run goes on), bad settings and unknown outputs (104 before the run).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runEngine } from '../../../engine/index.ts';
import { encodeWriteRequest, prometheusRwConfig, trendStatSuffix } from '../../../engine/output/prometheus-rw.ts';
import snappy from 'snappyjs';
import { Capture, ROOT, tempDir } from '../conformance/run-helpers.ts';
import { startPrometheus, type PrometheusServer } from '../../support/prometheus.ts';
import { downUrl, startReferenceServer, type ReferenceServer } from '../../support/reference-server.ts';

const SCRIPT = `import http from 'k6/http';
import { sleep } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
const jobs = new Counter('rw_jobs');
const depth = new Gauge('rw_depth');
const ok = new Rate('rw_ok');
const size = new Trend('rw_size');
const wait = new Trend('rw_wait', true);
export const options = { scenarios: { main: { executor: 'shared-iterations', vus: 2, iterations: 8 } } };
export default async function () {
  await http.asyncRequest('GET', __ENV.BASE_URL + '/health', null, { tags: { team: 'agents' } });
  jobs.add(3);
  depth.add(42);
  ok.add(true); ok.add(false); ok.add(true); ok.add(true);
  size.add(10); size.add(20); size.add(30);
  wait.add(250);
  await sleep(0.15);
}
`;

let prom: PrometheusServer;
let server: ReferenceServer;
const dir = tempDir();
const script = join(dir, 'rw.js');
writeFileSync(script, SCRIPT);

before(async () => {
  [prom, server] = await Promise.all([startPrometheus(), startReferenceServer()]);
});
after(async () => {
  await Promise.all([prom.stop(), server.close()]);
});

async function run(args: string[], env: Record<string, string>, file = script): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runEngine({
    script: file,
    args,
    env: { BASE_URL: server.url, ...env },
    cwd: dir,
    stdout,
    stderr,
    handleSignals: false,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function one(promql: string): Promise<number> {
  const r = await prom.query(promql);
  assert.equal(r.length, 1, `${promql}: one series, got ${JSON.stringify(r)}`);
  return r[0]?.value ?? Number.NaN;
}

void test("what the run recorded is in Prometheus under k6's names, with k6's values and labels", async () => {
  const r = await run(['-q', '--out', 'experimental-prometheus-rw', '--summary-export', join(dir, 's.json')], {
    K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl,
    K6_PROMETHEUS_RW_PUSH_INTERVAL: '200ms',
    K6_PROMETHEUS_RW_TREND_STATS: 'p(95),max,min,avg,count,sum,p(99.9)',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /level=error/);
  // counters: _total, the running sum
  assert.equal(await one('k6_http_reqs_total'), 8);
  assert.equal(await one('k6_iterations_total'), 8);
  assert.equal(await one('k6_rw_jobs_total'), 24);
  // gauge: the last value, no suffix; rate: _rate
  assert.equal(await one('k6_rw_depth'), 42);
  assert.equal(await one('k6_rw_ok_rate'), 0.75);
  // a trend of plain numbers: one gauge per stat
  assert.equal(await one('k6_rw_size_max'), 30);
  assert.equal(await one('k6_rw_size_min'), 10);
  assert.equal(await one('k6_rw_size_avg'), 20);
  assert.equal(await one('k6_rw_size_count'), 24);
  assert.equal(await one('k6_rw_size_sum'), 480);
  assert.equal(await one('k6_rw_size_p95'), 30);
  // a trend of time: seconds (every stat, count too, as k6 does)
  assert.equal(await one('k6_rw_wait_max'), 0.25);
  assert.equal(await one('k6_rw_wait_p999'), 0.25);
  assert.equal(await one('k6_rw_wait_count'), 0.008);
  // the built-in latency trend agrees with the summary export (ms there, s here)
  const exported = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as {
    metrics: { http_req_duration: { 'p(95)': number; max: number } };
  };
  assert.ok(Math.abs((await one('k6_http_req_duration_max')) - exported.metrics.http_req_duration.max / 1000) < 1e-9);
  const p95 = await one('k6_http_req_duration_p95');
  assert.ok(Math.abs(p95 - exported.metrics.http_req_duration['p(95)'] / 1000) <= 0.01 * p95, `p95 ${String(p95)} s`);
  // the sample's tags are the labels
  const [reqs] = await prom.query('k6_http_reqs_total');
  assert.deepEqual(
    { ...reqs?.metric },
    {
      __name__: 'k6_http_reqs_total',
      scenario: 'main',
      method: 'GET',
      status: '200',
      name: `${server.url}/health`,
      url: `${server.url}/health`,
      proto: 'HTTP/1.1',
      expected_response: 'true',
      team: 'agents',
    },
  );
  // pushed during the run (every 200 ms), not only at the end
  assert.ok((await one('count_over_time(k6_iterations_total[10m])')) >= 2, 'more than one push of k6_iterations_total');
});

void test('K6_PROMETHEUS_RW_STALE_MARKERS: at the end every series is marked stale, so an instant query no longer finds it', async () => {
  const r = await run(['-q', '--out', 'experimental-prometheus-rw', '--tag', 'run=stale'], {
    K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl,
    K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await one('max_over_time(k6_rw_jobs_total{run="stale"}[10m])'), 24, 'the values landed');
  assert.deepEqual(await prom.query('k6_rw_jobs_total{run="stale"}'), [], 'and are stale now');
  const r2 = await run(['-q', '--out', 'experimental-prometheus-rw', '--tag', 'run=fresh'], { K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(await one('k6_rw_jobs_total{run="fresh"}'), 24, 'without markers the last value stays visible');
});

void test('the Grafana dashboard in docs/: every panel query finds data for a run tagged with its testid', async () => {
  const dash = join(dir, 'dash.js');
  writeFileSync(
    dash,
    `import http from 'k6/http';
import { check, sleep } from 'k6';
export const options = { vus: 2, duration: '1500ms' };
export default async function () {
  const res = await http.asyncRequest('GET', __ENV.BASE_URL + '/health');
  check(res, { 'is 200': (r) => r.status === 200 });
  await sleep(0.1);
}
`,
  );
  const r = await run(
    ['-q', '--out', 'experimental-prometheus-rw', '--tag', 'testid=dash'],
    { K6_PROMETHEUS_RW_SERVER_URL: prom.writeUrl, K6_PROMETHEUS_RW_PUSH_INTERVAL: '250ms' },
    dash,
  );
  assert.equal(r.code, 0, r.stderr);
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/grafana/k6-prometheus-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 12);
  for (const { title, expr } of exprs) {
    const q = expr.replace(/\$testid/g, 'dash').replace(/\$__rate_interval/g, '1m');
    const res = await prom.query(q);
    assert.ok(res.length > 0 && res.every((x) => Number.isFinite(x.value)), `${title}: ${q} returned ${JSON.stringify(res)}`);
  }
});

void test('a receiver that is down: one error line per failed push, the run itself passes', async () => {
  const r = await run(['-q', '--out', 'experimental-prometheus-rw'], {
    K6_PROMETHEUS_RW_SERVER_URL: `${await downUrl()}/api/v1/write`,
    K6_PROMETHEUS_RW_PUSH_INTERVAL: '1h',
  });
  assert.equal(r.code, 0, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => l.includes('level=error'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(
    errors[0] ?? '',
    /Prometheus remote write: failed to send \d+ time series to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write: .*ECONNREFUSED/,
  );
});

void test('bad settings and unknown outputs stop the run before it starts (104), every problem named', async () => {
  const hitsBefore = server.hits.get('/health') ?? 0;
  const bad = await run(['-q', '--out', 'experimental-prometheus-rw', '--out', 'influxdb=http://127.0.0.1:8086/k6'], {
    K6_PROMETHEUS_RW_TREND_STATS: 'p95,max',
    K6_PROMETHEUS_RW_PUSH_INTERVAL: 'often',
  });
  assert.equal(bad.code, 104);
  // (log lines quote the message, so its own quotes show as \")
  assert.match(bad.stderr, /K6_PROMETHEUS_RW_TREND_STATS: \\"p95\\" is not a trend stat/);
  assert.match(bad.stderr, /K6_PROMETHEUS_RW_PUSH_INTERVAL must be a positive duration like \\"5s\\", got \\"often\\"/);
  assert.match(
    bad.stderr,
    /output \\"influxdb\\" is not supported by the embedded engine; use one of json, csv, experimental-prometheus-rw/,
  );
  const native = await run(['-q', '--out', 'experimental-prometheus-rw'], { K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM: 'true' });
  assert.equal(native.code, 104);
  assert.match(native.stderr, /K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM is not supported by the embedded engine/);
  assert.equal(server.hits.get('/health') ?? 0, hitsBefore, 'nothing was sent');
});

void test("settings from k6's variables; stat suffixes; the request body is snappy-compressed protobuf", () => {
  const { config, issues } = prometheusRwConfig({
    K6_PROMETHEUS_RW_SERVER_URL: 'https://prom.example:9090/api/v1/write',
    K6_PROMETHEUS_RW_HTTP_HEADERS: 'X-Scope-OrgID:team-a,X-Other:1',
    'K6_PROMETHEUS_RW_HEADERS_X-Extra': 'yes',
    K6_PROMETHEUS_RW_USERNAME: 'u',
    K6_PROMETHEUS_RW_PASSWORD: 'p',
    K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY: 'true',
  });
  assert.deepEqual(issues, []);
  assert.equal(config.url, 'https://prom.example:9090/api/v1/write');
  assert.equal(config.pushIntervalMs, 5000, 'default push interval 5s');
  assert.deepEqual(config.trendStats, ['p(99)'], "k6's default trend stats");
  assert.deepEqual(config.headers, { 'X-Scope-OrgID': 'team-a', 'X-Other': '1', 'X-Extra': 'yes' });
  assert.equal(config.insecureSkipTLSVerify, true);
  assert.deepEqual(['p(99)', 'p(99.9)', 'p(50)', 'avg', 'count'].map(trendStatSuffix), ['p99', 'p999', 'p50', 'avg', 'count']);
  const body = encodeWriteRequest([
    { labels: [{ name: '__name__', value: 'k6_x_total' }], samples: [{ value: 2, timestamp: 1700000000000 }] },
  ]);
  const raw = snappy.uncompress(body);
  assert.ok(Buffer.from(raw).includes(Buffer.from('k6_x_total')), 'the label is in the decompressed protobuf');
});
