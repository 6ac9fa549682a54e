/**
 * The regression gate's statistics on synthetic distributions: equal runs pass, shifts of 5/10/20 %
 * are told apart from noise, floors and information-only figures never fail, saved baselines combine,
 * and a baseline of 3+ runs adds the between-run condition (a run inside the runs' spread passes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { combineSnapshots, type BaselineEntry, type BaselineSnapshot } from '../../src/reporting/baseline.ts';
import { compareSnapshots, describeRow, holmAdjust } from '../../src/reporting/compare.ts';
import { proportionTestGreater, rankTestGreater, runSpread } from '../../src/reporting/stats.ts';
import { buildReport, loadBaseline, saveBaseline } from '../../src/reporting/index.ts';
import { httpRun, rng, tmp } from './helpers.ts';
import { trendWindows } from '../../src/reporting/time-series.ts';
import { addSample, newAgg, type Agg } from '../../src/reporting/aggregate.ts';

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** `n` per-window p95 values around `level` with relative noise `cv` (right-skewed: jitter only adds). */
function windows(r: () => number, n: number, level: number, cv: number): number[] {
  return Array.from({ length: n }, () => level * (1 + cv * Math.abs(gauss(r))));
}

function snapshot(p95: number[], extra: Record<string, BaselineEntry> = {}): BaselineSnapshot {
  const sorted = [...p95].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return {
    kind: 'agentload-baseline',
    version: 2,
    createdAt: '',
    source: 'synthetic',
    entries: {
      'endpoint GET /api/agents/:id/status': {
        kind: 'trend',
        count: p95.length * 20,
        values: { avg: median * 0.6, p50: median * 0.6, p95: median, p99: median * 1.2 },
        worse: 'up',
        unit: 'ms',
        gated: ['p95'],
        windows: { p95 },
      },
      ...extra,
    },
  };
}

const statusOf = (c: ReturnType<typeof compareSnapshots>, key: string, stat: string): string | undefined =>
  c.rows.find((r) => r.key === key && r.stat === stat)?.status;
const STATUS = 'endpoint GET /api/agents/:id/status';

void test('gate: equal distributions pass; 200 pairs of noisy equal runs give about 1 % significant "regressions"', () => {
  const r = rng(1);
  let significant = 0;
  let failed = 0;
  for (let i = 0; i < 200; i++) {
    const base = windows(r, 20, 4, 0.3);
    const cur = windows(r, 20, 4, 0.3);
    if ((rankTestGreater(cur, base)?.p ?? 1) < 0.01) significant++;
    if (compareSnapshots(snapshot(cur), snapshot(base)).verdict === 'fail') failed++;
  }
  // α = 0.01: about 2 of 200 by chance (at most 5 allowed); a fail also needs the 10 % and the floor.
  assert.ok(significant <= 5, `significant: ${significant} of 200`);
  assert.ok(failed <= 5, `failed: ${failed} of 200`);
});

void test('gate: shifts of 20 % and 10 % in 30 low-noise windows fail; 5 % never fails', () => {
  const r = rng(2);
  const base = windows(r, 30, 10, 0.05);
  const at = (shift: number): string | undefined =>
    statusOf(compareSnapshots(snapshot(windows(r, 30, 10 * (1 + shift), 0.05)), snapshot(base)), STATUS, 'p95');
  assert.equal(at(0.2), 'fail', '+20 %');
  // +10 % of the level is just past the fail line for the figure (its median moves by about 10 %); it must at least warn.
  assert.match(at(0.12) ?? '', /fail/, '+12 %');
  assert.match(at(0.1) ?? '', /fail|warn/, '+10 %');
  assert.notEqual(at(0.05), 'fail', '+5 %');
  assert.notEqual(at(0), 'fail', '+0 %');
});

