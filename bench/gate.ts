/**
 * npm run bench:gate [-- --scenario scenarios/api-latency.ts] [--size smoke|full] [--duration 20s]
 *                       [--baseline-runs 5] [--reruns 10] [--runs-per-slowdown 3]
 *                       [--slowdowns 15,10,5 | --slowdowns-ms 0.5,1,1.5] [--base-latency-ms 20]
 *                       [--reports-dir DIR [--skip-baseline]] [--keep]
 *
 * Measures the regression gate on this machine, through the real run command and the bundled platform:
 * 1. saves a baseline from `--baseline-runs` runs of unchanged code (`--save-baseline`, the median of them);
 * 2. reruns unchanged code `--reruns` times with `--baseline`: every gate fail (the comparison's verdict
 *    in verdict.json, exit 3 unless a threshold's 99 comes first) is a false fail;
 * 3. reruns with a slowdown of every request, `--runs-per-slowdown` times per level: every gate fail is a
 *    detection. A level is either `--slowdowns-ms` (that many ms added to every request) or `--slowdowns`
 *    (that percentage of the baseline's measured overall p95, in ms, added to every request).
 *
 * The target's speed. By default the platform answers in well under a millisecond (p95 3–5 ms end to end at
 * smoke size, mostly the load generator's and the platform's own event loops on the shared cores), so 15 % of
 * p95 is ~0.5 ms: at the gate's 0.5 ms absolute floor, and below what the fault knob can inject precisely (its
 * timer wakes 0.3–0.8 ms late under load, target/sleep.ts). `--base-latency-ms B` gives the target a realistic
 * service time instead: every run, baseline and unchanged reruns included, runs the platform with
 * FAULT_LATENCY_MS=B (each request of every route but /admin/* and /metrics waits at least B ms before its
 * handler, as a back end that calls a model would), and a slowdown level runs with FAULT_LATENCY_MS=B + its ms.
 * So "+15 %" is 15 % of the end-to-end p95 measured with the base latency, added to every request; both sides
 * carry the timer's own late wake-up, which cancels out of the difference. `--base-jitter-ms J` adds
 * FAULT_LATENCY_JITTER_MS=J (each request waits B + uniform(0, J) ms) to every run alike.
 *
 * Labels are honest: each level says what was asked (ms added, and the percentage it was computed from), and
 * the summary gives the p50 and p95 shift the slowed runs actually saw against the unchanged reruns (which ran
 * interleaved with them, round by round: unchanged, then each level, so a change of machine load falls on both
 * alike) and against the saved baseline.
 *
 * Splitting a measurement over several invocations (to keep each under the machine lock's turn):
 * `--reports-dir DIR` keeps the runs' records in DIR (gate-runs.jsonl, one line per run; the saved baseline in
 * DIR/baselines/gate.json; the run folders too with --keep), and `--skip-baseline` reuses the baseline saved
 * there by an earlier invocation (same scenario, size, duration and base latency, checked) instead of saving one.
 * The summary covers every run recorded in DIR, so the last invocation prints the whole measurement. Without
 * `--reports-dir` the runs go to a temporary folder, deleted at the end unless --keep.
 *
 * Prints one line per run (exit code, gate verdict, p50/p95, the 1-minute load average at its start and end, and
 * a failing run's reason), the saved baseline's between-run spread (per gated figure: its runs and the bound a run
 * must pass, see runSpread in src/reporting/stats.ts), and a summary table.
 *
 * Measured (session 7, docs/reports.md "The gate's figures", which has the commands to rerun them; logs in
 * /work/notes/s7/17d/): at smoke size on a quiet machine, 0/10 false fails on the fast target and 0/10 with
 * --base-latency-ms 20; on the fast target every slowdown the knob can inject (0.5/1/1.5 ms asked, +1.4 to
 * +2.5 ms seen at p50) was caught 5/5; with the 20 ms service time +15 % and +10 % of p95 were caught 5/5 and
 * +5 % (p50 +4 %, under the 10 % rule) 0/5, warned 4/5. Full size (200 req/s, 2-minute runs, 20 ms
 * service time, 3 baseline runs): +15 % and +10 % of p95 caught 3/3 each (on p50), but 2/3 unchanged reruns failed
 * on p95/p99 when other work raised the load average to 3–6 after a baseline saved at 0.5–3.6 (p50 moved 1 %).
 * Session 8 (docs/reports.md "Measured (session 8)", logs in /work/notes/s8/17e/): each run records machine-noise
 * figures, and a latency tail that would fail on a machine busier than during every baseline run is inconclusive
 * (exit 6); the session-7 false fails are inconclusive, the slowed runs still caught.
 */

