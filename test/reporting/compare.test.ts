import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport } from '../../src/reporting/index.ts';
import { httpRun, ROOT, tmp } from './helpers.ts';

/** A run dir with `n` requests over `n / 20` seconds (each second the same 20 latencies) scaled by `scale`. */
function run(dir: string, scale: number, n = 400): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'out.json'), httpRun({ n, spacingMs: 50, latency: (i) => (20 + (i % 20)) * scale }));
  return dir;
}

function cli(
  script: 'compare' | 'report',
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, `scripts/${script}.mjs`), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

void test('compare: 20 % slower fails with exit 3, 7 % warns, identical passes', () => {
  const d = tmp();
  const base = run(join(d, 'base'), 1);
  const slow = cli('compare', [run(join(d, 'slow'), 1.2), '--baseline', base]);
  assert.equal(slow.code, 3, slow.out + slow.err);
  assert.match(slow.out, /FAIL/);
  // Regressions worst first, with units, the absolute and the relative change.
  assert.match(slow.out, /regressions:\n {2}\S.* p99 [\d.]+ → [\d.]+ ms \(\+[\d.]+ ms, \+20 %\)/);
  assert.match(slow.out, /GET http:\/\/127\.0\.0\.1:1\/api\/agents p95 [\d.]+ → [\d.]+ ms \(\+[\d.]+ ms, \+20 %\) {2}p=/);
  const warn = cli('compare', [run(join(d, 'warn'), 1.07), '--baseline', base]);
  assert.equal(warn.code, 0, warn.out + warn.err);
  assert.match(warn.out, /WARN/);
  const same = cli('compare', [run(join(d, 'same'), 1), '--baseline', base]);
  assert.equal(same.code, 0);
  assert.match(same.out, /PASS/);
  const faster = cli('compare', [run(join(d, 'fast'), 0.8), '--baseline', base, '--json']);
  assert.equal(faster.code, 0);
  const c = JSON.parse(faster.out) as { verdict: string; rows: { status: string }[] };
  assert.equal(c.verdict, 'pass');
  assert.ok(c.rows.some((r) => r.status === 'improved'));
});

void test('compare: figures too few for a significance test are judged against a wider band (3 × the percentages, × √(minSamples/n))', () => {
  const d = tmp();
  const base = run(join(d, 'base'), 1, 10);
  // 10 samples in one second against 30: warn beyond 3 × 5 % × √3 ≈ 26 %, fail beyond 3 × 10 % × √3 ≈ 52 %.
  // A 2× slowdown fails even untested; 40 % warns; 12 % does not.
  const slow = cli('compare', [run(join(d, 'slow'), 2, 10), '--baseline', base, '--json']);
  assert.equal(slow.code, 3, slow.err);
  const c = JSON.parse(slow.out) as { verdict: string; rows: { status: string; stat: string; note?: string }[] };
  assert.equal(c.verdict, 'fail');
  assert.ok(
    c.rows.some(
      (x) =>
        x.status === 'fail' &&
        /no significance test \(too few time windows and samples: 10\): judged against 52 % \(fail\) \/ 26 % \(warn\)/.test(x.note ?? ''),
    ),
    slow.out,
  );
  const some = cli('compare', [run(join(d, 'some'), 1.4, 10), '--baseline', base, '--json']);
  assert.equal(some.code, 0, some.out);
  assert.equal((JSON.parse(some.out) as { verdict: string }).verdict, 'warn');
  const mild = cli('compare', [run(join(d, 'mild'), 1.12, 10), '--baseline', base, '--json']);
  assert.equal(mild.code, 0, mild.out);
  assert.equal((JSON.parse(mild.out) as { verdict: string }).verdict, 'pass');
  // The same 12 % over 10 seconds (10 windows a side) is significant and fails: the wide band is what kept it quiet.
  const big = cli('compare', [run(join(d, 'mild2'), 1.12, 200), '--baseline', run(join(d, 'base2'), 1, 200)]);
  assert.equal(big.code, 3);
});

