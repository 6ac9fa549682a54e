/**
 * The statistics of the baseline gate: is a figure worse for real, or is it noise?
 *
 * - Latency figures (trend percentiles) and rates per second are judged on the run's own time
 *   windows: each window (consecutive seconds merged until it holds at least `MIN_WINDOW_SAMPLES`
 *   samples) gives one value of the figure, and a one-sided Mann-Whitney rank test asks whether
 *   the current run's windows are stochastically worse than the baseline's. Windows, not single
 *   requests, are the unit: requests in the same second share the machine's hiccups, so treating
 *   them as independent would call scheduler jitter "significant".
 * - Error and other ratios are judged by a one-sided two-proportion z-test on their counts.
 *
 * Both return a p-value: the chance of seeing a difference at least this large in the worse
 * direction when nothing changed. Small p = statistically real.
 *
 * - Between runs (`runSpread`): a run's windows say nothing about how far the next run of the same code
 *   lands (each run starts the system fresh), so a baseline of several runs also gives a prediction
 *   interval from its runs' values of the figure.
 */

import jStat from 'jstat';
import { REPORT_FOLD, relativeErrorOf } from '../../shared/quantile-sketch.ts';
import { errorFunction, mean, median, sampleStandardDeviation } from 'simple-statistics';

/** A window closes once it holds this many samples (its last second is never split). */
export const MIN_WINDOW_SAMPLES = 10;
/** Fewer windows than this on either side: no rank test is possible at a useful level. */
export const MIN_WINDOWS = 5;

/** Standard normal upper tail P(Z > z). */
export function normalUpperTail(z: number): number {
  return 0.5 * (1 - errorFunction(z / Math.SQRT2));
}

/** Midranks of `values` (1-based; ties share the mean of their ranks) and the tie correction term Σ(t³ − t). */
function midranks(values: readonly number[]): { ranks: number[]; ties: number } {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length).fill(0);
  let ties = 0;
  for (let k = 0; k < order.length;) {
    let j = k;
    while (j + 1 < order.length && order[j + 1]?.v === order[k]?.v) j++;
    const rank = (k + j) / 2 + 1;
    for (let m = k; m <= j; m++) ranks[order[m]?.i ?? 0] = rank;
    const t = j - k + 1;
    ties += t * t * t - t;
    k = j + 1;
  }
  return { ranks, ties };
}

export interface RankTest {
  /** Mann-Whitney U of `current` (how many (current, baseline) pairs have current > baseline, ties counting ½). */
  u: number;
  /** One-sided p-value that `current` is stochastically larger than `baseline`. */
  p: number;
}

/**
 * One-sided Mann-Whitney U test (normal approximation with tie and continuity corrections):
 * is `current` stochastically larger than `baseline`? Needs at least MIN_WINDOWS values on each
 * side (returns undefined otherwise). For "lower is worse" figures, negate both samples.
 */
export function rankTestGreater(current: readonly number[], baseline: readonly number[]): RankTest | undefined {
  const n1 = current.length;
  const n2 = baseline.length;
  if (n1 < MIN_WINDOWS || n2 < MIN_WINDOWS) return undefined;
  const { ranks, ties } = midranks([...current, ...baseline]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i] ?? 0;
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1 }; // every value equal: no evidence either way
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { u, p: normalUpperTail(z) };
}

/**
 * One-sided two-proportion z-test: is the current proportion (x1 of n1) larger than the baseline's
 * (x2 of n2)? Undefined when either side has no trials; p = 1 when both proportions are 0 or 1.
 */
export function proportionTestGreater(x1: number, n1: number, x2: number, n2: number): number | undefined {
  if (n1 <= 0 || n2 <= 0) return undefined;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  return normalUpperTail((x1 / n1 - x2 / n2) / se);
}

/** The median of a non-empty list (the baseline of several saved runs is their median). */
export function medianOf(values: readonly number[]): number {
  return values.length === 0 ? NaN : median([...values]);
}

/**
 * The width of one of the report sketch's bins on the log scale, ln((1 + α)/(1 − α)) with α = 0.49975 % (≈ 0.01):
 * a percentile is known only to its bin, so runs whose values all land in one bin still spread this much.
 */
export const SKETCH_BIN_LOG_WIDTH = ((a: number): number => Math.log((1 + a) / (1 - a)))(relativeErrorOf(REPORT_FOLD));

/** Baseline runs needed before their spread is judged (with 2, a spread is one difference: no estimate of it). */
export const MIN_BASELINE_RUNS = 3;

/** Where one more run of unchanged code is expected to land, from a figure's values in earlier runs. */
export interface RunSpread {
  /** How many runs the values come from. */
  runs: number;
  /** The lowest and highest run. */
  min: number;
  max: number;
  /** One-sided prediction bounds at 1 − α each, never inside [min, max]: below `lower` or above `upper` is outside the spread. */
  lower: number;
  upper: number;
}

/**
 * The spread of a figure over the baseline's runs as a prediction interval for one new run:
 * mean ± t(1 − α, n − 1) · sd · √(1 + 1/n), computed on the logarithm of the values when `scale` is 'log'
 * and every value is positive (times and rates per second: run-to-run noise is multiplicative, and the
 * interval is then wider upwards, as latency is), on the values themselves otherwise (ratios such as
 * error rates, which are often 0). Undefined with fewer than MIN_BASELINE_RUNS values.
 *
 * Why this and not a robust spread (median absolute deviation, min/max with a margin): with the 3–5 runs
 * a baseline keeps, a robust estimate is too unsteady. Simulated on log-normal run-to-run noise, "above
 * the highest run and median + 3 · MAD" calls an unchanged run worse 5–14 % of the time (it depends on N
 * and on the noise), "above the highest run by 10 %" 4–18 %; the t prediction bound is exact at α (1 %)
 * for any N and noise level when the logs are normal, and an outlier among the baseline runs widens it
 * (the gate gets quieter, never noisier). The price is honesty about small N: t(0.99, 2) = 6.96, so three
 * runs that spread ±18 % let only a change of several times through; five runs (t = 3.75) or more are
 * what make the bound useful. `minSd` floors the standard deviation (on the log scale when 'log'): a
 * percentile from the report's sketch is known to one bin (SKETCH_BIN_LOG_WIDTH), so runs that all landed in
 * one bin do not have a spread of 0, and the bound does not collapse onto the median.
 */
export function runSpread(values: readonly number[], alpha: number, scale: 'log' | 'linear', minSd = 0): RunSpread | undefined {
  const n = values.length;
  if (n < MIN_BASELINE_RUNS) return undefined;
  const log = scale === 'log' && values.every((v) => v > 0);
  const xs = log ? values.map(Math.log) : [...values];
  const centre = mean(xs);
  // `minSd` (on the scale used): the least spread the values can show, e.g. one sketch bin when every run landed in the same bin.
  const sd = Math.max(sampleStandardDeviation(xs), minSd);
  const half = jStat.studentt.inv(1 - alpha, n - 1) * sd * Math.sqrt(1 + 1 / n);
  const back = (x: number): number => (log ? Math.exp(x) : x);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { runs: n, min, max, lower: Math.min(min, back(centre - half)), upper: Math.max(max, back(centre + half)) };
}
