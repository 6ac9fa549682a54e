/**
 * npm run bench:gate [-- --scenario scenarios/api-latency.ts] [--size smoke|full] [--duration 20s]
 *                       [--baseline-runs 5] [--reruns 10] [--slowdowns 15,10,5] [--runs-per-slowdown 3] [--keep]
 *
 * Measures the regression gate on this machine, through the real run command and the bundled platform:
 * 1. saves a baseline from `--baseline-runs` runs of unchanged code (`--save-baseline`, the median of them);
 * 2. reruns unchanged code `--reruns` times with `--baseline`: every gate fail (the comparison's verdict
 *    in verdict.json, exit 3 unless a threshold's 99 comes first) is a false fail;
 * 3. for each slowdown in `--slowdowns` (percent of the baseline's overall p95), reruns with
 *    FAULT_LATENCY_MS set to that many ms added to every request: every gate fail is a detection.
 *    The label is what was injected, not what the runs saw: the delay shifts the median by nearly its
 *    size but p95 by less (the measured latency includes the load generator's own event-loop delay on
 *    the shared cores, which a server-side pause overlaps), so the table gives the p50 and p95 shift seen.
 * Steps 2 and 3 are interleaved round by round (unchanged, then each slowdown), so a change of machine
 * load falls on both alike. Prints one line per run (with the 1-minute load average at its start and end),
 * the saved baseline's between-run spread (per gated p95: its runs and the bound a run must pass to count,
 * see runSpread in src/reporting/stats.ts), and a summary table: false fails, the machine load, and per
 * slowdown the p95 change the runs saw, measured against the unchanged reruns of the same window (the
 * honest figure: the saved baseline may come from a quieter or busier machine) and against the saved
 * baseline, and how many were caught. Runs go to a temporary reports folder (deleted unless --keep).
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COMPARE_DEFAULTS } from '../src/reporting/compare.ts';
import { loadBaseline } from '../src/reporting/index.ts';
import { sampleStandardDeviation } from 'simple-statistics';
import { runSpread } from '../src/reporting/stats.ts';

const ROOT = new URL('..', import.meta.url).pathname;

const { values: v } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'scenarios/api-latency.ts' },
    size: { type: 'string', default: 'smoke' },
    duration: { type: 'string' },
    'baseline-runs': { type: 'string', default: '5' },
    reruns: { type: 'string', default: '10' },
    slowdowns: { type: 'string', default: '15,10,5' },
    'runs-per-slowdown': { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});

function count(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${raw}"`);
  return n;
}

const baselineRuns = Math.max(1, count('baseline-runs', v['baseline-runs']));
const reruns = count('reruns', v.reruns);
const perSlowdown = count('runs-per-slowdown', v['runs-per-slowdown']);
const slowdowns = v.slowdowns
  .split(',')
  .filter(Boolean)
  .map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--slowdowns takes percentages like 15,10,5, got "${s}"`);
    return n;
  });
const work = mkdtempSync(join(tmpdir(), 'agentload-bench-gate-'));
const reportsDir = join(work, 'reports');
const NAME = 'gate';

interface RunResult {
  code: number | null;
  /** The baseline comparison's own verdict (exit 3 hides behind 99 when thresholds also fail on a loaded machine). */
  gate: string | null;
  p95: number | null;
  /** Overall http_req_duration median (summary-export.json). */
  p50: number | null;
  reasons: string[];
  seconds: number;
  /** The 1-minute load average when the run started and when it ended. */
  load: number[];
}
const baselineResults: RunResult[] = [];
const rerunResults: RunResult[] = [];

