/**
 * The run command's view of the parts other modules own: the embedded engine (`engine/index.ts`) and the
 * report pipeline (`src/report/index.ts`); the reference platform and the Slack reply sink run as
 * processes of their own (`target-process.ts`, `sink-process.ts`), seen as a `StartedTarget` and a `SlackSink`.
 * Loaded lazily by typed dynamic imports (a k6-binary run never loads the embedded engine): tsc checks that
 * the real modules satisfy these interfaces, and a missing module is one clear line, not a stack trace.
 */
import type { Writable } from 'node:stream';
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import type { SoakBudget } from '../report/types.ts';

export interface EngineRunInput {
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly signal?: AbortSignal;
  readonly stdoutIsTTY?: boolean;
  readonly stderrIsTTY?: boolean;
  /** The run command handles Ctrl+C itself (it aborts `signal`), so it passes false. */
  readonly handleSignals?: boolean;
  /** Hosts besides loopback load may go to; every connection the engine makes is checked (engine/net/host-policy.ts). */
  readonly allowedHosts?: readonly string[];
  /** Load the script and check its options and thresholds only (exit 104 on a problem, 0 when valid); run nothing. */
  readonly validateOnly?: boolean;
}

export interface EngineFlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly kind: string;
}

export interface EngineModule {
  readonly runEngine: (input: EngineRunInput) => Promise<number>;
  readonly ENGINE_NAME: string;
  readonly ENGINE_VERSION: string;
  readonly SUPPORTED_RUN_FLAGS: readonly EngineFlagSpec[];
}

/** The engine's k6-like command line (engine/cli-main.ts), for `agentload k6 ...`. */
export interface EngineCliModule {
  readonly engineCliMain: (
    argv: readonly string[],
    io: {
      readonly stdout: Writable; readonly stderr: Writable; readonly env: Readonly<Record<string, string | undefined>>;
      readonly cwd: string; readonly stdoutIsTTY: boolean; readonly stderrIsTTY: boolean;
    },
    options: {
      readonly program?: string;
      readonly versionText?: () => string;
      readonly resolveScript?: (script: string) => string;
      readonly beforeRun?: () => void;
    },
  ) => Promise<number>;
  readonly ENGINE_NAME: string;
  readonly ENGINE_VERSION: string;
  readonly ENGINE_MODULE_NAMES: readonly string[];
}

export interface StartedTarget {
  readonly url: string;
  readonly port: number;
  /** The platform process (its own process group). */
  readonly pid: number;
  close(): Promise<void>;
}

export interface ReportResult {
  readonly verdict: string;
  readonly exitCode: number;
  readonly files: readonly string[];
  readonly reasons: readonly string[];
}

export interface ReportModule {
  readonly buildReport: (opts: { runDir: string; baseline?: string; baselinesDir?: string; interrupted?: boolean; profile?: SoakBudget }) => Promise<ReportResult>;
  readonly saveBaseline: (run: string, name: string, baselinesDir?: string) => Promise<{ path: string; runs: number; replaced?: string }>;
  /** A run that ended without outputs to report on (refused, type error, invalid options): a junit.xml that fails. */
  readonly writeRunFailure: (opts: { runDir: string; scenario: string; exitCode: number; reason: string }) => Promise<string>;
}

/** The Slack reply sink of a run (sink-process.ts). */
export interface SlackSink {
  /** Base URL the load script reads matches from (`SLACK_SINK_URL`). */
  readonly url: string;
  /** What a bot uses as its Slack API base (`SLACK_API_URL`). */
  readonly apiUrl: string;
  close(): Promise<void>;
}

/** A part of the toolkit that is not installed (a partial copy): one line that says the fix, not a stack. */
function missing(what: string, rel: string, e: unknown): never {
  if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
    throw new AgentloadError('engine-missing', EXIT_CODES.usage, `${what} not found at ${rel}: reinstall agentload (npm ci)`, [e.message]);
  }
  throw e;
}

export async function loadEngine(): Promise<EngineModule> {
  return await import('../../engine/index.ts').catch((e: unknown) => missing('the embedded engine', 'engine/index.ts', e));
}

export async function loadEngineCli(): Promise<EngineCliModule> {
  return await import('../../engine/index.ts').catch((e: unknown) => missing('the embedded engine', 'engine/index.ts', e));
}

export async function loadReport(): Promise<ReportModule> {
  return await import('../report/index.ts').catch((e: unknown) => missing('the report pipeline', 'src/report/index.ts', e));
}
