/**
 * The run and build commands' type check: cached per scenario content, and run in a child process.
 *
 * - Cache: an entry per (toolkit root, cwd, scenario list) holds the diagnostics and what the check
 *   read — every source file (path and bytes; files of a package by that package's package.json, so
 *   TypeScript's own lib files count by its version) and every path it looked for and did not find.
 *   It is reused while all of those are the same and the missing paths are still missing, so editing
 *   the scenario, a lib/ file it imports, tsconfig.k6.json, upgrading typescript or @types/k6, or
 *   creating a file an import could not find, checks again. Failures are cached too.
 * - Child: a miss runs `typecheck-child.ts` in its own Node.js process (pre-built, prebuilt.ts), so
 *   the ~100 MB the TypeScript compiler takes is given back before the load starts, and the command
 *   can go on (load the engine, bundle) while it runs. The child keeps TypeScript's incremental state
 *   (.tsbuildinfo) next to the entry, so a check after an edit only checks again what changed.
 * - Pruned on write (`pruneChecks`, by the child after it writes an entry): entries that can never be
 *   valid again (a file they read is gone: a deleted scenario, a removed temporary project) go, and of the
 *   rest only the KEEP_CHECKS last used are kept (a cache hit touches its entry); leftovers of a crashed
 *   write go after a day. Each entry's .tsbuildinfo goes with it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDirs, packageJsonOf, prebuilt } from '../../engine/runtime/prebuilt.ts';
import type { TypeDiagnostic } from './typecheck.ts';

/** Bump when what a check depends on changes beyond its inputs (e.g. the compiler options built in typecheck.ts). */
const CHECK_RECIPE = 1;
/** Type-check entries kept (the last used): one per scenario and folder it is run from. */
export const KEEP_CHECKS = 32;
/** A leftover (temp file, .tsbuildinfo without its entry) older than this is deleted on a prune. */
const LEFTOVER_MS = 24 * 3600_000;
const CHILD_ENTRY = fileURLToPath(new URL('./typecheck-child.ts', import.meta.url));

/** What the child is asked. */
export interface CheckRequest {
  readonly files: readonly string[];
  readonly root: string;
  readonly cwd: string;
  /** The files are JavaScript: checked with their JSDoc types (allowJs, checkJs). */
  readonly javascript: boolean;
  /** The cache entry to write (JSON) and the incremental state next to it. */
  readonly entry: string;
}

/** A cache entry. */
export interface CheckEntry {
  readonly key: string;
  /** Files the key covers (sources, and package.json for files inside packages). */
  readonly inputs: readonly string[];
  /** Paths the check looked for and did not find (outside packages). */
  readonly missing: readonly string[];
  readonly diagnostics: readonly TypeDiagnostic[];
}

export interface CheckOutcome {
  readonly diagnostics: readonly TypeDiagnostic[];
  /** True when the result came from the cache (nothing was checked). */
  readonly cached: boolean;
}

export const inPackage = (file: string): boolean => /[\\/]node_modules[\\/]/.test(file);

/** The files a key covers for a check that read `read` (paths): sources as they are, package files by their package.json. */
export function keyInputs(read: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const f of read) out.add(inPackage(f) ? (packageJsonOf(f) ?? f) : f);
  return [...out].sort();
}

/** Hash of the recipe, the request and every input's path and bytes (`text` gives a file's bytes; undefined: gone). */
export function checkKey(
  req: Pick<CheckRequest, 'files' | 'root' | 'cwd' | 'javascript'>,
  inputs: readonly string[],
  text: (file: string) => string | Buffer | undefined,
): string | undefined {
  const h = createHash('sha256');
  h.update(`${String(CHECK_RECIPE)}\0${req.javascript ? 'js' : 'ts'}\0${req.root}\0${req.cwd}\0${req.files.join('\0')}\0`);
  for (const f of inputs) {
    const bytes = text(f);
    if (bytes === undefined) return undefined;
    h.update(f).update('\0').update(bytes).update('\0');
  }
  return h.digest('hex').slice(0, 32);
}

export const readOrUndefined = (f: string): Buffer | undefined => {
  try {
    return readFileSync(f);
  } catch {
    return undefined;
  }
};

function readEntry(path: string): CheckEntry | undefined {
  try {
    const e = JSON.parse(readFileSync(path, 'utf8')) as Partial<CheckEntry>;
    if (typeof e.key !== 'string' || !Array.isArray(e.inputs) || !Array.isArray(e.missing) || !Array.isArray(e.diagnostics))
      return undefined;
    return { key: e.key, inputs: e.inputs, missing: e.missing, diagnostics: e.diagnostics };
  } catch {
    return undefined;
  }
}