import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { COMPARE_DEFAULTS, compareSnapshots, describeNoise } from '../src/reporting/compare.ts';
import { loadBaseline } from '../src/reporting/index.ts';
import { sampleStandardDeviation } from 'simple-statistics';
import { SKETCH_BIN_LOG_WIDTH, runSpread } from '../src/reporting/stats.ts';

const ROOT = new URL('..', import.meta.url).pathname;

const { values: v } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'scenarios/api-latency.ts' },
    size: { type: 'string', default: 'smoke' },
    duration: { type: 'string' },
    'baseline-runs': { type: 'string', default: '5' },
    reruns: { type: 'string', default: '10' },
    slowdowns: { type: 'string' },
    'slowdowns-ms': { type: 'string' },
    'runs-per-slowdown': { type: 'string', default: '3' },
    'base-latency-ms': { type: 'string', default: '0' },
    'base-jitter-ms': { type: 'string', default: '0' },
    'reports-dir': { type: 'string' },
    'skip-baseline': { type: 'boolean', default: false },
    rejudge: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

function count(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${raw}"`);
  return n;
}
function ms(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} takes milliseconds (0 or more), got "${raw}"`);
  return n;
}
function list(name: string, raw: string | undefined): number[] {
  return (raw ?? '')
    .split(',')
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes positive numbers like 15,10,5, got "${s}"`);
      return n;
    });
}

const baselineRuns = Math.max(1, count('baseline-runs', v['baseline-runs']));
const reruns = count('reruns', v.reruns);
const perSlowdown = count('runs-per-slowdown', v['runs-per-slowdown']);
const baseMs = ms('base-latency-ms', v['base-latency-ms']);
const baseJitterMs = ms('base-jitter-ms', v['base-jitter-ms']);
const pcts = list('slowdowns', v.slowdowns ?? (v['slowdowns-ms'] === undefined ? '15,10,5' : ''));
const addMs = list('slowdowns-ms', v['slowdowns-ms']);
if (v['skip-baseline'] && v['reports-dir'] === undefined) throw new Error('--skip-baseline reuses the baseline in --reports-dir: give it');

const work = v['reports-dir'] === undefined ? mkdtempSync(join(tmpdir(), 'agentload-bench-gate-')) : undefined;
const reportsDir = v['reports-dir'] === undefined ? join(work ?? '', 'reports') : resolve(v['reports-dir']);
mkdirSync(reportsDir, { recursive: true });
const NAME = 'gate';
const RECORDS = join(reportsDir, 'gate-runs.jsonl');
const SETUP = join(reportsDir, 'gate-setup.json');

/** What every run of one measurement shares: a saved baseline is only reused under the same settings. */
const setup = { scenario: v.scenario, size: v.size, duration: v.duration ?? null, baseLatencyMs: baseMs, baseJitterMs };

