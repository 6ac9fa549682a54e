/**
 * Baseline comparison: the regression gate. It judges a run's snapshot against a saved baseline's
 * (baseline.ts: what a snapshot keeps and which figures are gated); figures not gated are shown for
 * information and never fail.
 *
 * A gated figure fails only when it is all three: more than failPct worse (relative), worse by more
 * than the absolute floor (floorMs for times, floorRatio for ratios), and statistically real (one-sided
 * p < alpha: a rank test on its windows, or a two-proportion test for ratios). warnPct likewise warns.
 * A figure with too few windows for a test (fewer than MIN_WINDOWS a side, or an old baseline without
 * windows) is judged by the percentages alone, UNTESTED_FACTOR times wider and widened again by
 * √(minSamples / n) when it has fewer than minSamples samples; only a figure with no samples is "guarded". "Worse" has a direction
 * per metric (`worseDirection`): latency, errors, loss, lag and memory are worse when higher;
 * throughput, hit and success rates and completed counts are worse when lower. Relative changes are
 * taken against max(baseline, 1 ms) for times and max(baseline, 0.05) for ratios.
 *
 * A saved baseline may combine several runs (`combineSnapshots`): each figure is the median of the
 * runs', the windows of all runs are pooled, and each gated figure keeps its value in every run
 * (`perRun`). With at least MIN_BASELINE_RUNS runs there is a fourth condition, between runs: the figure
 * must also lie outside the runs' spread (`runSpread`: beyond a one-sided 1 − α prediction bound for one
 * more run, and beyond the worst run), because the windows of one run do not see how far the next run of
 * the same code lands (each run starts the system fresh). Improvements likewise must beat every run.
 * A baseline of fewer runs is judged by the first three conditions alone, and a failing or warning row
 * says so ("the run-to-run spread is not judged").
 */

import { noiseOf, noiseRunsOf, type BaselineEntry, type BaselineSnapshot, type RunNoise } from './baseline.ts';
import { MIN_BASELINE_RUNS, SKETCH_BIN_LOG_WIDTH, proportionTestGreater, rankTestGreater, runSpread, type RunSpread } from './stats.ts';

/**
 * `inconclusive`: a latency tail (p90/p95/p99/max) that would have failed, in a run during which the machine was
 * busier than during every baseline run (`judgeNoise`): the tail cannot tell slower code from a busier machine.
 */
export type ChangeStatus = 'fail' | 'inconclusive' | 'warn' | 'ok' | 'improved' | 'info' | 'guarded' | 'new' | 'missing';

/** One machine-noise figure of the run against the baseline runs'. */
export interface NoiseFigure {
  name: keyof RunNoise;
  /** `load average per core`, `scheduling lag p99`, `http_req_sending p99`, `CPU steal`. */
  label: string;
  unit: 'ms' | 'per core' | '%';
  /** The baseline runs' values (those that recorded it). */
  baseline: number[];
  /** The highest of them. */
  worst: number;
  current: number;
  /** Past this, the machine counts as busier: max(worst × (1 + noiseMarginPct), worst + the figure's floor). */
  limit: number;
  busier: boolean;
}

/** Was the machine busier during this run than during every baseline run? */
export interface NoiseJudgement {
  busier: boolean;
  /** Every figure both sides recorded. */
  figures: NoiseFigure[];
}

export interface ComparisonRow {
  key: string;
  stat: string;
  baseline: number | null;
  current: number | null;
  /** Relative change in the worse direction (0.12 = 12 % worse; negative = better). */
  change: number | null;
  /** current − baseline, in the figure's unit. */
  delta?: number;
  unit?: BaselineEntry['unit'];
  kind?: BaselineEntry['kind'];
  /** One-sided p-value that a change this large in its direction is noise, Holm-adjusted over the run's tested figures (absent: no test possible). */
  p?: number;
  /** The baseline runs' spread in the worse direction: their worst value and the prediction bound (absent: fewer than MIN_BASELINE_RUNS runs). */
  spread?: { runs: number; worst: number; limit: number };
  status: ChangeStatus;
  note?: string;
}

export interface Comparison {
  baselineSource: string;
  /** Runs the baseline combines (1 for a single run). */
  baselineRuns: number;
  /** `inconclusive`: nothing failed but a latency tail that would have, on a machine busier than during the baseline. */
  verdict: 'pass' | 'warn' | 'inconclusive' | 'fail';
  /** The run's machine-noise figures against the baseline runs' (absent: neither side recorded any). */
  noise?: NoiseJudgement;
  rows: ComparisonRow[];
  failPct: number;
  warnPct: number;
  minSamples: number;
  alpha: number;
  floorMs: number;
  floorRatio: number;
  noiseMarginPct: number;
}

