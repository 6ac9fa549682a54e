/**
 * `npm run k6 -- scenarios/<name>.ts [flags]`: parse → check target hosts → type-check → choose the engine →
 * run folder → bundle → check the script's options (embedded engine) → start the bundled platform (when no
 * BASE_URL) → run → run.json → report → exit code. Nothing is sent and nothing is started before every check
 * has passed. Ctrl+C / SIGTERM are handled from the start: while starting, the run stops (105) without
 * running anything; while running, the engine stops gracefully first and the run's children (platform,
 * Slack sink, k6) after it. Every exit after the scenario is known leaves a run folder with run.json and a
 * junit.xml that fails when the run failed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { AgentloadError, EXIT_CODES, toError } from '../errors.ts';
import { helpText, parseRunArgs, type ParsedRun } from './flags.ts';
import { fmtMs, Phases } from './phases.ts';
import { bundleScenario, DEFAULT_BUNDLE_TARGET, scenarioName, type BundleResult } from '../bundle/bundle.ts';
import { HANDLE_SUMMARY_PATH_ENV, SUMMARY_COLORS_ENV, SUMMARY_MODE_ENV } from '../bundle/entry.ts';
import { typecheckCached, type CheckOutcome } from '../bundle/typecheck-cache.ts';
import { findK6, k6Version, type K6Binary } from '../k6/binary.ts';
import { checkExtensions, checkK6Floor, moduleAliasesFor } from '../k6/compat.ts';
import { k6Args, startK6, type K6Process } from '../k6/run.ts';
import {
  ALLOWED_HOSTS_VAR,
  checkTargets,
  k6BlockedRanges,
  parseAllowedHosts,
  redactUrl,
  urlHost,
  urlOrigin,
  type TargetHost,
} from '../run/allowlist.ts';
import { loadEngine, loadReport, type EngineModule, type SlackSink, type StartedTarget } from '../run/adapters.ts';
import { ChildGroup } from '../run/children.ts';
import { documentedNames, envFlagNames, envView, loadEnv, makeRedactor, recordedEnvNames, redactArgs } from '../run/env.ts';
import { gitSha, recordedSettings, toolkitVersion, writeManifest, type RunManifest } from '../run/manifest.ts';
import { createRunDir, RUN_FILES } from '../run/run-dir.ts';
import { ReadableLog, readableLogLine } from '../run/log-lines.ts';
import { startScenarioServices } from '../run/services.ts';
import { soakBudgetFor } from '../run/soak-budget.ts';
import { bundledTargetEnv } from '../run/target-env.ts';
import { startSlackSinkProcess } from '../run/sink-process.ts';
import { startTargetProcess } from '../run/target-process.ts';
import { startFaultLab, type LabHandle } from '../faults/launch.ts';
import type { LabPlan } from '../faults/lab.ts';
import { checkAmqpUrl, faultLabFor } from '../faults/preflight.ts';

export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Toolkit root (package.json, tsconfig.k6.json, engine/, target/). */
  readonly root: string;
  /** Registers Ctrl+C / SIGTERM handling for the run (from its first step on); returns the unregister function. */
  readonly onSignal?: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** Ends the process at once (second Ctrl+C on the embedded engine). */
  readonly forceExit?: (code: number) => void;
}

type Engine = { readonly kind: 'k6'; readonly binary: K6Binary } | { readonly kind: 'embedded'; readonly module: EngineModule };

