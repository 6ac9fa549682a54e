/**
 * Pre-built entry points. The toolkit is TypeScript; compiling it at every start (tsx) costs about a
 * CPU-second per process or thread before anything runs. Instead each entry point (the run command,
 * the engine, the report, the platform, worker and VU threads, the type-check child) is bundled once by
 * esbuild into one CommonJS file, cached under the package's node_modules/.cache/agentload (or
 * `$TMPDIR/agentload-cache-<uid>` when that is not writable; `AGENTLOAD_CACHE_DIR` first when set) and
 * named by the hash of its inputs, then loaded with `require`.
 *
 * Never stale: the cache key covers the bundling recipe, the esbuild version, the entry, the path and
 * bytes of every source file the last build read, and the package.json of every package it left
 * outside (required by absolute path at run time). Every load hashes those files again (a few ms) and
 * rebuilds on any difference, so an edited source, an added import, `git checkout` or `npm ci` with
 * other versions all rebuild on the next start; nothing generated is committed, and a fresh clone
 * builds on first use (about a second per entry point).
 *
 * Pruned on write: building a bundle keeps the newest KEEP_PER_ENTRY of that entry point (in-flight runs of
 * an older source, or a `git checkout` back and forth, keep theirs) and deletes the older ones, and leftovers
 * older than a day (temp files of a crashed write, bundles named the way older versions named them) go too.
 *
 * `import.meta.url` in each source becomes that source's own URL (CommonJS has no import.meta, and the
 * bundle lives elsewhere), so files found relative to a source are found as from the source tree.
 * `AGENTLOAD_PREBUILT=0` (or a failed build, with the reason) falls back to tsx.
 *
 * This file is itself compiled on its own (scripts/prebuilt.mjs): it imports only Node built-ins and
 * packages, never a relative module.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

/** The toolkit's root folder (package.json, node_modules). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Bump when the bundling recipe below changes, so old cached bundles are not reused. */
const BUNDLE_RECIPE = 2;
/** Bundles kept per entry point (the newest, by the time they were written). */
export const KEEP_PER_ENTRY = 3;
/** A leftover (temp file, bundle of the old naming) older than this is deleted when a bundle is written. */
const LEFTOVER_MS = 24 * 3600_000;

const requireHere = createRequire(import.meta.url);

interface BundleManifest {
  readonly key: string;
  readonly inputs: readonly string[];
  readonly externals: readonly string[];
  /** package.json of each external's package: an upgraded package changes the key. */
  readonly packages: readonly string[];
}

/** How an entry point is loaded: its cached bundle (`built` when this call built it), or tsx with the reason why not. */
export type Prebuilt =
  { readonly kind: 'bundle'; readonly file: string; readonly built: boolean } | { readonly kind: 'tsx'; readonly reason: string };

/** Where and what to bundle: the entry file, the root its input paths are relative to, cache directories in order. */
export interface BundleTarget {
  readonly entry: string;
  readonly root: string;
  readonly dirs: readonly string[];
}

/** Cache directories, first usable wins: AGENTLOAD_CACHE_DIR, the package's node_modules/.cache, the temp dir. */
export function cacheDirs(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  const own = env.AGENTLOAD_CACHE_DIR;
  return [
    ...(own !== undefined && own !== '' ? [own] : []),
    join(PACKAGE_ROOT, 'node_modules', '.cache', 'agentload'),
    join(tmpdir(), `agentload-cache-${uid}`),
  ];
}

const esbuildVersion = (): string =>
  (JSON.parse(readFileSync(requireHere.resolve('esbuild/package.json'), 'utf8')) as { version: string }).version;

/** The package.json of the package a resolved file belongs to (the last node_modules/<name> or node_modules/@scope/<name> on its path). */
export function packageJsonOf(file: string): string | undefined {
  const m = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
  return m?.[1] === undefined ? undefined : join(m[1], 'package.json');
}

/** Hash of the recipe, the esbuild version, the entry and every file's path and bytes; undefined when a file is gone. */
function filesKey(entry: string, files: readonly string[]): string | undefined {
  const h = createHash('sha256');
  h.update(`${String(BUNDLE_RECIPE)}\0${esbuildVersion()}\0${entry}\0`);
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return undefined;
    }
    h.update(file).update('\0').update(bytes).update('\0');
  }
  return h.digest('hex').slice(0, 24);
}

