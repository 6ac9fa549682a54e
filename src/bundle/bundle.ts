/**
 * scenarios/<name>.ts → build/<name>.js: one esbuild bundle per scenario, ESM, `k6`, `k6/*` and remote
 * (https://) modules left external, linked source map, lowered to ES2017 by default. The scenario is
 * wrapped in a generated entry (see entry.ts). Nothing from the environment is inlined (no `define`).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { AgentloadError, EXIT_CODES } from '../cli/errors.ts';
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
  /** Rewrite `k6/websockets` imports to `k6/experimental/websockets` (k6 binaries before v1.6.0). */
  readonly aliasWebsockets?: boolean;
  /** Rewrite `k6/experimental/redis` imports to `k6/x/redis` (k6 v2.0 and later, where the built-in module is gone). */
  readonly aliasRedis?: boolean;
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

function formatMessage(m: esbuild.Message, cwd: string): string {
  if (m.location === null) return m.text;
  const file = shownPath(cwd, resolve(cwd, m.location.file));
  return `${file}:${m.location.line}:${m.location.column + 1} ${m.text}`;
}

function bundleError(err: unknown, cwd: string, scenario: string): AgentloadError {
  const failure = err as Partial<esbuild.BuildFailure>;
  const lines = Array.isArray(failure.errors) ? failure.errors.map((m) => formatMessage(m, cwd)) : [String(err)];
  return new AgentloadError(
    'bundle-error',
    EXIT_CODES.scriptException,
    `${lines[0] ?? `cannot bundle ${scenario}`}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''}`,
    lines.slice(1),
  );
}

function common(opts: BundleOptions, target: string): esbuild.BuildOptions {
  return {
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
    ...(opts.aliasWebsockets === true || opts.aliasRedis === true
      ? {
          alias: {
            ...(opts.aliasWebsockets === true ? { 'k6/websockets': 'k6/experimental/websockets' } : {}),
            ...(opts.aliasRedis === true ? { 'k6/experimental/redis': 'k6/x/redis' } : {}),
          },
        }
      : {}),
  };
}

/** The names a scenario exports (esbuild metafile of a throw-away bundle). */
async function scenarioExports(scenario: string, opts: BundleOptions, target: string, cwd: string): Promise<string[]> {
  try {
    const r = await esbuild.build({ ...common(opts, target), entryPoints: [scenario], write: false, metafile: true, outdir: '/' });
    const out = Object.values(r.metafile.outputs).find((o) => o.entryPoint !== undefined);
    return out?.exports ?? [];
  } catch (err: unknown) {
    throw bundleError(err, cwd, scenario);
  }
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
  try {
    await esbuild.build({
      ...common(opts, target),
      stdin: { contents, resolveDir: opts.root, sourcefile: `agentload-entry:${name}.js`, loader: 'js' },
      outfile,
      sourcemap: 'linked',
      write: true,
      banner: { js: `// ${name}: bundled by agentload from ${relative(opts.root, scenario) || scenario}; do not edit.` },
    });
  } catch (err: unknown) {
    throw bundleError(err, cwd, file);
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
  return { name, scenario, outfile, bytes, target, sizeLine };
}
