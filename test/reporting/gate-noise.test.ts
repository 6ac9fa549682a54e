/**
 * The gate on a noisy machine: each run records how busy the machine was (run.json `machine`, and the
 * generator's own http_req_sending p99); a latency tail that would fail while the machine was busier than during
 * every baseline run is "inconclusive" (exit 6), never a pass and never a fail, while the median, error rates and
 * throughput are judged as before. And the between-run bound of figures whose runs all landed in one sketch bin
 * keeps a width of one bin instead of collapsing onto the median.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { combineSnapshots, noiseOf, type BaselineEntry, type BaselineSnapshot, type RunNoise } from '../../src/reporting/baseline.ts';
import { compareSnapshots, judgeNoise } from '../../src/reporting/compare.ts';
import { SKETCH_BIN_LOG_WIDTH, runSpread } from '../../src/reporting/stats.ts';
import { buildReport, loadBaseline, saveBaseline } from '../../src/reporting/index.ts';
import { updateHistory } from '../../src/reporting/history.ts';
import { compareMain } from '../../src/reporting/cli.ts';
import { EXIT_CODES } from '../../shared/exit-codes.ts';
import { httpRun, rng, tmp } from './helpers.ts';

const KEY = 'metric http_req_duration';

/**
 * One run's snapshot as session 7's full-size runs looked (20 ms service time, 200 req/s): 120 windows of p50 near
 * `p50`, p95 near `p95`, p99 near `p99` (±1 % within the run), and its machine-noise figures.
 */
function run(seed: number, p: { p50: number; p95: number; p99: number }, noise: RunNoise): BaselineSnapshot {
  const r = rng(seed);
  const w = (level: number): number[] => Array.from({ length: 120 }, () => level * (1 + 0.01 * (r() - 0.5)));
  const entry: BaselineEntry = {
    kind: 'trend',
    count: 24_000,
    values: { avg: p.p50, p50: p.p50, p95: p.p95, p99: p.p99 },
    worse: 'up',
    unit: 'ms',
    gated: ['p50', 'p95', 'p99'],
    windows: { p50: w(p.p50), p95: w(p.p95), p99: w(p.p99) },
  };
  return { kind: 'agentload-baseline', version: 2, createdAt: '', source: `run-${seed}`, entries: { [KEY]: entry }, noise };
}

/** Three baseline runs saved back to back on a quiet machine (session 7: p99 26.0–26.4 ms, sending p99 0.85–1.63 ms). */
const QUIET: RunNoise[] = [
  { loadPerCore: 0.55, schedLagP99Ms: 0.6, sendingP99Ms: 0.85 },
  { loadPerCore: 0.62, schedLagP99Ms: 0.9, sendingP99Ms: 1.63 },
  { loadPerCore: 0.48, schedLagP99Ms: 0.7, sendingP99Ms: 1.2 },
];
const baseline = (): BaselineSnapshot =>
  combineSnapshots([
    run(1, { p50: 21.19, p95: 22.99, p99: 26.2 }, QUIET[0] ?? {}),
    run(2, { p50: 21.06, p95: 22.53, p99: 26.0 }, QUIET[1] ?? {}),
    run(3, { p50: 21.19, p95: 23.45, p99: 26.4 }, QUIET[2] ?? {}),
  ]);
/** A run on a machine with other work on it (session 7's second failing rerun: load 6.3, sending p99 2.71 ms). */
const BUSY: RunNoise = { loadPerCore: 3.1, schedLagP99Ms: 6.5, sendingP99Ms: 2.71 };
const statusOf = (c: ReturnType<typeof compareSnapshots>, stat: string): string | undefined =>
  c.rows.find((x) => x.key === KEY && x.stat === stat)?.status;

