/**
 * Report pipeline entry: reads a run's k6 outputs (JSON lines, summary export, handleSummary
 * data, run.json), evaluates thresholds on the (merged) data, runs soak analysis and the baseline
 * comparison, and writes report.html, junit.xml, summary.md and verdict.json.
 */

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { combineSnapshots, isSnapshot, snapshotOf, sourceName, type BaselineSnapshot } from './baseline.ts';
import { compareSnapshots, describeNoise, describeRow, fmtValue, worstFirst, type Comparison, type ComparisonRow } from './compare.ts';
import { ReportError } from './errors.ts';
import { updateHistory } from './history.ts';
import { readFaultLog } from './faults.ts';
import { renderHtml } from './html.ts';
import { ingestFiles } from './ingest.ts';
import { findRunFiles, isDir, isRunFolder, k6ThresholdsOf, readJson, runMetaOf, testRunDurationOf } from './inputs.ts';
import { renderJUnit, renderRunFailureJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { buildModel, type RunModel, type SideInputs } from './model.ts';
import { EXIT, type BuildReportOptions, type FullReport, type ReportResult, type VerdictInfo } from './types.ts';
import { analyseSoak, type SoakResult } from './soak.ts';
import { MIN_BASELINE_RUNS } from './stats.ts';

export type { BuildReportOptions, FullReport, ReportResult, SoakBudget, Verdict, VerdictInfo } from './types.ts';
export type { BaselineSnapshot } from './baseline.ts';
export type { Comparison } from './compare.ts';
export { EXIT } from './types.ts';
export { ReportError } from './errors.ts';
export { combineSnapshots, snapshotOf } from './baseline.ts';
export { compareSnapshots, describeRow, worstFirst } from './compare.ts';
export { updateHistory } from './history.ts';

/**
 * Where saved baselines live, found as the run command saves them: AGENTLOAD_BASELINES_DIR, else `baselines/` of
 * the reports folder (AGENTLOAD_REPORTS_DIR, else `reports/` of the working directory: the checkout under `npm run`).
 */
export const BASELINES_DIR =
  process.env.AGENTLOAD_BASELINES_DIR ?? join(resolve(process.env.AGENTLOAD_REPORTS_DIR ?? 'reports'), 'baselines');
/** A saved baseline combines the last this-many runs saved under its name (the median of each figure, windows pooled). */
export const BASELINE_KEEP_RUNS = 5;
const BASELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const REPORT_FILES = { html: 'report.html', junit: 'junit.xml', markdown: 'summary.md', verdict: 'verdict.json' } as const;

/** Reads a run (dir or k6 JSON file, or explicit segment files) into the report model. */
export async function loadRun(runDirOrFile: string, o: { inputs?: readonly string[]; interrupted?: boolean } = {}): Promise<RunModel> {
  const files = await findRunFiles(runDirOrFile);
  const outputs = o.inputs && o.inputs.length > 0 ? [...o.inputs] : files.outputs;
  if (outputs.length === 0)
    throw new ReportError(
      'input-not-found',
      `no k6 JSON output (out.json or out.json.gz) in ${runDirOrFile}; run k6 with --out json=${join(runDirOrFile, 'out.json.gz')}`,
    );
  const acc = await ingestFiles(outputs);
  if (acc.files.every((f) => f.lines === 0))
    throw new ReportError('input-empty', `k6 JSON output ${outputs.join(', ')} is empty; the run wrote no samples (did it start?)`);
  if (acc.metrics.size === 0 && acc.files.every((f) => f.points === 0))
    throw new ReportError(
      'input-not-k6',
      `${outputs.join(', ')} is not k6 JSON output (no line of it is a k6 Metric or Point): pass a run folder or a file written by k6 --out json=FILE`,
    );
  const side: SideInputs = { k6Thresholds: new Map(), meta: {}, interrupted: o.interrupted ?? false };
  for (const p of files.summaryExports) k6ThresholdsOf(await readJson(p), 'summary-export', side.k6Thresholds);
  for (const p of files.handleSummaries) {
    const doc = await readJson(p);
    k6ThresholdsOf(doc, 'handle-summary', side.k6Thresholds);
    const d = testRunDurationOf(doc);
    if (d !== undefined) side.testRunDurationMs = Math.max(side.testRunDurationMs ?? 0, d);
  }
  if (files.runJson) side.meta = runMetaOf(await readJson(files.runJson));
  if (files.faults) side.faults = await readFaultLog(files.faults);
  if (side.meta.scenario === undefined)
    side.meta.scenario = basename(files.dir).replace(/-\d{8}-\d{6}(-\d+)?$|-\d{4}-?\d\d-?\d\dT[\d\-:.]+Z?$/, '');
  return buildModel(acc, side);
}

/**
 * A baseline snapshot from a saved baseline's name (`main` → BASELINES_DIR/main.json), a saved baseline
 * file, a run dir (its verdict.json) or a k6 JSON output.
 */
export async function loadBaseline(path: string, baselinesDir: string = BASELINES_DIR): Promise<BaselineSnapshot> {
  if (!existsSync(path) && BASELINE_NAME.test(path) && !path.endsWith('.json')) {
    const saved = join(baselinesDir, `${path}.json`);
    if (!existsSync(saved))
      throw new ReportError(
        'bad-baseline',
        `baseline "${path}" is not a run folder, a file or a saved baseline (no ${saved}); save one with npm run compare -- <run> --save-baseline ${path}`,
      );
    path = saved;
  }
  if (!(await isDir(path)) && path.endsWith('.json')) {
    let doc: unknown;
    try {
      doc = await readJson(path);
    } catch {
      doc = undefined; // a k6 JSON-lines output is not one JSON document: ingest it below
    }
    if (isSnapshot(doc)) return fromSaved(doc);
    const embedded = (doc as { baseline?: unknown } | undefined)?.baseline;
    if (isSnapshot(embedded)) return embedded;
  }
  if (await isDir(path)) {
    const files = await findRunFiles(path);
    if (files.verdictJson) {
      const doc = (await readJson(files.verdictJson)) as { baseline?: unknown };
      if (isSnapshot(doc.baseline)) return { ...doc.baseline, source: sourceName(doc.baseline.source) };
    }
  }
  try {
    return snapshotOf(await loadRun(path), path);
  } catch (e) {
    if (e instanceof ReportError && (e.code === 'input-not-found' || e.code === 'input-empty'))
      throw new ReportError(
        'bad-baseline',
        `baseline ${path} is neither a saved baseline, a run folder nor a k6 JSON output; save one with npm run compare -- <run> --save-baseline NAME`,
        { cause: e },
      );
    throw e;
  }
}

/** A saved baseline file: the combined snapshot plus the runs it combines (`history`, oldest first). */
type SavedBaseline = BaselineSnapshot & { name?: string; history?: BaselineSnapshot[] };

/**
 * The baseline a saved file stands for: its runs combined afresh (so a file saved before the gate kept each
 * run's figures, `perRun`, is judged with its runs' spread too), else the snapshot it holds.
 */
function fromSaved(doc: SavedBaseline): BaselineSnapshot {
  const runs = (doc.history ?? []).filter(isSnapshot);
  return runs.length > 1 ? { ...combineSnapshots(runs), source: doc.source } : withoutHistory(doc);
}

function withoutHistory(doc: SavedBaseline): BaselineSnapshot {
  const snap: SavedBaseline = { ...doc };
  delete snap.history;
  return snap;
}

/**
 * `2 figure(s) worse than the baseline (> 10 %, p < 0.01) and than each of its 5 runs: agent_status p95 3.76 → 5.90 ms
 * (+2.14 ms, +57 %; worst baseline run 4.20 ms); …`, worst first. A baseline of fewer than MIN_BASELINE_RUNS runs says
 * that the run-to-run spread was not judged.
 */
function regressionReason(c: Comparison, status: 'fail' | 'warn'): string {
  const rows = worstFirst(c.rows).filter((r) => r.status === status);
  const describe = (r: ComparisonRow): string => {
    const text = describeRow(r);
    return r.spread === undefined ? text : `${text.slice(0, -1)}; worst baseline run ${fmtValue(r.spread.worst, r)})`;
  };
  const shown = rows.slice(0, 5).map(describe).join('; ');
  const more = rows.length > 5 ? `; and ${rows.length - 5} more` : '';
  const pct = status === 'fail' ? c.failPct : c.warnPct;
  const runs = Math.max(0, ...rows.map((r) => r.spread?.runs ?? 0));
  const between = runs > 0 ? ` and than each of its ${runs} runs` : '';
  const unjudged =
    c.baselineRuns < MIN_BASELINE_RUNS
      ? ` (baseline of ${c.baselineRuns} run${c.baselineRuns === 1 ? '' : 's'}: the run-to-run spread is not judged; save ${MIN_BASELINE_RUNS} or more runs)`
      : '';
  return `${rows.length} figure(s) worse than the baseline (> ${pct} %, p < ${c.alpha})${between}: ${shown}${more}${unjudged}`;
}

/**
 * `inconclusive against the baseline: the machine was busier than during the baseline (load average per core 0.45 →
 * 1.40 …): 6 latency tail figure(s) would have failed: http_req_duration p99 26.0 → 30.1 ms (…); p50, errors and
 * throughput were judged and passed`.
 */
function inconclusiveReason(c: Comparison): string {
  const rows = worstFirst(c.rows).filter((r) => r.status === 'inconclusive');
  const busier = (c.noise?.figures ?? []).filter((f) => f.busier).map(describeNoise);
  const shown = rows.slice(0, 5).map(describeRow).join('; ');
  const more = rows.length > 5 ? `; and ${rows.length - 5} more` : '';
  return `inconclusive against the baseline: the machine was busier than during the baseline (${busier.join('; ')}): ${rows.length} latency tail figure(s) would have failed: ${shown}${more}; the median, error rates and throughput were judged and did not fail; rerun on a quieter machine, or save baseline runs under such load too`;
}

export function decideVerdict(model: RunModel, soak: SoakResult | undefined, comparison: Comparison | undefined): VerdictInfo {
  const reasons: string[] = [];
  let exitCode: number = EXIT.ok;
  let verdict: VerdictInfo['verdict'] = 'pass';
  const failed = model.thresholds.filter((t) => !t.ok);
  if (failed.length > 0) {
    verdict = 'fail';
    exitCode = EXIT.thresholds;
    reasons.push(`${failed.length} threshold(s) crossed: ${failed.map((t) => `${t.metric} ${t.expression}`).join(', ')}`);
  }
  const work = model.meta.work;
  if (work.httpRequests > 0 && work.httpResponses === 0) {
    verdict = 'fail';
    if (exitCode === EXIT.ok) exitCode = EXIT.noData;
    reasons.push(`none of the ${String(work.httpRequests)} HTTP request(s) got a response: the target did not answer (see errors by code)`);
  } else if (work.httpRequests === 0 && work.iterations === 0 && work.wsMessagesReceived === 0) {
    verdict = 'fail';
    if (exitCode === EXIT.ok) exitCode = EXIT.noData;
    reasons.push('the run measured nothing: no iteration completed, no request was sent, no message was received');
  }
  if (soak?.breached) {
    verdict = 'fail';
    if (exitCode === EXIT.ok) exitCode = EXIT.soak;
    reasons.push(
      `soak budget breached: ${soak.signals
        .filter((s) => s.breached)
        .map((s) => `${s.metric} ${s.note}`)
        .join('; ')}`,
    );
  }
  if (comparison?.verdict === 'fail') {
    verdict = 'fail';
    if (exitCode === EXIT.ok) exitCode = EXIT.regression;
    reasons.push(regressionReason(comparison, 'fail'));
  } else if (comparison?.verdict === 'inconclusive') {
    // Not a pass: a CI gate must not go green on a run it could not judge (exit 6, after 99, 5, 4 and 3).
    if (verdict === 'pass') verdict = 'inconclusive';
    if (exitCode === EXIT.ok) exitCode = EXIT.inconclusive;
    reasons.push(inconclusiveReason(comparison));
  } else if (comparison?.verdict === 'warn') {
    if (verdict === 'pass') verdict = 'warn';
    reasons.push(regressionReason(comparison, 'warn'));
  }
  // The run's own exit code is the command's (the run command exits with the engine's code whenever it is not
  // 0): a run that ended with 107 says 107 here too, even when its thresholds also failed.
  const k6Code = model.meta.exitCode;
  if (k6Code !== undefined && k6Code >= 97 && k6Code <= 110 && k6Code !== EXIT.thresholds) {
    verdict = 'fail';
    exitCode = k6Code;
    reasons.push(`the run itself ended with exit code ${k6Code}`);
  } else if (k6Code === EXIT.thresholds && exitCode !== EXIT.thresholds) {
    // The run command exits 99 then; a regression (3) or an inconclusive comparison (6) found here does not outrank it.
    verdict = 'fail';
    exitCode = k6Code;
    reasons.push('the engine judged its thresholds crossed (exit code 99)');
  }
  if (model.meta.truncated) {
    if (verdict === 'pass') verdict = 'warn';
    reasons.push('the k6 output is truncated: figures cover the data up to its last complete line');
  }
  if (model.meta.interrupted) {
    if (verdict === 'pass') verdict = 'warn';
    reasons.push('the run was interrupted before its planned end');
  }
  return { verdict, exitCode, reasons, thresholds: { total: model.thresholds.length, failed: failed.length } };
}

/** The machine-readable verdict.json document. */
export function verdictDocument(r: FullReport, baseline: BaselineSnapshot): Record<string, unknown> {
  const m = r.model;
  const http = m.metrics.find((x) => x.name === 'http_req_duration')?.values;
  const failed = m.metrics.find((x) => x.name === 'http_req_failed')?.values;
  const reqs = m.metrics.find((x) => x.name === 'http_reqs')?.values;
  return {
    kind: 'agentload-verdict',
    version: 1,
    verdict: r.verdict.verdict,
    exitCode: r.verdict.exitCode,
    reasons: r.verdict.reasons,
    generatedAt: r.generatedAt,
    run: {
      scenario: m.meta.scenario,
      engine: m.meta.engine,
      target: m.meta.targetHost ?? null,
      // `bundled`: the platform the run command started (on a new port each run), `external`: BASE_URL's system.
      targetKind: m.meta.targetKind ?? null,
      settings: m.meta.settings ?? {},
      toolkitVersion: m.meta.toolkitVersion,
      gitSha: m.meta.gitSha,
      startedAt: m.meta.startedAt ?? (m.meta.firstTime > 0 ? new Date(m.meta.firstTime).toISOString() : undefined),
      endedAt: m.meta.endedAt,
      durationSec: m.meta.durationSec,
      truncated: m.meta.truncated,
      interrupted: m.meta.interrupted,
      inputs: m.meta.files,
    },
    headline: { p95: http?.p95 ?? null, p99: http?.p99 ?? null, errorRate: failed?.rate ?? null, rps: reqs?.rate ?? null },
    thresholds: m.thresholds,
    endpoints: m.endpoints,
    checks: m.checks,
    soak: r.soak ?? null,
    faults: m.faults,
    comparison: r.comparison
      ? {
          baselineSource: r.comparison.baselineSource,
          baselineRuns: r.comparison.baselineRuns,
          verdict: r.comparison.verdict,
          rows: worstFirst(r.comparison.rows).filter((x) => x.status !== 'ok' && x.status !== 'info'),
        }
      : null,
    percentileRelativeError: m.meta.percentileRelativeError,
    baseline,
  };
}

/** Builds every report file of a run; called by the run command after each run and by `npm run report`. */
export async function buildReport(o: BuildReportOptions): Promise<ReportResult> {
  const now = o.now ?? ((): Date => new Date());
  const model = await loadRun(o.runDir, { ...(o.inputs ? { inputs: o.inputs } : {}), interrupted: o.interrupted ?? false });
  const soak = analyseSoak(model.series, o.profile);
  const current = snapshotOf(model, o.runDir, now());
  const comparison =
    o.baseline !== undefined ? compareSnapshots(current, await loadBaseline(o.baseline, o.baselinesDir), o.compare ?? {}) : undefined;
  const verdict = decideVerdict(model, soak, comparison);
  const full: FullReport = { model, verdict, generatedAt: now().toISOString() };
  if (soak) full.soak = soak;
  if (comparison) full.comparison = comparison;
  const outDir = o.outDir ?? (await defaultOutDir(o.runDir));
  await mkdir(outDir, { recursive: true });
  const files = [
    [REPORT_FILES.html, renderHtml(full)],
    [REPORT_FILES.junit, renderJUnit(full)],
    [REPORT_FILES.markdown, renderMarkdown(full)],
    [REPORT_FILES.verdict, JSON.stringify(verdictDocument(full, current), null, 2) + '\n'],
  ] as const;
  const written: string[] = [];
  for (const [name, text] of files) {
    const p = resolve(outDir, name);
    await writeFile(p, text);
    written.push(p);
  }
  const historyDir = o.historyDir ?? (basename(dirname(resolve(outDir))) === 'reports' ? dirname(resolve(outDir)) : false);
  if (historyDir !== false) {
    const hist = await updateHistory(historyDir, {
      ...(o.retentionDays !== undefined ? { retentionDays: o.retentionDays } : {}),
      now: now(),
    });
    written.push(hist.indexFile);
  }
  return { verdict: verdict.verdict, exitCode: verdict.exitCode, files: written, reasons: verdict.reasons };
}

/**
 * Where report files go without `outDir`: the run folder itself, or, for a single k6 JSON file, its folder
 * when that is a run folder (it holds run.json or a k6 output named out*.json[.gz]); anywhere else the
 * caller must say where (`--out`), so a report never overwrites files outside a run folder.
 */
async function defaultOutDir(runDirOrFile: string): Promise<string> {
  if (await isDir(runDirOrFile)) return runDirOrFile;
  const dir = dirname(runDirOrFile);
  if (await isRunFolder(dir)) return dir;
  throw new ReportError(
    'bad-argument',
    `${dirname(runDirOrFile) === '.' ? 'this folder' : dir} is not a run folder (no run.json, no out.json[.gz]): pass --out DIR to say where the report files for ${basename(runDirOrFile)} go`,
  );
}

/**
 * A run that ended before it wrote outputs to report on (a refused target, a type error, invalid options,
 * a stop while starting): a junit.xml with one failing testcase, so a pipeline sees the failure. Returns its path.
 */
export async function writeRunFailure(o: { runDir: string; scenario: string; exitCode: number; reason: string }): Promise<string> {
  await mkdir(o.runDir, { recursive: true });
  const p = join(o.runDir, REPORT_FILES.junit);
  await writeFile(p, renderRunFailureJUnit(o.scenario, o.exitCode, o.reason));
  return p;
}

export interface SavedBaselineInfo {
  path: string;
  /** Runs the saved baseline now combines. */
  runs: number;
  /** Set when an older file for another scenario was replaced instead of added to. */
  replaced?: string;
}

/**
 * Saves a run's snapshot under reports/baselines/NAME.json (NAME: letters, digits, . _ -). A file of the
 * same scenario already there gains the run: the baseline becomes the median of its last `keep` runs.
 */
export async function saveBaseline(
  run: string,
  name: string,
  baselinesDir: string = BASELINES_DIR,
  keep: number = BASELINE_KEEP_RUNS,
): Promise<SavedBaselineInfo> {
  if (!BASELINE_NAME.test(name))
    throw new ReportError(
      'bad-argument',
      `baseline name "${name}" may hold only letters, digits, ".", "_" and "-"; pick a name like "api-mvp"`,
    );
  if (!Number.isInteger(keep) || keep < 1) throw new ReportError('bad-argument', `--keep-runs must be a whole number ≥ 1, got ${keep}`);
  const snap = await loadBaseline(run, baselinesDir);
  await mkdir(baselinesDir, { recursive: true });
  const p = join(baselinesDir, `${name}.json`);
  let history: BaselineSnapshot[] = [];
  let replaced: string | undefined;
  if (existsSync(p)) {
    const old = (await readJson(p)) as SavedBaseline;
    if (isSnapshot(old)) {
      if (old.scenario !== snap.scenario) replaced = old.scenario ?? 'unknown';
      else history = old.history ?? [withoutHistory(old)];
    }
  }
  history = [...history, withoutHistory(snap)].slice(-keep);
  const combined = combineSnapshots(history);
  const doc: SavedBaseline = { ...combined, name, history };
  await writeFile(p, JSON.stringify(doc) + '\n');
  return { path: p, runs: history.length, ...(replaced !== undefined ? { replaced } : {}) };
}
