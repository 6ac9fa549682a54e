/** `npm run report` and `npm run compare`: argument parsing and output; the work is in index.ts. */

import { MIN_BASELINE_RUNS } from './stats.ts';
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { BASELINE_KEEP_RUNS, BASELINES_DIR, buildReport, compareSnapshots, EXIT, loadBaseline, saveBaseline } from './index.ts';
import { COMPARE_DEFAULTS, describeNoise, describeRow, worstFirst, type Comparison } from './compare.ts';
import { ReportError, toError } from './errors.ts';
import type { SoakBudget } from './types.ts';

export { BASELINES_DIR } from './index.ts';

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
  --baseline NAME|RUN|FILE    compare with a saved baseline (NAME: reports/baselines/NAME.json), a run dir or a k6 JSON output
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
    if (v['memory-gauges'] !== undefined)
      profile.gauges = {
        memory: v['memory-gauges']
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
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

export const COMPARE_USAGE = `usage: npm run compare -- <run dir | k6 JSON output> [--baseline NAME|RUN|FILE] [--save-baseline NAME] [options]
  --baseline NAME|RUN|FILE  a saved baseline (NAME: reports/baselines/NAME.json), a run dir or a k6 JSON output
  --save-baseline NAME      add this run to reports/baselines/NAME.json (the median of its last ${BASELINE_KEEP_RUNS} runs)
  --reports-dir DIR         saved baselines are DIR/baselines/NAME.json, as the run command's --reports-dir saves them
                            (default: AGENTLOAD_REPORTS_DIR, else reports/; AGENTLOAD_BASELINES_DIR overrides both)
  --keep-runs N             runs a saved baseline combines (default ${BASELINE_KEEP_RUNS})
  --fail-pct N              worse by more than N % fails (default ${COMPARE_DEFAULTS.failPct}) ...
  --warn-pct N              ... or warns (default ${COMPARE_DEFAULTS.warnPct}) ...
  --alpha P                 ... when also significant at this level (one-sided; default ${COMPARE_DEFAULTS.alpha}) ...
  --floor-ms N              ... and more than N ms (times; default ${COMPARE_DEFAULTS.floorMs}) ...
  --floor-ratio R           ... or R (ratios such as error rates; default ${COMPARE_DEFAULTS.floorRatio})
  --min-samples N           figures with fewer samples and no significance test get a widened band (default ${COMPARE_DEFAULTS.minSamples})
  --noise-margin-pct P      the machine counts as busier when a noise figure (load per core, scheduling lag p99,
                            http_req_sending p99, CPU steal) is P % past the worst baseline run's (default ${COMPARE_DEFAULTS.noiseMarginPct});
                            then a latency tail that would fail is inconclusive (exit 6)
  --json                    print the comparison as JSON
With ${MIN_BASELINE_RUNS} or more saved runs a figure must also be worse than every one of them and beyond their
${Math.round((1 - COMPARE_DEFAULTS.alpha) * 100)} % prediction bound for one more run (the run-to-run spread); with fewer that spread is not judged.`;

/** The comparison as text: verdict, the regressions worst first, improvements apart, each with units and changes. */
export function comparisonLines(c: Comparison): string[] {
  const runs = c.baselineRuns > 1 ? ` (median of ${c.baselineRuns} runs)` : '';
  const out = [
    `baseline ${c.baselineSource}${runs}: ${c.verdict.toUpperCase()} (fails when > ${c.failPct} % worse, > ${c.floorMs} ms / ${c.floorRatio * 100} pp and significant at p < ${c.alpha}; warns > ${c.warnPct} %)`,
  ];
  const rows = worstFirst(c.rows);
  const section = (title: string, status: string): void => {
    const list = rows.filter((r) => r.status === status);
    if (list.length === 0) return;
    if (title !== '') out.push(`${title}:`);
    for (const r of list)
      out.push(`  ${describeRow(r)}${r.p !== undefined ? `  p=${r.p.toPrecision(2)}` : ''}${r.note !== undefined ? `  (${r.note})` : ''}`);
  };
  section('regressions', 'fail');
  if (c.verdict === 'inconclusive' || rows.some((r) => r.status === 'inconclusive'))
    out.push(
      `inconclusive: the machine was busier than during the baseline (${(c.noise?.figures ?? [])
        .filter((f) => f.busier)
        .map(describeNoise)
        .join('; ')}); these latency tails would have failed, and cannot tell slower code from a busier machine:`,
    );
  section('', 'inconclusive');
  section('warnings', 'warn');
  section('improvements', 'improved');
  const noise = rows.filter((r) => r.status === 'ok' && r.note !== undefined && /not significant|floor/.test(r.note)).length;
  const info = rows.filter((r) => r.status === 'info').length;
  out.push(
    `${rows.filter((r) => r.status === 'ok').length} judged figures within the gate${noise > 0 ? ` (${noise} changed by more than ${c.warnPct} % but not significantly or within the floor)` : ''}; ${info} figures shown for information only (sub-timings, p50/avg, metrics without thresholds)`,
  );
  return out;
}

export async function compareMain(argv: readonly string[], io: Io = stdio, baselinesDir = BASELINES_DIR): Promise<number> {
  try {
    const { values: v, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        baseline: { type: 'string' },
        'save-baseline': { type: 'string' },
        'keep-runs': { type: 'string' },
        'fail-pct': { type: 'string' },
        'warn-pct': { type: 'string' },
        alpha: { type: 'string' },
        'floor-ms': { type: 'string' },
        'floor-ratio': { type: 'string' },
        'min-samples': { type: 'string' },
        'noise-margin-pct': { type: 'string' },
        'reports-dir': { type: 'string' },
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
    // As the run command finds them (src/cli/run-context.ts): AGENTLOAD_BASELINES_DIR, else <reports dir>/baselines.
    if (v['reports-dir'] !== undefined) baselinesDir = process.env.AGENTLOAD_BASELINES_DIR ?? join(resolve(v['reports-dir']), 'baselines');
    let code: number = EXIT.ok;
    if (v.baseline !== undefined) {
      const opts = {
        failPct: num('fail-pct', v['fail-pct']),
        warnPct: num('warn-pct', v['warn-pct']),
        alpha: num('alpha', v.alpha),
        floorMs: num('floor-ms', v['floor-ms']),
        floorRatio: num('floor-ratio', v['floor-ratio']),
        minSamples: num('min-samples', v['min-samples']),
        noiseMarginPct: num('noise-margin-pct', v['noise-margin-pct']),
      };
      const c = compareSnapshots(await loadBaseline(run, baselinesDir), await loadBaseline(v.baseline, baselinesDir), opts);
      if (v.json === true) io.out(JSON.stringify(c, null, 2));
      else for (const line of comparisonLines(c)) io.out(line);
      if (c.verdict === 'fail') code = EXIT.regression;
      else if (c.verdict === 'inconclusive') code = EXIT.inconclusive;
    }
    if (v['save-baseline'] !== undefined) {
      const keep = num('keep-runs', v['keep-runs']);
      const saved = await saveBaseline(run, v['save-baseline'], baselinesDir, keep);
      const how =
        saved.replaced !== undefined
          ? ` (replaced a baseline of scenario ${saved.replaced})`
          : saved.runs > 1
            ? ` (now the median of ${saved.runs} runs)`
            : '';
      (v.json === true ? io.err : io.out)(`saved ${saved.path}${how}`);
    }
    return code;
  } catch (e) {
    return fail(e, io, 'compare');
  }
}
