/**
 * What a run is given: runEngine's options, and the settings read from its k6 `run` flags (environment,
 * tags, outputs) with every issue found in them.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Clock, Issue } from '../contracts.ts';
import { parseOutputs, type OutputRequest } from '../output/outputs.ts';
import { parseKeyValues, type FlagIssue, type ParsedRunFlags } from '../runtime/flags.ts';
import type { Logger } from '../runtime/logger.ts';

export interface RunEngineOptions {
  /** Path to a bundled k6 script (ESM, `k6/*` imports external). */
  script: string;
  /** k6 `run` flags, e.g. ['--vus','2','--out','json=x.json.gz','--summary-export','s.json']. */
  args: readonly string[];
  /** Becomes __ENV together with -e flags (k6 includes system env vars by default). */
  env: Readonly<Record<string, string>>;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Abort = external stop: graceful (teardown, summary, outputs), exit 105. */
  signal?: AbortSignal;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  /** Injected time source (tests); real time by default. */
  clock?: Clock;
  /** Listen to SIGINT/SIGTERM while running (default true): first = graceful stop, second = exit 105 at once. */
  handleSignals?: boolean;
  /** Called as each start-up phase ends (the run command's `--verbose`): script loaded, init code run, setup, VUs, scenarios started. */
  onPhase?: (phase: string) => void;
  /**
   * Where load may go besides loopback (AGENTLOAD_ALLOWED_HOSTS patterns). Given: every connection a
   * module makes is checked first, and a refused one fails with k6's blocked-hostname error (1112) and
   * one warning per host. Undefined: no check (the engine as a plain k6 stand-in).
   */
  allowedHosts?: readonly string[];
  /**
   * Only check: load the script, run its init code once, validate options and thresholds (exit 104 with
   * every issue) and return 0 without starting VUs, setup() or outputs. The run command calls this before
   * it starts the bundled platform, so an invalid configuration starts nothing.
   */
  validateOnly?: boolean;
  /**
   * Called once the first VU's init code has run, with the script's exports (before options are checked):
   * the run command reads what a toolkit bundle's init code recorded, also when the check then fails, and
   * also when the init code threw (then with the exports defined up front: hoisted functions are callable, and
   * `finished` false: the init code's reads are known only up to the throw).
   */
  onInit?: (exports: Readonly<Record<string, unknown>>, finished: boolean) => void;
}

/** What the main thread needs from a flag set, with every issue. */
export interface RunSettings {
  readonly flags: ParsedRunFlags;
  readonly env: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly jsonOut: string | undefined;
  /** `--out csv`, `--out experimental-prometheus-rw` (engine/output/outputs.ts). */
  readonly outputs: readonly OutputRequest[];
  readonly issues: FlagIssue[];
}

export function settingsFromFlags(flags: ParsedRunFlags, systemEnv: Readonly<Record<string, string>>, cwd: string): RunSettings {
  const issues: FlagIssue[] = [...flags.issues];
  const includeSystem = !flags.booleans.has('no-include-system-env-vars');
  const env: Record<string, string> = includeSystem ? { ...systemEnv } : {};
  Object.assign(env, parseKeyValues('env', flags.lists.env ?? [], issues));
  const tags = parseKeyValues('tag', flags.lists.tag ?? [], issues);
  let jsonOut: string | undefined;
  // Outputs read their settings (K6_CSV_*, K6_PROMETHEUS_RW_*) from the system environment, as k6 does.
  const parsedOut = parseOutputs(flags.lists.out ?? [], systemEnv);
  for (const i of parsedOut.issues) issues.push({ code: 'invalid-flag-value', path: i.path, message: i.message });
  for (const r of parsedOut.requests) {
    if (r.kind !== 'json') continue;
    jsonOut = r.arg === '' || r.arg === '-' ? '-' : isAbsolute(r.arg) ? r.arg : resolve(cwd, r.arg);
  }
  return { flags, env, tags, jsonOut, outputs: parsedOut.requests.filter((r) => r.kind !== 'json'), issues };
}

/** Every issue as one error line each (k6 lists them all before exiting with 104). */
export function logIssues(logger: Logger, issues: readonly (Issue | FlagIssue)[]): void {
  for (const i of issues) logger.log('error', i.message);
}
