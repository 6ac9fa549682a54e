/**
 * `agentload k6 run|inspect|version ...`: the embedded engine as a drop-in for the k6 command, so a CI job
 * without k6 runs existing k6 scripts unchanged (`npx agentload k6 run script.js` where it said
 * `k6 run script.js`). The command line is the engine's own (engine/cli-main.ts); this adds the toolkit's
 * checks and the script preparation: a plain k6 JavaScript file with only `k6/*` imports runs as it is;
 * one with local imports (or TypeScript) is bundled first, next to the script so that `open()` paths
 * relative to it keep working, and the bundle is removed afterwards. No run folder, no report: outputs are
 * what the k6 flags ask for (`--out json=...`, `--summary-export`), exactly as with k6.
 */
import { existsSync, rmSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { common } from '../bundle/bundle.ts';
import { AgentloadError, EXIT_CODES, toError } from './errors.ts';
import type { CliIO } from './run.ts';
import { checkTargetHosts } from '../run/allowlist.ts';
import { loadEngineCli, type EngineCliModule } from '../run/adapters.ts';

export const DROPIN_PROGRAM = 'agentload k6';

/** `agentload-engine v0.1.0 (...)` then k6's `Extensions:` block listing the `k6/x/*` modules the engine provides. */
export function dropinVersionText(engine: Pick<EngineCliModule, 'ENGINE_NAME' | 'ENGINE_VERSION' | 'ENGINE_MODULE_NAMES'>): string {
  const head = `${engine.ENGINE_NAME} v${engine.ENGINE_VERSION} (k6-compatible embedded engine; node ${process.version}, ${platform()}/${arch()})\n`;
  const extensions = engine.ENGINE_MODULE_NAMES.filter((m) => m.startsWith('k6/x/')).sort();
  if (extensions.length === 0) return head;
  return `${head}Extensions:\n${extensions.map((m) => `  agentload/engine v${engine.ENGINE_VERSION}, ${m} [js]\n`).join('')}`;
}

/** True when the engine can load the file as it is: JavaScript importing nothing but `k6` modules. */
async function runsAsIs(file: string, root: string): Promise<boolean> {
  if (!['.js', '.mjs', '.cjs'].includes(extname(file))) return false;
  try {
    const r = await esbuild.build({ ...common({ root }, 'esnext'), entryPoints: [file], write: false, metafile: true, outdir: dirname(file) });
    return Object.keys(r.metafile.inputs).length === 1;
  } catch {
    return true; // let the engine report the script's own syntax error with its position
  }
}

/** The script the engine loads: the file itself, or a bundle of it written beside it (removed by cleanup). */
export async function prepareDropinScript(script: string, io: Pick<CliIO, 'cwd' | 'root'>): Promise<{ file: string; cleanup(): void }> {
  const file = resolve(io.cwd, script);
  if (!existsSync(file)) {
    throw new AgentloadError('scenario-not-found', EXIT_CODES.usage, `script not found: ${script}: check the path (${DROPIN_PROGRAM} run [flags] SCRIPT)`);
  }
  if (await runsAsIs(file, io.root)) return { file, cleanup: () => undefined };
  const outfile = join(dirname(file), `.${basename(file, extname(file))}.agentload-${String(process.pid)}.js`);
  const cleanup = (): void => {
    rmSync(outfile, { force: true });
    rmSync(`${outfile}.map`, { force: true });
  };
  try {
    await esbuild.build({ ...common({ root: io.root }, 'esnext'), entryPoints: [file], outfile, sourcemap: 'linked', write: true });
  } catch (err: unknown) {
    cleanup();
    const first = (err as Partial<esbuild.BuildFailure>).errors?.[0];
    const where = first?.location === null || first?.location === undefined ? script : `${script}:${String(first.location.line)}:${String(first.location.column + 1)}`;
    throw new AgentloadError('bundle-error', EXIT_CODES.scriptException, `cannot bundle ${where}: ${first?.text ?? toError(err).message}`);
  }
  return { file: outfile, cleanup };
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
  // Load goes only where the user points it, as for every run of the toolkit.
  if (command === 'run') checkTargetHosts(io.env);
  const engine = await loadEngineCli(io.root);
  return engine.engineCliMain(
    argv,
    { stdout: io.stdout, stderr: io.stderr, env: io.env, cwd: io.cwd, stdoutIsTTY: io.stdoutIsTTY, stderrIsTTY: io.stderrIsTTY },
    { program: DROPIN_PROGRAM, versionText: () => dropinVersionText(engine), prepareScript: (script) => prepareDropinScript(script, io) },
  );
}