interface RunRecord {
  kind: 'baseline' | 'unchanged' | 'slowed';
  /** The level's label (slowed runs), e.g. `+1 ms` or `+15 % of p95`. */
  level?: string;
  /** The ms a slowed run added to every request on top of the base latency. */
  addedMs?: number;
  /** FAULT_LATENCY_MS the platform ran with. */
  faultMs: number;
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
  startedAt: string;
  /** The run folder's name (kept with --keep). */
  dir: string | null;
  /** How busy the machine was during the load (run.json `machine`: load average per core, the scheduling-lag probe, steal). */
  machine?: {
    loadPerCore?: { mean: number; max: number };
    schedLagMs?: { p50: number; p99: number; max: number };
    stealPct?: number;
  } | null;
  /** The generator's own http_req_sending p99, ms (one of the gate's noise figures). */
  sendingP99?: number | null;
}

/** One `npm run k6` run of the scenario; `extra` flags and the platform's injected latency. */
async function runOnce(
  kind: RunRecord['kind'],
  flags: string[],
  faultMs: number,
  level?: { label: string; ms: number },
): Promise<RunRecord> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0] ?? 0;
  const before = new Set(safeList(reportsDir));
  const args = [
    '--min-semi-space-size=16',
    '--max-semi-space-size=16',
    '--import',
    'tsx',
    join(ROOT, 'scripts/k6.mjs'),
    v.scenario,
    '--reports-dir',
    reportsDir,
    '--engine',
    'node',
    ...flags,
  ];
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    SIZE: v.size,
    AGENTLOAD_BASELINES_DIR: join(reportsDir, 'baselines'),
  };
  delete childEnv.FAULT_LATENCY_MS;
  delete childEnv.FAULT_LATENCY_JITTER_MS;
  if (faultMs > 0) childEnv.FAULT_LATENCY_MS = faultMs.toFixed(3);
  if (baseJitterMs > 0) childEnv.FAULT_LATENCY_JITTER_MS = baseJitterMs.toFixed(3);
  if (v.duration !== undefined) childEnv.DURATION = v.duration;
  const code = await new Promise<number | null>((res) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('exit', (c) => res(c));
  });
  const dir = safeList(reportsDir).find((d) => !before.has(d) && d !== 'baselines' && !d.startsWith('gate-')) ?? null;
  let p95: number | null = null;
  let p50: number | null = null;
  let gate: string | null = null;
  let reasons: string[] = [];
  let machine: RunRecord['machine'] = null;
  let sendingP99: number | null = null;
  if (dir !== null) {
    try {
      machine = (JSON.parse(readFileSync(join(reportsDir, dir, 'run.json'), 'utf8')) as { machine?: RunRecord['machine'] }).machine ?? null;
    } catch {
      // no run.json
    }
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
      const snap = JSON.parse(readFileSync(join(reportsDir, dir, 'verdict.json'), 'utf8')) as {
        baseline?: { entries?: Record<string, { values?: { p99?: number } } | undefined> };
      };
      sendingP99 = snap.baseline?.entries?.['metric http_req_sending']?.values?.p99 ?? null;
    } catch {
      // no report: the line printed says so through the exit code
    }
    if (!v.keep) rmSync(join(reportsDir, dir), { recursive: true, force: true });
  }
  const r: RunRecord = {
    kind,
    ...(level !== undefined ? { level: level.label, addedMs: level.ms } : {}),
    faultMs,
    code,
    gate,
    p95,
    p50,
    reasons,
    seconds: (performance.now() - t0) / 1000,
    load: [loadAtStart, loadavg()[0] ?? 0],
    startedAt,
    dir: v.keep ? dir : null,
    machine,
    sendingP99,
  };
  appendFileSync(RECORDS, JSON.stringify(r) + '\n');
  return r;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readRecords(): RunRecord[] {
  if (!existsSync(RECORDS)) return [];
  return readFileSync(RECORDS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunRecord);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}
const nums = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null);

