/**
 * The regression gate's statistics on synthetic distributions: equal runs pass, shifts of 5/10/20 %
 * are told apart from noise, floors and information-only figures never fail, saved baselines combine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  combineSnapshots,
  compareSnapshots,
  describeRow,
  holmAdjust,
  type BaselineEntry,
  type BaselineSnapshot,
} from '../../src/reporting/compare.ts';
import { proportionTestGreater, rankTestGreater } from '../../src/reporting/stats.ts';
import { trendWindows } from '../../src/reporting/model.ts';
import { addSample, newAgg, type Agg } from '../../src/reporting/aggregate.ts';

/** A seeded generator (mulberry32) so every run of this file sees the same numbers. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
