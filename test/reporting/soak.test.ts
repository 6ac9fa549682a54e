import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport } from '../../src/reporting/index.ts';
import { linearFit } from '../../src/reporting/soak.ts';
import { metricLine, pointLine, tmp } from './helpers.ts';

/** Deterministic noise in [-1, 1]. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** A 2-hour soak: RSS growing by `mbPerHour` (±8 MB noise), p95 latency drifting by `msPerHour`, a 10-minute warm-up spike. */
function soakRun(mbPerHour: number, msPerHour = 0, gauge = 'target_rss_bytes'): string {
  const d = tmp();
  const start = Date.UTC(2026, 0, 1, 0, 0, 0);
  const rnd = noise(42);
  const lines = [
    metricLine(gauge, 'gauge'),
    metricLine('http_req_duration', 'trend'),
    metricLine('http_req_failed', 'rate'),
    metricLine('http_reqs', 'counter'),
  ];
  for (let s = 0; s <= 7200; s += 10) {
    const warm = s < 600 ? 150 * (1 - s / 600) : 0; // warm-up: memory settles from high, must be skipped
    const rss = (300 + warm + (mbPerHour * s) / 3600 + 8 * rnd()) * 1048576;
    lines.push(pointLine(gauge, start + s * 1000, rss, { scenario: 'soak' }));
    const tags = { scenario: 'soak', method: 'GET', name: 'http://127.0.0.1:1/health', status: '200' };
    for (let k = 0; k < 5; k++) {
      const t = start + s * 1000 + k * 2000;
      lines.push(
        pointLine('http_req_duration', t, 20 + (msPerHour * s) / 3600 + 2 * rnd(), tags),
        pointLine('http_req_failed', t, 0, tags),
        pointLine('http_reqs', t, 1, tags),
      );
    }
  }
  writeFileSync(join(d, 'out.json'), lines.join('\n') + '\n');
  return d;
}

const budget = { memoryGrowthMBPerHour: 50, latencyDriftMsPerHour: 10, errorRateDriftPerHour: 0.01 };

void test('linear fit recovers a known slope with a confidence interval around it', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i * 36);
  const rnd = noise(7);
  const fit = linearFit(
    xs,
    xs.map((x) => 5 + (x * 30) / 3600 + rnd()),
  );
  assert.ok(fit);
  assert.ok(Math.abs(fit.slopePerHour - 30) < 1, `slope ${fit.slopePerHour}`);
  assert.ok(fit.ciLow < 30 && fit.ciHigh > 30);
  assert.equal(linearFit([1, 2], [1, 2]), null);
});

void test('a leaking target (120 MB/h) breaches a 50 MB/h budget: exit 4', async () => {
  const d = soakRun(120);
  const res = await buildReport({ runDir: d, profile: budget, historyDir: false });
  assert.equal(res.exitCode, 4);
  assert.equal(res.verdict, 'fail');
  const v = JSON.parse(readFileSync(join(d, 'verdict.json'), 'utf8')) as {
    soak: { signals: { id: string; breached: boolean; fit: { slopePerHour: number; ciLow: number; ciHigh: number } }[] };
  };
  const mem = v.soak.signals.find((s) => s.id === 'memory');
  assert.ok(mem);
  assert.equal(mem.breached, true);
  assert.ok(Math.abs(mem.fit.slopePerHour - 120) < 10, `fitted ${mem.fit.slopePerHour} MB/h`);
  assert.ok(mem.fit.ciLow <= 120 && mem.fit.ciHigh >= 120);
  assert.equal(v.soak.signals.find((s) => s.id === 'latency')?.breached, false);
  assert.match(readFileSync(join(d, 'report.html'), 'utf8'), /Soak analysis/);
  assert.match(
    readFileSync(join(d, 'junit.xml'), 'utf8'),
    /<testcase classname="soak" name="memory: target_rss_bytes" time="0">[\s\S]*?<failure/,
  );
});

