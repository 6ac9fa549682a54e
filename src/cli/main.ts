/**
 * Entry points: `npm run k6 -- ...` (runMain), `npm run build -- ...` (buildMain) and the `agentload`
 * binary (agentloadMain: run | build | k6 | k8s | help | version). They set the exit code; errors print one line.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentloadError, EXIT_CODES, toError } from '../errors.ts';
import { EXIT_CODE_MEANINGS } from '../../shared/exit-codes.ts';
import { buildCommand } from './build.ts';
import { helpText } from './flags.ts';
import { k6DropinCommand } from './k6-dropin.ts';
import { newCommand } from './new.ts';
import type { CliIO } from './io.ts';
import { runCommand } from './run.ts';
import { scenarioNames } from './run-context.ts';
import { toolkitVersion } from '../run/manifest.ts';

export const TOOLKIT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The handler scripts/stop-early.mjs installs while Node loads the toolkit (exit 105 at once: nothing has started). */
function stopEarlyHandler(): ((signal: NodeJS.Signals) => void) | undefined {
  const handler: unknown = (globalThis as Record<symbol, unknown>)[Symbol.for('agentload.stopEarly')];
  return typeof handler === 'function' ? (handler as (signal: NodeJS.Signals) => void) : undefined;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    stdoutIsTTY: process.stdout.isTTY,
    stderrIsTTY: process.stderr.isTTY,
    root: TOOLKIT_ROOT,
    forceExit(code) {
      process.exit(code);
    },
    onSignal(handler) {
      const on = (s: NodeJS.Signals): void => handler(s);
      // The run command handles signals from its first step on: the start-up handler steps aside, after this
      // one is in. The other order loses a signal that came while the toolkit loaded (pre-built, that is one
      // long synchronous step): with no listener left for a moment, Node drops its signal watcher and the
      // signal waiting in it, and the run went on as if it had never been stopped.
      process.on('SIGINT', on);
      process.on('SIGTERM', on);
      const early = stopEarlyHandler();
      if (early !== undefined) {
        process.off('SIGINT', early);
        process.off('SIGTERM', early);
      }
      return () => {
        process.off('SIGINT', on);
        process.off('SIGTERM', on);
      };
    },
  };
}

/** Prints an error (one line; type errors print every `file:line:col message`) and returns its exit code. */
export function printError(err: unknown, io: CliIO): number {
  if (err instanceof AgentloadError) {
    if (err.code === 'type-error') {
      for (const line of [err.message, ...err.details]) io.stderr.write(`${line}\n`);
    } else {
      io.stderr.write(`agentload: ${err.message}\n`);
      for (const line of err.details) io.stderr.write(`  ${line}\n`);
    }
    return err.exitCode;
  }
  const e = toError(err);
  io.stderr.write(`agentload: internal error: ${e.message}\n${e.stack ?? ''}\n`);
  return 1;
}

async function guarded(fn: () => Promise<number>, io: CliIO): Promise<number> {
  try {
    return await fn();
  } catch (err: unknown) {
    return printError(err, io);
  }
}

export async function runMain(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  return guarded(() => runCommand(argv, io), io);
}

export async function buildMain(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  return guarded(() => buildCommand(argv, io), io);
}

export async function k8sMain(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  // Loaded on use: its manifest schema and YAML writer (ajv, yaml: about 16 MB) are not needed by a run.
  return guarded(async () => (await import('./k8s-command.ts')).k8sCommand(argv, io), io);
}

export function agentloadHelp(root: string = TOOLKIT_ROOT): string {
  const scenarios = scenarioNames(root);
  return [
    'agentload — load tests for AI-agent platforms (TypeScript scenarios → k6 scripts → k6 or the embedded engine)',
    '',
    'Usage: agentload <command> [arguments]',
    '',
    'Commands:',
    '  run <scenario> [toolkit flags] [k6 run flags]   run a scenario (a name from the list below or a path): same as npm run k6 -- ...',
    '  build [scenarios/<name>.ts ...]                 bundle scenarios into k6 scripts: same as npm run build -- ...',
    '  k6 run|inspect|version [k6 flags] script.js     k6 drop-in on the embedded engine (agentload k6 help)',
    '  k8s scenarios/<name>.ts --parallelism N         k6-operator TestRun manifest (agentload k8s --help)',
    "  report <run folder> [flags]                     rebuild a run's report (agentload report --help)",
    '  compare <run folder> --baseline NAME [flags]    compare a run with a baseline (agentload compare --help)',
    '  target [--help]                                 start the bundled reference platform',
    '  new <name>                                      scaffold scenarios/<name>.ts (header, config, tags, thresholds)',
    '  version                                         print the toolkit version',
    '',
    `Scenarios: ${scenarios.length > 0 ? scenarios.join(', ') : '(none in this install)'}`,
    '',
    'Exit codes:',
    ...Object.entries(EXIT_CODES).map(
      ([name, code]) => `  ${String(code).padStart(3)}  ${EXIT_CODE_MEANINGS[name as keyof typeof EXIT_CODES].replaceAll('`', '')}`,
    ),
    '',
    // The run command's own help, without its Usage line (printed once, above).
    ...helpText('agentload run')
      .split('\n')
      .filter((l) => !l.startsWith('Usage:'))
      .slice(1),
  ].join('\n');
}

/** `agentload <command> ...` for commands handled in this process. */
export async function agentloadMain(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runMain(rest, io);
    case 'build':
      return buildMain(rest, io);
    case 'k6':
      return guarded(() => k6DropinCommand(rest, io), io);
    case 'k8s':
      return k8sMain(rest, io);
    case 'new':
      return guarded(() => Promise.resolve(newCommand(rest, io)), io);
    case 'version':
    case '--version':
      io.stdout.write(`agentload ${toolkitVersion(io.root)}\n`);
      return EXIT_CODES.ok;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(`${agentloadHelp(io.root)}\n`);
      return EXIT_CODES.ok;
    default:
      return printError(
        new AgentloadError(
          'unknown-command',
          EXIT_CODES.usage,
          `unknown command "${command}": use run, build, new, k6, k8s, report, compare, target or version (agentload help)`,
        ),
        io,
      );
  }
}