function readManifest(path: string): BundleManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Partial<BundleManifest>;
    if (typeof m.key !== 'string' || !Array.isArray(m.inputs) || !Array.isArray(m.externals) || !Array.isArray(m.packages))
      return undefined;
    return { key: m.key, inputs: m.inputs, externals: m.externals, packages: m.packages };
  } catch {
    return undefined;
  }
}

/** Writes `text` to `path` through a temp file and a rename, so concurrent runs never read half a file. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${String(process.pid)}.${String(Math.random()).slice(2, 8)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** `source` with each `import.meta.url` replaced by the URL of `file` (the pattern is a regex so this file can be bundled too). */
export function withSourceUrl(source: string, file: string): string {
  return source.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(file).href));
}

/**
 * The esbuild plugin of the bundles: bare imports stay external, rewritten to the absolute path
 * `require` finds from the importing file; `import.meta.url` of each source becomes that source's URL.
 */
function bundlePlugin(externals: Set<string>): Plugin {
  return {
    name: 'agentload-prebuilt',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || builtinModules.includes(args.path)) return { path: args.path, external: true };
        const file = createRequire(args.importer).resolve(args.path);
        externals.add(file);
        return { path: file, external: true };
      });
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        return { contents: withSourceUrl(source, args.path), loader: 'ts' };
      });
    },
  };
}