/** One `npm run k6` run of the scenario; `extra` flags and env added. */
async function runOnce(flags: string[], env: Record<string, string>): Promise<RunResult> {
  const t0 = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const before = new Set(safeList(reportsDir));
  const args = ['--import', 'tsx', join(ROOT, 'scripts/k6.mjs'), v.scenario, '--reports-dir', reportsDir, '--engine', 'node', ...flags];
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    SIZE: v.size,
    AGENTLOAD_BASELINES_DIR: join(reportsDir, 'baselines'),
    ...env,
  };
  if (v.duration !== undefined) childEnv.DURATION = v.duration;
  const code = await new Promise<number | null>((res) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('exit', (c) => res(c));
  });
  const dir = safeList(reportsDir).find((d) => !before.has(d) && d !== 'baselines');
  let p95: number | null = null;
  let p50: number | null = null;
  let gate: string | null = null;
  let reasons: string[] = [];
  if (dir !== undefined) {
    try {
      const doc = JSON.parse(readFileSync(join(reportsDir, dir, 'verdict.json'), 'utf8')) as {
        headline?: { p95?: number | null };
        reasons?: string[];
        comparison?: { verdict?: string } | null;
      };
      p95 = doc.headline?.p95 ?? null;
      gate = doc.comparison?.verdict ?? null;
      reasons = doc.reasons ?? [];
      const sum = JSON.parse(readFileSync(join(reportsDir, dir, 'summary-export.json'), 'utf8')) as {
        metrics?: Record<string, { med?: number } | undefined>;
      };
      p50 = sum.metrics?.http_req_duration?.med ?? null;
    } catch {
      // no report: the line below says so through the exit code
    }
    if (!v.keep) rmSync(join(reportsDir, dir), { recursive: true, force: true });
  }
  const r = { code, gate, p95, p50, reasons, seconds: (performance.now() - t0) / 1000, load: [loadAtStart, loadavg()[0] ?? 0] };
  (flags.includes('--save-baseline') ? baselineResults : rerunResults).push(r);
  return r;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

const say = (line: string): void => void process.stdout.write(line + '\n');
const fmt = (r: RunResult): string =>
  `exit ${String(r.code)}${r.gate !== null ? `, gate ${r.gate}` : ''}, p50 ${r.p50 === null ? '–' : r.p50.toFixed(2)} ms, p95 ${r.p95 === null ? '–' : r.p95.toFixed(2)} ms, ${r.seconds.toFixed(0)} s, load ${r.load.map((x) => x.toFixed(1)).join('→')}${r.gate === 'fail' ? `: ${r.reasons.find((x) => /baseline/.test(x)) ?? ''}` : ''}`;

say(
  `bench:gate ${v.scenario} SIZE=${v.size}${v.duration !== undefined ? ` DURATION=${v.duration}` : ''}: ${baselineRuns} baseline runs, ${reruns} reruns, slowdowns ${slowdowns.join('/')} % × ${perSlowdown}`,
);
const baseP95: number[] = [];
for (let i = 0; i < baselineRuns; i++) {
  const r = await runOnce(['--save-baseline', NAME], {});
  say(`baseline ${i + 1}/${baselineRuns}: ${fmt(r)}`);
  // 99 (a threshold crossed on a loaded machine) still saves the baseline: the gate compares figures, not thresholds.
  if (r.code !== 0 && r.code !== 99)
    throw new Error(`baseline run ${i + 1} exited ${String(r.code)}: the baseline must come from runs that completed`);
  if (r.p95 !== null) baseP95.push(r.p95);
}
const level = median(baseP95);
/** The saved baseline's gated p95 figures: each run's value and the between-run bound a rerun must pass. */
const spreadLines: string[] = [];
const saved = await loadBaseline(NAME, join(reportsDir, 'baselines'));
for (const [key, e] of Object.entries(saved.entries)) {
  for (const stat of ['p50', 'p95']) {
    const runs = e.perRun?.[stat];
    if (runs === undefined || e.kind !== 'trend') continue;
    const s = runSpread(runs, COMPARE_DEFAULTS.alpha, 'log');
    const median = e.values[stat] ?? NaN;
    const sigma = runs.length > 1 ? ` (σ of the logs ${sampleStandardDeviation(runs.map(Math.log)).toFixed(3)})` : '';
    const bound =
      s === undefined
        ? 'fewer than 3 runs: not judged'
        : `bound ${s.upper.toFixed(2)} ms (+${((s.upper / median - 1) * 100).toFixed(0)} % over the median)`;
    spreadLines.push(
      `  ${key.replace(/^(metric|endpoint) /, '')} ${stat}: runs ${runs.map((x) => x.toFixed(2)).join(', ')} ms${sigma}; median ${median.toFixed(2)} ms, ${bound}`,
    );
  }
}
say(`between-run spread of the saved baseline (${saved.runs ?? 1} runs):`);
for (const line of spreadLines) say(line);
/**
 * The reruns, interleaved (unchanged, then each slowdown, round after round), so a change of machine load
 * while they run falls on the unchanged and the slowed runs alike: the injected slowdown is then measured
 * against the unchanged reruns of the same window, not only against a baseline saved under other load.
 */
