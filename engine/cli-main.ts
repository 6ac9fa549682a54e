/**
 * The embedded engine's k6-like command line: `run [flags] SCRIPT`, `inspect [flags] SCRIPT`, `version`,
 * `help`. Used by engine/cli.ts (`agentload-engine`, tests and benchmarks) and by the drop-in
 * `agentload k6 ...` (src/cli/k6-dropin.ts), which names itself and checks the script through the options.
 * The script is loaded as `k6 run` reads it (engine/runtime/loader.ts: `.js` or `.ts`, local imports
 * followed, VU mode chosen from its calls). Returns the exit code; never exits the process.
 */
import { ENGINE_NAME, ENGINE_VERSION } from './runtime/version.ts';
import { runEngine } from './test-run/run.ts';
import { inspectScript, EXECUTION_REQUIREMENTS_FLAG } from './test-run/inspect.ts';
import { SUPPORTED_RUN_FLAGS, runHelp } from './runtime/flags.ts';
import { EXIT_CODES } from './runtime/errors.ts';
import { ALLOWED_HOSTS_VAR, parseAllowedHosts } from './net/host-policy.ts';

export interface EngineCliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
}

export interface EngineCliOptions {
  /** How the CLI is invoked, for usage lines (default `agentload-engine`). */
  readonly program?: string;
  /** What `version` prints (default `agentload-engine vX`). */
  readonly versionText?: () => string;
  /** Checks the script argument and gives the file the engine loads (default: the file as given). */
  readonly resolveScript?: (script: string) => string;
  /**
   * Called at once before `run` starts the engine, which installs its own SIGINT/SIGTERM handling in the
   * same tick (first: graceful stop; second: at once): a caller holding signals until then lets go here.
   */
  readonly beforeRun?: () => void;
}

export async function engineCliMain(argv: readonly string[], io: EngineCliIO, options: EngineCliOptions = {}): Promise<number> {
  const program = options.program ?? ENGINE_NAME;
  const [command, ...rest] = argv;
  if (command === 'version' || command === '--version') {
    io.stdout.write(options.versionText?.() ?? `${ENGINE_NAME} v${ENGINE_VERSION}\n`);
    return EXIT_CODES.ok;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout.write(commandsHelp(program));
    return EXIT_CODES.ok;
  }
  if (command !== 'run' && command !== 'inspect') {
    io.stderr.write(`${program}: unknown command "${command}": use run, inspect or version (${program} help)\n`);
    return EXIT_CODES.invalidConfig;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command === 'run' ? runHelp(program) : inspectHelp(program));
    return EXIT_CODES.ok;
  }
  // The script is the last positional argument; everything else are flags for the engine.
  const scriptIndex = findScript(rest);
  if (scriptIndex === -1) {
    io.stderr.write(`${program}: missing script: ${program} ${command} [flags] SCRIPT\n`);
    return EXIT_CODES.invalidConfig;
  }
  const script = rest[scriptIndex] ?? '';
  const args = [...rest.slice(0, scriptIndex), ...rest.slice(scriptIndex + 1)];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(io.env)) if (v !== undefined) env[k] = v;
  const file = options.resolveScript === undefined ? script : options.resolveScript(script);
  // Like the toolkit's run command, the engine's CLI sends load only to loopback and AGENTLOAD_ALLOWED_HOSTS:
  // every connection a module makes (init code included) is checked where it is made.
  const allowedHosts = parseAllowedHosts(env[ALLOWED_HOSTS_VAR]);
  if (command === 'inspect') {
    return inspectScript({ script: file, args, env, cwd: io.cwd, stdout: io.stdout, stderr: io.stderr, allowedHosts });
  }
  options.beforeRun?.();
  return runEngine({
    script: file,
    args,
    env,
    cwd: io.cwd,
    stdout: io.stdout,
    stderr: io.stderr,
    allowedHosts,
    stdoutIsTTY: io.stdoutIsTTY,
    stderrIsTTY: io.stderrIsTTY,
  });
}

function commandsHelp(program: string): string {
  return [
    `Usage: ${program} <command> [flags] SCRIPT`,
    '',
    'Runs k6 scripts on the embedded k6-compatible engine (Node.js): no k6 binary needed.',
    '',
    'Commands:',
    `  ${program} run [flags] SCRIPT        run a test, like k6 run (${program} run --help lists the flags)`,
    `  ${program} inspect [flags] SCRIPT    print the script's options as JSON, like k6 inspect (${EXECUTION_REQUIREMENTS_FLAG} adds totalDuration and maxVUs)`,
    `  ${program} version                   engine version and the extension modules it provides`,
    '',
  ].join('\n');
}

function inspectHelp(program: string): string {
  return [
    `Usage: ${program} inspect [${EXECUTION_REQUIREMENTS_FLAG}] [-e KEY=VALUE ...] [run flags] SCRIPT`,
    '',
    "Runs the script's init code once and prints its exported options as JSON (unset options are omitted).",
    `With ${EXECUTION_REQUIREMENTS_FLAG}: the options consolidated with the flags and K6_* variables, plus`,
    'totalDuration (the longest run, graceful stops included) and maxVUs.',
    '',
  ].join('\n');
}

/** The last argument that is not a flag and not a flag's value. */
export function findScript(args: readonly string[]): number {
  for (let i = args.length - 1; i >= 0; i--) {
    const a = args[i] ?? '';
    if (a.startsWith('-')) continue;
    const prev = args[i - 1];
    if (prev !== undefined && prev.startsWith('-') && !prev.includes('=') && takesValue(prev)) continue;
    return i;
  }
  return -1;
}

const BOOLEAN_FLAGS = new Set([
  EXECUTION_REQUIREMENTS_FLAG,
  ...SUPPORTED_RUN_FLAGS.filter((f) => f.kind === 'boolean').flatMap((f) => [
    `--${f.name}`,
    ...(f.short === undefined ? [] : [`-${f.short}`]),
  ]),
]);
function takesValue(flag: string): boolean {
  return !BOOLEAN_FLAGS.has(flag);
}
