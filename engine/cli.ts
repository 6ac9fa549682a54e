/**
 * `node --import tsx engine/cli.ts run [flags] script.js` — the embedded engine as a k6-like CLI
 * (tests, benchmarks). Sets process.exitCode instead of exiting mid-run so output flushes.
 */
import process from 'node:process';
import { ENGINE_NAME, ENGINE_VERSION, SUPPORTED_RUN_FLAGS, runEngine, runHelp } from './index.ts';
import { ALLOWED_HOSTS_VAR, parseAllowedHosts } from './net/host-policy.ts';

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'version' || command === '--version') {
    process.stdout.write(`${ENGINE_NAME} v${ENGINE_VERSION}\n`);
    return 0;
  }
  if (command !== 'run') {
    process.stderr.write(`${command === undefined ? 'missing command' : `unknown command "${command}"`}; usage: ${ENGINE_NAME} run [flags] SCRIPT\n\n${runHelp()}`);
    return command === undefined || command === 'help' || command === '--help' ? 0 : 104;
  }
  // The script is the last positional argument; everything else are flags for runEngine.
  const scriptIndex = findScript(rest);
  if (scriptIndex === -1) {
    if (rest.includes('--help') || rest.includes('-h')) { process.stdout.write(runHelp()); return 0; }
    process.stderr.write(`missing script: ${ENGINE_NAME} run [flags] SCRIPT\n`);
    return 104;
  }
  const script = rest[scriptIndex] ?? '';
  const args = [...rest.slice(0, scriptIndex), ...rest.slice(scriptIndex + 1)];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return runEngine({
    script, args, env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr,
    // Like the toolkit's run command, the engine's CLI sends load only to loopback and AGENTLOAD_ALLOWED_HOSTS.
    allowedHosts: parseAllowedHosts(env[ALLOWED_HOSTS_VAR]),
    stdoutIsTTY: process.stdout.isTTY, stderrIsTTY: process.stderr.isTTY,
  });
}

/** The last argument that is not a flag and not a flag's value. */
function findScript(args: readonly string[]): number {
  for (let i = args.length - 1; i >= 0; i--) {
    const a = args[i] ?? '';
    if (a.startsWith('-')) continue;
    const prev = args[i - 1];
    if (prev !== undefined && prev.startsWith('-') && !prev.includes('=') && takesValue(prev)) continue;
    return i;
  }
  return -1;
}

const BOOLEAN_FLAGS = new Set(SUPPORTED_RUN_FLAGS.filter((f) => f.kind === 'boolean').flatMap((f) => [`--${f.name}`, ...(f.short === undefined ? [] : [`-${f.short}`])]));
function takesValue(flag: string): boolean {
  return !BOOLEAN_FLAGS.has(flag);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`); process.exitCode = 103; },
);