void test('gate: a 12 % change in very noisy windows is "not significant" and passes; the same change with low noise fails', () => {
  const r = rng(3);
  // Noisy: the run's own windows vary by ±60 %, so a 12 % higher median is well within what one run does.
  const noisyBase = windows(r, 8, 4, 0.6);
  const noisyCur = noisyBase.map((v) => v * 1.12).reverse();
  noisyCur.push(...windows(r, 2, 2, 0));
  const c = compareSnapshots(snapshot(noisyCur), snapshot(noisyBase));
  const row = c.rows.find((x) => x.key === STATUS && x.stat === 'p95');
  assert.ok(row && row.p !== undefined && row.p > 0.01, `p = ${String(row?.p)}`);
  assert.equal(row.status, 'ok');
  assert.equal(c.verdict, 'pass');
  const quietBase = windows(r, 20, 10, 0.02);
  assert.equal(compareSnapshots(snapshot(quietBase.map((v) => v * 1.12)), snapshot(quietBase)).verdict, 'fail');
});

void test('gate: a significant change smaller than the absolute floor passes; --floor-ms 0 makes it fail', () => {
  const r = rng(4);
  const base = windows(r, 30, 2, 0.01);
  const cur = base.map((v) => v + 0.3); // +15 % of 2 ms, but only 0.3 ms
  const c = compareSnapshots(snapshot(cur), snapshot(base));
  assert.equal(statusOf(c, STATUS, 'p95'), 'ok');
  assert.match(c.rows.find((x) => x.key === STATUS && x.stat === 'p95')?.note ?? '', /floor/);
  assert.equal(compareSnapshots(snapshot(cur), snapshot(base), { floorMs: 0 }).verdict, 'fail');
});

void test('gate: sub-timings, p50 and metrics without thresholds are information only, however much worse', () => {
  const r = rng(5);
  const base = windows(r, 20, 4, 0.1);
  const sending = (v: number): Record<string, BaselineEntry> => ({
    'metric http_req_sending': { kind: 'trend', count: 400, values: { avg: v, p50: v, p95: v, p99: v }, worse: 'up', unit: 'ms' },
  });
  const c = compareSnapshots(snapshot(base, sending(1.09)), snapshot(base, sending(0.23)));
  assert.equal(statusOf(c, 'metric http_req_sending', 'p95'), 'info');
  assert.equal(statusOf(c, STATUS, 'p50'), 'info');
  assert.equal(c.verdict, 'pass');
});

void test('gate: error rates by a proportion test: 0 → 3 % of 1,000 fails, 0.1 → 0.2 % does not', () => {
  const errors = (events: number, count = 1000): Record<string, BaselineEntry> => ({
    [`${STATUS} errors`]: { kind: 'rate', count, events, values: { rate: events / count }, worse: 'up', unit: 'ratio', gated: ['rate'] },
  });
  const w = [4, 4.1, 4.2, 4.05, 4.15];
  assert.equal(compareSnapshots(snapshot(w, errors(30)), snapshot(w, errors(0))).verdict, 'fail');
  assert.equal(compareSnapshots(snapshot(w, errors(2)), snapshot(w, errors(1))).verdict, 'pass');
  assert.ok((proportionTestGreater(30, 1000, 0, 1000) ?? 1) < 1e-6);
  assert.ok((proportionTestGreater(2, 1000, 1, 1000) ?? 0) > 0.2);
  assert.equal(proportionTestGreater(0, 0, 0, 10), undefined);
});

void test('gate: rank test: too few windows gives no test; lower-is-worse figures are judged downwards', () => {
  assert.equal(rankTestGreater([1, 2, 3, 4], [1, 2, 3, 4, 5]), undefined);
  const up = rankTestGreater([10, 11, 12, 13, 14], [1, 2, 3, 4, 5]);
  assert.ok(up && up.p < 0.01 && up.u === 25, JSON.stringify(up));
  assert.ok((rankTestGreater([1, 2, 3, 4, 5], [10, 11, 12, 13, 14])?.p ?? 0) > 0.99);
  assert.equal(rankTestGreater([3, 3, 3, 3, 3], [3, 3, 3, 3, 3])?.p, 1);
  const rate = (values: number[]): BaselineSnapshot => ({
    kind: 'agentload-baseline',
    version: 2,
    createdAt: '',
    source: 's',
    entries: {
      'metric http_reqs': {
        kind: 'counter',
        count: 2000,
        values: { rate: values.reduce((a, b) => a + b) / values.length },
        worse: 'down',
        unit: 'value',
        gated: ['rate'],
        windows: { rate: values },
      },
    },
  });
  const r = rng(6);
  const base = Array.from({ length: 20 }, () => 100 + gauss(r));
  assert.equal(compareSnapshots(rate(base.map((v) => v * 0.8)), rate(base)).verdict, 'fail', 'throughput 20 % down');
  const faster = compareSnapshots(rate(base.map((v) => v * 1.2)), rate(base));
  assert.equal(faster.verdict, 'pass');
  assert.equal(faster.rows[0]?.status, 'improved');
});

