/**
 * The toolkit's error type and exit-code table. Every failure the CLI reports is an AgentloadError with a
 * stable `code` (tests branch on it) and the process exit code it maps to. Messages are one line: they
 * name the thing, show the value and say the fix.
 */

/** Exit codes. k6's own codes (0, 99, 104, 105, 107, 108) pass through unchanged from the engine. */
export const EXIT_CODES = {
  ok: 0,
  /** Bad command line: unknown toolkit flag value, missing scenario file, nothing to run; no usable k6 where one is required (none, older than the supported floor, or without an extension the script imports). */
  usage: 2,
  /** k6: thresholds crossed. */
  thresholdsFailed: 99,
  /** k6: invalid configuration; the toolkit also uses it for a flag the engine does not support and a target host that is not allowed. */
  invalidConfig: 104,
  /** k6: external abort (Ctrl+C, SIGTERM). */
  externalAbort: 105,
  /** k6: script exception; the toolkit also uses it for TypeScript and bundling errors. */
  scriptException: 107,
  /** k6: test.abort() called by the script. */
  scriptAborted: 108,
  /** Toolkit: a bundle is larger than the configured size budget (AGENTLOAD_BUNDLE_BUDGET_KB). */
  bundleOverBudget: 120,
} as const;

export type ErrorCode =
  | 'usage'
  | 'unknown-command'
  | 'missing-scenario'
  | 'scenario-not-found'
  | 'invalid-flag-value'
  | 'missing-flag-value'
  | 'type-error'
  | 'bundle-error'
  | 'bundle-over-budget'
  | 'unsupported-flag'
  | 'host-not-allowed'
  | 'invalid-url'
  | 'k6-not-found'
  | 'k6-failed-to-start'
  | 'k6-too-old'
  | 'k6-extension-missing'
  | 'cloud-needs-target'
  | 'engine-missing'
  | 'target-failed'
  | 'invalid-soak-budget'
  | 'invalid-fault-plan'
  | 'fault-unavailable'
  | 'amqp-unreachable'
  | 'invalid-options'
  | 'interrupted';

export class AgentloadError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** Extra lines printed after the message (e.g. every type error); the message itself stays one line. */
  readonly details: readonly string[];

  constructor(code: ErrorCode, exitCode: number, message: string, details: readonly string[] = []) {
    super(message);
    this.name = 'AgentloadError';
    this.code = code;
    this.exitCode = exitCode;
    this.details = details;
  }
}

export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
