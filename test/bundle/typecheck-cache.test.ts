/**
 * The run and build commands' type check (src/bundle/typecheck-cache.ts): checked in a child process the
 * first time, then answered from the cache while the scenario and what it imports are unchanged; an
 * edited import, a file an import could not find appearing, or an edited tsconfig.k6.json checks again;
 * failures are cached as failures. The checks run with the toolkit's real TypeScript and k6 types. A check
 * that writes an entry prunes the cache: entries that read a file now gone, all but the last used KEEP_CHECKS,
 * and day-old leftovers; a hit counts as a use.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KEEP_CHECKS, typecheckCached } from '../../src/bundle/typecheck-cache.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'agentload-typecheck-cache-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const env = { AGENTLOAD_CACHE_DIR: join(dir, 'cache') };

const write = (file: string, text: string): string => {
  const p = join(dir, file);
  writeFileSync(p, text);
  return p;
};

const scenario = write(
  's.ts',
  `import http from 'k6/http';
import { path } from './lib.ts';
export default async function (): Promise<void> {
  await http.asyncRequest('GET', 'http://127.0.0.1:9' + path());
}
`,
);
write('lib.ts', `export const path = (): string => '/health';\n`);

const check = (): ReturnType<typeof typecheckCached> => typecheckCached([scenario], { root: ROOT, cwd: dir, env });
const texts = (o: Awaited<ReturnType<typeof typecheckCached>>): string[] => o.diagnostics.map((d) => d.text);

void test('checked once, then cached; an edited import checks again and its failure is cached too', async () => {
  assert.deepEqual(await check(), { diagnostics: [], cached: false });
  assert.deepEqual(await check(), { diagnostics: [], cached: true });

  write('lib.ts', `export const path = (): string => 42;\n`);
  const failed = await check();
  assert.equal(failed.cached, false);
  assert.equal(failed.diagnostics.length, 1);
  assert.match(texts(failed)[0] ?? '', /^lib\.ts:1:35 Type 'number' is not assignable to type 'string'/);
  const again = await check();
  assert.equal(again.cached, true);
  assert.deepEqual(texts(again), texts(failed));

  write('lib.ts', `export const path = (): string => '/health';\n`);
  assert.deepEqual(await check(), { diagnostics: [], cached: false });
});

void test('an import that was missing and now exists checks again', async () => {
  const s = write('m.ts', `import { extra } from './extra.ts';\nexport default function (): void { extra(); }\n`);
  const opts = { root: ROOT, cwd: dir, env };
  const missing = await typecheckCached([s], opts);
  assert.equal(missing.cached, false);
  assert.match(texts(missing)[0] ?? '', /^m\.ts:1:23 Cannot find module '\.\/extra\.ts'/);
  assert.equal((await typecheckCached([s], opts)).cached, true);
  write('extra.ts', `export const extra = (): void => undefined;\n`);
  assert.deepEqual(await typecheckCached([s], opts), { diagnostics: [], cached: false });
});

void test('an edited tsconfig.k6.json checks again', async () => {
  // A copy of the toolkit root's files the check reads (its own tsconfig.k6.json and k6 globals), packages linked.
  const root = join(dir, 'root');
  mkdirSync(join(root, 'src', 'bundle'), { recursive: true });
  cpSync(join(ROOT, 'tsconfig.k6.json'), join(root, 'tsconfig.k6.json'));
  cpSync(join(ROOT, 'src', 'bundle', 'k6-globals.d.ts'), join(root, 'src', 'bundle', 'k6-globals.d.ts'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const unused = write('u.ts', `export default function (): void { const unused = 1; }\n`);
  const opts = { root, cwd: dir, env };
  const before = await typecheckCached([unused], opts);
  assert.equal(before.cached, false);
  assert.equal((await typecheckCached([unused], opts)).cached, true);
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.k6.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  config.compilerOptions.noUnusedLocals = config.compilerOptions.noUnusedLocals !== true;
  writeFileSync(join(root, 'tsconfig.k6.json'), JSON.stringify(config));
  const changed = await typecheckCached([unused], opts);
  assert.equal(changed.cached, false);
  assert.notDeepEqual(texts(changed), texts(before), 'noUnusedLocals flipped: the unused local is reported or no longer reported');
});

void test('a check that writes an entry prunes the cache: dead entries, all but the last used, day-old leftovers; a hit is a use', async () => {
  const cache = join(dir, 'cache', 'typecheck');
  const age = (name: string, hoursAgo: number): void => {
    const t = new Date(Date.now() - hoursAgo * 3600_000);
    utimesSync(join(cache, name), t, t);
  };
  const jsons = (): string[] => readdirSync(cache).filter((n) => n.endsWith('.json'));
  // A hit marks its entry used: every entry made old, then s.ts answered from the cache.
  for (const n of jsons()) age(n, 48);
  assert.equal((await check()).cached, true);
  const used = jsons().filter((n) => Date.now() - statSync(join(cache, n)).mtimeMs < 3600_000);
  assert.equal(used.length, 1, 'the hit touched its own entry only');

  const entry = (inputs: readonly string[]): string => JSON.stringify({ key: 'k', inputs, missing: [], diagnostics: [] });
  // One entry of a scenario since deleted (never valid again), with its incremental state.
  writeFileSync(join(cache, 'dead.json'), entry([join(dir, 'deleted.ts')]));
  writeFileSync(join(cache, 'dead.tsbuildinfo'), '{}');
  // More live entries than are kept, each last used an hour apart (old0 the newest).
  for (let i = 0; i < KEEP_CHECKS + 4; i++) {
    writeFileSync(join(cache, `old${String(i)}.json`), entry([scenario]));
    writeFileSync(join(cache, `old${String(i)}.tsbuildinfo`), '{}');
    age(`old${String(i)}.json`, 2 + i);
  }
  // Leftovers: a day-old temp file and state without its entry go; a fresh temp file (a write in progress) stays.
  for (const n of ['x.json.1.2.tmp', 'orphan.tsbuildinfo', 'fresh.json.3.4.tmp']) writeFileSync(join(cache, n), '');
  age('x.json.1.2.tmp', 25);
  age('orphan.tsbuildinfo', 25);

  const fresh = write('p.ts', `export default function (): void { /* a new scenario: a miss */ }\n`);
  assert.equal((await typecheckCached([fresh], { root: ROOT, cwd: dir, env })).cached, false);
  const left = readdirSync(cache);
  for (const n of ['dead.json', 'dead.tsbuildinfo', 'x.json.1.2.tmp', 'orphan.tsbuildinfo']) assert.ok(!left.includes(n), `${n} deleted`);
  assert.ok(left.includes('fresh.json.3.4.tmp'), 'a fresh temp file stays');
  assert.equal(jsons().length, KEEP_CHECKS, `the ${String(KEEP_CHECKS)} last used entries are kept`);
  assert.ok(used[0] !== undefined && left.includes(used[0]), 'the entry the hit used is kept');
  assert.ok(left.includes('old0.json') && left.includes('old0.tsbuildinfo'), 'the newest fake entry is kept');
  const last = `old${String(KEEP_CHECKS + 3)}`;
  assert.ok(!existsSync(join(cache, `${last}.json`)) && !existsSync(join(cache, `${last}.tsbuildinfo`)), 'the oldest goes with its state');
  // Still a hit for the new scenario and for s.ts.
  assert.equal((await typecheckCached([fresh], { root: ROOT, cwd: dir, env })).cached, true);
  assert.equal((await check()).cached, true);
});