void test('gate: a combined baseline is the median of its runs with their windows pooled, so one slow run does not move it', () => {
  const runs = [4, 4.2, 9, 4.1, 3.9].map((level, i) => snapshot(windows(rng(10 + i), 10, level, 0.05)));
  const c = combineSnapshots(runs);
  const e = c.entries[STATUS];
  assert.ok(e);
  assert.equal(c.runs, 5);
  assert.equal(e.windows?.p95?.length, 50);
  assert.equal(e.count, 5 * 200);
  assert.ok((e.values.p95 ?? 0) > 4 && (e.values.p95 ?? 0) < 4.6, `median p95 ${String(e.values.p95)}`);
  assert.deepEqual(
    e.perRun?.p95,
    runs.map((x) => x.entries[STATUS]?.values.p95),
    'each run keeps its own value',
  );
});

/** Five baseline runs whose levels spread as runs of one build do (4.0–6.0 ms, median 4.6), each with quiet windows. */
const SPREAD_LEVELS = [4.0, 4.6, 5.4, 4.3, 6.0];
const spreadRuns = (levels: readonly number[] = SPREAD_LEVELS): BaselineSnapshot[] =>
  levels.map((level, i) => snapshot(windows(rng(20 + i), 20, level, 0.03)));
const rowOf = (c: ReturnType<typeof compareSnapshots>): NonNullable<ReturnType<typeof compareSnapshots>['rows'][number]> => {
  const row = c.rows.find((x) => x.key === STATUS && x.stat === 'p95');
  assert.ok(row);
  return row;
};