void test('gate, noisy machine: equal runs pass on a quiet machine and on a busy one', () => {
  const b = baseline();
  assert.equal(compareSnapshots(run(10, { p50: 21.2, p95: 23.0, p99: 26.1 }, QUIET[1] ?? {}), b).verdict, 'pass');
  assert.equal(compareSnapshots(run(11, { p50: 21.2, p95: 23.0, p99: 26.1 }, BUSY), b).verdict, 'pass');
});

void test('gate, noisy machine: a tail that rose +58 % with p50 +1 % while the machine was busier is inconclusive, not a fail; the same tail on a quiet machine fails', () => {
  const b = baseline();
  // Session 7's second false fail: p50 21.19 → 21.47 (+1 %), p95 +21 %, p99 +58 %, on a machine at load 6.3.
  const tail = { p50: 21.47, p95: 27.9, p99: 41.3 };
  const busy = compareSnapshots(run(12, tail, BUSY), b);
  assert.equal(busy.verdict, 'inconclusive');
  assert.equal(statusOf(busy, 'p99'), 'inconclusive');
  assert.equal(statusOf(busy, 'p95'), 'inconclusive');
  assert.equal(statusOf(busy, 'p50'), 'ok', 'the median is judged as before');
  const note = busy.rows.find((x) => x.key === KEY && x.stat === 'p99')?.note ?? '';
  assert.match(
    note,
    /^inconclusive: the machine was busier than during the baseline \(load average per core 0\.62 → 3\.10 \(baseline runs 0\.48–0\.62; busier past 0\.87\)/,
  );
  assert.match(note, /http_req_sending p99 1\.63 ms → 2\.71 ms/);
  assert.ok(busy.noise?.busier);
  // The same tail with the machine as quiet as during the baseline: a regression of the tail alone still fails.
  const quiet = compareSnapshots(run(13, tail, { loadPerCore: 0.6, schedLagP99Ms: 0.8, sendingP99Ms: 1.3 }), b);
  assert.equal(quiet.verdict, 'fail');
  assert.equal(statusOf(quiet, 'p99'), 'fail');
  assert.equal(quiet.noise?.busier, false);
});

void test('gate, noisy machine: a slowdown of every request still fails on a busy machine (on p50); the tails it also moved are inconclusive', () => {
  const c = compareSnapshots(run(14, { p50: 24.6, p95: 27.5, p99: 41 }, BUSY), baseline());
  assert.equal(c.verdict, 'fail');
  assert.equal(statusOf(c, 'p50'), 'fail');
  assert.equal(statusOf(c, 'p99'), 'inconclusive');
});

void test('gate, noisy machine: a machine only a little busier than the worst baseline run, or with no figures to compare, is judged as before', () => {
  const tail = { p50: 21.2, p95: 27.9, p99: 41.3 };
  // 20 % over the worst run on every figure: inside the 25 % margin.
  const little: RunNoise = { loadPerCore: 0.74, schedLagP99Ms: 0.9 + 1, sendingP99Ms: 1.63 * 1.2 };
  assert.equal(compareSnapshots(run(15, tail, little), baseline()).verdict, 'fail');
  // A baseline and a run that recorded no noise figures at all: no judgement, as before.
  const bare = (s: BaselineSnapshot): BaselineSnapshot => {
    const out = { ...s };
    delete out.noise;
    delete out.noisePerRun;
    return out;
  };
  const c = compareSnapshots(bare(run(16, tail, BUSY)), bare(baseline()));
  assert.equal(c.verdict, 'fail');
  assert.equal(c.noise, undefined);
});

void test('gate, noisy machine: the margin and the floors of the noise figures', () => {
  const runs: RunNoise[] = [
    { stealPct: 0, sendingP99Ms: 0.2 },
    { stealPct: 0.1, sendingP99Ms: 0.3 },
  ];
  // CPU steal 0.1 → 1.5 %: 15× the worst, but under its 2-point floor; sending 0.3 → 0.5 ms: +67 %, under its 0.25 ms floor.
  assert.equal(judgeNoise({ stealPct: 1.5, sendingP99Ms: 0.5 }, runs, 25)?.busier, false);
  assert.equal(judgeNoise({ stealPct: 2.5 }, runs, 25)?.busier, true);
  assert.equal(judgeNoise({ sendingP99Ms: 0.6 }, runs, 25)?.busier, true);
  // Figures only one side has are left out; none in common: no judgement.
  assert.equal(judgeNoise({ loadPerCore: 9 }, runs, 25), undefined);
  // --noise-margin-pct: 100 % asks for twice the worst run.
  assert.equal(judgeNoise({ sendingP99Ms: 0.55 }, [{ sendingP99Ms: 0.3 }], 100)?.busier, false);
});

void test("gate, noisy machine: a snapshot saved before runs recorded noise still gives the generator's http_req_sending p99", () => {
  const s = run(17, { p50: 21, p95: 23, p99: 26 }, {});
  delete s.noise;
  s.entries['metric http_req_sending'] = {
    kind: 'trend',
    count: 24_000,
    values: { p50: 0.05, p95: 0.4, p99: 1.3 },
    worse: 'up',
    unit: 'ms',
  };
  assert.deepEqual(noiseOf(s), { sendingP99Ms: 1.3 });
  assert.deepEqual(combineSnapshots([s, s, s]).noisePerRun, [{ sendingP99Ms: 1.3 }, { sendingP99Ms: 1.3 }, { sendingP99Ms: 1.3 }]);
});

void test('gate, degenerate bound: runs that all landed in one sketch bin keep a bound one bin wide (σ floor), not the median itself', () => {
  assert.ok(Math.abs(SKETCH_BIN_LOG_WIDTH - 0.009995) < 1e-5, String(SKETCH_BIN_LOG_WIDTH));
  const same = [21.22, 21.22, 21.22];
  assert.equal(runSpread(same, 0.01, 'log')?.upper, 21.22, 'without a floor the bound is the median');
  const s = runSpread(same, 0.01, 'log', SKETCH_BIN_LOG_WIDTH);
  // t(0.99, 2) · 0.01 · √(4/3) = 0.0803: exp → +8.4 %.
  assert.ok(s && Math.abs(s.upper / 21.22 - 1.0836) < 0.002, JSON.stringify(s));
  // A floor never narrows a real spread.
  assert.deepEqual(runSpread([20, 21, 23], 0.01, 'log', SKETCH_BIN_LOG_WIDTH), runSpread([20, 21, 23], 0.01, 'log'));
  // End to end: p50 in one bin in all three runs, a rerun one bin (1 %) higher, judged at --fail-pct 0.5 and a
  // floor of 0: the windows call it significant, but one bin is inside what three runs of one bin predict.
  const b = combineSnapshots([1, 2, 3].map((i) => run(i, { p50: 21.22, p95: 23, p99: 26.2 }, {})));
  const c = compareSnapshots(run(18, { p50: 21.43, p95: 23, p99: 26.2 }, {}), b, { failPct: 0.5, warnPct: 0.25, floorMs: 0 });
  const row = c.rows.find((x) => x.key === KEY && x.stat === 'p50');
  assert.ok(row?.p !== undefined && row.p < 0.01, `p = ${String(row?.p)}`);
  assert.equal(row.status, 'ok', row.note);
  // Two bins past the floor's bound (+10 %) still fails.
  assert.equal(statusOf(compareSnapshots(run(19, { p50: 23.4, p95: 23, p99: 26.2 }, {}), b, { failPct: 0.5, floorMs: 0 }), 'p50'), 'fail');
});

/**
 * Run folders of scenario `api` under `root`: 3000 requests near 20 ms, 3 % of them `tailMs` slower, and run.json
 * with the engine's exit code and the machine's load per core and scheduling lag p99.
 */
function runFolders(
  root: string,
  seed: number,
): (tailMs: number, machine: { load: number; lag: number }, engineExitCode: number) => string {
  let k = 0;
  return (tailMs, machine, engineExitCode) => {
    const dir = join(root, `api-20260101-120000-${String(++k)}`);
    mkdirSync(dir);
    const r = rng(seed + k);
    writeFileSync(
      join(dir, 'out.json'),
      httpRun({ n: 3000, latency: () => 20 * (1 + 0.02 * r()) + (r() < 0.03 ? tailMs * (0.5 + r()) : 0) }),
    );
    writeFileSync(
      join(dir, 'run.json'),
      JSON.stringify({
        schema: 'agentload.run/1',
        scenario: { name: 'api', path: 'scenarios/api.ts' },
        engineExitCode,
        exitCode: engineExitCode,
        machine: {
          cores: 2,
          loadPerCore: { mean: machine.load, max: machine.load, samples: 60 },
          schedLagMs: { p50: 0.1, p99: machine.lag, max: 9 },
          stealPct: 0,
        },
      }),
    );
    return dir;
  };
}

void test('gate, noisy machine, end to end: run.json `machine` is kept in the snapshot; an inconclusive run exits 6 and says so in verdict.json, summary.md, junit.xml and report.html', async () => {
  const d = tmp('agentload-gate-noise-');
  const baselines = join(d, 'baselines');
  const folders = runFolders(d, 700);
  const folder = (tailMs: number, machine: { load: number; lag: number }): string => folders(tailMs, machine, 0);
  for (let i = 0; i < 3; i++) await saveBaseline(folder(4, { load: 0.5 + i * 0.05, lag: 0.7 }), 'main', baselines);
  const saved = await loadBaseline('main', baselines);
  const perRun = saved.noisePerRun ?? [];
  assert.deepEqual(
    perRun.map((x) => x.loadPerCore),
    [0.5, 0.55, 0.6],
  );
  assert.equal(perRun[0]?.schedLagP99Ms, 0.7);
  // The tail 10× longer, the body as before, on a machine at 3 per core: inconclusive, exit 6.
  const busy = folder(40, { load: 3, lag: 6 });
  const r = await buildReport({ runDir: busy, baseline: 'main', baselinesDir: baselines, historyDir: false });
  assert.equal(r.exitCode, EXIT_CODES.inconclusive);
  assert.equal(r.exitCode, 6);
  assert.equal(r.verdict, 'inconclusive');
  assert.match(
    r.reasons.join('\n'),
    /^inconclusive against the baseline: the machine was busier than during the baseline \(load average per core 0\.60 → 3\.00/m,
  );
  const v = JSON.parse(readFileSync(join(busy, 'verdict.json'), 'utf8')) as {
    verdict: string;
    exitCode: number;
    comparison: { verdict: string; rows: { status: string }[] };
  };
  assert.equal(v.verdict, 'inconclusive');
  assert.equal(v.exitCode, 6);
  assert.equal(v.comparison.verdict, 'inconclusive');
  assert.ok(v.comparison.rows.some((x) => x.status === 'inconclusive'));
  assert.match(
    readFileSync(join(busy, 'summary.md'), 'utf8'),
    /INCONCLUSIVE \(exit 6\)[\s\S]*The machine was busier than during the baseline/,
  );
  assert.match(
    readFileSync(join(busy, 'junit.xml'), 'utf8'),
    /<failure message="inconclusive: the machine was busier than during the baseline"/,
  );
  assert.match(
    readFileSync(join(busy, 'report.html'), 'utf8'),
    /<div class="banner inconclusive"><span class="v">INCONCLUSIVE<\/span><span>exit code 6<\/span>/,
  );
  // The same tail on a machine as quiet as during the baseline: a regression, exit 3.
  const quiet = await buildReport({
    runDir: folder(40, { load: 0.55, lag: 0.8 }),
    baseline: 'main',
    baselinesDir: baselines,
    historyDir: false,
  });
  assert.equal(quiet.exitCode, EXIT_CODES.regression);
});

void test('gate, noisy machine: an inconclusive comparison never hides the engine judging its thresholds crossed (99 before 6)', async () => {
  const d = tmp('agentload-gate-noise-99-');
  const baselines = join(d, 'baselines');
  const folders = runFolders(d, 900);
  const folder = (tailMs: number, load: number, engineExitCode: number): string => folders(tailMs, { load, lag: 0.7 }, engineExitCode);
  for (let i = 0; i < 3; i++) await saveBaseline(folder(4, 0.5, 0), 'main', baselines);
  // The engine said 99 (its thresholds crossed) and the tail would have failed on a busier machine: 99, a fail.
  const r = await buildReport({ runDir: folder(40, 3, 99), baseline: 'main', baselinesDir: baselines, historyDir: false });
  assert.deepEqual([r.verdict, r.exitCode], ['fail', EXIT_CODES.thresholdsFailed]);
  assert.ok(
    r.reasons.some((x) => /^inconclusive against the baseline/.test(x)),
    r.reasons.join('\n'),
  );
  // Nor does a regression found on a machine as quiet as the baseline's (the run command exits 99: so does the report).
  const q = await buildReport({ runDir: folder(40, 0.5, 99), baseline: 'main', baselinesDir: baselines, historyDir: false });
  assert.deepEqual([q.verdict, q.exitCode], ['fail', EXIT_CODES.thresholdsFailed]);
});

void test('gate, noisy machine: the history page colours an inconclusive run (its badge is white text otherwise: unreadable)', async () => {
  const d = tmp('agentload-gate-noise-history-');
  const dir = join(d, 'api-20260101-120000');
  mkdirSync(dir);
  writeFileSync(join(dir, 'out.json'), httpRun({ n: 50, latency: () => 5 }));
  const now = new Date('2026-01-01T12:05:00Z'); // run folders older than the history's retention are removed
  await buildReport({ runDir: dir, historyDir: d, now: () => now });
  // The badge of each verdict the page can show has a background (the verdict.json of a run judged inconclusive).
  const doc = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'verdict.json'), JSON.stringify({ ...doc, verdict: 'inconclusive', exitCode: 6 }));
  await updateHistory(d, { now });
  const html = readFileSync(join(d, 'index.html'), 'utf8');
  assert.match(html, /<span class="b inconclusive">inconclusive<\/span>/);
  assert.match(html, /\.b\.inconclusive\{background:#[0-9a-f]{6}\}/);
});

void test('gate, noisy machine: npm run compare exits 6 on an inconclusive comparison and says why; --noise-margin-pct is checked', async () => {
  const d = tmp('agentload-gate-noise-compare-');
  const baselines = join(d, 'baselines');
  const folder = runFolders(d, 1100);
  for (let i = 0; i < 3; i++) await saveBaseline(folder(4, { load: 0.5, lag: 0.7 }, 0), 'main', baselines);
  const busy = folder(40, { load: 3, lag: 6 }, 0);
  const lines: string[] = [];
  const io = { out: (x: string) => lines.push(x), err: (x: string) => lines.push(x) };
  assert.equal(await compareMain([busy, '--baseline', 'main'], io, baselines), EXIT_CODES.inconclusive);
  assert.ok(
    lines.some((x) => x.startsWith('inconclusive: the machine was busier than during the baseline (load average per core 0.50 → 3.00')),
    lines.join('\n'),
  );
  // A margin wide enough to take in a load of 3 per core: the same tail is a regression.
  assert.equal(
    await compareMain([busy, '--baseline', 'main', '--noise-margin-pct', '1000', '--json'], io, baselines),
    EXIT_CODES.regression,
  );
  lines.length = 0;
  assert.equal(await compareMain([busy, '--baseline', 'main', '--noise-margin-pct', 'lots'], io, baselines), EXIT_CODES.usage);
  assert.deepEqual(lines, ['compare: --noise-margin-pct must be a number, got "lots"']);
});
