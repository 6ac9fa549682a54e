/**
 * The lifecycle calls with k6's time limits and the end of test: handleSummary's result written (or the
 * default text summary), --summary-export's file, and every output and VU closed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Clock } from '../contracts.ts';
import {
  buildSummaryData,
  buildSummaryReport,
  summaryExportJson,
  textSummary,
  type JsonOutput,
  type SummaryData,
  type SummaryInput,
  type SummaryReport,
} from '../output/index.ts';
import type { OutputSet } from '../output/outputs.ts';
import { SUMMARY_REPORT_EXPORT } from '../output/summary-types.ts';
import type { SummaryMode } from '../options/index.ts';
import { LifecycleTimeoutError, toError, type LifecyclePlace } from '../runtime/errors.ts';
import { UNCAUGHT_REJECTION } from '../runtime/rejections.ts';
import type { InstanceState, LifecycleRunner } from './instance.ts';
import type { CompiledScript } from '../runtime/loader.ts';
import type { Logger } from '../runtime/logger.ts';
import type { LoadedRun } from './loaded-run.ts';
import type { Outputs } from './sample-outputs.ts';

/**
 * Calls a lifecycle function with k6's time limit: when `timeoutMs` passes first, its pending work is
 * interrupted and LifecycleTimeoutError is thrown at once (a function that never settles cannot hold
 * the run). `stop` (optional) interrupts it too, as a stop signal interrupts k6's setup().
 */
export async function callTimed(
  vu: LifecycleRunner,
  clock: Clock,
  place: LifecyclePlace,
  timeoutMs: number,
  arg?: unknown,
  stop?: AbortSignal,
  extra?: unknown,
): Promise<unknown> {
  if (typeof vu.exports[place] !== 'function') return undefined;
  const limit = new AbortController();
  const timerDone = new AbortController();
  const signal = stop === undefined ? limit.signal : AbortSignal.any([limit.signal, stop]);
  try {
    return await new Promise<unknown>((resolve, reject) => {
      vu.callLifecycle(place, place === 'handleSummary' ? 'summary' : place, arg, signal, extra).then(resolve, reject);
      clock.sleep(timeoutMs, timerDone.signal).then(
        () => {
          const e = new LifecycleTimeoutError(place, timeoutMs);
          reject(e);
          limit.abort(e);
        },
        () => undefined,
      );
    });
  } finally {
    timerDone.abort();
  }
}

export function formatErr(script: CompiledScript, e: unknown): string {
  const err = toError(e);
  // An unhandled rejection's error (rejections.ts; from a VU thread, by its name) is its k6 text as it is.
  if (err.name === UNCAUGHT_REJECTION) return err.message;
  const frames = script.scriptFrames(e);
  return frames.length === 0 ? `${err.name}: ${err.message}` : `${err.name}: ${err.message}\n${frames.join('\n')}\n`;
}

function writeOut(cwd: string, path: string, content: string | ArrayBuffer | Uint8Array): void {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : content instanceof ArrayBuffer ? new Uint8Array(content) : content);
}

/**
 * k6's end of test (js/summary-wrapper.js): handleSummary's result decides what is written; a falsy
 * result (or an exception in it, logged) gives the default text summary on stdout framed as k6 frames
 * it (a blank line before, two after); a result that is not an object is an error and writes nothing.
 * handleSummary gets `data` (k6's shape) and, only when the script asks for it (the toolkit's bundles export
 * SUMMARY_REPORT_EXPORT), a second argument k6 does not pass: the summary report (thresholds' judged values,
 * per-group and per-scenario aggregates) the bundles render from. A plain k6 script gets one argument, as on k6.
 */
