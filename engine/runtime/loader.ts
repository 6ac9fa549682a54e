/**
 * Script loader: what `k6 run` accepts, into one function per VU. esbuild bundles the script as k6 v1
 * reads it — an ES module, `.ts` with its types stripped, relative imports followed, `k6/*`, `https://`
 * and other bare imports left to the runtime — then script-analysis.ts rewrites that module into a
 * function body (top-level await supported) and finds the blocking calls that decide the VU mode;
 * compile.ts compiles it once with `vm`. Init code then runs once per VU with per-VU module state.
 * Stack traces map back to the original sources (esbuild chains the script's own source map).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { compileScript, type CompiledScript } from './compile.ts';
import { EngineError, EXIT_CODES, toError } from './errors.ts';
import { analyseModule, type BlockingUse } from './script-analysis.ts';

export { formatScriptException, type CompiledScript, type ScriptGlobals, type ScriptInstance, type ScriptSource } from './compile.ts';

/** A blocking call not awaited, where the user wrote it. */
export interface SyncReason {
  readonly call: string;
  readonly site: string;
}

export interface LoadedScript extends CompiledScript {
  /** `k6/...` (and other non-relative) modules the script imports. */
  readonly imports: readonly string[];
  readonly topLevelAwait: boolean;
  /** Blocking k6 calls not awaited where they are made, first ones first (empty: async-first). */
  readonly syncReasons: readonly SyncReason[];
}

/** Anything that is not a relative or absolute path stays an import the runtime resolves (k6/*, https://, ...). */
const externals: Plugin = {
  name: 'agentload-externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.kind === 'entry-point' ? undefined : { path: args.path, external: true }));
  },
};

/** Bundles `abs` as an ES module: its text and source map (sources relative to its folder). */
async function bundle(abs: string): Promise<{ code: string; map: string }> {
  const dir = dirname(abs);
  try {
    const out = await build({
      entryPoints: [abs],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'esnext',
      write: false,
      sourcemap: 'external',
      sourcesContent: false,
      outfile: resolve(dir, `${basename(abs)}.agentload.js`),
      absWorkingDir: dir,
      logLevel: 'silent',
      plugins: [externals],
      mainFields: ['module', 'main'],
      charset: 'utf8',
      legalComments: 'none',
      loader: { '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.ts': 'ts', '.mts': 'ts', '.json': 'json' },
    });
    const mapFile = out.outputFiles.find((f) => f.path.endsWith('.map'));
    const codeFile = out.outputFiles.find((f) => !f.path.endsWith('.map'));
    if (mapFile === undefined || codeFile === undefined) throw new Error('esbuild produced no output');
    // The sourceMappingURL comment esbuild appends points at a file that is never written.
    return { code: codeFile.text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'), map: mapFile.text };
  } catch (e) {
    const err = e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
    const first = err.errors?.[0];
    const where = first?.location ? `${resolve(dir, first.location.file)}:${first.location.line}:${first.location.column}` : abs;
    throw new EngineError(
      'script-load-failed',
      EXIT_CODES.scriptException,
      `cannot parse script ${where}: ${first?.text ?? toError(e).message}`,
    );
  }
}

/** Loads and compiles a script once. Syntax errors → EngineError 107 naming file:line. */
export async function loadScript(path: string): Promise<LoadedScript> {
  const abs = resolve(path);
  try {
    readFileSync(abs);
  } catch (e) {
    throw new EngineError(
      'script-load-failed',
      EXIT_CODES.scriptException,
      `cannot read script ${abs}: ${toError(e).message}; check the path`,
    );
  }
  const { code, map } = await bundle(abs);
  let analysis: ReturnType<typeof analyseModule>;
  try {
    analysis = analyseModule(code);
  } catch (e) {
    throw new EngineError('script-load-failed', EXIT_CODES.scriptException, `cannot parse script ${abs}: ${toError(e).message}`);
  }
  let compiled: CompiledScript;
  try {
    compiled = compileScript({ path: abs, prefix: analysis.prefix, body: analysis.body, map });
  } catch (e) {
    throw new EngineError('script-load-failed', EXIT_CODES.scriptException, `cannot compile script ${abs}: ${toError(e).message}`);
  }
  const syncReasons = analysis.blockingUses.map((u: BlockingUse) => ({ call: u.call, site: compiled.positionOf(u.line, u.column) }));
  return Object.assign(compiled, { imports: analysis.imports, topLevelAwait: analysis.topLevelAwait, syncReasons });
}