/** The run's machine-noise figures as the gate reads them. */
const noiseText = (r: RunRecord): string => {
  const m = r.machine;
  const parts = [
    m?.loadPerCore !== undefined ? `load/core ${m.loadPerCore.mean.toFixed(2)}` : '',
    m?.schedLagMs !== undefined ? `lag p99 ${m.schedLagMs.p99.toFixed(2)} ms` : '',
    r.sendingP99 !== undefined && r.sendingP99 !== null ? `sending p99 ${r.sendingP99.toFixed(2)} ms` : '',
  ].filter(Boolean);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
};
const say = (line: string): void => void process.stdout.write(line + '\n');
const fmt = (r: RunRecord): string =>
  `exit ${String(r.code)}${r.gate !== null ? `, gate ${r.gate}` : ''}, p50 ${r.p50 === null ? '–' : r.p50.toFixed(2)} ms, p95 ${r.p95 === null ? '–' : r.p95.toFixed(2)} ms, ${r.seconds.toFixed(0)} s, load ${r.load.map((x) => x.toFixed(1)).join('→')}${noiseText(r)}${r.dir !== null ? ` [${r.dir}]` : ''}${r.gate === 'fail' || r.gate === 'inconclusive' ? `: ${r.reasons.find((x) => /baseline|busier/.test(x)) ?? ''}` : ''}`;

const base =
  baseMs > 0
    ? `FAULT_LATENCY_MS=${baseMs}${baseJitterMs > 0 ? ` FAULT_LATENCY_JITTER_MS=${baseJitterMs}` : ''} on every run`
    : 'no base latency';
say(
  `bench:gate ${v.scenario} SIZE=${v.size}${v.duration !== undefined ? ` DURATION=${v.duration}` : ''}, ${base}: ${v['skip-baseline'] ? 'the baseline saved in ' + reportsDir : `${baselineRuns} baseline runs`}, ${reruns} reruns, slowdowns ${[...pcts.map((p) => `${p} % of p95`), ...addMs.map((m) => `${m} ms`)].join(' / ') || 'none'} × ${perSlowdown}`,
);

if (v['skip-baseline']) {
  const saved = existsSync(SETUP) ? (JSON.parse(readFileSync(SETUP, 'utf8')) as typeof setup) : undefined;
  if (saved === undefined || JSON.stringify(saved) !== JSON.stringify(setup))
    throw new Error(`--skip-baseline: ${reportsDir} holds a baseline of ${JSON.stringify(saved ?? null)}, not of ${JSON.stringify(setup)}`);
} else {
  if (readRecords().length > 0) throw new Error(`${RECORDS} exists: use an empty --reports-dir, or --skip-baseline to add runs to it`);
  writeFileSync(SETUP, JSON.stringify(setup) + '\n');
  for (let i = 0; i < baselineRuns; i++) {
    const r = await runOnce('baseline', ['--save-baseline', NAME], baseMs);
    say(`baseline ${i + 1}/${baselineRuns}: ${fmt(r)}`);
    // 99 (a threshold crossed on a loaded machine) still saves the baseline: the gate compares figures, not thresholds.
    if (r.code !== 0 && r.code !== 99)
      throw new Error(`baseline run ${i + 1} exited ${String(r.code)}: the baseline must come from runs that completed`);
  }
}
const baseP95 = nums(
  readRecords()
    .filter((r) => r.kind === 'baseline')
    .map((r) => r.p95),
);
/** The baseline's overall p95 (the median of its runs'): a percentage level is a share of it. */
const level = median(baseP95);
if (pcts.length > 0 && !Number.isFinite(level)) throw new Error('the baseline runs gave no p95: cannot size a percentage slowdown');

