/**
 * run.json: what ran, where, with what, and how it ended. Environment variable NAMES only, never values;
 * args with `-e` values and URL credentials masked. Written at the end of every run, interrupted ones too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetHost } from './allowlist.ts';
import type { MachineNoise } from './machine-noise.ts';

export interface RunManifest {
  readonly schema: 'agentload.run/1';
  readonly scenario: { readonly name: string; readonly path: string };
  /** Null when the run ended before its bundle was built (refused, type error). */
  readonly bundle: {
    readonly path: string;
    readonly bytes: number;
    readonly target: string;
    readonly websocketsAlias: boolean;
    /** Module names rewritten for an older k6 that the bundle uses (`k6/timers` → `k6/experimental/timers`). */
    readonly moduleAliases: Readonly<Record<string, string>>;
  } | null;
  /** Null when the run ended before an engine was chosen. */
  readonly engine: {
    readonly kind: 'k6' | 'embedded';
    readonly name: string;
    readonly version: string | undefined;
    readonly path: string | undefined;
    readonly command: string;
  } | null;
  readonly toolkit: { readonly name: string; readonly version: string };
  readonly git: { readonly sha: string } | null;
  /** User arguments (toolkit flags and k6 flags) as given, secrets masked. */
  readonly args: readonly string[];
  /** The full engine argument list, secrets masked. */
  readonly engineArgs: readonly string[];
  readonly env: { readonly names: readonly string[] };
  /**
   * Where the load went: `url` is BASE_URL's origin (scheme, host, port) as the script saw it, `hosts` every
   * target variable's host and where the variable came from (environment, .env, -e flag, set by agentload).
   * Hosts only: never a path, query or credentials.
   */
  readonly target: {
    readonly kind: 'bundled' | 'external' | 'none';
    readonly url: string | undefined;
    readonly hosts: readonly TargetHost[];
  };
  /**
   * The run's size and profile as the script saw them (SIZE, PROFILE; only when set, never other values):
   * shown in the report's header. Every other variable is recorded by name only (`env.names`).
   */
  readonly settings: Readonly<Record<string, string>>;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  /** The engine's exit code (k6 codes). */
  readonly engineExitCode: number;
  /** The command's exit code (the engine's, or a toolkit verdict's when the engine passed). */
  readonly exitCode: number;
  readonly interrupted: boolean;
  readonly report:
    { readonly verdict: string; readonly exitCode: number; readonly files: readonly string[] } | { readonly error: string } | null;
  /** How busy the machine was while the load ran (load average per core, a scheduling-lag probe, CPU steal): the baseline gate reads it. */
  readonly machine?: MachineNoise;
}

/** Variables whose values run.json keeps (plain words that say how big and how strict the run was, never secrets). */
export const RECORDED_SETTINGS = ['SIZE', 'PROFILE'] as const;

/** The recorded settings that are set (and short plain words: anything else is not a size or profile). */
export function recordedSettings(values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RECORDED_SETTINGS) {
    const v = values[name]?.trim();
    if (v !== undefined && /^[A-Za-z0-9._-]{1,32}$/.test(v)) out[name] = v;
  }
  return out;
}

/** Writes atomically (temp file + rename), so a killed run never leaves half a run.json. */
export function writeManifest(runDir: string, manifest: RunManifest): string {
  const path = join(runDir, 'run.json');
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

export function toolkitVersion(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function gitSha(cwd: string): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const sha = out.toString().trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}
