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
 */

import { errorFunction, median } from 'simple-statistics';

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