export interface CompareOptions {
  failPct?: number;
  warnPct?: number;
  minSamples?: number;
  /** Significance level of the one-sided tests (default 0.01). */
  alpha?: number;
  /** Smallest change in ms that can count for times (default 0.5). */
  floorMs?: number;
  /** Smallest change that can count for ratios such as error rates (default 0.005: half a percentage point). */
  floorRatio?: number;
  /** A machine-noise figure this many per cent past the worst baseline run's (and past its floor) makes the machine "busier" (default 25). */
  noiseMarginPct?: number;
}

export const COMPARE_DEFAULTS = {
  failPct: 10,
  warnPct: 5,
  minSamples: 30,
  alpha: 0.01,
  floorMs: 0.5,
  floorRatio: 0.005,
  noiseMarginPct: 25,
} as const;

/**
 * The machine-noise figures, with the smallest rise past the worst baseline run that counts (so a figure that is
 * tiny in every run, such as a steal of 0 %, does not make a quiet machine "busier" by a rounding step).
 */
const NOISE_FIGURES: readonly { name: keyof RunNoise; label: string; unit: NoiseFigure['unit']; floor: number }[] = [
  { name: 'loadPerCore', label: 'load average per core', unit: 'per core', floor: 0.25 },
  { name: 'schedLagP99Ms', label: 'scheduling lag p99', unit: 'ms', floor: 1 },
  { name: 'sendingP99Ms', label: 'http_req_sending p99', unit: 'ms', floor: 0.25 },
  { name: 'stealPct', label: 'CPU steal', unit: '%', floor: 2 },
];

/**
 * Was the machine busier during this run than during every baseline run? Each figure both sides recorded is
 * compared with the worst (highest) baseline run's: past max(worst × (1 + marginPct / 100), worst + floor) it
 * counts, and one figure past its limit is enough. Figures only one side has are left out (a baseline saved
 * before runs recorded load and lag still has `http_req_sending` p99 from its k6 output).
 */
export function judgeNoise(current: RunNoise, baselineRuns: readonly RunNoise[], marginPct: number): NoiseJudgement | undefined {
  const figures: NoiseFigure[] = [];
  for (const f of NOISE_FIGURES) {
    const cv = current[f.name];
    const bs = baselineRuns.flatMap((r) => (r[f.name] === undefined ? [] : [r[f.name] ?? 0]));
    if (cv === undefined || bs.length === 0) continue;
    const worst = Math.max(...bs);
    const limit = Math.max(worst * (1 + marginPct / 100), worst + f.floor);
    figures.push({ name: f.name, label: f.label, unit: f.unit, baseline: bs, worst, current: cv, limit, busier: cv > limit });
  }
  return figures.length === 0 ? undefined : { busier: figures.some((f) => f.busier), figures };
}

/** `load average per core 0.62 → 1.41 (baseline runs 0.48–0.62)`. */
export function describeNoise(f: NoiseFigure): string {
  const v = (x: number): string => (f.unit === 'ms' ? `${x.toFixed(2)} ms` : f.unit === '%' ? `${x.toFixed(1)} %` : x.toFixed(2));
  const lo = Math.min(...f.baseline);
  const runs = f.baseline.length === 1 ? `baseline run ${v(f.worst)}` : `baseline runs ${v(lo)}–${v(f.worst)}`;
  return `${f.label} ${v(f.worst)} → ${v(f.current)} (${runs}; busier past ${v(f.limit)})`;
}

/** Latency-tail stats: the ones a busier machine moves far more than the median (docs/reports.md "Machine noise"). */
const TAIL_STATS = new Set(['p90', 'p95', 'p99', 'max']);

const TREND_STATS = ['p50', 'p95', 'p99', 'avg'] as const;

interface Judged {
  status: ChangeStatus;
  p?: number;
  note?: string;
}

/** The significance test of one gated stat: p that the worse-direction change is noise (undefined: no test possible). */
function significance(b: BaselineEntry, c: BaselineEntry, stat: string, worse: boolean): number | undefined {
  if (c.kind === 'rate') {
    if (b.events === undefined || c.events === undefined) return undefined;
    // "Worse" for a rate that is worse when lower (hit rates) is its complement growing.
    const up = (c.worse === 'up') === worse;
    const x1 = up ? c.events : c.count - c.events;
    const x2 = up ? b.events : b.count - b.events;
    return proportionTestGreater(x1, c.count, x2, b.count);
  }
  const cw = c.windows?.[stat];
  const bw = b.windows?.[stat];
  if (cw === undefined || bw === undefined) return undefined;
  const up = (c.worse === 'up') === worse;
  return up
    ? rankTestGreater(cw, bw)?.p
    : rankTestGreater(
        cw.map((v) => -v),
        bw.map((v) => -v),
      )?.p;
}

