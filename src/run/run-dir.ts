/** Run folders: `reports/<scenario>-<YYYYMMDD-HHMMSS>/` (UTC), with a `-2`, `-3`, ... suffix on a clash. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_FILES = {
  outJson: 'out.json.gz',
  summaryExport: 'summary-export.json',
  handleSummaryData: 'handle-summary-data.json',
  /** The variable names the scenario read (written by the bundle's handleSummary; for the unused-variable warning). */
  envRead: 'env-read.json',
  manifest: 'run.json',
  /** The fault controller's log (fault scenarios): one JSON line per fault, end and recovery. */
  faults: 'faults.jsonl',
} as const;

export function timestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** Creates the run folder (never reuses one) and returns its path. */
export function createRunDir(reportsDir: string, scenario: string, now: Date): string {
  mkdirSync(reportsDir, { recursive: true });
  const base = `${scenario}-${timestamp(now)}`;
  for (let n = 1; ; n++) {
    const dir = join(reportsDir, n === 1 ? base : `${base}-${n}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
