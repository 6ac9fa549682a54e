/**
 * `npm run k6 -- scenarios/<name>.ts [flags]`: parse → check target hosts → type-check → choose the engine →
 * bundle → run folder → start the bundled platform (when no BASE_URL) → run → run.json → report → exit code.
 * Nothing is sent anywhere before every check has passed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { AgentloadError, EXIT_CODES, toError } from './errors.ts';
import { helpText, parseRunArgs, type ParsedRun } from './flags.ts';
import { bundleScenario, DEFAULT_BUNDLE_TARGET, scenarioName, type BundleResult } from '../bundle/bundle.ts';
import { HANDLE_SUMMARY_PATH_ENV, SUMMARY_COLORS_ENV } from '../bundle/entry.ts';
import { typecheckScenario } from '../bundle/typecheck.ts';
import { findK6, k6Version, needsRedisAlias, needsWebsocketsAlias, type K6Binary } from '../k6/binary.ts';
import { k6Args, startK6, type K6Process } from '../k6/run.ts';
import { checkTargetHosts, redactUrl } from '../run/allowlist.ts';
import { loadEngine, loadReport, loadSlackSink, type EngineModule, type SlackSink, type StartedTarget } from '../run/adapters.ts';
import { documentedNames, envFlagNames, loadEnv, makeRedactor, recordedEnvNames, redactArgs } from '../run/env.ts';
import { gitSha, toolkitVersion, writeManifest, type RunManifest } from '../run/manifest.ts';
import { createRunDir, RUN_FILES } from '../run/run-dir.ts';
import { startScenarioServices, type StartedServices } from '../run/services.ts';
import { soakBudgetFor } from '../run/soak-budget.ts';
import { bundledTargetEnv } from '../run/target-env.ts';
import { startTargetProcess } from '../run/target-process.ts';

export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Toolkit root (package.json, tsconfig.k6.json, engine/, target/). */
  readonly root: string;
  /** Registers Ctrl+C / SIGTERM handling for the run; returns the unregister function. */
  readonly onSignal?: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** Ends the process at once (second Ctrl+C on the embedded engine). */
  readonly forceExit?: (code: number) => void;
}

type Engine =
  | { readonly kind: 'k6'; readonly binary: K6Binary }
  | { readonly kind: 'embedded'; readonly module: EngineModule };

function say(io: CliIO, line: string): void {
  io.stderr.write(`agentload: ${line}\n`);
}

function availableScenarios(cwd: string): string {
  const dir = join(cwd, 'scenarios');
  if (!existsSync(dir)) return '';
  const names = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
  return names.length === 0 ? '' : ` (scenarios here: ${names.sort().join(', ')})`;
}

function resolveScenario(parsed: ParsedRun, cwd: string): string {
  if (parsed.scenario === undefined) {
    throw new AgentloadError(
      'missing-scenario',
      EXIT_CODES.usage,
      `no scenario given: npm run k6 -- scenarios/<name>.ts${availableScenarios(cwd)}`,
    );
  }
  const path = resolve(cwd, parsed.scenario);
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
      throw new AgentloadError('usage', EXIT_CODES.usage, '--cloud needs the k6 binary, not --engine node: install k6 (or set K6_BIN) and drop --engine node');
    }
    return { kind: 'embedded', module: await loadEngine(io.root) };
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
    return { kind: 'embedded', module: await loadEngine(io.root) };
  }
  return { kind: 'k6', binary: await k6Version(bin, env) };
}