function say(io: CliIO, line: string): void {
  io.stderr.write(`agentload: ${line}\n`);
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

async function chooseEngine(parsed: ParsedRun, env: Readonly<Record<string, string>>, io: CliIO): Promise<Engine> {
  const { engine, cloud } = parsed.options;
  if (engine === 'node') {
    if (cloud) {
      throw new AgentloadError(
        'usage',
        EXIT_CODES.usage,
        '--cloud needs the k6 binary, not --engine node: install k6 (or set K6_BIN) and drop --engine node',
      );
    }
    return { kind: 'embedded', module: await loadEngine() };
  }
  const bin = findK6(env, io.cwd);
  if (bin === undefined) {
    if (engine === 'k6' || cloud) {
      throw new AgentloadError(
        'k6-not-found',
        EXIT_CODES.usage,
        `${cloud ? '--cloud' : '--engine k6'} needs a k6 binary: none on PATH and K6_BIN is not set (install k6, or set K6_BIN=/path/to/k6)`,
      );
    }
    return { kind: 'embedded', module: await loadEngine() };
  }
  const binary = await k6Version(bin, env);
  checkK6Floor(binary);
  return { kind: 'k6', binary };
}

/** TypeScript is always type-checked; JavaScript (a plain k6 script) only with --typecheck (JSDoc types). */
function isTypeScript(file: string): boolean {
  return /\.(ts|mts|cts|tsx)$/.test(file);
}

/** Refuses (104) the first flag the embedded engine does not support, naming it and listing the supported ones. */
export function checkEmbeddedFlags(args: readonly string[], engine: EngineModule): void {
  const specs = engine.SUPPORTED_RUN_FLAGS;
  const supported = specs.map((f) => `--${f.name}`).join(', ');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') continue;
    const long = arg.startsWith('--');
    const name = long ? (arg.slice(2).split('=')[0] ?? '') : arg.slice(1, 2);
    const spec = specs.find((f) => (long ? f.name === name : f.short === name));
    if (spec === undefined) {
      throw new AgentloadError(
        'unsupported-flag',
        EXIT_CODES.invalidConfig,
        `flag ${long ? `--${name}` : `-${name}`} is not supported by the embedded engine (supported: ${supported}): run with a k6 binary (K6_BIN=/path/to/k6 or --engine k6), or drop the flag`,
      );
    }
    const inline = long ? arg.includes('=') : arg.length > 2;
    if (spec.kind !== 'boolean' && !inline) i++;
  }
}

function engineLabel(engine: Engine): string {
  return engine.kind === 'k6'
    ? `k6 ${engine.binary.version !== undefined ? `v${engine.binary.version}` : '(unknown version)'} (${engine.binary.path})`
    : `embedded (${engine.module.ENGINE_NAME} ${engine.module.ENGINE_VERSION})`;
}

/** Placeholders for what the run sets once its children are up, so the options check sees a complete environment. */
const VALIDATION_URL = 'http://127.0.0.1:1';

/** A Writable that keeps what the options check printed (shown only when it failed). */
class Kept extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}

