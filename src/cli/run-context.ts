/**
 * The run command's shared state: what the command line and the environment fixed at the start
 * (`openRun`), what the steps record as they go (`RunRecord`, the content of run.json), the Ctrl+C /
 * SIGTERM handling, and the failure record every early exit leaves.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { AgentloadError, EXIT_CODES, toError } from '../errors.ts';
import type { ParsedRun } from './flags.ts';
import { say, type CliIO } from './io.ts';
import { Phases } from './phases.ts';
import { scenarioName, type BundleResult } from '../bundle/bundle.ts';
import type { K6Binary } from '../k6/binary.ts';
import type { K6Process } from '../k6/run.ts';
import type { TargetHost } from '../run/allowlist.ts';
import { loadReport, type EngineModule } from '../run/adapters.ts';
import { ChildGroup } from '../run/children.ts';
import {
  documentedNames,
  envFlagNames,
  envView,
  loadEnv,
  makeRedactor,
  recordedEnvNames,
  redactArgs,
  type EnvView,
  type LoadedEnv,
} from '../run/env.ts';
import { gitSha, recordedSettings, toolkitVersion, writeManifest, type RunManifest } from '../run/manifest.ts';
import { createRunDir } from '../run/run-dir.ts';
import { urlOrigin } from '../run/allowlist.ts';
import type { MachineNoise } from '../run/machine-noise.ts';

export type Engine = { readonly kind: 'k6'; readonly binary: K6Binary } | { readonly kind: 'embedded'; readonly module: EngineModule };

/** What run.json records, filled in by the steps as the run goes (a run that ends early records what it got to). */
export interface RunRecord {
  /** Every target variable's host and where it came from (checked first; the toolkit's own added as it starts them). */
  targets: TargetHost[];
  /** Variables the toolkit set in the run's environment (names only are recorded). */
  readonly setByToolkit: string[];
  runDir: string | undefined;
  bundle: BundleResult | undefined;
  engine: Engine | undefined;
  /** The engine's full argument list. */
  args: string[];
  /** Module names rewritten for an older k6 binary. */
  aliases: Readonly<Record<string, string>>;
  targetKind: RunManifest['target']['kind'];
  engineExitCode: number;
  /** How busy the machine was while the load ran (set once the run ends). */
  machine?: MachineNoise;
}

/** The run command's state, from the parsed command line to the report. */
export interface RunContext {
  readonly io: CliIO;
  readonly argv: readonly string[];
  readonly parsed: ParsedRun;
  readonly phases: Phases;
  readonly scenarioPath: string;
  readonly name: string;
  readonly loaded: LoadedEnv;
  /** The environment the engine and the run's children get; the toolkit adds to it as it starts things (`setEnv`). */
  readonly env: Record<string, string>;
  /** The variables as the script will see them: -e flags over the environment over .env. */
  readonly view: EnvView;
  readonly startedAt: Date;
  readonly reportsDir: string;
  readonly baselinesDir: string;
  /** --baseline as the report takes it (a saved baseline's name or a path), checked before the run. */
  readonly baseline: string | undefined;
  readonly cloud: boolean;
  /** The run's child processes (platform, services, Slack sink, fault lab, k6): stopped however the run ends. */
  readonly children: ChildGroup;
  /** Aborted by the first Ctrl+C / SIGTERM. */
  readonly stop: AbortController;
  readonly state: { interrupted: boolean; signal: NodeJS.Signals | undefined; running: boolean };
  readonly record: RunRecord;
  /** The k6 binary's process once it runs (a signal goes to it). */
  k6Process: K6Process | undefined;
  /** A temporary folder of the run's own (the `db` scenario's SQLite file), removed when the run ends. */
  scratchDir: string | undefined;
  /** Masks the values of secret variables of the run's environment. */
  readonly redact: (text: string) => string;
}