/** Refuses (104) the first flag the embedded engine does not support, naming it and listing the supported ones. */
export function checkEmbeddedFlags(args: readonly string[], engine: EngineModule): void {
  const specs = engine.SUPPORTED_RUN_FLAGS;
  const supported = specs.map((f) => `--${f.name}`).join(', ');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') continue;
    const long = arg.startsWith('--');
    const name = long ? arg.slice(2).split('=')[0] ?? '' : arg.slice(1, 2);
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

export async function runCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseRunArgs(argv, io.env);
  if (parsed.options.help) {
    io.stdout.write(`${helpText()}\n`);
    return EXIT_CODES.ok;
  }
  const scenarioPath = resolveScenario(parsed, io.cwd);
  const name = scenarioName(scenarioPath);
  const loaded = loadEnv(io.cwd, io.env);
  const env: Record<string, string> = { ...loaded.env };

  // 1. Where the load goes: refuse before anything else happens.
  checkTargetHosts(env);
  const soakBudget = soakBudgetFor(name, env);
  if (parsed.options.cloud && (env.BASE_URL ?? '') === '') {
    throw new AgentloadError(
      'cloud-needs-target',
      EXIT_CODES.invalidConfig,
      '--cloud runs in Grafana Cloud, which cannot reach a platform started on this machine: set BASE_URL to a public system (and list its host in AGENTLOAD_ALLOWED_HOSTS)',
    );
  }

  // 2. Types.
  const diagnostics = typecheckScenario(scenarioPath, { root: io.root, cwd: io.cwd });
  if (diagnostics.length > 0) {
    throw new AgentloadError(
      'type-error',
      EXIT_CODES.scriptException,
      diagnostics[0]?.text ?? 'type error',
      diagnostics.slice(1).map((d) => d.text),
    );
  }

  // 3. Engine, and the flags it accepts.
  const engine = await chooseEngine(parsed, env, io);
  if (engine.kind === 'embedded') checkEmbeddedFlags(parsed.k6Args, engine.module);
  say(io, `engine ${engineLabel(engine)}`);

  // 4. Run folder, then the bundle: by default it is written into the run folder, so concurrent runs
  // of one scenario never share a file and each run keeps the exact script it ran.
  const startedAt = new Date();
  const reportsDir = resolve(io.cwd, parsed.options.reportsDir ?? 'reports');
  const baselinesDir = process.env.AGENTLOAD_BASELINES_DIR ?? join(reportsDir, 'baselines');
  const baseline = baselineArg(parsed.options.baseline, io.cwd, baselinesDir);
  const runDir = createRunDir(reportsDir, name, startedAt);
  const shownRunDir = relative(io.cwd, runDir) || runDir;
  const files = {
    outJson: join(runDir, RUN_FILES.outJson),
    summaryExport: join(runDir, RUN_FILES.summaryExport),
    handleSummaryData: join(runDir, RUN_FILES.handleSummaryData),
  };
  const aliasWebsockets = engine.kind === 'k6' && needsWebsocketsAlias(engine.binary.version);
  const aliasRedis = engine.kind === 'k6' && needsRedisAlias(engine.binary.version);
  let bundle: BundleResult;
  try {
    bundle = await bundleScenario(scenarioPath, {
      root: io.root,
      cwd: io.cwd,
      outDir: (env.AGENTLOAD_BUILD_DIR ?? '') !== '' ? resolve(io.cwd, env.AGENTLOAD_BUILD_DIR ?? '') : runDir,
      target: parsed.options.bundleTarget ?? DEFAULT_BUNDLE_TARGET,
      aliasWebsockets,
      aliasRedis,
      ...(parsed.options.bundleBudgetKb !== undefined ? { budgetKb: parsed.options.bundleBudgetKb } : {}),
    });
  } catch (err: unknown) {
    rmSync(runDir, { recursive: true, force: true }); // nothing ran: leave no empty run folder behind
    throw err;
  }
  say(io, bundle.sizeLine + (aliasWebsockets ? ' (k6/websockets → k6/experimental/websockets)' : '') + (aliasRedis ? ' (k6/experimental/redis → k6/x/redis)' : ''));

  const cloud = parsed.options.cloud;
  const args = k6Args({
    bundle: bundle.outfile,
    outJson: cloud ? undefined : files.outJson,
    summaryExport: cloud ? undefined : files.summaryExport,
    userArgs: parsed.k6Args,
    cloud,
  });
  const setByToolkit: string[] = [];
  if (!cloud) {
    env[HANDLE_SUMMARY_PATH_ENV] = files.handleSummaryData;
    setByToolkit.push(HANDLE_SUMMARY_PATH_ENV);
  }
  const colors = io.stdoutIsTTY && env.NO_COLOR === undefined && !parsed.k6Args.includes('--no-color');
  env[SUMMARY_COLORS_ENV] = colors ? '1' : '0';
  setByToolkit.push(SUMMARY_COLORS_ENV);

  const redact = (text: string): string => makeRedactor(env)(text);
  let scratchDir: string | undefined;
  let target: StartedTarget | undefined;
  let services: StartedServices | undefined;
  let sink: SlackSink | undefined;
  let targetKind: RunManifest['target']['kind'] = 'external';
  const state = { interrupted: false };
  let engineExitCode: number = EXIT_CODES.ok;
  let unregister: (() => void) | undefined;

  const manifest = (exitCode: number, report: RunManifest['report']): RunManifest => {
    const endedAt = new Date();
    return {
      schema: 'agentload.run/1',
      scenario: { name, path: relative(io.cwd, scenarioPath) || scenarioPath },
      bundle: { path: relative(io.cwd, bundle.outfile), bytes: bundle.bytes, target: bundle.target, websocketsAlias: aliasWebsockets },
      engine:
        engine.kind === 'k6'
          ? { kind: 'k6', name: 'k6', version: engine.binary.version, path: engine.binary.path, command: cloud ? 'k6 cloud run' : 'k6 run' }
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
      target: { kind: targetKind, url: env.BASE_URL === undefined ? undefined : redactUrl(env.BASE_URL) },
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      engineExitCode,
      exitCode,
      interrupted: state.interrupted,
      report,
    };
  };

  try {
    // 6. Target (and, for Slack scenarios, the Slack reply sink the bot posts to).
    if (name.startsWith('slack') && (env.SLACK_SINK_URL ?? '') === '') {
      const sinkModule = await loadSlackSink(io.root);
      if (sinkModule !== undefined) {
        sink = await sinkModule.startSlackSink({ host: '127.0.0.1', port: 0 });
        env.SLACK_SINK_URL = sink.url;
        setByToolkit.push('SLACK_SINK_URL');
        say(io, `Slack reply sink at ${sink.url} (a bot of your own posts replies to SLACK_API_URL=${sink.apiUrl})`);
      }
    }
    if ((env.BASE_URL ?? '') === '') {
      // Defaults that make every scenario run against the bundled platform out of the box.
      if ((env.SLACK_SIGNING_SECRET ?? '') === '') {
        env.SLACK_SIGNING_SECRET = randomBytes(24).toString('hex');
        setByToolkit.push('SLACK_SIGNING_SECRET');
      }
      // Only the platform's own variables reach it: a DATABASE_URL meant for the user's system does not.
      const targetEnv = bundledTargetEnv(env);
      if (name === 'db' && (env.DB_DSN ?? '') === '') {
        scratchDir = mkdtempSync(join(tmpdir(), 'agentload-db-'));
        env.DB_DSN = join(scratchDir, 'db.sqlite');
        setByToolkit.push('DB_DSN');
        // The platform keeps its data in the same SQLite file, so the scenario queries its seeded knowledge graph.
        if ((env.DB_DRIVER ?? 'sqlite3') === 'sqlite3' && targetEnv.DATABASE_URL === undefined && targetEnv.SQLITE_PATH === undefined) {
          targetEnv.SQLITE_PATH = env.DB_DSN;
        }
      }
      if (sink !== undefined && (env.SLACK_API_URL ?? '') === '') targetEnv.SLACK_API_URL = sink.apiUrl;
      try {
        services = await startScenarioServices(name, env);
      } catch (err: unknown) {
        throw new AgentloadError('target-failed', EXIT_CODES.usage, `cannot start what the bundled platform needs: ${redact(toError(err).message)}`);
      }
      Object.assign(targetEnv, services.targetEnv);
      for (const [k, v] of Object.entries(services.scriptEnv)) { env[k] = v; setByToolkit.push(k); }
      for (const line of services.notes) say(io, line);
      try {
        // Its own process: the platform does not share the load generator's event loop, and its
        // /metrics (RSS for the soak leak verdict) measure the platform alone.
        target = await startTargetProcess({
          root: io.root,
          env: targetEnv,
          onStderr: (line) => { if (line.trim() !== '') io.stderr.write(`target: ${redact(line)}\n`); },
        });
      } catch (err: unknown) {
        throw new AgentloadError('target-failed', EXIT_CODES.usage, `cannot start the bundled platform: ${redact(toError(err).message)}`);
      }
      env.BASE_URL = target.url;
      setByToolkit.push('BASE_URL');
      targetKind = 'bundled';
      say(io, `target bundled platform at ${target.url} (set BASE_URL to test your own system)`);
    } else {
      say(io, `target ${redactUrl(env.BASE_URL ?? '')}`);
    }

    // 7. Run, with Ctrl+C forwarded.
    const controller = new AbortController();
    let k6Process: K6Process | undefined;
    unregister = io.onSignal?.((signal) => {
      k6Process?.interrupt();
      if (!state.interrupted) {
        state.interrupted = true;
        say(io, `${signal}: stopping the run gracefully (outputs and a partial report are still written; press again to stop at once)`);
        controller.abort(new Error(`interrupted by ${signal}`));
        return;
      }
      if (engine.kind === 'k6') return;
      // Second Ctrl+C on the embedded engine: stop at once, still leaving run.json behind.
      say(io, `${signal} again: stopping at once`);
      writeManifest(runDir, manifest(EXIT_CODES.externalAbort, null));
      io.forceExit?.(EXIT_CODES.externalAbort);
    });
    if (engine.kind === 'k6') {
      k6Process = startK6({ bin: engine.binary.path, args, env, cwd: io.cwd });
      engineExitCode = await k6Process.exitCode;
    } else {
      engineExitCode = await engine.module.runEngine({
        script: bundle.outfile,
        args: args.slice(2),
        env,
        cwd: io.cwd,
        stdout: io.stdout,
        stderr: io.stderr,
        signal: controller.signal,
        stdoutIsTTY: io.stdoutIsTTY,
        stderrIsTTY: io.stderrIsTTY,
        handleSignals: false,
      });
    }
  } catch (err: unknown) {
    writeManifest(runDir, manifest(err instanceof AgentloadError ? err.exitCode : 1, null));
    throw err;
  } finally {
    unregister?.();
    await target?.close().catch(() => undefined);
    await services?.stop().catch(() => undefined);
    await sink?.close().catch(() => undefined);
    if (scratchDir !== undefined) rmSync(scratchDir, { recursive: true, force: true });
  }

  // 8. run.json, then the report.
  writeManifest(runDir, manifest(engineExitCode, null));
  if (cloud) {
    io.stdout.write(`results: Grafana Cloud k6 (the test URL is printed above); run manifest in ${shownRunDir}/run.json\n`);
    return engineExitCode;
  }
  let exitCode = engineExitCode;
  let report: RunManifest['report'] = null;
  let reasons: readonly string[] = [];
  if (parsed.options.report) {
    try {
      const reportModule = await loadReport(io.root);
      const built = await reportModule.buildReport({
        runDir,
        baselinesDir,
        ...(baseline !== undefined ? { baseline } : {}),
        interrupted: state.interrupted,
        ...(soakBudget !== undefined ? { profile: soakBudget } : {}),
      });
      report = { verdict: built.verdict, exitCode: built.exitCode, files: built.files.map((f) => relative(runDir, resolve(runDir, f))) };
      reasons = built.reasons;
      if (engineExitCode === EXIT_CODES.ok) exitCode = built.exitCode;
      if (parsed.options.saveBaseline !== undefined) {
        const saved = await reportModule.saveBaseline(runDir, parsed.options.saveBaseline, baselinesDir);
        const how = saved.replaced !== undefined ? `, replacing one of scenario ${saved.replaced}` : saved.runs > 1 ? `, now the median of ${saved.runs} runs` : '';
        say(io, `baseline "${parsed.options.saveBaseline}" saved to ${relative(io.cwd, saved.path) || saved.path}${how}`);
      }
    } catch (err: unknown) {
      report = { error: redact(toError(err).message) };
      say(io, `report not built: ${redact(toError(err).message.split('\n')[0] ?? '')}`);
    }
  }
  writeManifest(runDir, manifest(exitCode, report));
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
