/** The full report: model plus the analyses that depend on options (soak, baseline) and the verdict. */

import type { Comparison } from './compare.ts';
import type { RunModel } from './model.ts';
import type { SoakResult } from './soak.ts';
import type { Verdict } from './types.ts';

/** Toolkit exit codes of the report pipeline (docs/reports.md has the table). */
export const EXIT = {
  ok: 0,
  /** Bad input or usage: nothing to report on. */
  usage: 2,
  /** Worse than the baseline by more than the fail percentage. */
  regression: 3,
  /** Soak budget breached (memory growth, latency or error drift). */
  soak: 4,
  /** The run measured nothing: no HTTP request got a response, or nothing at all was done (no iteration, no request, no message). */
  noData: 5,
  /** k6's own code for crossed thresholds (ThresholdsHaveFailed). */
  thresholds: 99,
} as const;

export interface VerdictInfo {
  verdict: Verdict;
  exitCode: number;
  /** One line per reason, worst first. */
  reasons: string[];
  thresholds: { total: number; failed: number };
}

export interface FullReport {
  model: RunModel;
  soak?: SoakResult;
  comparison?: Comparison;
  verdict: VerdictInfo;
  generatedAt: string;
}
