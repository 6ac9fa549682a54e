/**
 * `agentload k6 run|inspect|version ...`: the embedded engine as a drop-in for the k6 command, so a CI job
 * without k6 runs existing k6 scripts unchanged (`npx agentload k6 run script.js` where it said
 * `k6 run script.js`). The command line is the engine's own (engine/cli-main.ts); this adds the toolkit's
 * checks (the script exists, load goes only to allowed hosts). The engine loads the script as `k6 run`
 * does (engine/runtime/loader.ts: `.js` or `.ts`, local imports followed, `open()` relative to the script)
 * and picks the VU mode from its calls: a k6-style script with synchronous `http.get` and `sleep` runs in
 * the synchronous VU mode (engine/sync/). No run folder, no report: outputs are what the k6 flags ask for
 * (`--out json=...`, `--summary-export`), exactly as with k6.
 */
import { existsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { resolve } from 'node:path';
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import type { CliIO } from './io.ts';
import { checkTargetHosts } from '../run/allowlist.ts';
import { loadEngineCli, type EngineCliModule } from '../run/adapters.ts';
import { ReadableLog } from '../run/log-lines.ts';

export const DROPIN_PROGRAM = 'agentload k6';

/** `agentload-engine v0.1.0 (...)` then k6's `Extensions:` block listing the `k6/x/*` modules the engine provides. */
export function dropinVersionText(engine: Pick<EngineCliModule, 'ENGINE_NAME' | 'ENGINE_VERSION' | 'ENGINE_MODULE_NAMES'>): string {
  const head = `${engine.ENGINE_NAME} v${engine.ENGINE_VERSION} (k6-compatible embedded engine; node ${process.version}, ${platform()}/${arch()})\n`;
  const extensions = engine.ENGINE_MODULE_NAMES.filter((m) => m.startsWith('k6/x/')).sort();
  if (extensions.length === 0) return head;
  return `${head}Extensions:\n${extensions.map((m) => `  agentload/engine v${engine.ENGINE_VERSION}, ${m} [js]\n`).join('')}`;
}

/** The script argument as a path the engine loads; a missing file is refused here (exit 2) like every toolkit command's. */
export function resolveDropinScript(script: string, cwd: string): string {
  const file = resolve(cwd, script);
  if (!existsSync(file)) {
    throw new AgentloadError(
      'scenario-not-found',
      EXIT_CODES.usage,
      `script not found: ${script}: check the path (${DROPIN_PROGRAM} run [flags] SCRIPT)`,
    );
  }
  return file;
}

/** The k6 commands the drop-in has (the rest need the k6 binary). */
const COMMANDS = new Set(['run', 'inspect', 'version', '--version', 'help', '--help', '-h']);

export async function k6DropinCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const command = argv[0];
  if (command !== undefined && !COMMANDS.has(command)) {
    throw new AgentloadError(
      'unknown-command',
      EXIT_CODES.usage,
      `${DROPIN_PROGRAM} runs run, inspect and version on the embedded engine, not "${command}": k6 cloud, archive and the other commands need the k6 binary`,
    );
  }
  // Load goes only where the user points it, as for every run of the toolkit: every target variable as the
  // script will see it (-e flags over the environment) before anything starts, then every connection the
  // engine makes (engine/cli-main.ts passes AGENTLOAD_ALLOWED_HOSTS to the engine's host policy).
  if (command === 'run') checkTargetHosts(io.env, argv.slice(1));
  // Signals: while the engine loads, one stops at once (105: nothing has run); from the run's start the
  // engine's own handling takes over (first: graceful stop with teardown, summary and outputs; second: at once).
  let unregister = io.onSignal?.((signal) => {
    io.stderr.write(`${DROPIN_PROGRAM}: ${signal} while starting: nothing was run\n`);
    io.forceExit?.(EXIT_CODES.externalAbort);
  });
  const release = (): void => {
    unregister?.();
    unregister = undefined;
  };
  // The engine's log lines as the run command shows them (`ERRO[0003] message  key=value`, stack frames on lines
  // of their own), not logfmt with escaped frames.
  const stderr = new ReadableLog(io.stderr);
  try {
    const engine = await loadEngineCli();
    return await engine.engineCliMain(
      argv,
      { stdout: io.stdout, stderr, env: io.env, cwd: io.cwd, stdoutIsTTY: io.stdoutIsTTY, stderrIsTTY: io.stderrIsTTY },
      {
        program: DROPIN_PROGRAM,
        versionText: () => dropinVersionText(engine),
        resolveScript: (script) => resolveDropinScript(script, io.cwd),
        beforeRun: release,
      },
    );
  } finally {
    release();
    await new Promise<void>((res) => {
      stderr.end(res);
    });
  }
}
