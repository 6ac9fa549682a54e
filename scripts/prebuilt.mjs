// Loads the toolkit's TypeScript entry points pre-built, without tsx (engine/runtime/prebuilt.ts: one
// esbuild bundle per entry, cached by the hash of its inputs, rebuilt when any of them changes).
// prebuilt.ts itself is compiled here on its own (it imports no relative module), cached the same way.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'engine', 'runtime', 'prebuilt.ts');
const require = createRequire(import.meta.url);

/** @returns {Promise<{ loadPrebuilt: (entry: string, onFallback?: (reason: string) => void) => Promise<Record<string, unknown>>, prebuilt: (entry: string) => Promise<{ kind: string, file?: string, reason?: string }> }>} */
async function builder() {
  const source = readFileSync(SOURCE, 'utf8');
  const esbuildVersion = JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')).version;
  const key = createHash('sha256').update(`${esbuildVersion}\0${SOURCE}\0${source}`).digest('hex').slice(0, 24);
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  const dirs = [
    process.env.AGENTLOAD_CACHE_DIR,
    join(ROOT, 'node_modules', '.cache', 'agentload'),
    join(tmpdir(), `agentload-cache-${uid}`),
  ];
  let failure;
  for (const dir of dirs) {
    if (dir === undefined || dir === '') continue;
    const file = join(dir, `prebuilt-${key}.cjs`);
    try {
      if (!existsSync(file)) {
        const { transform } = require('esbuild');
        const out = await transform(source.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(SOURCE).href)), {
          loader: 'ts',
          format: 'cjs',
          platform: 'node',
          target: 'node20',
        });
        mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, out.code);
        renameSync(tmp, file);
        pruneOwn(dir);
      }
      return require(file);
    } catch (e) {
      failure = e;
    }
  }
  throw new Error(
    `cannot compile ${SOURCE} into any cache directory (${dirs.filter(Boolean).join(', ')}): ${failure instanceof Error ? failure.message : String(failure)}`,
  );
}

/** Keeps the newest three compiled prebuilt.ts (as prebuilt.ts keeps the newest bundles of each entry point). */
function pruneOwn(dir) {
  const own = [];
  for (const name of readdirSync(dir)) {
    if (!/^prebuilt-[0-9a-f]{24}\.cjs$/.test(name)) continue;
    try {
      own.push({ name, mtime: statSync(join(dir, name)).mtimeMs });
    } catch {
      // deleted meanwhile
    }
  }
  own.sort((a, b) => b.mtime - a.mtime);
  for (const { name } of own.slice(3)) {
    try {
      unlinkSync(join(dir, name));
    } catch {
      // deleted meanwhile
    }
  }
}

let loaded;

/** The module exported by ROOT/`rel` (a TypeScript entry point), from its cached bundle. */
export async function loadPrebuilt(rel) {
  loaded ??= builder();
  const b = await loaded;
  return b.loadPrebuilt(join(ROOT, rel), (reason) => {
    process.stderr.write(`agentload: loading ${rel} through tsx (slower start): ${reason}\n`);
  });
}

/** The cached bundle of ROOT/`rel` (built when missing), or undefined when it is to load through tsx (AGENTLOAD_PREBUILT=0, a failed build). */
export async function bundleOf(rel) {
  loaded ??= builder();
  const boot = await (await loaded).prebuilt(join(ROOT, rel));
  return boot.kind === 'bundle' ? boot.file : undefined;
}