/** The run's fixed facts: the scenario, its environment, where reports and baselines go. Refuses a bad scenario or --baseline (2). */
export function openRun(argv: readonly string[], parsed: ParsedRun, io: CliIO): RunContext {
  const phases = new Phases(
    parsed.options.verbose
      ? (line) => {
          io.stderr.write(`${line}\n`);
        }
      : undefined,
  );
  const scenarioPath = resolveScenario(parsed, io.cwd);
  const name = scenarioName(scenarioPath);
  const loaded = loadEnv(io.cwd, io.env);
  const env: Record<string, string> = { ...loaded.env };
  const view = envView(loaded, io.env, parsed.k6Args);
  const startedAt = new Date();
  const reportsDir = resolve(io.cwd, parsed.options.reportsDir ?? 'reports');
  const baselinesDir = process.env.AGENTLOAD_BASELINES_DIR ?? join(reportsDir, 'baselines');
  const baseline = baselineArg(parsed.options.baseline, io.cwd, baselinesDir);
  return {
    io,
    argv,
    parsed,
    phases,
    scenarioPath,
    name,
    loaded,
    env,
    view,
    startedAt,
    reportsDir,
    baselinesDir,
    baseline,
    cloud: parsed.options.cloud,
    children: new ChildGroup(),
    stop: new AbortController(),
    state: { interrupted: false, signal: undefined, running: false },
    record: {
      targets: [],
      setByToolkit: [],
      runDir: undefined,
      bundle: undefined,
      engine: undefined,
      args: [],
      aliases: {},
      targetKind: 'external',
      engineExitCode: EXIT_CODES.ok,
    },
    k6Process: undefined,
    scratchDir: undefined,
    redact: (text) => makeRedactor(env)(text),
  };
}

/** Sets a variable of the run's environment and records that the toolkit set it. */
export function setEnv(run: RunContext, name: string, value: string): void {
  run.env[name] = value;
  run.record.setByToolkit.push(name);
}

/** Throws the interruption (105) when a signal came while the run was starting: nothing has been sent yet. */
export function checkpoint(run: RunContext): void {
  if (!run.stop.signal.aborted) return;
  throw new AgentloadError(
    'interrupted',
    EXIT_CODES.externalAbort,
    `stopped by ${run.state.signal ?? 'a signal'} before the run started: nothing was sent`,
  );
}

/**
 * Ctrl+C / SIGTERM from the first step: while starting, stop before anything runs (105); while running,
 * forward once (the engine stops gracefully, then the run's children); a second one stops at once.
 */
export function onRunSignal(run: RunContext, signal: NodeJS.Signals): void {
  const { io, state } = run;
  run.k6Process?.interrupt();
  if (!state.interrupted) {
    state.interrupted = true;
    state.signal = signal;
    say(
      io,
      state.running
        ? `${signal}: stopping the run gracefully (outputs and a partial report are still written; press again to stop at once)`
        : `${signal}: stopping before the run starts (nothing is sent)`,
    );
    run.stop.abort(new Error(`interrupted by ${signal}`));
    return;
  }
  if (run.k6Process !== undefined) return;
  say(io, `${signal} again: stopping at once`);
  if (run.record.runDir !== undefined) writeManifest(run.record.runDir, manifest(run, EXIT_CODES.externalAbort, null));
  io.forceExit?.(EXIT_CODES.externalAbort);
}

