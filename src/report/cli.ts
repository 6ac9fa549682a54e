/** `npm run report` and `npm run compare`: argument parsing and output; the work is in index.ts. */

import { parseArgs } from 'node:util';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReport, compareSnapshots, EXIT, loadBaseline, saveBaseline } from './index.ts';
import { ReportError, toError } from './errors.ts';
import { fmtNum, fmtPct } from './format.ts';
import type { SoakBudget } from './types.ts';

/** reports/baselines/ of this checkout; AGENTLOAD_BASELINES_DIR overrides it (tests, other layouts). */
export const BASELINES_DIR = process.env.AGENTLOAD_BASELINES_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../reports/baselines');

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const stdio: Io = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') };

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ReportError('bad-argument', `--${name} must be a number, got "${v}"`);
  return n;
}

function fail(e: unknown, io: Io, what: string): number {
  const err = toError(e);
  if (err instanceof ReportError || (e as { code?: unknown } | null)?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    io.err(`${what}: ${err.message}`);
    return EXIT.usage;
  }
  io.err(`${what}: ${err.stack ?? err.message}`);
  return 1;
}

export const REPORT_USAGE = `usage: npm run report -- <run dir | k6 JSON output> [more segment outputs...] [options]
  --out DIR                   write the report files here (default: the run dir)
  --baseline RUN|FILE         compare with a run dir, a saved baseline or a k6 JSON output
  --interrupted               mark the run as interrupted
  --memory-mb-per-hour N      soak budget: memory growth (MB/h)
  --latency-ms-per-hour N     soak budget: p95 latency drift (ms/h)
  --error-rate-per-hour N     soak budget: error-rate drift (per hour, 0..1)
  --warmup F                  fraction of the run skipped as warm-up in soak fits (default 0.1)
  --memory-gauges A,B         memory gauge names (default target_rss_bytes,target_heap_used_bytes)
  --retention-days N          history retention (default 90, or AGENTLOAD_REPORT_RETENTION_DAYS)
  --no-history                do not update reports/index.html`;

export async function reportMain(argv: readonly string[], io: Io = stdio): Promise<number> {
  try {
    const { values: v, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        baseline: { type: 'string' },
        interrupted: { type: 'boolean' },
        'memory-mb-per-hour': { type: 'string' },
        'latency-ms-per-hour': { type: 'string' },
        'error-rate-per-hour': { type: 'string' },
        warmup: { type: 'string' },
        'memory-gauges': { type: 'string' },
        'retention-days': { type: 'string' },
        'no-history': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (v.help === true) {
      io.out(REPORT_USAGE);
      return 0;
    }
    const first = positionals[0];
    if (first === undefined) throw new ReportError('bad-argument', `no run given\n${REPORT_USAGE}`);
    const profile: { -readonly [K in keyof SoakBudget]: SoakBudget[K] } = {};
    const mem = num('memory-mb-per-hour', v['memory-mb-per-hour']);
    const lat = num('latency-ms-per-hour', v['latency-ms-per-hour']);
    const errs = num('error-rate-per-hour', v['error-rate-per-hour']);
    const warm = num('warmup', v.warmup);
    if (mem !== undefined) profile.memoryGrowthMBPerHour = mem;
    if (lat !== undefined) profile.latencyDriftMsPerHour = lat;
    if (errs !== undefined) profile.errorRateDriftPerHour = errs;
    if (warm !== undefined) profile.warmupFraction = warm;
    if (v['memory-gauges'] !== undefined) profile.gauges = { memory: v['memory-gauges'].split(',').map((s) => s.trim()).filter(Boolean) };
    const retention = num('retention-days', v['retention-days']);
    const res = await buildReport({
      runDir: positionals.length > 1 ? (v.out ?? dirname(first)) : first,
      ...(positionals.length > 1 ? { inputs: positionals } : {}),
      ...(v.out !== undefined ? { outDir: v.out } : {}),
      ...(v.baseline !== undefined ? { baseline: v.baseline } : {}),
      ...(v.interrupted === true ? { interrupted: true } : {}),
      ...(Object.keys(profile).length > 0 ? { profile } : {}),
      ...(retention !== undefined ? { retentionDays: retention } : {}),
      ...(v['no-history'] === true ? { historyDir: false as const } : {}),
    });
    io.out(`verdict: ${res.verdict} (exit ${res.exitCode})`);
    for (const f of res.files) io.out(`  ${f}`);
    return res.exitCode;
  } catch (e) {
    return fail(e, io, 'report');
  }
}

export const COMPARE_USAGE = `usage: npm run compare -- <run dir | k6 JSON output> [--baseline RUN|FILE] [--save-baseline NAME] [options]
  --baseline RUN|FILE   a run dir, a saved baseline (reports/baselines/NAME.json) or a k6 JSON output
  --save-baseline NAME  save this run as reports/baselines/NAME.json
  --fail-pct N          worse by more than N % fails (default 10)
  --warn-pct N          worse by more than N % warns (default 5)
  --min-samples N       figures with fewer samples are not judged (default 30)
  --json                print the comparison as JSON`;

export async function compareMain(argv: readonly string[], io: Io = stdio, baselinesDir = BASELINES_DIR): Promise<number> {
  try {
    const { values: v, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        baseline: { type: 'string' },
        'save-baseline': { type: 'string' },
        'fail-pct': { type: 'string' },
        'warn-pct': { type: 'string' },
        'min-samples': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (v.help === true) {
      io.out(COMPARE_USAGE);
      return 0;
    }
    const run = positionals[0];
    if (run === undefined || (v.baseline === undefined && v['save-baseline'] === undefined))
      throw new ReportError('bad-argument', `give a run and --baseline or --save-baseline\n${COMPARE_USAGE}`);
    let code: number = EXIT.ok;
    if (v.baseline !== undefined) {
      const failPct = num('fail-pct', v['fail-pct']);
      const warnPct = num('warn-pct', v['warn-pct']);
      const minSamples = num('min-samples', v['min-samples']);
      const c = compareSnapshots(await loadBaseline(run), await loadBaseline(v.baseline), {
        ...(failPct !== undefined ? { failPct } : {}),
        ...(warnPct !== undefined ? { warnPct } : {}),
        ...(minSamples !== undefined ? { minSamples } : {}),
      });
      if (v.json === true) io.out(JSON.stringify(c, null, 2));
      else {
        io.out(`baseline ${c.baselineSource}: ${c.verdict.toUpperCase()} (fail > ${c.failPct} % worse, warn > ${c.warnPct} %, + = worse)`);
        for (const r of c.rows.filter((x) => x.status !== 'ok' && x.status !== 'new' && x.status !== 'missing'))
          io.out(`  ${r.status.padEnd(8)} ${`${r.key} ${r.stat}`.padEnd(60)} ${fmtNum(r.baseline, 4).padStart(10)} → ${fmtNum(r.current, 4).padEnd(10)} ${r.change === null ? '' : `${r.change > 0 ? '+' : ''}${fmtPct(r.change, 1)}`}${r.note !== undefined ? `  (${r.note})` : ''}`);
      }
      if (c.verdict === 'fail') code = EXIT.regression;
    }
    if (v['save-baseline'] !== undefined) io.out(`saved ${await saveBaseline(run, v['save-baseline'], baselinesDir)}`);
    return code;
  } catch (e) {
    return fail(e, io, 'compare');
  }
}
