/**
 * The one exit-code table of agentload: k6's own codes (which the embedded engine produces and the k6 binary
 * passes through) and the toolkit's (report verdicts, command-line errors, bundle budget). Node-free, so the
 * engine, the toolkit, the report and the scripts' side may all import it. The README's exit-code table is
 * checked against `EXIT_CODE_MEANINGS` (test/static/exit-codes.test.ts): change both together.
 */

export const EXIT_CODES = {
  ok: 0,
  /** Bad command line: unknown toolkit flag value, missing scenario file, nothing to run; no usable k6 where one is required (none, older than the supported floor, or without an extension the script imports); report input that is not a run. */
  usage: 2,
  /** Report: worse than the baseline by more than the fail percentage. */
  regression: 3,
  /** Report: soak budget breached (memory growth, latency or error drift). */
  soak: 4,
  /** Report: the run measured nothing (no HTTP request got a response, or no iteration, request or message at all). */
  noData: 5,
  /** Report: the baseline comparison is inconclusive: a latency tail would have failed, on a machine busier than during every baseline run. */
  inconclusive: 6,
  /** k6's ThresholdsHaveFailed: thresholds crossed. */
  thresholdsFailed: 99,
  /** k6's SetupTimeout: setup() ran longer than `setupTimeout`. */
  setupTimeout: 100,
  /** k6's TeardownTimeout: teardown() ran longer than `teardownTimeout`. */
  teardownTimeout: 101,
  /** k6's GenericTimeout: a timeout elsewhere than setup/teardown (handleSummary's fixed limit). */
  genericTimeout: 102,
  /** k6's GenericEngine: an engine error (a bug of ours; the stack is logged). */
  genericEngine: 103,
  /** k6's InvalidConfig; the toolkit also uses it for a flag the engine does not support and a target host that is not allowed. */
  invalidConfig: 104,
  /** k6's ExternalAbort: Ctrl+C, SIGTERM. */
  externalAbort: 105,
  /** k6's ScriptException; the toolkit also uses it for TypeScript and bundling errors. */
  scriptException: 107,
  /** k6's ScriptAborted: `test.abort()` called by the script. */
  scriptAborted: 108,
  /** k6's MarkedAsFailed: `exec.test.fail()`; the run went on, then failed. */
  markedAsFailed: 110,
  /** Toolkit: a bundle is larger than the configured size budget (AGENTLOAD_BUNDLE_BUDGET_KB). */
  bundleOverBudget: 120,
} as const;

export type ExitCodeName = keyof typeof EXIT_CODES;
export type ExitCode = (typeof EXIT_CODES)[ExitCodeName];

/** What each code means to a user, as the README's table says it (one row per code, in this order). */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeName, string>> = {
  ok: 'passed',
  usage:
    'bad command line: missing scenario file, bad toolkit flag value; no usable k6 where one is required: none, older than v0.49.0, or without a `k6/x/*` extension the script imports',
  regression: 'regression against the baseline (report)',
  soak: 'soak budget breached: memory growth, latency or error drift (report)',
  noData: 'the run measured nothing: no HTTP request got a response, or no iteration, request or message at all (report)',
  inconclusive:
    'inconclusive against the baseline: a latency tail (p95/p99) would have failed, but the machine was busier than during every baseline run; rerun on a quieter machine (report)',
  thresholdsFailed: 'thresholds crossed (k6)',
  setupTimeout: '`setup()` ran past `setupTimeout` (k6)',
  teardownTimeout: '`teardown()` ran past `teardownTimeout` (k6)',
  genericTimeout: '`handleSummary()` ran past its fixed 2 minutes (k6)',
  genericEngine: 'engine error: a bug of the embedded engine, its stack is logged (k6)',
  invalidConfig:
    'invalid configuration (k6); also: flag not supported by the embedded engine, target host not allowed, more VUs than fit in memory (embedded engine), a fault plan that is malformed or cannot be applied here, a `TARGET_AMQP_URL` that does not answer',
  externalAbort: 'stopped from outside: Ctrl+C, SIGTERM (k6)',
  scriptException: 'script exception (k6); also: TypeScript or bundling error',
  scriptAborted: 'the script called `test.abort()` (k6)',
  markedAsFailed: 'the script called `exec.test.fail()`: the run went on, then failed (k6)',
  bundleOverBudget: 'a bundle is over `AGENTLOAD_BUNDLE_BUDGET_KB`',
};
