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
 * Prints one line per run, the saved baseline's between-run spread (per gated p95: its runs and the
 * bound a run must pass to count, see runSpread in src/reporting/stats.ts), and a summary table: false
 * fails, and per slowdown the p95 change the runs actually saw and how many were caught. Runs go to a
 * temporary reports folder (deleted unless --keep).
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COMPARE_DEFAULTS } from '../src/reporting/compare.ts';
import { loadBaseline } from '../src/reporting/index.ts';
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
  reasons: string[];
  seconds: number;
}

/** One `npm run k6` run of the scenario; `extra` flags and env added. */
async function runOnce(flags: string[], env: Record<string, string>): Promise<RunResult> {
  const t0 = performance.now();
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
    } catch {
      // no report: the line below says so through the exit code
    }
    if (!v.keep) rmSync(join(reportsDir, dir), { recursive: true, force: true });
  }
  return { code, gate, p95, reasons, seconds: (performance.now() - t0) / 1000 };
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
  `exit ${String(r.code)}${r.gate !== null ? `, gate ${r.gate}` : ''}, p95 ${r.p95 === null ? '–' : r.p95.toFixed(2)} ms, ${r.seconds.toFixed(0)} s${r.gate === 'fail' ? `: ${r.reasons.find((x) => /baseline/.test(x)) ?? ''}` : ''}`;

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
  const runs = e.perRun?.p95;
  if (runs === undefined || e.kind !== 'trend') continue;
  const s = runSpread(runs, COMPARE_DEFAULTS.alpha, 'log');
  const median = e.values.p95 ?? NaN;
  const bound =
    s === undefined
      ? 'fewer than 3 runs: not judged'
      : `bound ${s.upper.toFixed(2)} ms (+${((s.upper / median - 1) * 100).toFixed(0)} % over the median)`;
  spreadLines.push(
    `  ${key.replace(/^(metric|endpoint) /, '')} p95: runs ${runs.map((x) => x.toFixed(2)).join(', ')} ms; median ${median.toFixed(2)} ms, ${bound}`,
  );
}
say(`between-run spread of the saved baseline (${saved.runs ?? 1} runs):`);
for (const line of spreadLines) say(line);
let falseFails = 0;
const rerunP95: number[] = [];
for (let i = 0; i < reruns; i++) {
  const r = await runOnce(['--baseline', NAME], {});
  if (r.gate === 'fail') falseFails++;
  if (r.p95 !== null) rerunP95.push(r.p95);
  say(`unchanged ${i + 1}/${reruns}: ${fmt(r)}`);
}
const rows: string[] = [];
for (const pct of slowdowns) {
  const ms = (level * pct) / 100;
  let caught = 0;
  const seen: number[] = [];
  for (let i = 0; i < perSlowdown; i++) {
    const r = await runOnce(['--baseline', NAME], { FAULT_LATENCY_MS: ms.toFixed(3) });
    if (r.gate === 'fail') caught++;
    if (r.p95 !== null) seen.push(r.p95);
    say(`+${pct} % (FAULT_LATENCY_MS=${ms.toFixed(3)}) ${i + 1}/${perSlowdown}: ${fmt(r)}`);
  }
  const observed = seen.length > 0 ? ((median(seen) - level) / level) * 100 : NaN;
  rows.push(`| +${pct} % of p95 | ${ms.toFixed(2)} ms | ${observed.toFixed(0)} % | ${caught}/${perSlowdown} |`);
}
say('');
say(`baseline: median of ${baselineRuns} runs, overall p95 ${level.toFixed(2)} ms (runs: ${baseP95.map((x) => x.toFixed(2)).join(', ')})`);
for (const line of spreadLines) say(line);
say(`unchanged reruns: ${falseFails}/${reruns} false fails (overall p95 ${rerunP95.map((x) => x.toFixed(2)).join(', ')} ms)`);
say('| injected | FAULT_LATENCY_MS | overall p95 change seen | caught (gate fail) |');
say('|---|---:|---:|---:|');
for (const r of rows) say(r);
if (v.keep) say(`runs kept in ${reportsDir}`);
else rmSync(work, { recursive: true, force: true });
