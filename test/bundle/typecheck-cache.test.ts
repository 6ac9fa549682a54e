/**
 * The run and build commands' type check (src/bundle/typecheck-cache.ts): checked in a child process the
 * first time, then answered from the cache while the scenario and what it imports are unchanged; an
 * edited import, a file an import could not find appearing, or an edited tsconfig.k6.json checks again;
 * failures are cached as failures. The checks run with the toolkit's real TypeScript and k6 types.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { typecheckCached } from '../../src/bundle/typecheck-cache.ts';

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