/** run.json's content as the run stands now. */
export function manifest(run: RunContext, exitCode: number, report: RunManifest['report']): RunManifest {
  const { io, record, view, env } = run;
  const { bundle, engine, aliases } = record;
  const endedAt = new Date();
  return {
    schema: 'agentload.run/1',
    scenario: { name: run.name, path: relative(io.cwd, run.scenarioPath) || run.scenarioPath },
    bundle:
      bundle === undefined
        ? null
        : {
            path: relative(io.cwd, bundle.outfile),
            bytes: bundle.bytes,
            target: bundle.target,
            websocketsAlias: 'k6/websockets' in aliases,
            moduleAliases: Object.fromEntries(Object.entries(aliases).filter(([, to]) => bundle.imports.includes(to))),
          },
    engine:
      engine === undefined
        ? null
        : engine.kind === 'k6'
          ? {
              kind: 'k6',
              name: 'k6',
              version: engine.binary.version,
              path: engine.binary.path,
              command: run.cloud ? 'k6 cloud run' : 'k6 run',
            }
          : { kind: 'embedded', name: engine.module.ENGINE_NAME, version: engine.module.ENGINE_VERSION, path: undefined, command: 'run' },
    toolkit: { name: 'agentload', version: toolkitVersion(io.root) },
    git: ((sha) => (sha === undefined ? null : { sha }))(gitSha(io.root)),
    args: redactArgs(run.argv, run.redact),
    engineArgs: redactArgs(record.args, run.redact),
    env: {
      names: recordedEnvNames({
        env,
        dotenvNames: run.loaded.dotenvNames,
        flagNames: envFlagNames(run.parsed.k6Args),
        documented: documentedNames(io.root),
        setByToolkit: record.setByToolkit,
      }),
    },
    settings: recordedSettings(view.values),
    target: {
      kind: record.targetKind,
      url: urlOrigin((view.values.BASE_URL ?? '') !== '' ? (view.values.BASE_URL ?? '') : (env.BASE_URL ?? '')),
      hosts: record.targets,
    },
    startedAt: run.startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    durationMs: endedAt.getTime() - run.startedAt.getTime(),
    engineExitCode: record.engineExitCode,
    exitCode,
    interrupted: run.state.interrupted,
    report,
    ...(record.machine !== undefined ? { machine: record.machine } : {}),
  };
}

/** run.json and a failing junit.xml for a run that ended without outputs to report on. */
export async function recordFailure(run: RunContext, exitCode: number, reason: string): Promise<void> {
  const runDir = (run.record.runDir ??= createRunDir(run.reportsDir, run.name, run.startedAt));
  writeManifest(runDir, manifest(run, exitCode, { error: run.redact(reason) }));
  if (!run.parsed.options.report) return;
  try {
    await (await loadReport()).writeRunFailure({ runDir, scenario: run.name, exitCode, reason: run.redact(reason) });
  } catch (err: unknown) {
    say(run.io, `junit.xml not written: ${run.redact(toError(err).message)}`);
  }
}

/** The scenario names under `<dir>/scenarios`, sorted: what a bare name (`npm run k6 -- api-latency`) resolves to. */
export function scenarioNames(dir: string): string[] {
  const scenarios = join(dir, 'scenarios');
  if (!existsSync(scenarios)) return [];
  return readdirSync(scenarios)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .sort();
}

function availableScenarios(cwd: string): string {
  const names = scenarioNames(cwd);
  return names.length === 0 ? '' : ` (scenarios here: ${names.join(', ')})`;
}

function resolveScenario(parsed: ParsedRun, cwd: string): string {
  if (parsed.scenario === undefined) {
    throw new AgentloadError(
      'missing-scenario',
      EXIT_CODES.usage,
      `no scenario given: npm run k6 -- scenarios/<name>.ts${availableScenarios(cwd)}`,
    );
  }
  let path = resolve(cwd, parsed.scenario);
  // A bare name (`api-latency`) is scenarios/<name>.ts (or .js) of the current folder.
  if (!existsSync(path) && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(parsed.scenario)) {
    const named = ['.ts', '.js'].map((ext) => join(cwd, 'scenarios', `${parsed.scenario ?? ''}${ext}`)).find((p) => existsSync(p));
    if (named !== undefined) path = named;
  }
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new AgentloadError(
      'scenario-not-found',
      EXIT_CODES.usage,
      `scenario file not found: ${parsed.scenario}: check the path${availableScenarios(cwd)}`,
    );
  }
  return path;
}

/**
 * --baseline as the report takes it, checked before the run: a saved baseline's name (`main`, looked up
 * as baselinesDir/main.json) stays a name, anything else is a path that must exist.
 */
function baselineArg(given: string | undefined, cwd: string, baselinesDir: string): string | undefined {
  if (given === undefined) return undefined;
  const path = resolve(cwd, given);
  if (existsSync(path)) return path;
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(given) && existsSync(join(baselinesDir, `${given}.json`))) return given;
  throw new AgentloadError(
    'usage',
    EXIT_CODES.usage,
    `--baseline ${given}: no such run folder or file, and no saved baseline ${relative(cwd, join(baselinesDir, `${given}.json`))}; save one first with --save-baseline ${/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(given) ? given : 'NAME'}`,
  );
}