void test('a flat target stays quiet (warm-up spike skipped), and latency drift is judged on its own', async () => {
  const flat = await buildReport({ runDir: soakRun(0), profile: budget, historyDir: false });
  assert.equal(flat.exitCode, 0);
  assert.equal(flat.verdict, 'pass');
  const drift = soakRun(0, 30);
  const res = await buildReport({ runDir: drift, profile: budget, historyDir: false });
  assert.equal(res.exitCode, 4);
  const v = JSON.parse(readFileSync(join(drift, 'verdict.json'), 'utf8')) as { soak: { signals: { id: string; breached: boolean }[] } };
  assert.deepEqual(
    v.soak.signals.filter((s) => s.breached).map((s) => s.id),
    ['latency'],
  );
});

void test('gauge names are configurable; without a budget the fits are shown but never fail', async () => {
  const d = soakRun(120, 0, 'app_memory_bytes');
  const res = await buildReport({ runDir: d, profile: { ...budget, gauges: { memory: ['app_memory_bytes'] } }, historyDir: false });
  assert.equal(res.exitCode, 4);
  const info = await buildReport({ runDir: soakRun(120), historyDir: false });
  assert.equal(info.exitCode, 0);
});

void test('soak verdicts: a 20 s run is "too short to judge" (never a green "within"), a slope over budget without significance is "not significant", 20 min flat is "within"', async () => {
  const { analyseSoak } = await import('../../src/reporting/soak.ts');
  const series = (
    seconds: number,
    mbPerHour: number,
    noiseMb: number,
  ): { t: number[]; bucketSec: number; metrics: Record<string, Record<string, (number | null)[]>> } => {
    const rnd = noise(7);
    const t: number[] = [];
    const avg: (number | null)[] = [];
    for (let s = 0; s <= seconds; s++) {
      t.push(1_700_000_000 + s);
      avg.push((300 + (mbPerHour * s) / 3600 + noiseMb * rnd()) * 1048576);
    }
    return { t, bucketSec: 1, metrics: { target_rss_bytes: { avg, value: avg } } };
  };
  const memory = (r: ReturnType<typeof analyseSoak>): { verdict: string; note: string } | undefined =>
    r?.signals.find((s) => s.id === 'memory');
  // 20 s, slightly growing but under the budget: was a green "within" for a slope extrapolated from 20 s.
  const short = memory(analyseSoak(series(20, 30, 0.01), { memoryGrowthMBPerHour: 50 }));
  assert.ok(short);
  assert.equal(short.verdict, 'too short');
  assert.match(short.note, /run too short to judge/);
  // 20 s over the budget but drowned in noise: not significant (and not a breach).
  const noisy = memory(analyseSoak(series(20, 200, 40), { memoryGrowthMBPerHour: 50 }));
  assert.equal(noisy?.verdict, 'not significant');
  // A strong leak is caught even on a short run.
  assert.equal(memory(analyseSoak(series(40, 5000, 0.01), { memoryGrowthMBPerHour: 50 }))?.verdict, 'breached');
  // Long and flat: within.
  assert.equal(memory(analyseSoak(series(1200, 0, 2), { memoryGrowthMBPerHour: 50 }))?.verdict, 'within');
});

void test('on a soak run the soak analysis sits near the top (under the banner and header, before the thresholds); on other runs near the end', async () => {
  const at = async (scenario: string): Promise<{ soak: number; thresholds: number; errors: number }> => {
    const d = soakRun(120);
    writeFileSync(join(d, 'run.json'), JSON.stringify({ scenario: { name: scenario }, engineExitCode: 0, exitCode: 0 }));
    await buildReport({ runDir: d, profile: budget, historyDir: false });
    const html = readFileSync(join(d, 'report.html'), 'utf8');
    return {
      soak: html.indexOf('<section id="soak">'),
      thresholds: html.indexOf('<h2>Thresholds</h2>'),
      errors: html.indexOf('<h2>Errors by status and type</h2>'),
    };
  };
  const soak = await at('soak');
  assert.ok(soak.soak > 0 && soak.soak < soak.thresholds, `soak section before the thresholds: ${JSON.stringify(soak)}`);
  const other = await at('api-latency');
  assert.ok(other.soak > other.errors, `after the errors on another scenario: ${JSON.stringify(other)}`);
});
