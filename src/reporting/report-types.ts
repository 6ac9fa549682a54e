/** The full report: model plus the analyses that depend on options (soak, baseline) and the verdict. */

import type { Comparison } from './compare.ts';
import type { RunModel } from './model.ts';
import type { SoakResult } from './soak.ts';
import type { Verdict } from './types.ts';
import { EXIT_CODES } from '../../shared/exit-codes.ts';

/** The exit codes the report pipeline gives (docs/reports.md has the table), from the one table. */
export const EXIT = {
  ok: EXIT_CODES.ok,
  /** Bad input or usage: nothing to report on. */
  usage: EXIT_CODES.usage,
  /** Worse than the baseline by more than the fail percentage. */
  regression: EXIT_CODES.regression,
  /** Soak budget breached (memory growth, latency or error drift). */
  soak: EXIT_CODES.soak,
  /** The run measured nothing: no HTTP request got a response, or nothing at all was done (no iteration, no request, no message). */
  noData: EXIT_CODES.noData,
  /** k6's own code for crossed thresholds (ThresholdsHaveFailed). */
  thresholds: EXIT_CODES.thresholdsFailed,
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
