/**
 * What the toolkit needs to know about `k6 run`'s own flags: only which ones take no value, so that the
 * command line can be split into "the scenario" and "flags passed to k6 verbatim" without guessing.
 * Every flag not listed here is treated as taking a value (the next argument, unless written `--flag=value`).
 */

/** Long `k6 run` flags that take no value (`--http-debug` takes an optional one, only as `--http-debug=full`). */
export const K6_BOOLEAN_FLAGS: ReadonlySet<string> = new Set([
  '--paused',
  '--no-setup',
  '--no-teardown',
  '--no-thresholds',
  '--no-summary',
  '--no-usage-report',
  '--throw',
  '--insecure-skip-tls-verify',
  '--no-connection-reuse',
  '--no-vu-connection-reuse',
  '--discard-response-bodies',
  '--include-system-env-vars',
  '--linger',
  '--quiet',
  '--verbose',
  '--no-color',
  '--http-debug',
  '--exit-on-running',
  '--local-execution',
  '--no-archive-upload',
  '--show-logs',
  '--help',
]);

/** Short `k6 run` flags that take no value. */
export const K6_BOOLEAN_SHORT_FLAGS: ReadonlySet<string> = new Set(['-p', '-w', '-l', '-q', '-v', '-h']);

/** True when `arg` is a flag whose value is the next argument. */
export function flagTakesSeparateValue(arg: string): boolean {
  if (!arg.startsWith('-') || arg === '-' || arg === '--') return false;
  if (arg.startsWith('--')) return !arg.includes('=') && !K6_BOOLEAN_FLAGS.has(arg);
  // Short flags: `-u10` carries its value; `-u` takes the next argument.
  if (arg.length > 2) return false;
  return !K6_BOOLEAN_SHORT_FLAGS.has(arg);
}