async function buildBundle(t: BundleTarget, dir: string, manifestPath: string): Promise<string> {
  const { build } = requireHere('esbuild') as typeof import('esbuild');
  const externals = new Set<string>();
  const result = await build({
    entryPoints: [t.entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    absWorkingDir: t.root,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [bundlePlugin(externals)],
  });
  const meta = result.warnings.find((w) => w.id === 'empty-import-meta');
  if (meta !== undefined)
    throw new Error(`${meta.location?.file ?? '?'}:${String(meta.location?.line ?? 0)} uses import.meta beyond its url`);
  const text = result.outputFiles[0]?.text;
  if (text === undefined) throw new Error('esbuild produced no output');
  const inputs = Object.keys(result.metafile.inputs)
    .map((f) => join(t.root, f))
    .sort();
  const packages = [...new Set([...externals].map(packageJsonOf).filter((p): p is string => p !== undefined))].sort();
  const key = filesKey(t.entry, [...inputs, ...packages]);
  if (key === undefined) throw new Error('an input of the bundle vanished while building');
  const file = join(dir, `${bundlePrefix(t.entry)}${key}.cjs`);
  writeAtomic(file, text);
  writeAtomic(manifestPath, JSON.stringify({ key, inputs, externals: [...externals].sort(), packages } satisfies BundleManifest));
  pruneCache(dir, bundlePrefix(t.entry));
  return file;
}

/** A bundle named as before entry hashes were in names (`index-<key>.cjs`); scripts/prebuilt.mjs's own `prebuilt-<key>.cjs` is not one. */
const oldNaming = (name: string): boolean =>
  /^[\w.-]+-[0-9a-f]{24}\.cjs$/.test(name) && !/-[0-9a-f]{12}-[0-9a-f]{24}\.cjs$/.test(name) && !name.startsWith('prebuilt-');

/**
 * Deletes what `dir` no longer needs, on a bundle's write: of the bundles named `<prefix><key>.cjs`, all
 * but the newest `keep`; temp files and bundles of the old naming (`<name>-<key>.cjs`) older than a day.
 * Returns the deleted names. A file another process deletes first, or cannot be deleted, is skipped.
 */
export function pruneCache(dir: string, prefix: string, keep = KEEP_PER_ENTRY, now = Date.now()): string[] {
  const own: { name: string; mtime: number }[] = [];
  const gone: string[] = [];
  for (const name of readdirSync(dir)) {
    let mtime: number;
    try {
      const st = statSync(join(dir, name));
      if (!st.isFile()) continue;
      mtime = st.mtimeMs;
    } catch {
      continue;
    }
    if (name.startsWith(prefix) && name.endsWith('.cjs')) own.push({ name, mtime });
    else if ((name.endsWith('.tmp') || oldNaming(name)) && now - mtime > LEFTOVER_MS) gone.push(name);
  }
  own.sort((a, b) => b.mtime - a.mtime);
  gone.push(...own.slice(keep).map((f) => f.name));
  return gone.filter((name) => {
    try {
      unlinkSync(join(dir, name));
      return true;
    } catch {
      return false;
    }
  });
}

/** `worker-entry` for engine/test-run/worker-entry.ts: the bundle's readable name. */
function bundleName(entry: string): string {
  return (entry.split(/[\\/]/).pop() ?? 'entry').replace(/\.[cm]?ts$/, '').replace(/[^\w.-]/g, '_');
}

/** The hash that tells entry points of one name apart (target/index.ts, engine/index.ts). */
const entryHash = (entry: string): string => createHash('sha256').update(entry).digest('hex').slice(0, 12);

/** `worker-entry-<entry hash>-`: what each bundle of `entry` is named, its key after it. */
function bundlePrefix(entry: string): string {
  return `${bundleName(entry)}-${entryHash(entry)}-`;
}

/**
 * The cached bundle of `t.entry` (`built` false when reused), building it in the first writable
 * directory; `tsx` with the reason when none works or esbuild fails.
 */
export async function resolveBundle(t: BundleTarget): Promise<Prebuilt> {
  const manifestName = `${bundleName(t.entry)}-manifest-${entryHash(t.entry)}.json`;
  let reason = 'no cache directory';
  for (const dir of t.dirs) {
    try {
      mkdirSync(dir, { recursive: true });
      const manifestPath = join(dir, manifestName);
      const m = readManifest(manifestPath);
      if (m !== undefined && filesKey(t.entry, [...m.inputs, ...m.packages]) === m.key && m.externals.every((f) => existsSync(f))) {
        const file = join(dir, `${bundlePrefix(t.entry)}${m.key}.cjs`);
        if (existsSync(file)) return { kind: 'bundle', file, built: false };
      }
      return { kind: 'bundle', file: await buildBundle(t, dir, manifestPath), built: true };
    } catch (e: unknown) {
      reason = `bundle of ${bundleName(t.entry)} in ${dir}: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}`;
    }
  }
  return { kind: 'tsx', reason };
}

const resolved = new Map<string, Promise<Prebuilt>>();

/** The bundle of `entry` (an absolute .ts path under the package), resolved once per process; tsx when AGENTLOAD_PREBUILT=0. */
export function prebuilt(entry: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Prebuilt> {
  if (env.AGENTLOAD_PREBUILT === '0') return Promise.resolve({ kind: 'tsx', reason: 'AGENTLOAD_PREBUILT=0' });
  let p = resolved.get(entry);
  if (p === undefined) {
    p = resolveBundle({ entry, root: PACKAGE_ROOT, dirs: cacheDirs(env) });
    resolved.set(entry, p);
  }
  return p;
}

/** Resolves once this process can import TypeScript (tsx's loader hooks registered, here or by `--import tsx`). */
let tsxReady: Promise<void> | undefined;

/**
 * Registers tsx's loader hooks unless the process has them. Tested on this module's own URL with a query
 * (a fresh module instance, without side effects), never on the entry: Node keeps a failed import's error
 * for its URL, so an entry tried before tsx was registered would fail the same way after.
 */
function ensureTsx(): Promise<void> {
  tsxReady ??= (async () => {
    try {
      await import(`${import.meta.url}?tsx-probe`);
      return;
    } catch (e: unknown) {
      if ((e as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    }
    // Importing tsx's main entry registers its loader hooks (what `node --import tsx` does).
    await import(pathToFileURL(requireHere.resolve('tsx')).href);
  })();
  return tsxReady;
}

/**
 * Loads `entry`'s module: its bundle, or (AGENTLOAD_PREBUILT=0, a failed build: `onFallback` gets the
 * reason) the TypeScript source through tsx, registered in this process when it is not yet.
 */
export async function loadPrebuilt(entry: string, onFallback?: (reason: string) => void): Promise<Record<string, unknown>> {
  const boot = await prebuilt(entry);
  if (boot.kind === 'bundle') return requireHere(boot.file) as Record<string, unknown>;
  if (process.env.AGENTLOAD_PREBUILT !== '0') onFallback?.(boot.reason);
  await ensureTsx();
  return (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
}