async function writeSummary(
  o: { readonly stdout: NodeJS.WritableStream; readonly stderr: NodeJS.WritableStream; readonly cwd: string },
  inst: InstanceState,
  script: CompiledScript,
  { data, report }: { readonly data: SummaryData; readonly report: SummaryReport },
  logger: Logger,
  clock: Clock,
  { timeoutMs, mode }: { readonly timeoutMs: number; readonly mode: SummaryMode | undefined },
): Promise<void> {
  let result: unknown;
  if (typeof inst.lifecycleVu.exports.handleSummary === 'function') {
    try {
      const copy = (x: unknown): unknown => JSON.parse(JSON.stringify(x));
      const wantsReport = inst.lifecycleVu.exports[SUMMARY_REPORT_EXPORT] === true;
      result = await callTimed(
        await inst.lifecycle(),
        clock,
        'handleSummary',
        timeoutMs,
        copy(data),
        undefined,
        wantsReport ? copy(report) : undefined,
      );
    } catch (e) {
      if (e instanceof LifecycleTimeoutError) {
        // k6: no summary at all, one error line; the exit code is not affected.
        logger.log('error', 'failed to handle the end-of-test summary', { error: e.message });
        return;
      }
      logger.log('error', `handleSummary() failed, printing the default summary instead: ${formatErr(script, e)}`, {
        source: 'stacktrace',
      });
      result = undefined;
    }
  }
  if (result === undefined || result === null || result === false || result === 0 || result === '' || Number.isNaN(result)) {
    result = { stdout: `\n${textSummary(data, { indent: ' ', enableColors: false, summaryMode: mode ?? 'legacy', report })}\n\n` };
  }
  if (typeof result !== 'object' || result === null) {
    logger.log('error', 'failed to handle the end-of-test summary', {
      error: `handleSummary() should return a map with string keys, got ${typeof result}; return e.g. { stdout: textSummary(data) }`,
    });
    return;
  }
  for (const [key, value] of Object.entries(result as Record<string, unknown>)) {
    const content =
      typeof value === 'string' || value instanceof ArrayBuffer || value instanceof Uint8Array ? value : JSON.stringify(value);
    if (key === 'stdout') o.stdout.write(typeof content === 'string' ? content : Buffer.from(content as ArrayBuffer));
    else if (key === 'stderr') o.stderr.write(typeof content === 'string' ? content : Buffer.from(content as ArrayBuffer));
    else writeOut(o.cwd, key, content);
  }
}

export async function closeAll(inst: InstanceState, json: JsonOutput | undefined, extra: OutputSet): Promise<void> {
  await inst.pool.close();
  await inst.lifecycleVu.close();
  await inst.closeLifecycle();
  try {
    if (json !== undefined) await json.close();
  } finally {
    await extra.close();
  }
}

/** The end of test: summary data, --summary-export, the summary (or handleSummary's files), then every output closed. */
export async function endOfTest(run: LoadedRun, out: Outputs): Promise<void> {
  const { o, plan, state, logger, inst, script, clock } = run;
  const summaryInput: SummaryInput = {
    aggregator: out.aggregator,
    ...(state.finalEval === undefined ? {} : { thresholds: state.finalEval }),
    options: {
      summaryTrendStats: plan.resolved.summaryTrendStats,
      summaryTimeUnit: plan.resolved.summaryTimeUnit ?? '',
      noColor: true,
    },
    state: { isStdOutTTY: o.stdoutIsTTY ?? false, isStdErrTTY: o.stderrIsTTY ?? false, testRunDurationMs: clock.now() - state.t0 },
  };
  const summaryData: SummaryData = buildSummaryData(summaryInput);
  // k6's handleSummary data carries setup()'s result as `setup_data` (its summarizeMetricsToObject).
  if (state.dataText !== undefined) summaryData.setup_data = JSON.parse(state.dataText) as unknown;
  // k6 warns after a run that ended without error but without a single full iteration.
  const endedCleanly = !run.wasExternal() && state.abortReason === undefined && !state.thresholdAbort && state.runError === undefined;
  if (endedCleanly && summaryData.metrics.iterations === undefined) {
    logger.log('warn', 'No script iterations fully finished, consider making the test duration longer');
  }
  const exportPath = plan.resolved.summaryExport;
  if (exportPath !== undefined) writeOut(o.cwd, exportPath, summaryExportJson(summaryData));
  if (!plan.resolved.noSummary)
    await writeSummary(o, inst, script, { data: summaryData, report: buildSummaryReport(summaryInput) }, logger, clock, {
      timeoutMs: plan.resolved.handleSummaryTimeout,
      mode: plan.resolved.summaryMode,
    });
  await closeAll(inst, out.json, out.extra);
}