/** Without a significance test, only a change this many times the fail (warn) percentage counts. */
export const UNTESTED_FACTOR = 3;

/**
 * Judges one gated stat. `p`: its Holm-adjusted p-value (undefined: no test possible, e.g. fewer than
 * MIN_WINDOWS windows or a baseline saved without windows). An untested figure cannot be told from
 * noise by a test, so it is judged against UNTESTED_FACTOR × the percentages (widened by
 * √(minSamples / n) when samples are few): jitter stays within that band, a change many times the
 * limit (a short run that got 10× slower) still fails.
 */
function judge(
  b: BaselineEntry,
  c: BaselineEntry,
  change: number,
  delta: number,
  p: number | undefined,
  o: Required<CompareOptions>,
): Judged {
  const n = Math.min(b.count, c.count);
  if (n === 0) return { status: 'guarded', note: 'no samples: not judged' };
  const floor = c.unit === 'ms' ? o.floorMs : c.unit === 'ratio' ? o.floorRatio : 0;
  const overFloor = Math.abs(delta) > floor;
  const worse = change > 0;
  const big = Math.abs(change) * 100;
  if (p === undefined) {
    const widen = UNTESTED_FACTOR * (n >= o.minSamples ? 1 : Math.sqrt(o.minSamples / n));
    const note = `no significance test (${c.kind === 'gauge' ? 'one value per run' : `too few time windows${n < o.minSamples ? ` and samples: ${n}` : ''}`}): judged against ${Math.round(o.failPct * widen)} % (fail) / ${Math.round(o.warnPct * widen)} % (warn)`;
    if (!overFloor || big <= o.warnPct * widen) return big > o.warnPct ? { status: 'ok', note } : { status: 'ok' };
    if (!worse) return { status: 'improved', note };
    return { status: big > o.failPct * widen ? 'fail' : 'warn', note };
  }
  if (!overFloor)
    return big > o.warnPct
      ? { status: 'ok', p, note: `within the absolute floor (${floor} ${c.unit === 'ratio' ? 'of 1' : c.unit})` }
      : { status: 'ok', p };
  if (p >= o.alpha) return big > o.warnPct ? { status: 'ok', p, note: `not significant (p = ${p.toPrecision(2)})` } : { status: 'ok', p };
  if (worse && big > o.failPct) return { status: 'fail', p };
  if (worse && big > o.warnPct) return { status: 'warn', p };
  if (!worse && big > o.warnPct) return { status: 'improved', p };
  return { status: 'ok', p };
}

/**
 * The between-run condition on a row the first three conditions made fail, warn or improved: it keeps that
 * status only when the current value also lies beyond the baseline runs' spread in that direction; inside
 * it, the row is ok and its note says where the runs lay. Without a spread (fewer than MIN_BASELINE_RUNS
 * runs), a failing or warning row's note says the spread was not judged.
 */
function betweenRuns(
  j: Judged,
  x: { row: ComparisonRow; b: BaselineEntry; c: BaselineEntry; spread: RunSpread | undefined },
  baselineRuns: number,
  alpha: number,
): Judged {
  const adverse = j.status === 'fail' || j.status === 'warn';
  if (!adverse && j.status !== 'improved') return j;
  const { row, c, spread: s } = x;
  const add = (note: string): string => (j.note === undefined ? note : `${j.note}; ${note}`);
  if (s === undefined) {
    if (!adverse) return j;
    const runs = x.b.perRun?.[row.stat]?.length ?? baselineRuns;
    return {
      ...j,
      note: add(
        `baseline of ${runs} run${runs === 1 ? '' : 's'}: the run-to-run spread is not judged (save ${MIN_BASELINE_RUNS} or more runs)`,
      ),
    };
  }
  const up = c.worse === 'up';
  const cv = row.current ?? 0;
  const fmt = (v: number): string => fmtIn(v, c.unit, c.kind);
  const level = `${Number(((1 - alpha) * 100).toPrecision(4))} %`;
  row.spread = { runs: s.runs, worst: up ? s.max : s.min, limit: up ? s.upper : s.lower };
  if (adverse) {
    const outside = up ? cv > s.upper : cv < s.lower;
    return outside
      ? {
          ...j,
          note: add(
            `worse than all ${s.runs} baseline runs (worst ${fmt(row.spread.worst)}) and beyond their ${level} bound ${fmt(row.spread.limit)}`,
          ),
        }
      : {
          status: 'ok',
          ...(j.p !== undefined ? { p: j.p } : {}),
          note: `within the baseline runs' spread: ${s.runs} runs from ${fmt(s.min)} to ${fmt(s.max)}, ${level} prediction bound ${fmt(row.spread.limit)}`,
        };
  }
  const outside = up ? cv < s.lower : cv > s.upper;
  return outside
    ? j
    : {
        status: 'ok',
        ...(j.p !== undefined ? { p: j.p } : {}),
        note: `better, but within the spread of the ${s.runs} baseline runs (${fmt(s.min)} to ${fmt(s.max)})`,
      };
}