let falseFails = 0;
const rerunP95: number[] = [];
const rerunP50: number[] = [];
const perPct = new Map<number, { caught: number; seen: number[]; seen50: number[]; ms: number }>(
  slowdowns.map((pct) => [pct, { caught: 0, seen: [], seen50: [], ms: (level * pct) / 100 }]),
);
const rounds = Math.max(reruns, perSlowdown);
for (let round = 0; round < rounds; round++) {
  if (round < reruns) {
    const r = await runOnce(['--baseline', NAME], {});
    if (r.gate === 'fail') falseFails++;
    if (r.p95 !== null) rerunP95.push(r.p95);
    if (r.p50 !== null) rerunP50.push(r.p50);
    say(`unchanged ${round + 1}/${reruns}: ${fmt(r)}`);
  }
  if (round >= perSlowdown) continue;
  for (const pct of slowdowns) {
    const slot = perPct.get(pct);
    if (slot === undefined) continue;
    const r = await runOnce(['--baseline', NAME], { FAULT_LATENCY_MS: slot.ms.toFixed(3) });
    if (r.gate === 'fail') slot.caught++;
    if (r.p95 !== null) slot.seen.push(r.p95);
    if (r.p50 !== null) slot.seen50.push(r.p50);
    say(
      `FAULT_LATENCY_MS = ${pct} % of the baseline's p95 (FAULT_LATENCY_MS=${slot.ms.toFixed(3)}) ${round + 1}/${perSlowdown}: ${fmt(r)}`,
    );
  }
}
const control = median(rerunP95);
const control50 = median(rerunP50);
const ms = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)} ms` : '–');
const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)} %` : '–');
const rows: string[] = [];
for (const [pct, slot] of perPct) {
  const seen = median(slot.seen);
  const seen50 = median(slot.seen50);
  rows.push(
    `| ${pct} % of the baseline's p95 | ${slot.ms.toFixed(2)} ms | ${ms(seen50 - control50)} (${signed((seen50 / control50 - 1) * 100)}) | ${ms(seen - control)} (${signed((seen / control - 1) * 100)}) | ${signed((seen / level - 1) * 100)} | ${slot.caught}/${perSlowdown} |`,
  );
}
const loads = (xs: readonly RunResult[]): string => {
  const all = xs.flatMap((r) => r.load);
  return all.length === 0 ? '–' : `${Math.min(...all).toFixed(1)}–${Math.max(...all).toFixed(1)}`;
};
say('');
say(`baseline: median of ${baselineRuns} runs, overall p95 ${level.toFixed(2)} ms (runs: ${baseP95.map((x) => x.toFixed(2)).join(', ')})`);
for (const line of spreadLines) say(line);
say(
  `unchanged reruns: ${falseFails}/${reruns} false fails (overall p95 ${rerunP95.map((x) => x.toFixed(2)).join(', ')} ms; median ${control.toFixed(2)} ms, ${signed((control / level - 1) * 100)} against the saved baseline; overall p50 ${rerunP50.map((x) => x.toFixed(2)).join(', ')} ms)`,
);
say(`machine load (1-minute load average at each run's start and end): baseline ${loads(baselineResults)}, reruns ${loads(rerunResults)}`);
say(
  '| FAULT_LATENCY_MS set to | ms added to every request | p50 shift seen (against the unchanged reruns, same window) | p95 shift seen (same) | p95 against the saved baseline | caught (gate fail) |',
);
say('|---|---:|---:|---:|---:|---:|');
for (const r of rows) say(r);
if (v.keep) say(`runs kept in ${reportsDir}`);
else rmSync(work, { recursive: true, force: true });