/** The entry's diagnostics when it is still valid for the files as they are now. */
export function validEntry(
  req: Pick<CheckRequest, 'files' | 'root' | 'cwd' | 'javascript'>,
  entry: CheckEntry | undefined,
): readonly TypeDiagnostic[] | undefined {
  if (entry === undefined) return undefined;
  if (entry.missing.some((f) => existsSync(f))) return undefined;
  return checkKey(req, entry.inputs, readOrUndefined) === entry.key ? entry.diagnostics : undefined;
}

/** The cache entry path for a request, in the first cache directory that can be created. */
function entryPath(
  req: Pick<CheckRequest, 'files' | 'root' | 'cwd' | 'javascript'>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const id = createHash('sha256')
    .update(`${req.javascript ? 'js' : 'ts'}\0${req.root}\0${req.cwd}\0${req.files.join('\0')}`)
    .digest('hex')
    .slice(0, 16);
  let last: unknown;
  for (const dir of cacheDirs(env)) {
    try {
      const d = join(dir, 'typecheck');
      mkdirSync(d, { recursive: true });
      return join(d, `${id}.json`);
    } catch (e: unknown) {
      last = e;
    }
  }
  throw new Error(`no writable cache directory for the type check: ${last instanceof Error ? last.message : String(last)}`);
}

/** Runs the child (the request on stdin, the diagnostics as JSON on stdout); rejects with its stderr when it fails. */
async function runChild(req: CheckRequest, env: Readonly<Record<string, string | undefined>>): Promise<TypeDiagnostic[]> {
  const boot = await prebuilt(CHILD_ENTRY, env);
  const args =
    boot.kind === 'bundle' ? [boot.file] : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, CHILD_ENTRY];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    stderr += c;
  });
  child.stdin.end(JSON.stringify(req));
  const code = await new Promise<number | null>((r, reject) => {
    child.once('error', reject);
    child.once('close', r);
  });
  if (code !== 0) throw new Error(`the type check process failed (exit ${String(code)}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(stdout) as TypeDiagnostic[];
}

/**
 * Type-checks `files` (absolute paths) as `typecheckScenarios` does: from the cache when nothing it
 * depends on changed, else in a child process that records the result for the next run.
 */
export async function typecheckCached(
  files: readonly string[],
  opts: {
    readonly root: string;
    readonly cwd: string;
    readonly javascript?: boolean;
    readonly env?: Readonly<Record<string, string | undefined>>;
  },
): Promise<CheckOutcome> {
  const env = opts.env ?? process.env;
  const req: CheckRequest = {
    files: files.map((f) => resolve(f)),
    root: opts.root,
    cwd: opts.cwd,
    javascript: opts.javascript === true,
    entry: '',
  };
  const path = entryPath(req, env);
  const hit = validEntry(req, readEntry(path));
  if (hit !== undefined) {
    touch(path);
    return { diagnostics: hit, cached: true };
  }
  return { diagnostics: await runChild({ ...req, entry: path }, env), cached: false };
}

/** Marks an entry as used now (what pruning ranks by); a read-only cache is left as it is. */
function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // not writable: the entry is still good, only its rank is older
  }
}

/**
 * Deletes from the type-check cache folder `dir` what it no longer needs: entries one of whose files is gone
 * (never valid again), all but the `keep` last used of the rest, and temp files and .tsbuildinfo files without
 * their entry older than a day; each deleted entry's .tsbuildinfo with it. `spare` (the entry just written) is
 * never deleted. Returns the deleted names; a file another process deletes first is skipped.
 */
export function pruneChecks(dir: string, spare: string, keep = KEEP_CHECKS, now = Date.now()): string[] {
  const names = new Set(readdirSync(dir));
  const live: { id: string; mtime: number }[] = [];
  const gone: string[] = [];
  const mtimeOf = (name: string): number | undefined => {
    try {
      return statSync(join(dir, name)).mtimeMs;
    } catch {
      return undefined;
    }
  };
  for (const name of names) {
    const mtime = mtimeOf(name);
    if (mtime === undefined) continue;
    if (name.endsWith('.json')) {
      const id = name.slice(0, -'.json'.length);
      if (join(dir, name) === spare) continue;
      const entry = readEntry(join(dir, name));
      if (entry === undefined || entry.inputs.some((f) => !existsSync(f))) gone.push(name, `${id}.tsbuildinfo`);
      else live.push({ id, mtime });
    } else if (name.endsWith('.tmp') || (name.endsWith('.tsbuildinfo') && !names.has(name.replace(/\.tsbuildinfo$/, '.json')))) {
      if (now - mtime > LEFTOVER_MS) gone.push(name);
    }
  }
  live.sort((a, b) => b.mtime - a.mtime);
  // The entry just written counts as one of the `keep`.
  for (const { id } of live.slice(Math.max(0, keep - 1))) gone.push(`${id}.json`, `${id}.tsbuildinfo`);
  return gone.filter((name) => {
    if (!names.has(name)) return false;
    try {
      unlinkSync(join(dir, name));
      return true;
    } catch {
      return false;
    }
  });
}