/** Holm's step-down adjustment: the run's verdict, over all its tested figures, keeps a false-fail chance of at most α. */
export function holmAdjust(ps: readonly number[]): number[] {
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const out = new Array<number>(ps.length).fill(1);
  let running = 0;
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (ps.length - k) * p));
    out[i] = running;
  });
  return out;
}

/** Rows that fail or warn, worst first (by relative change); then the rest in key order. */
export function worstFirst(rows: readonly ComparisonRow[]): ComparisonRow[] {
  const rank: Record<ChangeStatus, number> = {
    fail: 0,
    inconclusive: 1,
    warn: 2,
    improved: 3,
    ok: 4,
    info: 5,
    guarded: 6,
    new: 7,
    missing: 8,
  };
  return [...rows].sort(
    (a, b) =>
      rank[a.status] - rank[b.status] || (a.status === 'improved' ? (a.change ?? 0) - (b.change ?? 0) : (b.change ?? 0) - (a.change ?? 0)),
  );
}

export function compareSnapshots(current: BaselineSnapshot, baseline: BaselineSnapshot, opts: CompareOptions = {}): Comparison {
  const o: Required<CompareOptions> = {
    failPct: opts.failPct ?? COMPARE_DEFAULTS.failPct,
    warnPct: opts.warnPct ?? COMPARE_DEFAULTS.warnPct,
    minSamples: opts.minSamples ?? COMPARE_DEFAULTS.minSamples,
    alpha: opts.alpha ?? COMPARE_DEFAULTS.alpha,
    floorMs: opts.floorMs ?? COMPARE_DEFAULTS.floorMs,
    floorRatio: opts.floorRatio ?? COMPARE_DEFAULTS.floorRatio,
    noiseMarginPct: opts.noiseMarginPct ?? COMPARE_DEFAULTS.noiseMarginPct,
  };
  const rows: ComparisonRow[] = [];
  const pending: { row: ComparisonRow; b: BaselineEntry; c: BaselineEntry; p: number | undefined; spread: RunSpread | undefined }[] = [];
  const keys = new Set([...Object.keys(baseline.entries), ...Object.keys(current.entries)]);
  for (const key of [...keys].sort()) {
    const b = baseline.entries[key];
    const c = current.entries[key];
    if (!b || !c) {
      rows.push({
        key,
        stat: '',
        baseline: null,
        current: null,
        change: null,
        status: b ? 'missing' : 'new',
        note: b ? 'not in this run' : 'not in the baseline',
      });
      continue;
    }
    const stats = c.kind === 'trend' ? TREND_STATS : c.kind === 'gauge' ? (['value', 'max'] as const) : (['rate'] as const);
    for (const stat of stats) {
      const bv = b.values[stat];
      const cv = c.values[stat];
      if (bv === undefined || cv === undefined) continue;
      const floor = c.unit === 'ratio' ? 0.05 : c.unit === 'ms' ? 1 : 0;
      const denom = Math.max(Math.abs(bv), floor);
      const raw = denom === 0 ? 0 : (cv - bv) / denom;
      const change = c.worse === 'up' ? raw : -raw;
      const row: ComparisonRow = {
        key,
        stat,
        baseline: bv,
        current: cv,
        change,
        delta: cv - bv,
        unit: c.unit,
        kind: c.kind,
        status: 'info',
      };
      // p99 is judged only with 100 samples a side: below that it is the run's few slowest requests.
      const enough = stat !== 'p99' || Math.min(b.count, c.count) >= 100;
      const gated = enough && (c.gated ?? []).includes(stat) && (b.gated === undefined || b.gated.includes(stat));
      rows.push(row);
      // Times and rates per second vary between runs by a factor (log scale); ratios such as error rates by an amount.
      // A trend's percentiles come from the sketch, in bins ~1 % wide: runs that all land in one bin have a σ of 0,
      // which would put the bound on the median itself; one bin's width is the least spread they can show.
      const minSd = c.kind === 'trend' && stat !== 'avg' ? SKETCH_BIN_LOG_WIDTH : 0;
      const spread = gated ? runSpread(b.perRun?.[stat] ?? [], o.alpha, c.unit === 'ratio' ? 'linear' : 'log', minSd) : undefined;
      if (gated) pending.push({ row, b, c, p: significance(b, c, stat, change > 0), spread });
    }
  }
  const tested = pending.filter((x) => x.p !== undefined);
  const adjusted = holmAdjust(tested.map((x) => x.p ?? 1));
  tested.forEach((x, i) => (x.p = adjusted[i]));
  for (const x of pending) {
    const j = betweenRuns(judge(x.b, x.c, x.row.change ?? 0, x.row.delta ?? 0, x.p, o), x, baseline.runs ?? 1, o.alpha);
    x.row.status = j.status;
    if (j.p !== undefined) x.row.p = j.p;
    if (j.note !== undefined) x.row.note = j.note;
  }
  // A busier machine explains a slower tail, never a slower median, more errors or less throughput: only a
  // failing latency tail becomes inconclusive; every other figure stays judged as above.
  const noise = judgeNoise(noiseOf(current), noiseRunsOf(baseline), o.noiseMarginPct);
  if (noise?.busier) {
    const why = `inconclusive: the machine was busier than during the baseline (${noise.figures
      .filter((f) => f.busier)
      .map(describeNoise)
      .join('; ')})`;
    for (const r of rows)
      if (r.status === 'fail' && r.kind === 'trend' && r.unit === 'ms' && TAIL_STATS.has(r.stat) && (r.change ?? 0) > 0) {
        r.status = 'inconclusive';
        r.note = r.note === undefined ? why : `${why}; ${r.note}`;
      }
  }
  const verdict = rows.some((r) => r.status === 'fail')
    ? 'fail'
    : rows.some((r) => r.status === 'inconclusive')
      ? 'inconclusive'
      : rows.some((r) => r.status === 'warn')
        ? 'warn'
        : 'pass';
  return {
    baselineSource: baseline.source,
    baselineRuns: baseline.runs ?? 1,
    verdict,
    rows,
    ...(noise !== undefined ? { noise } : {}),
    ...o,
  };
}

