/**
 * The run command's view of the parts other modules own: the embedded engine (`engine/index.ts`) and the
 * report pipeline (`src/reporting/index.ts`); the reference platform and the Slack reply sink run as
 * processes of their own (`target-process.ts`, `sink-process.ts`), seen as a `StartedTarget` and a `SlackSink`.
 * Loaded lazily (a k6-binary run never loads the embedded engine), pre-built (engine/runtime/prebuilt.ts:
 * a cached esbuild bundle, no TypeScript compiled at run time) and checked at the boundary, so a
 * missing export is one clear line, not a stack trace.
 * Each loader is typed with the real module's type, so tsc checks that it satisfies these interfaces.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { loadPrebuilt, PACKAGE_ROOT } from '../../engine/runtime/prebuilt.ts';
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import type { SoakBudget } from '../reporting/types.ts';

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
  /** Called as each start-up phase of the engine ends (`--verbose`). */
  readonly onPhase?: (phase: string) => void;
  /** Hosts besides loopback load may go to; every connection the engine makes is checked (engine/net/host-policy.ts). */
  readonly allowedHosts?: readonly string[];
  /** Load the script and check its options and thresholds only (exit 104 on a problem, 0 when valid); run nothing. */
  readonly validateOnly?: boolean;
  /** Called with the script's exports once its init code has run (the run command reads the variables it read). */
  readonly onInit?: (exports: Readonly<Record<string, unknown>>, finished: boolean) => void;
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
      readonly stdout: Writable;
      readonly stderr: Writable;
      readonly env: Readonly<Record<string, string | undefined>>;
      readonly cwd: string;
      readonly stdoutIsTTY: boolean;
      readonly stderrIsTTY: boolean;
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
  readonly buildReport: (opts: {
    runDir: string;
    baseline?: string;
    baselinesDir?: string;
    interrupted?: boolean;
    profile?: SoakBudget;
  }) => Promise<ReportResult>;
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

/**
 * Loads a module of the toolkit pre-built (engine/runtime/prebuilt.ts), or says in one line that it is not
 * installed (a partial copy) or lacks an export. `M` is the module's own type (`typeof import(...)` below, a
 * type-only edge tsc and the boundary check see); the exports named are checked at run time, and each loader
 * returns the real module's type where an adapter interface is expected, so tsc checks that it satisfies it.
 */
async function load<M>(rel: string, what: string, exports: readonly (keyof M & string)[]): Promise<M> {
  const path = join(PACKAGE_ROOT, rel);
  if (!existsSync(path)) {
    throw new AgentloadError('engine-missing', EXIT_CODES.usage, `${what} not found at ${rel}: reinstall agentload (npm ci)`);
  }
  const mod = await loadPrebuilt(path, (reason) => {
    process.stderr.write(`agentload: loading ${rel} through tsx (slower start): ${reason}\n`);
  });
  const absent = exports.filter((e) => mod[e] === undefined);
  if (absent.length > 0) {
    throw new AgentloadError('engine-missing', EXIT_CODES.usage, `${what} (${rel}) does not export ${absent.join(', ')}`);
  }
  return mod as M;
}

type EngineIndex = typeof import('../../engine/index.ts');
type ReportIndex = typeof import('../reporting/index.ts');

export async function loadEngine(): Promise<EngineModule> {
  return await load<EngineIndex>('engine/index.ts', 'the embedded engine', [
    'runEngine',
    'ENGINE_NAME',
    'ENGINE_VERSION',
    'SUPPORTED_RUN_FLAGS',
  ]);
}

export async function loadEngineCli(): Promise<EngineCliModule> {
  return await load<EngineIndex>('engine/index.ts', 'the embedded engine', [
    'engineCliMain',
    'ENGINE_NAME',
    'ENGINE_VERSION',
    'ENGINE_MODULE_NAMES',
  ]);
}

export async function loadReport(): Promise<ReportModule> {
  return await load<ReportIndex>('src/reporting/index.ts', 'the report pipeline', ['buildReport', 'writeRunFailure']);
}