/** The saved baseline's gated latency figures: each run's value and the between-run bound a rerun must pass. */
const spreadLines: string[] = [];
const saved = await loadBaseline(NAME, join(reportsDir, 'baselines'));
for (const [key, e] of Object.entries(saved.entries)) {
  for (const stat of ['p50', 'p95']) {
    const runs = e.perRun?.[stat];
    if (runs === undefined || e.kind !== 'trend') continue;
    const s = runSpread(runs, COMPARE_DEFAULTS.alpha, 'log', SKETCH_BIN_LOG_WIDTH);
    const med = e.values[stat] ?? NaN;
    const sigma = runs.length > 1 ? ` (σ of the logs ${sampleStandardDeviation(runs.map(Math.log)).toFixed(3)})` : '';
    const bound =
      s === undefined
        ? 'fewer than 3 runs: not judged'
        : `bound ${s.upper.toFixed(2)} ms (+${((s.upper / med - 1) * 100).toFixed(0)} % over the median)`;
    spreadLines.push(
      `  ${key.replace(/^(metric|endpoint) /, '')} ${stat}: runs ${runs.map((x) => x.toFixed(2)).join(', ')} ms${sigma}; median ${med.toFixed(2)} ms, ${bound}`,
    );
  }
}
say(`between-run spread of the saved baseline (${saved.runs ?? 1} runs):`);
for (const line of spreadLines) say(line);

/** The levels, each with the ms it adds to every request on top of the base latency. */
const levels = [
  ...pcts.map((p) => ({ label: `+${p} % of p95`, ms: (level * p) / 100 })),
  ...addMs.map((m) => ({ label: `+${m} ms`, ms: m })),
];
/**
 * The reruns, interleaved (unchanged, then each level, round after round), so a change of machine load
 * while they run falls on the unchanged and the slowed runs alike: the injected slowdown is then measured
 * against the unchanged reruns of the same window, not only against a baseline saved under other load.
 */
const rounds = Math.max(reruns, perSlowdown);
for (let round = 0; round < rounds; round++) {
  if (round < reruns) {
    const r = await runOnce('unchanged', ['--baseline', NAME], baseMs);
    say(`unchanged ${round + 1}/${reruns}: ${fmt(r)}`);
  }
  if (round >= perSlowdown) continue;
  for (const l of levels) {
    const fault = baseMs + l.ms;
    const r = await runOnce('slowed', ['--baseline', NAME], fault, l);
    say(`${l.label} (${l.ms.toFixed(3)} ms added: FAULT_LATENCY_MS=${fault.toFixed(3)}) ${round + 1}/${perSlowdown}: ${fmt(r)}`);
  }
}

// The summary covers every run recorded in the reports folder (all invocations of one measurement).
const all = readRecords();
if (v.rejudge) {
  // Each kept run judged again by this checkout's gate against the saved baseline (runs recorded by an older gate).
  let n = 0;
  for (const r of all) {
    if (r.kind === 'baseline' || r.dir === null || !existsSync(join(reportsDir, r.dir))) continue;
    const c = compareSnapshots(await loadBaseline(join(reportsDir, r.dir)), saved);
    if (c.verdict !== r.gate) say(`rejudged ${r.dir}: ${String(r.gate)} → ${c.verdict}`);
    r.gate = c.verdict;
    const busier = (c.noise?.figures ?? []).filter((f) => f.busier).map(describeNoise);
    r.reasons = busier.length > 0 ? [`busier: ${busier.join('; ')}`] : r.reasons;
    n++;
  }
  say(`rejudged ${n} kept runs with this checkout's gate`);
}
const baselines = all.filter((r) => r.kind === 'baseline');
const unchanged = all.filter((r) => r.kind === 'unchanged');
const falseFails = unchanged.filter((r) => r.gate === 'fail');
const tally = (xs: readonly RunRecord[], gate: string): number => xs.filter((r) => r.gate === gate).length;
const control = median(nums(unchanged.map((r) => r.p95)));
const control50 = median(nums(unchanged.map((r) => r.p50)));
const baseP50 = median(nums(baselines.map((r) => r.p50)));
const signedMs = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)} ms` : '–');
const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)} %` : '–');
const loads = (xs: readonly RunRecord[]): string => {
  const ls = xs.flatMap((r) => r.load);
  return ls.length === 0 ? '–' : `${Math.min(...ls).toFixed(1)}–${Math.max(...ls).toFixed(1)}`;
};
const fixed = (xs: readonly (number | null)[]): string =>
  nums(xs)
    .map((x) => x.toFixed(2))
    .join(', ');
