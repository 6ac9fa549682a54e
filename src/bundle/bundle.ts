/**
 * scenarios/<name>.ts → build/<name>.js: one esbuild bundle per scenario, ESM, `k6`, `k6/*` and remote
 * (https://) modules left external, linked source map, lowered to ES2017 by default. The scenario is
 * wrapped in a generated entry (see entry.ts). Nothing from the environment is inlined (no `define`).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import { entrySource } from './entry.ts';

export const DEFAULT_BUNDLE_TARGET = 'es2017';

export function shownPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

export interface BundleOptions {
  /** Toolkit root (node_modules, engine/output/text-summary.ts). */
  readonly root: string;
  /** Folder for bundles (default `<root>/build`). */
  readonly outDir?: string;
  /** esbuild target, e.g. `es2017` (default) or `es2020`. */
  readonly target?: string;
  /** Module names rewritten in the bundle, e.g. `{ 'k6/timers': 'k6/experimental/timers' }` for older k6 (src/k6/compat.ts). */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Fail when the bundle is larger than this many kilobytes. */
  readonly budgetKb?: number;
  /** Paths in messages are relative to this folder (default: process.cwd()). */
  readonly cwd?: string;
}

export interface BundleResult {
  readonly name: string;
  readonly scenario: string;
  readonly outfile: string;
  readonly bytes: number;
  readonly target: string;
  /** `bundle build/x.js 12.3 KB (es2017)`. */
  readonly sizeLine: string;
  /** The modules the bundle leaves to the engine (`k6`, `k6/http`, `k6/x/sql`, `https://...`), after aliases, sorted. */
  readonly imports: readonly string[];
}

const EXTERNAL = ['k6', 'k6/*', 'https://*', 'http://*'];

/** Blocks whole-faker imports: one locale is a fraction of the size (and k6 loads big bundles slowly). */
const fakerPerLocale: esbuild.Plugin = {
  name: 'agentload-faker-per-locale',
  setup(build) {
    build.onResolve({ filter: /^@faker-js\/faker$/ }, () => ({
      errors: [
        {
          text: "import faker per locale, not whole: import { faker } from '@faker-js/faker/locale/en'",
        },
      ],
    }));
  },
};

/** `file:line:col text`; esbuild gives locations relative to its working folder (the toolkit root, see common()). */
function formatMessage(m: esbuild.Message, root: string, cwd: string): string {
  if (m.location === null) return m.text;
  const file = shownPath(cwd, resolve(root, m.location.file));
  return `${file}:${m.location.line}:${m.location.column + 1} ${m.text}`;
}

function bundleError(err: unknown, root: string, cwd: string, scenario: string): AgentloadError {
  const failure = err as Partial<esbuild.BuildFailure>;
  const lines = Array.isArray(failure.errors) ? failure.errors.map((m) => formatMessage(m, root, cwd)) : [String(err)];
  return new AgentloadError(
    'bundle-error',
    EXIT_CODES.scriptException,
    `${lines[0] ?? `cannot bundle ${scenario}`}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''}`,
    lines.slice(1),
  );
}

/** esbuild settings every bundle shares (k6 modules and remote URLs external, faker per locale, aliases). */
export function common(opts: BundleOptions, target: string): esbuild.BuildOptions {
  return {
    // Message locations are relative to this folder: fixed, so they never depend on the process's cwd.
    absWorkingDir: opts.root,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['import', 'module', 'default'],
    target: [target],
    external: EXTERNAL,
    nodePaths: [join(opts.root, 'node_modules')],
    logLevel: 'silent',
    plugins: [fakerPerLocale],
    ...(opts.aliases !== undefined && Object.keys(opts.aliases).length > 0 ? { alias: { ...opts.aliases } } : {}),
  };
}

/** The names a scenario exports (esbuild metafile of a throw-away bundle). */
async function scenarioExports(scenario: string, opts: BundleOptions, target: string, cwd: string): Promise<string[]> {
  try {
    const r = await esbuild.build({ ...common(opts, target), entryPoints: [scenario], write: false, metafile: true, outdir: '/' });
    const out = Object.values(r.metafile.outputs).find((o) => o.entryPoint !== undefined);
    return out?.exports ?? [];
  } catch (err: unknown) {
    throw bundleError(err, opts.root, cwd, scenario);
  }
}

/** The external modules a build's outputs import, sorted and unique. */
function externalImports(meta: esbuild.Metafile): string[] {
  const found = new Set<string>();
  for (const out of Object.values(meta.outputs)) for (const i of out.imports) if (i.external === true) found.add(i.path);
  return [...found].sort();
}

export function scenarioName(file: string): string {
  return basename(file, extname(file));
}

export async function bundleScenario(file: string, opts: BundleOptions): Promise<BundleResult> {
  const cwd = opts.cwd ?? process.cwd();
  const scenario = resolve(cwd, file);
  const target = opts.target ?? DEFAULT_BUNDLE_TARGET;
  const name = scenarioName(scenario);
  const outDir = opts.outDir ?? join(opts.root, 'build');
  const outfile = join(outDir, `${name}.js`);
  const exports = await scenarioExports(scenario, opts, target, cwd);
  const summaryModule = join(opts.root, 'engine', 'output', 'text-summary.ts');
  const contents = entrySource({
    scenario,
    exports,
    textSummaryModule: existsSync(summaryModule) ? summaryModule : undefined,
  });
  let imports: string[];
  try {
    const built = await esbuild.build({
      ...common(opts, target),
      stdin: { contents, resolveDir: opts.root, sourcefile: `agentload-entry:${name}.js`, loader: 'js' },
      outfile,
      sourcemap: 'linked',
      write: true,
      metafile: true,
      banner: { js: `// ${name}: bundled by agentload from ${relative(opts.root, scenario) || scenario}; do not edit.` },
    });
    imports = externalImports(built.metafile);
  } catch (err: unknown) {
    throw bundleError(err, opts.root, cwd, file);
  }
  const bytes = statSync(outfile).size;
  const shown = shownPath(cwd, outfile);
  const sizeLine = `bundle ${shown} ${(bytes / 1024).toFixed(1)} KB (${target})`;
  if (opts.budgetKb !== undefined && bytes > opts.budgetKb * 1024) {
    throw new AgentloadError(
      'bundle-over-budget',
      EXIT_CODES.bundleOverBudget,
      `${sizeLine} is over the budget of ${opts.budgetKb} KB: drop unused imports (faker per locale) or raise AGENTLOAD_BUNDLE_BUDGET_KB`,
    );
  }
  return { name, scenario, outfile, bytes, target, sizeLine, imports };
}
