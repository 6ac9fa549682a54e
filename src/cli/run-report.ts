/**
 * Step 8 of the run command: run.json, then the report (with --baseline / --save-baseline), --open, and
 * the results line. A run with no report still leaves a junit.xml that fails when the run failed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { EXIT_CODES, toError } from '../errors.ts';
import { say } from './io.ts';
import { manifest, type RunContext } from './run-context.ts';
import { loadReport } from '../run/adapters.ts';
import { variablesReadAtInit, type InitReads } from '../run/init-reads.ts';
import { writeManifest, type RunManifest } from '../run/manifest.ts';
import { RUN_FILES } from '../run/run-dir.ts';
import { readVariablesFile, unusedVariableLines } from '../run/unused-env.ts';
import type { Preflight } from './run-prepare.ts';

/** The report's outcome as run.json and the results line give it. */
interface ReportOutcome {
  readonly exitCode: number;
  readonly report: RunManifest['report'];
  /** One line per reason the verdict gives, worst first. */
  readonly reasons: readonly string[];
}

/** Records the ended run in `dir`, reports on it and returns the run's exit code. */
export async function reportRun(run: RunContext, dir: string, soakBudget: Preflight['soakBudget']): Promise<number> {
  const { io, parsed } = run;
  const engineExitCode = run.record.engineExitCode;
  const shownRunDir = relative(io.cwd, dir) || dir;
  const scenario = relative(io.cwd, run.scenarioPath) || run.scenarioPath;
  const read = await variablesRead(run, dir);
  for (const line of unusedVariableLines({
    read: read?.names,
    partial: read?.finished === false,
    view: run.view,
    setByToolkit: run.record.setByToolkit,
    scenario,
  }))
    say(io, line);
  writeManifest(dir, manifest(run, engineExitCode, null));
  if (run.cloud) {
    io.stdout.write(`results: Grafana Cloud k6 (the test URL is printed above); run manifest in ${shownRunDir}/run.json\n`);
    return engineExitCode;
  }
  const { exitCode, report, reasons } = parsed.options.report
    ? await buildRunReport(run, dir, soakBudget)
    : { exitCode: engineExitCode, report: null, reasons: [] };
  writeManifest(dir, manifest(run, exitCode, report));
  if (parsed.options.open) {
    const html = join(dir, 'report.html');
    if (existsSync(html))
      openInBrowser(html, run.env, (line) => {
        say(io, line);
      });
    else say(io, '--open: no report.html to open (the report was not built)');
  }
  const verdict = report !== null && 'verdict' in report ? ` verdict ${report.verdict},` : '';
  io.stdout.write(
    `\nresults:${verdict} exit code ${exitCode}${run.state.interrupted ? ' (interrupted)' : ''}: ${shownRunDir}/` +
      (report !== null && 'files' in report && report.files.includes('report.html') ? ` (open ${shownRunDir}/report.html)` : '') +
      '\n' +
      reasons.map((r) => `  ${r}\n`).join(''),
  );
  return exitCode;
}

/**
 * The names the scenario read: what its handleSummary wrote; when it never ran here (a k6 binary stopped before
 * its summary, --no-summary, --cloud), what its init code reads, run once more on the embedded engine (nothing
 * sent); not after a stop from outside (Ctrl+C: the user wants the run over).
 */
async function variablesRead(run: RunContext, dir: string): Promise<InitReads | undefined> {
  const written = readVariablesFile(join(dir, RUN_FILES.envRead));
  const bundle = run.record.bundle;
  const summaryRan = existsSync(join(dir, RUN_FILES.handleSummaryData));
  if (written !== undefined) return { names: written, finished: true };
  if (bundle === undefined || summaryRan || run.state.interrupted) return undefined;
  return variablesReadAtInit({
    engine: run.record.engine?.kind === 'embedded' ? run.record.engine.module : undefined,
    script: bundle.outfile,
    env: run.env,
    values: run.view.values,
    cwd: run.io.cwd,
  });
}

/** The report and, with --save-baseline, the baseline; a run that failed keeps its own exit code. */
async function buildRunReport(run: RunContext, dir: string, soakBudget: Preflight['soakBudget']): Promise<ReportOutcome> {
  const { io, parsed, baseline, baselinesDir, redact } = run;
  const engineExitCode = run.record.engineExitCode;
  // A report built before --save-baseline failed still gives the exit code and the reasons.
  let outcome: ReportOutcome = { exitCode: engineExitCode, report: null, reasons: [] };
  try {
    const reportModule = await loadReport();
    const built = await reportModule.buildReport({
      runDir: dir,
      baselinesDir,
      ...(baseline !== undefined ? { baseline } : {}),
      interrupted: run.state.interrupted,
      ...(soakBudget !== undefined ? { profile: soakBudget } : {}),
    });
    outcome = {
      exitCode: engineExitCode === EXIT_CODES.ok ? built.exitCode : engineExitCode,
      report: { verdict: built.verdict, exitCode: built.exitCode, files: built.files.map((f) => relative(dir, resolve(dir, f))) },
      reasons: built.reasons,
    };
    if (parsed.options.saveBaseline !== undefined) {
      const saved = await reportModule.saveBaseline(dir, parsed.options.saveBaseline, baselinesDir);
      const how =
        saved.replaced !== undefined
          ? `, replacing one of scenario ${saved.replaced}`
          : saved.runs > 1
            ? `, now the median of ${saved.runs} runs`
            : '';
      say(io, `baseline "${parsed.options.saveBaseline}" saved to ${relative(io.cwd, saved.path) || saved.path}${how}`);
    }
    return outcome;
  } catch (err: unknown) {
    const why = toError(err).message.split('\n')[0] ?? '';
    // A run that recorded nothing has no report to build: say so, not how to make k6 write outputs (the run command always asks for them).
    const code = (err as { code?: unknown }).code;
    const nothing = code === 'input-not-found' || code === 'input-empty';
    if (engineExitCode === EXIT_CODES.ok)
      say(
        io,
        nothing
          ? "no report: the run recorded no samples (no iteration ran: check the scenario's options, e.g. its iterations and duration)"
          : `report not built: ${redact(why)}`,
      );
    // No report: the run still leaves a junit.xml that fails when the run failed.
    if (engineExitCode !== EXIT_CODES.ok) {
      try {
        await (
          await loadReport()
        ).writeRunFailure({
          runDir: dir,
          scenario: run.name,
          exitCode: engineExitCode,
          reason: `the run ended with exit code ${String(engineExitCode)} before it wrote outputs to report on`,
        });
      } catch {
        // reported above
      }
    }
    return { ...outcome, report: { error: redact(toError(err).message) } };
  }
}

/**
 * Opens a file in the user's browser without waiting for it: $BROWSER when set (as xdg-utils read it), else
 * the platform's opener. A failure to start it is one line, never a failed run.
 */
function openInBrowser(file: string, env: Readonly<Record<string, string>>, say: (line: string) => void): void {
  const browser = (env.BROWSER ?? process.env.BROWSER ?? '').split(':')[0] ?? '';
  const opener: readonly [string, ...string[]] =
    browser !== ''
      ? [browser, file]
      : process.platform === 'darwin'
        ? ['open', file]
        : process.platform === 'win32'
          ? ['cmd', '/c', 'start', '', file]
          : ['xdg-open', file];
  const [cmd, ...args] = opener;
  const failed = (why: string): void => {
    say(`--open: cannot start ${cmd} (${why}): open ${file} yourself, or set BROWSER`);
  };
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.on('error', (e) => {
      failed(e.message);
    });
    child.unref();
  } catch (e: unknown) {
    failed(toError(e).message);
  }
}