say('');
say(`setup: ${JSON.stringify(setup)}; records: ${RECORDS}`);
say(
  `baseline: median of ${baselines.length} runs, overall p50 ${baseP50.toFixed(2)} ms, p95 ${median(nums(baselines.map((r) => r.p95))).toFixed(2)} ms (p95 runs: ${fixed(baselines.map((r) => r.p95))}; p50 runs: ${fixed(baselines.map((r) => r.p50))})`,
);
for (const line of spreadLines) say(line);
say(
  `unchanged reruns: ${falseFails.length}/${unchanged.length} false fails, ${tally(unchanged, 'inconclusive')} inconclusive (not a pass), ${tally(unchanged, 'warn')} warned, ${tally(unchanged, 'pass')} passed (overall p95 ${fixed(unchanged.map((r) => r.p95))} ms, median ${control.toFixed(2)} ms, ${signed((control / level - 1) * 100)} against the saved baseline; overall p50 ${fixed(unchanged.map((r) => r.p50))} ms, median ${control50.toFixed(2)} ms)`,
);
for (const r of falseFails) say(`  false fail at ${r.startedAt}: ${fmt(r)}`);
say('| run | started | load (start→end) | load/core (mean) | lag p99 | http_req_sending p99 | p50 | p95 | exit | gate |');
say('|---|---|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of all)
  say(
    `| ${r.kind === 'slowed' ? (r.level ?? 'slowed') : r.kind} | ${r.startedAt.slice(11, 19)} | ${r.load.map((x) => x.toFixed(1)).join('→')} | ${r.machine?.loadPerCore?.mean.toFixed(2) ?? '–'} | ${r.machine?.schedLagMs?.p99.toFixed(2) ?? '–'} | ${r.sendingP99?.toFixed(2) ?? '–'} | ${r.p50?.toFixed(2) ?? '–'} | ${r.p95?.toFixed(2) ?? '–'} | ${String(r.code)} | ${r.gate ?? '–'} |`,
  );
say(
  `machine load (1-minute load average at each run's start and end): baseline ${loads(baselines)}, reruns ${loads(all.filter((r) => r.kind !== 'baseline'))}`,
);
say(
  '| level | ms added to every request | FAULT_LATENCY_MS | p50 shift seen (against the unchanged reruns) | p95 shift seen (same) | p95 against the saved baseline | load | caught (gate fail) | inconclusive | missed (warned) |',
);
say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const byLevel = new Map<string, RunRecord[]>();
for (const r of all.filter((x) => x.kind === 'slowed')) byLevel.set(r.level ?? '?', [...(byLevel.get(r.level ?? '?') ?? []), r]);
for (const [label, rs] of byLevel) {
  const seen = median(nums(rs.map((r) => r.p95)));
  const seen50 = median(nums(rs.map((r) => r.p50)));
  const added = median(rs.map((r) => r.addedMs ?? NaN));
  say(
    `| ${label} | ${added.toFixed(2)} | ${median(rs.map((r) => r.faultMs)).toFixed(2)} | ${signedMs(seen50 - control50)} (${signed((seen50 / control50 - 1) * 100)}) | ${signedMs(seen - control)} (${signed((seen / control - 1) * 100)}) | ${signed((seen / level - 1) * 100)} | ${loads(rs)} | ${tally(rs, 'fail')}/${rs.length} | ${tally(rs, 'inconclusive')} | ${rs.length - tally(rs, 'fail') - tally(rs, 'inconclusive')} (${tally(rs, 'warn')}) |`,
  );
}
if (work !== undefined) {
  if (v.keep) say(`runs kept in ${reportsDir}`);
  else rmSync(work, { recursive: true, force: true });
}