void test("gate, between runs: a rerun inside the baseline runs' spread passes although its windows differ significantly", () => {
  const base = combineSnapshots(spreadRuns());
  // 5.8 ms: 26 % above the median of the runs and above 80 % of their windows (p ≪ 0.01), yet below the worst run.
  const row = rowOf(compareSnapshots(snapshot(windows(rng(30), 20, 5.8, 0.03)), base));
  assert.ok((row.change ?? 0) > 0.2, `change ${String(row.change)}`);
  assert.ok(row.p !== undefined && row.p < 0.001, `p = ${String(row.p)}`);
  assert.equal(row.status, 'ok', 'the first three conditions hold; the between-run condition does not');
  assert.match(row.note ?? '', /within the baseline runs' spread: 5 runs from 4\.\d\d ms to 6\.\d\d ms, 99 % prediction bound \d+\.\d+ ms/);
  // Above the worst run but inside what five runs this spread predict for one more run: still not a regression.
  const above = rowOf(compareSnapshots(snapshot(windows(rng(31), 20, 7.5, 0.03)), base));
  assert.equal(above.status, 'ok');
  assert.ok(above.spread && above.spread.worst < 6.3 && above.spread.limit > 7.8, JSON.stringify(above.spread));
});

void test("gate, between runs: a rerun well outside the runs' spread fails and says it is worse than every baseline run", () => {
  const base = combineSnapshots(spreadRuns());
  const c = compareSnapshots(snapshot(windows(rng(32), 20, 12, 0.03)), base);
  const row = rowOf(c);
  assert.equal(row.status, 'fail');
  assert.equal(c.verdict, 'fail');
  assert.match(row.note ?? '', /^worse than all 5 baseline runs \(worst 6\.\d\d ms\) and beyond their 99 % bound \d+\.\d\d ms$/);
  // Better than the median but not better than every run: not an improvement; far below them all: improved.
  assert.equal(rowOf(compareSnapshots(snapshot(windows(rng(33), 20, 3.9, 0.03)), base)).status, 'ok');
  assert.equal(rowOf(compareSnapshots(snapshot(windows(rng(34), 20, 1.5, 0.03)), base)).status, 'improved');
});

void test('gate, between runs: the bound is a t prediction interval on the logs; error rates on the values, so 0 % in every run still catches 3 %', () => {
  const s = runSpread([5.23, 6.11, 7.43, 6.08, 5.37], 0.01, 'log');
  // mean of logs 1.791, sd 0.1419, t(0.99, 4) = 3.747, √1.2: exp(1.791 + 0.582) = 10.6 ms.
  assert.ok(s && Math.abs(s.upper - 10.61) < 0.05 && Math.abs(s.lower - 3.39) < 0.05, JSON.stringify(s));
  assert.equal(runSpread([5, 6], 0.01, 'log'), undefined, 'two runs: no spread');
  const errors = (events: number): Record<string, BaselineEntry> => ({
    [`${STATUS} errors`]: {
      kind: 'rate',
      count: 1000,
      events,
      values: { rate: events / 1000 },
      worse: 'up',
      unit: 'ratio',
      gated: ['rate'],
    },
  });
  const w = [4, 4.1, 4.2, 4.05, 4.15];
  const base = combineSnapshots([0, 0, 0, 0, 0].map((n) => snapshot(w, errors(n))));
  assert.deepEqual(base.entries[`${STATUS} errors`]?.perRun?.rate, [0, 0, 0, 0, 0]);
  const c = compareSnapshots(snapshot(w, errors(30)), base);
  assert.equal(c.rows.find((x) => x.key === `${STATUS} errors`)?.status, 'fail');
});

/**
 * How often the between-run rule calls a rerun worse, over 4,000 simulated baselines of `runs` runs with
 * log-normal run-to-run noise `sigma` and a rerun `shift` slower (0: unchanged code).
 */
function betweenRunRate(sigma: number, runs: number, shift: number): number {
  const r = rng(17);
  let caught = 0;
  const trials = 4000;
  for (let i = 0; i < trials; i++) {
    const base = Array.from({ length: runs }, () => 4.7 * Math.exp(sigma * gauss(r)));
    const rerun = 4.7 * (1 + shift) * Math.exp(sigma * gauss(r));
    const s = runSpread(base, 0.01, 'log');
    if (s !== undefined && rerun > s.upper) caught++;
  }
  return caught / trials;
}

void test('gate, between runs, simulated: unchanged code is called worse about 1 % of the time at any noise; what it catches depends on the run-to-run spread', () => {
  // Unchanged code: about α = 1 % false fails whatever the noise and the number of runs (a normal instead of a
  // t quantile gives 4-7 % at 3-5 runs, α = 5 % about 5 %; the exact bound test above holds √(1 + 1/n)).
  for (const sigma of [0.02, 0.11, 0.3])
    for (const runs of [3, 5, 10]) {
      const rate = betweenRunRate(sigma, runs, 0);
      assert.ok(rate > 0.003 && rate < 0.02, `σ ${sigma}, ${runs} runs: ${rate}`);
    }
  // A quiet run-to-run spread (σ = 2 %, 5 runs): +20 % is caught nearly always, +15 % in 95 %, +5 % rarely.
  assert.ok(betweenRunRate(0.02, 5, 0.2) > 0.99);
  assert.ok(betweenRunRate(0.02, 5, 0.15) > 0.9);
  assert.ok(betweenRunRate(0.02, 5, 0.05) < 0.3);
  // The spread measured on a quiet machine at smoke size (five api-latency runs, p95 4.41-5.84 ms: σ = 11 %):
  // +15 % is caught in under 10 % of runs, +100 % in about 90 % (and in over 99 % with 10 saved runs).
  assert.ok(betweenRunRate(0.11, 5, 0.15) < 0.1);
  assert.ok(betweenRunRate(0.11, 5, 1) > 0.85);
  assert.ok(betweenRunRate(0.11, 10, 1) > 0.99);
});

void test('gate, between runs: with fewer than 3 baseline runs the spread is not judged and the row says so (the three conditions alone)', () => {
  const two = combineSnapshots(spreadRuns([4.6, 6.0]));
  const rerun = snapshot(windows(rng(30), 20, 7, 0.03));
  assert.equal(rowOf(compareSnapshots(rerun, combineSnapshots(spreadRuns()))).status, 'ok', 'inside the spread of five runs');
  const row = rowOf(compareSnapshots(rerun, two));
  assert.equal(row.status, 'fail', 'the same rerun against two runs: 32 % over their median, significant');
  assert.equal(row.spread, undefined);
  assert.match(row.note ?? '', /baseline of 2 runs: the run-to-run spread is not judged \(save 3 or more runs\)/);
  const one = rowOf(compareSnapshots(rerun, spreadRuns([4.6])[0] ?? two));
  assert.match(one.note ?? '', /baseline of 1 run: /);
});

void test('gate, between runs, end to end: saved runs give the spread (also to a file saved without it); the verdict names the worst baseline run', async () => {
  const d = tmp('agentload-gate-');
  const baselines = join(d, 'baselines');
  let k = 0;
  /** A 20 s run at 100 req/s whose latency sits at `level` ms ±3 %. */
  const run = (level: number): string => {
    const dir = join(d, `gate-20260101-120000-${++k}`); // one scenario ("gate") for every run
    mkdirSync(dir);
    const r = rng(100 + k);
    writeFileSync(join(dir, 'out.json'), httpRun({ n: 2000, latency: () => level * (1 + 0.03 * r()) }));
    return dir;
  };
  for (const level of [10, 11.5, 13.5, 10.8, 15]) await saveBaseline(run(level), 'main', baselines);
  const file = join(baselines, 'main.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { runs: number; entries: Record<string, BaselineEntry> };
  assert.equal(saved.runs, 5);
  assert.equal(saved.entries['metric http_req_duration']?.perRun?.p95?.length, 5);

  const inside = await buildReport({ runDir: run(14), baseline: 'main', baselinesDir: baselines, historyDir: false });
  assert.equal(inside.exitCode, 0, inside.reasons.join('; '));
  const outside = await buildReport({ runDir: run(40), baseline: 'main', baselinesDir: baselines, historyDir: false });
  assert.equal(outside.exitCode, 3);
  assert.match(
    outside.reasons.join('\n'),
    /figure\(s\) worse than the baseline \(> 10 %, p < 0\.01\) and than each of its 5 runs: \S.* p95 [\d.]+ → [\d.]+ ms \(\+[\d.]+ ms, \+\d+ %; worst baseline run 15\.\d ms\)/,
  );

  // A file saved before the runs' values were kept (no perRun): its history gives them when it is loaded.
  for (const e of Object.values(saved.entries)) delete e.perRun;
  writeFileSync(file, JSON.stringify(saved));
  const loaded = await loadBaseline('main', baselines);
  assert.equal(loaded.entries['metric http_req_duration']?.perRun?.p95?.length, 5);
  assert.equal((await buildReport({ runDir: run(14), baseline: 'main', baselinesDir: baselines, historyDir: false })).exitCode, 0);

  // Two saved runs: the three conditions alone, and the verdict says the spread was not judged.
  const two = join(d, 'two');
  for (const level of [10, 11]) await saveBaseline(run(level), 'pair', two);
  const r = await buildReport({ runDir: run(14), baseline: 'pair', baselinesDir: two, historyDir: false });
  assert.equal(r.exitCode, 3);
  assert.match(r.reasons.join('\n'), /\(baseline of 2 runs: the run-to-run spread is not judged; save 3 or more runs\)$/m);
});

/**
 * Requests whose body sits at `level` ms (±10 %, every request slowed by `slow`) and whose tail is the
 * machine's: 8 % of requests wait a further `tailMs` (±50 %), a figure that moves a lot between runs.
 */
function loadedRun(seed: number, level: number, tailMs: number, slow = 0): string {
  const r = rng(seed);
  return httpRun({ n: 2000, latency: () => (level * (1 + 0.1 * r()) + (r() < 0.08 ? tailMs * (0.5 + r()) : 0)) * (1 + slow) });
}

void test('gate, median: a slowdown of every request fails on p50 when the tail spreads too much between runs for p95 to tell', async () => {
  const d = tmp('agentload-gate-median-');
  const baselines = join(d, 'baselines');
  let k = 0;
  const run = (level: number, tailMs: number, slow = 0): string => {
    const dir = join(d, `gate-20260101-120000-${++k}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'out.json'), loadedRun(500 + k, level, tailMs, slow));
    return dir;
  };
  // Five saved runs: the body within ±2 % between runs, the tail (p95) anywhere from 6 to 40 ms.
  const levels = [4.0, 4.08, 3.96, 4.04, 4.02];
  const tails = [6, 20, 10, 40, 15];
  for (let i = 0; i < 5; i++) await saveBaseline(run(levels[i] ?? 4, tails[i] ?? 10), 'main', baselines);
  const saved = await loadBaseline('main', baselines);
  assert.deepEqual(saved.entries['metric http_req_duration']?.gated, ['p50', 'p95', 'p99']);
  assert.equal(saved.entries['metric http_req_duration'].perRun?.p50?.length, 5);
  const judge = async (dir: string): Promise<{ code: number; p50?: string; p95?: string; reasons: string }> => {
    const r = await buildReport({ runDir: dir, baseline: 'main', baselinesDir: baselines, historyDir: false });
    await saveBaseline(dir, `one-${k}`, baselines);
    const c = compareSnapshots(await loadBaseline(`one-${k}`, baselines), saved);
    const st = (stat: string): string | undefined => statusOf(c, 'metric http_req_duration', stat);
    return { code: r.exitCode, p50: st('p50'), p95: st('p95'), reasons: r.reasons.join('; ') };
  };
  // Equal, and noisy (a tail 2× the baseline's median tail, the body unchanged): pass.
  assert.equal((await judge(run(4, 15))).code, 0);
  const noisy = await judge(run(4, 30));
  assert.equal(noisy.code, 0, noisy.reasons);
  // Every request 20 % slower: p95 stays inside its runs' wide spread, the median is beyond its tight one.
  const slowed = await judge(run(4, 15, 0.2));
  assert.equal(slowed.code, 3, slowed.reasons);
  assert.equal(slowed.p50, 'fail');
  assert.equal(slowed.p95, 'ok');
  assert.match(slowed.reasons, /http_req_duration p50 [\d.]+ → [\d.]+ ms \(\+[\d.]+ ms, \+\d+ %; worst baseline run [\d.]+ ms\)/);
  // 5 % is under the fail percentage; 10 % inside the 5 runs' 99 % bound: both pass.
  assert.equal((await judge(run(4, 15, 0.05))).code, 0);
  assert.equal((await judge(run(4, 15, 0.1))).p50, 'ok');
});

void test('gate: setup() requests have rows of their own and are information only, however much worse (GET /api/agents [setup])', async () => {
  const d = tmp('agentload-gate-setup-');
  const baselines = join(d, 'baselines');
  let k = 0;
  const run = (setupMs: number): string => {
    const dir = join(d, `gate-20260101-120000-${++k}`);
    mkdirSync(dir);
    const r = rng(300 + k);
    writeFileSync(join(dir, 'out.json'), httpRun({ n: 2000, setup: 5, latency: (i) => (i < 5 ? setupMs : 10 * (1 + 0.03 * r())) }));
    return dir;
  };
  for (let i = 0; i < 3; i++) await saveBaseline(run(8), 'main', baselines);
  const saved = await loadBaseline('main', baselines);
  const setupRow = Object.entries(saved.entries).find(([key]) => key.endsWith('[setup]'));
  assert.ok(setupRow !== undefined, Object.keys(saved.entries).join(', '));
  assert.equal(setupRow[1].gated, undefined, 'not judged');
  assert.deepEqual(saved.entries[`${setupRow[0]} errors`]?.gated, undefined);
  const slowSetup = run(400);
  const r = await buildReport({ runDir: slowSetup, baseline: 'main', baselinesDir: baselines, historyDir: false });
  assert.equal(r.exitCode, 0, r.reasons.join('; '));
  await saveBaseline(slowSetup, 'candidate', baselines);
  const c = compareSnapshots(await loadBaseline('candidate', baselines), saved);
  const rows = c.rows.filter((x) => x.key === setupRow[0]);
  assert.ok(rows.length > 0 && rows.every((x) => x.status === 'info'), JSON.stringify(rows));
  assert.ok((rows.find((x) => x.stat === 'p95')?.current ?? 0) > 300, 'the row still shows the slower setup');
});

void test('gate: rows describe themselves with units, absolute and relative change', () => {
  const base = snapshot([3.76, 3.76, 3.76, 3.76, 3.76]);
  const cur = snapshot([5.9, 5.9, 5.9, 5.9, 5.9]);
  const row = compareSnapshots(cur, base).rows.find((r) => r.key === STATUS && r.stat === 'p95');
  assert.ok(row);
  assert.equal(describeRow(row), 'GET /api/agents/:id/status p95 3.76 → 5.90 ms (+2.14 ms, +57 %)');
  assert.equal(row.status, 'fail');
});

void test('gate: windows close at 10 samples, never split a second, and a short tail joins the window before', () => {
  const sec = (values: number[]): Agg => {
    const a = newAgg('trend');
    for (const v of values) addSample(a, v, 0);
    return a;
  };
  const w = trendWindows([sec([1, 1, 1, 1, 1, 1]), undefined, sec([2, 2, 2, 2, 2, 2]), sec(Array<number>(12).fill(3)), sec([50])]);
  const p95 = w.p95 ?? [];
  assert.equal(p95.length, 2);
  assert.ok((p95[0] ?? 0) >= 1.99 && (p95[0] ?? 0) <= 2.01, String(p95[0]));
  assert.ok((p95[1] ?? 0) > 3, 'the one-sample tail joined the last window');
});

void test("gate: Holm adjustment over the run's figures: one p of 0.004 among 5 is not significant at 0.01, 0.001 is", () => {
  assert.deepEqual(
    holmAdjust([0.004, 0.5, 0.9, 0.2, 0.3]).map((p) => Number(p.toFixed(3))),
    [0.02, 1, 1, 0.8, 0.9],
  );
  assert.ok((holmAdjust([0.001, 0.5, 0.9, 0.2, 0.3])[0] ?? 1) < 0.01);
  // Twenty noisy figures of one run, none changed: the run fails at most as often as α says (runs, not figures).
  const r = rng(7);
  let failedRuns = 0;
  for (let run = 0; run < 100; run++) {
    const entries = (level: number): Record<string, BaselineEntry> =>
      Object.fromEntries(
        Array.from({ length: 20 }, (_, k) => [
          `endpoint GET /e${k}`,
          {
            kind: 'trend',
            count: 400,
            values: { p95: level },
            worse: 'up',
            unit: 'ms',
            gated: ['p95'],
            windows: { p95: windows(r, 20, 10, 0.3) },
          } satisfies BaselineEntry,
        ]),
      );
    const snap = (e: Record<string, BaselineEntry>): BaselineSnapshot => ({
      kind: 'agentload-baseline',
      version: 2,
      createdAt: '',
      source: 's',
      entries: e,
    });
    if (compareSnapshots(snap(entries(11.5)), snap(entries(10))).verdict === 'fail') failedRuns++;
  }
  assert.ok(failedRuns <= 3, `runs failed: ${failedRuns} of 100`);
});