/** `GET /api/agents p95` from a row's key and stat. */
export function figureLabel(r: Pick<ComparisonRow, 'key' | 'stat'>): string {
  const name = r.key.replace(/^(metric|endpoint) /, '');
  return r.stat === '' ? name : `${name} ${r.stat}`;
}

/** A value in its unit: ms, % for ratios, /s for counters' rates. */
function fmtIn(v: number, unit: ComparisonRow['unit'], kind: ComparisonRow['kind'], withUnit = true): string {
  if (unit === 'ratio') return `${(v * 100).toFixed(v !== 0 && Math.abs(v) < 0.001 ? 3 : 2)}${withUnit ? ' %' : ''}`;
  const n = v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  if (!withUnit) return n;
  return unit === 'ms' ? `${n} ms` : kind === 'counter' ? `${n}/s` : n;
}

/** A figure's value with its unit, as the row's own values are shown. */
export function fmtValue(v: number, r: Pick<ComparisonRow, 'unit' | 'kind'>): string {
  return fmtIn(v, r.unit, r.kind);
}

/** `agent_status p95 3.76 → 5.90 ms (+2.14 ms, +57 %)`: the figure, both values with units, the absolute and relative change. */
export function describeRow(r: ComparisonRow): string {
  if (r.baseline === null || r.current === null) return `${figureLabel(r)}: ${r.note ?? r.status}`;
  const { unit, kind } = r;
  const delta = r.delta ?? r.current - r.baseline;
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±';
  const abs = unit === 'ratio' ? `${sign}${(Math.abs(delta) * 100).toFixed(2)} pp` : `${sign}${fmtIn(Math.abs(delta), unit, kind)}`;
  const relative = r.baseline === 0 ? undefined : Math.abs(delta / r.baseline) * 100;
  const rel = relative === undefined ? '' : `, ${sign}${relative.toFixed(relative < 10 ? 1 : 0)} %`;
  return `${figureLabel(r)} ${fmtIn(r.baseline, unit, kind, unit === 'ratio' || unit === 'value')} → ${fmtIn(r.current, unit, kind)} (${abs}${rel})`;
}