export async function runCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseRunArgs(argv, io.env);
  if (parsed.options.help) {
    io.stdout.write(`${helpText()}\n`);
    return EXIT_CODES.ok;
  }
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
  // The variables as the script will see them: -e flags over the environment over .env.
  const view = envView(loaded, io.env, parsed.k6Args);
  const startedAt = new Date();
  const reportsDir = resolve(io.cwd, parsed.options.reportsDir ?? 'reports');
  const baselinesDir = process.env.AGENTLOAD_BASELINES_DIR ?? join(reportsDir, 'baselines');
  const baseline = baselineArg(parsed.options.baseline, io.cwd, baselinesDir);
  const cloud = parsed.options.cloud;
  const children = new ChildGroup();
  const stop = new AbortController();
  // Children start side by side with the checks: a check that fails stops their start too.
  const failedEarly = new AbortController();
  const starting = AbortSignal.any([stop.signal, failedEarly.signal]);
  let childrenStarting: Promise<void> | undefined;
  const state = { interrupted: false, signal: undefined as NodeJS.Signals | undefined, running: false };
  const setByToolkit: string[] = [];
  let targets: TargetHost[] = [];
  let runDir: string | undefined;
  let bundle: BundleResult | undefined;
  let engine: Engine | undefined;
  let args: string[] = [];
  let aliases: Readonly<Record<string, string>> = {};
  let targetKind: RunManifest['target']['kind'] = 'external';
  let engineExitCode: number = EXIT_CODES.ok;
  let k6Process: K6Process | undefined;
  let scratchDir: string | undefined;
  const redact = (text: string): string => makeRedactor(env)(text);

  const manifest = (exitCode: number, report: RunManifest['report']): RunManifest => {
    const endedAt = new Date();
    return {
      schema: 'agentload.run/1',
      scenario: { name, path: relative(io.cwd, scenarioPath) || scenarioPath },
      bundle:
        bundle === undefined
          ? null
          : {
              path: relative(io.cwd, bundle.outfile),
              bytes: bundle.bytes,
              target: bundle.target,
              websocketsAlias: 'k6/websockets' in aliases,
              moduleAliases: Object.fromEntries(Object.entries(aliases).filter(([, to]) => bundle?.imports.includes(to))),
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
                command: cloud ? 'k6 cloud run' : 'k6 run',
              }
            : { kind: 'embedded', name: engine.module.ENGINE_NAME, version: engine.module.ENGINE_VERSION, path: undefined, command: 'run' },
      toolkit: { name: 'agentload', version: toolkitVersion(io.root) },
      git: ((sha) => (sha === undefined ? null : { sha }))(gitSha(io.root)),
      args: redactArgs(argv, redact),
      engineArgs: redactArgs(args, redact),
      env: {
        names: recordedEnvNames({
          env,
          dotenvNames: loaded.dotenvNames,
          flagNames: envFlagNames(parsed.k6Args),
          documented: documentedNames(io.root),
          setByToolkit,
        }),
      },
      settings: recordedSettings(view.values),
      target: {
        kind: targetKind,
        url: urlOrigin((view.values.BASE_URL ?? '') !== '' ? (view.values.BASE_URL ?? '') : (env.BASE_URL ?? '')),
        hosts: targets,
      },
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      engineExitCode,
      exitCode,
      interrupted: state.interrupted,
      report,
    };
  };

  /** run.json and a failing junit.xml for a run that ended without outputs to report on. */
  const recordFailure = async (exitCode: number, reason: string): Promise<void> => {
    runDir ??= createRunDir(reportsDir, name, startedAt);
    writeManifest(runDir, manifest(exitCode, { error: redact(reason) }));
    if (!parsed.options.report) return;
    try {
      await (await loadReport()).writeRunFailure({ runDir, scenario: name, exitCode, reason: redact(reason) });
    } catch (err: unknown) {
      say(io, `junit.xml not written: ${redact(toError(err).message)}`);
    }
  };

  // Ctrl+C / SIGTERM from the first step: while starting, stop before anything runs (105); while running,
  // forward once (the engine stops gracefully, then the run's children); a second one stops at once.
  const unregister = io.onSignal?.((signal) => {
    k6Process?.interrupt();
    if (!state.interrupted) {
      state.interrupted = true;
      state.signal = signal;
      say(
        io,
        state.running
          ? `${signal}: stopping the run gracefully (outputs and a partial report are still written; press again to stop at once)`
          : `${signal}: stopping before the run starts (nothing is sent)`,
      );
      stop.abort(new Error(`interrupted by ${signal}`));
      return;
    }
    if (k6Process !== undefined) return;
    say(io, `${signal} again: stopping at once`);
    if (runDir !== undefined) writeManifest(runDir, manifest(EXIT_CODES.externalAbort, null));
    io.forceExit?.(EXIT_CODES.externalAbort);
  });
  const checkpoint = (): void => {
    if (!stop.signal.aborted) return;
    throw new AgentloadError(
      'interrupted',
      EXIT_CODES.externalAbort,
      `stopped by ${state.signal ?? 'a signal'} before the run started: nothing was sent`,
    );
  };

  let soakBudget: ReturnType<typeof soakBudgetFor>;
  let lab: LabPlan | undefined;
  let labHandle: LabHandle | undefined;
  try {
    // 1. Where the load goes, wherever each target variable comes from: refuse before anything else happens.
    targets = checkTargets(view);
    soakBudget = soakBudgetFor(name, env);
    // Fault scenarios (and clusters): the plan fits and every fault in it can be applied here.
    lab = faultLabFor(name, { ...env, ...view.values });
    if (lab !== undefined && cloud) {
      throw new AgentloadError(
        'fault-unavailable',
        EXIT_CODES.invalidConfig,
        `--cloud cannot run ${name}: its faults are applied by a fault controller on this machine, which Grafana Cloud cannot reach: run it locally (drop --cloud)`,
      );
    }
    if (cloud && (view.values.BASE_URL ?? '') === '') {
      throw new AgentloadError(
        'cloud-needs-target',
        EXIT_CODES.invalidConfig,
        '--cloud runs in Grafana Cloud, which cannot reach a platform started on this machine: set BASE_URL to a public system (and list its host in AGENTLOAD_ALLOWED_HOSTS)',
      );
    }

    const bundledPlatform = (view.values.BASE_URL ?? '') === '';
    const slackSink = name.startsWith('slack') && (view.values.SLACK_SINK_URL ?? '') === '';
    if (bundledPlatform) {
      // Defaults that make every scenario run against the bundled platform out of the box.
      if ((env.SLACK_SIGNING_SECRET ?? '') === '') {
        env.SLACK_SIGNING_SECRET = randomBytes(24).toString('hex');
        setByToolkit.push('SLACK_SIGNING_SECRET');
      }
      if (name === 'db' && (view.values.DB_DSN ?? '') === '') {
        scratchDir = mkdtempSync(join(tmpdir(), 'agentload-db-'));
        env.DB_DSN = join(scratchDir, 'db.sqlite');
        setByToolkit.push('DB_DSN');
      }
    }
    // 6. Children: the Slack reply sink and the bundled platform, each in a process of its own. Started as soon
    // as the targets are checked, side by side with the type check, the engine load and the bundle (unless the
    // failure lab starts the platform: it needs the run folder), and awaited just before the load starts; what
    // they say is printed then, in order. `labDir` is the run folder, for the lab's fault log.
    const startChildren = async (tell: (line: string) => void, labDir: string | undefined): Promise<void> => {
      let sinkApiUrl: string | undefined;
      if (slackSink) {
        const sink: SlackSink = await startSlackSinkProcess({
          root: io.root,
          group: children,
          abort: starting,
          onStderr: (line) => {
            if (line.trim() !== '') io.stderr.write(`slack sink: ${redact(line)}\n`);
          },
        }).catch((err: unknown) => {
          checkpoint();
          throw new AgentloadError('target-failed', EXIT_CODES.usage, `cannot start the Slack reply sink: ${redact(toError(err).message)}`);
        });
        env.SLACK_SINK_URL = sink.url;
        setByToolkit.push('SLACK_SINK_URL');
        targets.push({ variable: 'SLACK_SINK_URL', source: 'set by agentload', host: urlHost(sink.url) ?? sink.url });
        tell(`Slack reply sink at ${sink.url} (a bot of your own posts replies to SLACK_API_URL=${sink.apiUrl})`);
        if (bundledPlatform && (env.SLACK_API_URL ?? '') === '') sinkApiUrl = sink.apiUrl;
      }
      if (!bundledPlatform) return;
      // Only the platform's own variables reach it: a DATABASE_URL meant for the user's system does not.
      const targetEnv = bundledTargetEnv(env);
      // The platform keeps its data in the scenario's SQLite file, so the scenario queries its seeded knowledge graph.
      if (
        setByToolkit.includes('DB_DSN') &&
        (env.DB_DRIVER ?? 'sqlite3') === 'sqlite3' &&
        targetEnv.DATABASE_URL === undefined &&
        targetEnv.SQLITE_PATH === undefined
      ) {
        targetEnv.SQLITE_PATH = env.DB_DSN ?? '';
      }
      if (sinkApiUrl !== undefined) targetEnv.SLACK_API_URL = sinkApiUrl;
      // What the platform needs beside it (a redis-server for `cache`), children of the run as well.
      const services = await startScenarioServices(name, env, { group: children, abort: starting }).catch((err: unknown) => {
        checkpoint();
        throw new AgentloadError(
          'target-failed',
          EXIT_CODES.usage,
          `cannot start what the bundled platform needs: ${redact(toError(err).message)}`,
        );
      });
      Object.assign(targetEnv, services.targetEnv);
      for (const [k, v] of Object.entries(services.scriptEnv)) {
        env[k] = v;
        setByToolkit.push(k);
        const host = urlHost(v);
        if (host !== undefined) targets.push({ variable: k, source: 'set by agentload', host });
      }
      for (const line of services.notes) tell(line);
      // Its own process: the platform does not share the load generator's event loop, and its
      // /metrics (RSS for the soak leak verdict) measure the platform alone.
      // A fault scenario (or a cluster): the failure lab starts the broker, the platform's processes and the
      // fault controller (src/faults/launch.ts), itself one child of the run.
      const onStderr = (line: string): void => {
        if (line.trim() !== '') io.stderr.write(`target: ${redact(line)}\n`);
      };
      const started =
        lab === undefined
          ? startTargetProcess({ root: io.root, env: targetEnv, group: children, abort: starting, onStderr })
          : startFaultLab({
              plan: lab,
              root: io.root,
              env,
              platformEnv: targetEnv,
              faultLog: join(labDir ?? '', RUN_FILES.faults),
              group: children,
              abort: starting,
              say: (line) => {
                tell(redact(line));
              },
              onPlatformLine: onStderr,
            }).then((h) => {
              labHandle = h;
              return h;
            });
      const target: StartedTarget = await started.catch((err: unknown) => {
        checkpoint();
        throw new AgentloadError('target-failed', EXIT_CODES.usage, `cannot start the bundled platform: ${redact(toError(err).message)}`);
      });
      env.BASE_URL = target.url;
      setByToolkit.push('BASE_URL');
      targetKind = 'bundled';
      targets.unshift({ variable: 'BASE_URL', source: 'set by agentload', host: urlHost(target.url) ?? target.url });
      tell(`target bundled platform at ${target.url} (set BASE_URL to test your own system)`);
    };
    const told: string[] = [];
    let readyAt = 0;
    childrenStarting =
      lab === undefined
        ? startChildren((line) => told.push(line), undefined).then(() => {
            readyAt = performance.now();
          })
        : undefined;
    childrenStarting?.catch(() => undefined); // awaited (and reported) at step 6, after the checks before it

    phases.mark('arguments, environment and target hosts checked');

    // 2. Types (TypeScript always; a JavaScript script only with --typecheck, its JSDoc checked): cached per
    // scenario content, else checked in a child process (its memory is gone before the load starts) while the
    // engine loads; a type error still comes before any engine problem. The two overlap, so --verbose gives
    // each one's own end as well as the phase's length.
    const javascript = !isTypeScript(scenarioPath);
    const skipped = javascript && !parsed.options.typecheck;
    const checking = (
      skipped
        ? Promise.resolve<CheckOutcome | undefined>(undefined)
        : typecheckCached([scenarioPath], { root: io.root, cwd: io.cwd, javascript, env: io.env })
    ).then((r) => ({ outcome: r, at: phases.since() }));
    const choosing = chooseEngine(parsed, env, io).then((e) => ({ engine: e, at: phases.since() }));
    choosing.catch(() => undefined); // reported below, after the types
    const checked = await checking;
    const diagnostics = checked.outcome?.diagnostics ?? [];
    if (diagnostics.length > 0) {
      throw new AgentloadError(
        'type-error',
        EXIT_CODES.scriptException,
        diagnostics[0]?.text ?? 'type error',
        diagnostics.slice(1).map((d) => d.text),
      );
    }
    checkpoint();
    await checkAmqpUrl({ ...env, ...view.values });
    checkpoint();

    // 3. Engine, and the flags it accepts.
    const loadedEngine = await choosing;
    const chosen = loadedEngine.engine;
    phases.mark(
      'type check and engine load, side by side',
      `type check ${checked.outcome === undefined ? 'skipped (a JavaScript script without --typecheck)' : checked.outcome.cached ? 'cached (the scenario and its imports are unchanged)' : 'run in a child process'}, done at +${fmtMs(checked.at)} ms; engine chosen and loaded at +${fmtMs(loadedEngine.at)} ms`,
    );
    engine = chosen;
    if (chosen.kind === 'embedded') checkEmbeddedFlags(parsed.k6Args, chosen.module);
    say(io, `engine ${engineLabel(chosen)}`);
    checkpoint();

    // 4. Run folder, then the bundle: by default it is written into the run folder, so concurrent runs
    // of one scenario never share a file and each run keeps the exact script it ran.
    const dir = createRunDir(reportsDir, name, startedAt);
    runDir = dir;
    const files = {
      outJson: join(dir, RUN_FILES.outJson),
      summaryExport: join(dir, RUN_FILES.summaryExport),
      handleSummaryData: join(dir, RUN_FILES.handleSummaryData),
    };
    aliases = chosen.kind === 'k6' ? moduleAliasesFor(chosen.binary.version) : {};
    const built = await bundleScenario(scenarioPath, {
      root: io.root,
      cwd: io.cwd,
      outDir: (env.AGENTLOAD_BUILD_DIR ?? '') !== '' ? resolve(io.cwd, env.AGENTLOAD_BUILD_DIR ?? '') : dir,
      target: parsed.options.bundleTarget ?? DEFAULT_BUNDLE_TARGET,
      aliases,
      ...(parsed.options.bundleBudgetKb !== undefined ? { budgetKb: parsed.options.bundleBudgetKb } : {}),
    });
    bundle = built;
    phases.mark('scenario bundled');
    const aliased = Object.entries(aliases).filter(([, to]) => built.imports.includes(to));
    say(io, built.sizeLine + (aliased.length > 0 ? ` (${aliased.map(([from, to]) => `${from} → ${to}`).join(', ')})` : ''));
    // A k6 binary must have every k6/x/* extension the bundle imports (k6 v1 would try to download one).
    if (chosen.kind === 'k6' && !cloud) {
      const fetched = checkExtensions(built.imports, chosen.binary, relative(io.cwd, scenarioPath) || scenarioPath, env);
      if (fetched.length > 0)
        say(io, `k6 will fetch ${fetched.join(', ')} itself (K6_AUTO_EXTENSION_RESOLUTION=true): this needs network access`);
    }
    checkpoint();

    args = k6Args({
      bundle: built.outfile,
      outJson: cloud ? undefined : files.outJson,
      summaryExport: cloud ? undefined : files.summaryExport,
      // k6's own --verbose (debug logs) still reaches a k6 binary.
      userArgs: chosen.kind === 'k6' && parsed.options.verbose ? [...parsed.k6Args, '--verbose'] : parsed.k6Args,
      cloud,
    });
    if (!cloud) {
      env[HANDLE_SUMMARY_PATH_ENV] = files.handleSummaryData;
      setByToolkit.push(HANDLE_SUMMARY_PATH_ENV);
    }
    const colors = io.stdoutIsTTY && env.NO_COLOR === undefined && !parsed.k6Args.includes('--no-color');
    env[SUMMARY_COLORS_ENV] = colors ? '1' : '0';
    setByToolkit.push(SUMMARY_COLORS_ENV);
    env[SUMMARY_MODE_ENV] = parsed.options.summaryMode;
    setByToolkit.push(SUMMARY_MODE_ENV);

    // 5. The script's options and thresholds, before anything is started (the k6 binary checks its own once it runs).
    if (chosen.kind === 'embedded') {
      const kept = new Kept();
      const placeholders: Record<string, string> = {};
      if (bundledPlatform) placeholders.BASE_URL = VALIDATION_URL;
      if (slackSink) placeholders.SLACK_SINK_URL = VALIDATION_URL;
      if (lab !== undefined) placeholders.FAULTS_URL = VALIDATION_URL;
      const code = await chosen.module.runEngine({
        script: built.outfile,
        args: args.slice(2),
        env: { ...env, ...placeholders },
        cwd: io.cwd,
        stdout: new Kept(),
        stderr: kept,
        handleSignals: false,
        validateOnly: true,
        signal: stop.signal,
        allowedHosts: parseAllowedHosts(view.values[ALLOWED_HOSTS_VAR]),
      });
      checkpoint();
      if (code !== EXIT_CODES.ok) {
        io.stderr.write(
          kept.text
            .split('\n')
            .map((l) => readableLogLine(l, Date.now()))
            .join('\n'),
        );
        engineExitCode = code;
        throw new AgentloadError(
          'invalid-options',
          code,
          `the scenario failed its check before the run (see above; exit code ${String(code)}): nothing was sent`,
        );
      }
      phases.mark('options and thresholds checked');
    }

    // 6. The children started at step 1 (ready now, or the reason they are not), or now when the failure lab starts them.
    if (childrenStarting !== undefined) {
      await childrenStarting;
      for (const line of told) say(io, line);
    } else {
      await startChildren((line) => {
        say(io, line);
      }, dir);
    }
    if (bundledPlatform) {
      phases.mark(
        'bundled platform started',
        childrenStarting === undefined ? undefined : `side by side with the steps above, ready at ${fmtMs(readyAt)} ms`,
      );
    } else {
      say(io, `target ${redactUrl(view.values.BASE_URL ?? '')}`);
      if (lab !== undefined) {
        // Your own system: only the fault controller (and your fault commands) run here.
        labHandle = await startFaultLab({
          plan: lab,
          root: io.root,
          env,
          platformEnv: {},
          faultLog: join(dir, RUN_FILES.faults),
          group: children,
          abort: stop.signal,
          say: (line) => {
            say(io, redact(line));
          },
          onPlatformLine: () => undefined,
        }).catch((err: unknown) => {
          checkpoint();
          throw new AgentloadError('target-failed', EXIT_CODES.usage, `cannot start the fault controller: ${redact(toError(err).message)}`);
        });
      }
    }
    if (labHandle !== undefined) {
      env.FAULTS_URL = labHandle.faultsUrl;
      setByToolkit.push('FAULTS_URL');
      targets.push({ variable: 'FAULTS_URL', source: 'set by agentload', host: urlHost(labHandle.faultsUrl) ?? labHandle.faultsUrl });
      say(io, `fault controller at ${labHandle.faultsUrl} (faults are logged to ${relative(io.cwd, dir) || dir}/${RUN_FILES.faults})`);
    }
    checkpoint();

    // 7. Run, with Ctrl+C forwarded.
    state.running = true;
    if (chosen.kind === 'k6') {
      // k6 enforces the allowlist itself too when it can be said as IP ranges (loopback and listed addresses).
      const blocked = k6BlockedRanges(view.values[ALLOWED_HOSTS_VAR]);
      const k6Env = { ...env };
      if (blocked !== undefined) k6Env.K6_BLACKLIST_IPS = [env.K6_BLACKLIST_IPS ?? '', ...blocked].filter((r) => r !== '').join(',');
      k6Process = await startK6({ bin: chosen.binary.path, args, env: k6Env, cwd: io.cwd, group: children });
      if (stop.signal.aborted) k6Process.interrupt(); // a signal that came while k6 was being spawned
      engineExitCode = await k6Process.exitCode;
    } else {
      // The engine's log lines as people read them (k6's terminal layout, stack frames on lines of their own).
      const engineStderr = new ReadableLog(io.stderr);
      engineExitCode = await chosen.module
        .runEngine({
          script: built.outfile,
          args: args.slice(2),
          env,
          cwd: io.cwd,
          stdout: io.stdout,
          stderr: engineStderr,
          signal: stop.signal,
          stdoutIsTTY: io.stdoutIsTTY,
          stderrIsTTY: io.stderrIsTTY,
          handleSignals: false,
          allowedHosts: parseAllowedHosts(view.values[ALLOWED_HOSTS_VAR]),
          ...(phases.enabled
            ? {
                onPhase: (phase: string) => {
                  phases.mark(`engine: ${phase}`);
                },
              }
            : {}),
        })
        .finally(
          () =>
            new Promise<void>((res) => {
              engineStderr.end(res);
            }),
        );
    }
  } catch (err: unknown) {
    failedEarly.abort(toError(err));
    await childrenStarting?.catch(() => undefined);
    await children.stopAll();
    const code = err instanceof AgentloadError ? err.exitCode : 1;
    await recordFailure(code, toError(err).message.split('\n')[0] ?? '');
    unregister?.();
    throw err;
  } finally {
    // The platform (and the other children) stop after the engine, so teardown still reached them.
    await children.stopAll();
    if (scratchDir !== undefined) rmSync(scratchDir, { recursive: true, force: true });
  }
  unregister?.();
  const dir = runDir;
  const shownRunDir = relative(io.cwd, dir) || dir;

  // 8. run.json, then the report.
  writeManifest(dir, manifest(engineExitCode, null));
  if (cloud) {
    io.stdout.write(`results: Grafana Cloud k6 (the test URL is printed above); run manifest in ${shownRunDir}/run.json\n`);
    return engineExitCode;
  }
  let exitCode = engineExitCode;
  let report: RunManifest['report'] = null;
  let reasons: readonly string[] = [];
  if (parsed.options.report) {
    try {
      const reportModule = await loadReport();
      const built = await reportModule.buildReport({
        runDir: dir,
        baselinesDir,
        ...(baseline !== undefined ? { baseline } : {}),
        interrupted: state.interrupted,
        ...(soakBudget !== undefined ? { profile: soakBudget } : {}),
      });
      report = { verdict: built.verdict, exitCode: built.exitCode, files: built.files.map((f) => relative(dir, resolve(dir, f))) };
      reasons = built.reasons;
      if (engineExitCode === EXIT_CODES.ok) exitCode = built.exitCode;
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
    } catch (err: unknown) {
      const why = toError(err).message.split('\n')[0] ?? '';
      report = { error: redact(toError(err).message) };
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
            scenario: name,
            exitCode: engineExitCode,
            reason: `the run ended with exit code ${String(engineExitCode)} before it wrote outputs to report on`,
          });
        } catch {
          // reported above
        }
      }
    }
  }
  writeManifest(dir, manifest(exitCode, report));
  if (parsed.options.open) {
    const html = join(dir, 'report.html');
    if (existsSync(html))
      openInBrowser(html, env, (line) => {
        say(io, line);
      });
    else say(io, '--open: no report.html to open (the report was not built)');
  }
  const verdict = report !== null && 'verdict' in report ? ` verdict ${report.verdict},` : '';
  io.stdout.write(
    `\nresults:${verdict} exit code ${exitCode}${state.interrupted ? ' (interrupted)' : ''}: ${shownRunDir}/` +
      (report !== null && 'files' in report && report.files.includes('report.html') ? ` (open ${shownRunDir}/report.html)` : '') +
      '\n' +
      reasons.map((r) => `  ${r}\n`).join(''),
  );
  return exitCode;
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
