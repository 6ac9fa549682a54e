/**
 * `npm run k6 -- scenarios/<name>.ts [flags]`: parse → check target hosts → type-check → choose the engine →
 * run folder → bundle → check the script's options (embedded engine) → run → run.json → report → exit code.
 * The bundled platform (when no BASE_URL) and the run's other children start side by side with the checks,
 * right after the target hosts are checked (after them for a fault scenario: the failure lab needs the run
 * folder), and are awaited before the load starts; a check that fails stops them. Nothing is sent before
 * every check has passed. Ctrl+C / SIGTERM are handled from the start: while starting, the run stops (105)
 * without running anything; while running, the engine stops gracefully first and the run's children
 * (platform, Slack sink, k6) after it. Every exit after the scenario is known leaves a run folder with
 * run.json and a junit.xml that fails when the run failed.
 *
 * This file is the flow; the steps are in run-prepare.ts (checks, engine, bundle, options), run-children.ts
 * (what the run starts), run-report.ts (run.json, report, results) and run-context.ts (the state they share).
 */
import { rmSync } from 'node:fs';
import { AgentloadError, EXIT_CODES, toError } from '../errors.ts';
import { helpText, parseRunArgs } from './flags.ts';
import type { CliIO } from './io.ts';
import { onRunSignal, openRun, recordFailure, type Engine, type RunContext } from './run-context.ts';
import { startChildren, startChildrenEarly } from './run-children.ts';
import {
  bundleIntoRunDir,
  checkScriptOptions,
  checkTypesAndLoadEngine,
  checkWhereLoadGoes,
  prepareEngineRun,
  runNeeds,
  type Preflight,
} from './run-prepare.ts';
import { reportRun } from './run-report.ts';
import type { BundleResult } from '../bundle/bundle.ts';
import { k6Terminal, startK6 } from '../k6/run.ts';
import { ALLOWED_HOSTS_VAR, k6BlockedRanges, parseAllowedHosts } from '../run/allowlist.ts';
import { ReadableLog } from '../run/log-lines.ts';
import { reachesNamedServices } from '../run/target-env.ts';
import { startMachineNoise } from '../run/machine-noise.ts';

export async function runCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseRunArgs(argv, io.env);
  if (parsed.options.help) {
    io.stdout.write(`${helpText()}\n`);
    return EXIT_CODES.ok;
  }
  const run = openRun(argv, parsed, io);
  const unregister = io.onSignal?.((signal) => {
    onRunSignal(run, signal);
  });
  let ready: Ready;
  try {
    ready = await prepare(run);
    // How busy the machine was during the load (run.json `machine`): the baseline gate reads it.
    const noise = startMachineNoise();
    try {
      run.record.engineExitCode = await execute(run, ready);
    } finally {
      run.record.machine = await noise.stop();
    }
  } catch (err: unknown) {
    await run.children.stopAll();
    const code = err instanceof AgentloadError ? err.exitCode : 1;
    await recordFailure(run, code, toError(err).message.split('\n')[0] ?? '');
    unregister?.();
    throw err;
  } finally {
    // The platform (and the other children) stop after the engine, so teardown still reached them.
    await run.children.stopAll();
    if (run.scratchDir !== undefined) rmSync(run.scratchDir, { recursive: true, force: true });
  }
  unregister?.();
  return reportRun(run, ready.dir, ready.soakBudget);
}

/** A run whose every check passed and whose children are up: what `execute` needs. */
interface Ready {
  readonly engine: Engine;
  readonly built: BundleResult;
  readonly dir: string;
  readonly soakBudget: Preflight['soakBudget'];
}

/**
 * Steps 1 to 6: every check and the bundle, with the children starting side by side from step 1 (after step 5
 * for a fault scenario). A check that fails stops their start; a signal before the load starts stops it here (105).
 */
async function prepare(run: RunContext): Promise<Ready> {
  const { soakBudget, lab } = checkWhereLoadGoes(run);
  const needs = runNeeds(run);
  // Side by side with the checks, unless a fault plan needs the run folder first or the platform would reach
  // the user's own database, Redis or broker (then nothing starts before every check has passed).
  const early = lab === undefined && !reachesNamedServices(run.env) ? startChildrenEarly(run, needs) : undefined;
  try {
    const engine = await checkTypesAndLoadEngine(run);
    const bundled = await bundleIntoRunDir(run, engine);
    prepareEngineRun(run, engine, bundled);
    if (engine.kind === 'embedded') await checkScriptOptions(run, engine.module, bundled.built, needs, lab);
    await (early?.ready() ?? startChildren(run, needs, lab, bundled.dir));
    return { engine, built: bundled.built, dir: bundled.dir, soakBudget };
  } catch (err: unknown) {
    await early?.cancel(err);
    throw err;
  }
}

/** Step 7. The run, with Ctrl+C forwarded: the engine's exit code. */
async function execute(run: RunContext, { engine, built }: Ready): Promise<number> {
  const { io, env, view, record } = run;
  run.state.running = true;
  if (engine.kind === 'k6') {
    // k6 enforces the allowlist itself too when it can be said as IP ranges (loopback and listed addresses).
    const blocked = k6BlockedRanges(view.values[ALLOWED_HOSTS_VAR]);
    const k6Env = { ...env };
    if (blocked !== undefined) k6Env.K6_BLACKLIST_IPS = [env.K6_BLACKLIST_IPS ?? '', ...blocked].filter((r) => r !== '').join(',');
    // Per stream, as k6 decides: a terminal is k6's own (its colours, its progress bar); one that is not (CI logs,
    // `2>log`) gets k6's logfmt with escaped stack frames, whose lines are made readable on the way.
    const tty = k6Terminal({ stdout: io.stdoutIsTTY, stderr: io.stderrIsTTY }, env, record.args);
    const k6 = await startK6({
      bin: engine.binary.path,
      args: record.args,
      env: k6Env,
      cwd: io.cwd,
      group: run.children,
      piped: { ...(tty.stdout ? {} : { stdout: io.stdout }), ...(tty.stderr ? {} : { stderr: io.stderr }) },
    });
    run.k6Process = k6;
    if (run.stop.signal.aborted) k6.interrupt(); // a signal that came while k6 was being spawned
    return k6.exitCode;
  }
  // The engine's log lines as people read them (k6's terminal layout, stack frames on lines of their own).
  const engineStderr = new ReadableLog(io.stderr);
  return engine.module
    .runEngine({
      script: built.outfile,
      args: record.args.slice(2),
      env,
      cwd: io.cwd,
      stdout: io.stdout,
      stderr: engineStderr,
      signal: run.stop.signal,
      stdoutIsTTY: io.stdoutIsTTY,
      stderrIsTTY: io.stderrIsTTY,
      handleSignals: false,
      allowedHosts: parseAllowedHosts(view.values[ALLOWED_HOSTS_VAR]),
      ...(run.phases.enabled
        ? {
            onPhase: (phase: string) => {
              run.phases.mark(`engine: ${phase}`);
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