void test('compare: counters are compared by rate and gauges by last and highest value, each in its own direction', async () => {
  const { compareSnapshots } = await import('../../src/reporting/compare.ts');
  const { worseDirection } = await import('../../src/reporting/baseline.ts');
  assert.equal(worseDirection('http_req_duration', 'trend'), 'up');
  assert.equal(worseDirection('llm_tokens_per_second', 'trend'), 'down');
  assert.equal(worseDirection('artifact_upload_mbps', 'trend'), 'down');
  assert.equal(worseDirection('cache_hit', 'rate'), 'down');
  assert.equal(worseDirection('http_req_failed', 'rate'), 'up');
  assert.equal(worseDirection('http_reqs', 'counter'), 'down');
  assert.equal(worseDirection('dropped_iterations', 'counter'), 'up');
  assert.equal(worseDirection('bus_messages_lost', 'counter'), 'up');
  assert.equal(worseDirection('target_rss_bytes', 'gauge'), 'up');
  const snap = (entries: Record<string, import('../../src/reporting/baseline.ts').BaselineEntry>) => ({
    kind: 'agentload-baseline' as const,
    version: 1 as const,
    createdAt: '',
    source: 's',
    entries,
  });
  const base = snap({
    'metric http_reqs': {
      kind: 'counter',
      count: 500,
      values: { rate: 100 },
      worse: 'down',
      unit: 'value',
      gated: ['rate'],
      windows: { rate: [99, 101, 100, 98, 102, 100] },
    },
    'metric target_rss_bytes': {
      kind: 'gauge',
      count: 60,
      values: { value: 100, max: 120 },
      worse: 'up',
      unit: 'value',
      gated: ['value', 'max'],
    },
    'metric llm_tokens_per_second': {
      kind: 'trend',
      count: 100,
      values: { avg: 50, p50: 50, p95: 60, p99: 70 },
      worse: 'down',
      unit: 'value',
      gated: ['p50', 'p95'],
      windows: { p50: [49, 50, 51, 50, 50, 49], p95: [59, 60, 61, 60, 60, 59] },
    },
  });
  const worse = snap({
    'metric http_reqs': {
      kind: 'counter',
      count: 500,
      values: { rate: 80 },
      worse: 'down',
      unit: 'value',
      gated: ['rate'],
      windows: { rate: [79, 81, 80, 78, 82, 80] },
    },
    'metric target_rss_bytes': {
      kind: 'gauge',
      count: 60,
      values: { value: 100, max: 160 },
      worse: 'up',
      unit: 'value',
      gated: ['value', 'max'],
    },
    'metric llm_tokens_per_second': {
      kind: 'trend',
      count: 100,
      values: { avg: 40, p50: 40, p95: 48, p99: 56 },
      worse: 'down',
      unit: 'value',
      gated: ['p50', 'p95'],
      windows: { p50: [39, 40, 41, 40, 40, 39], p95: [47, 48, 49, 48, 48, 47] },
    },
  });
  const c = compareSnapshots(worse, base);
  const status = (key: string, stat: string): string | undefined => c.rows.find((r) => r.key === key && r.stat === stat)?.status;
  assert.equal(status('metric http_reqs', 'rate'), 'fail', 'throughput 20 % down');
  assert.equal(status('metric target_rss_bytes', 'max'), 'fail', 'peak memory 33 % up (a gauge has no windows: judged against 3 × 10 %)');
  assert.equal(status('metric target_rss_bytes', 'value'), 'ok');
  assert.equal(status('metric llm_tokens_per_second', 'p50'), 'fail', 'tokens/s 20 % down is worse, not better');
  const better = compareSnapshots(base, worse);
  assert.equal(better.rows.find((r) => r.key === 'metric http_reqs')?.status, 'improved');
  assert.equal(better.verdict, 'pass');
});

void test('compare: --save-baseline writes a snapshot that later comparisons read', () => {
  const d = tmp();
  const baselines = join(d, 'baselines');
  const saved = cli('compare', [run(join(d, 'a'), 1), '--save-baseline', 'api-mvp'], { AGENTLOAD_BASELINES_DIR: baselines });
  assert.equal(saved.code, 0, saved.err);
  const file = join(baselines, 'api-mvp.json');
  assert.ok(existsSync(file));
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { kind: string }).kind, 'agentload-baseline');
  assert.equal(cli('compare', [run(join(d, 'b'), 1.25), '--baseline', file]).code, 3);
  const bad = cli('compare', [join(d, 'a'), '--save-baseline', '../evil'], { AGENTLOAD_BASELINES_DIR: baselines });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /baseline name "..\/evil"/);
});

void test('report with --baseline: regression exit code 3 and the comparison in every output', async () => {
  const d = tmp();
  const base = run(join(d, 'base'), 1);
  const cur = run(join(d, 'cur'), 1.3);
  const res = await buildReport({ runDir: cur, baseline: base, historyDir: false });
  assert.equal(res.exitCode, 3);
  assert.equal(res.verdict, 'fail');
  assert.match(readFileSync(join(cur, 'summary.md'), 'utf8'), /\*\*Baseline\*\*.*fail/);
  assert.match(readFileSync(join(cur, 'report.html'), 'utf8'), /Comparison with the baseline/);
  assert.match(readFileSync(join(cur, 'junit.xml'), 'utf8'), /classname="baseline"/);
  // A baseline from a run dir that already has verdict.json uses its snapshot.
  const again = await buildReport({ runDir: run(join(d, 'cur2'), 1), baseline: cur, historyDir: false });
  assert.equal(again.exitCode, 0);
});

void test('report CLI: usage errors exit 2 with a one-line message', () => {
  const r = cli('report', [join(tmp(), 'missing')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /^report: run .*missing does not exist/);
  assert.equal(cli('report', []).code, 2);
  assert.equal(cli('compare', ['x']).code, 2);
});
