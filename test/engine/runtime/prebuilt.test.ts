/**
 * Pre-built entry points (engine/runtime/prebuilt.ts; the worker bundle is one of them): built once by esbuild, reused while its inputs are unchanged, rebuilt when one
 * changes; `import.meta.url` keeps pointing at each source; an unusable cache directory or an
 * input esbuild cannot bundle for CommonJS falls back (next directory, then tsx with the reason); the
 * cache is pruned when a bundle is written.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KEEP_PER_ENTRY, resolveBundle, type Prebuilt } from '../../../engine/runtime/prebuilt.ts';
import { workerBoot } from '../../../engine/runtime/workers.ts';

function project(dep: string): { root: string; entry: string; dep: string } {
  const root = mkdtempSync(join(tmpdir(), 'agentload-prebuilt-'));
  const entry = join(root, 'entry.ts');
  writeFileSync(
    entry,
    `import { parentPort } from 'node:worker_threads';
import { where } from './dep.ts';
const label: string = where();
parentPort?.postMessage(label);
`,
  );
  writeFileSync(join(root, 'dep.ts'), dep);
  return { root, entry, dep: join(root, 'dep.ts') };
}

function bundleFile(b: Prebuilt): string {
  if (b.kind !== 'bundle') assert.fail(`expected a bundle, got tsx: ${b.reason}`);
  return b.file;
}

async function runBundle(file: string): Promise<unknown> {
  const w = new Worker(file);
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

void test('built once, reused while the inputs are unchanged, rebuilt when one changes; import.meta.url is the source file', async () => {
  const p = project(`export const where = (): string => import.meta.url + '#v1';\n`);
  const target = { entry: p.entry, root: p.root, dirs: [join(p.root, 'cache')] };
  const first = await resolveBundle(target);
  assert.equal(first.kind === 'bundle' && first.built, true);
  assert.equal(await runBundle(bundleFile(first)), `${pathToFileURL(p.dep).href}#v1`);

  const again = await resolveBundle(target);
  assert.deepEqual(again, { kind: 'bundle', file: bundleFile(first), built: false });

  writeFileSync(p.dep, `export const where = (): string => import.meta.url + '#v2';\n`);
  const changed = await resolveBundle(target);
  assert.equal(changed.kind === 'bundle' && changed.built, true);
  assert.notEqual(bundleFile(changed), bundleFile(first));
  assert.equal(await runBundle(bundleFile(changed)), `${pathToFileURL(p.dep).href}#v2`);
});

void test('a cache directory that cannot be created falls through to the next one', async () => {
  const p = project(`export const where = (): string => 'ok';\n`);
  const blocker = join(p.root, 'not-a-dir');
  writeFileSync(blocker, '');
  const b = await resolveBundle({ entry: p.entry, root: p.root, dirs: [join(blocker, 'cache'), join(p.root, 'cache2')] });
  assert.ok(bundleFile(b).startsWith(join(p.root, 'cache2')));
  assert.equal(await runBundle(bundleFile(b)), 'ok');
});

void test('import.meta beyond .url cannot be bundled: tsx is used, with the file named', async () => {
  const p = project(`export const where = (): string => String(import.meta.dirname);\n`);
  const b = await resolveBundle({ entry: p.entry, root: p.root, dirs: [join(p.root, 'cache')] });
  if (b.kind !== 'tsx') assert.fail(`expected tsx, got the bundle ${b.file}`);
  assert.match(b.reason, /dep\.ts:1 uses import\.meta beyond its url/);
});

void test('the engine itself bundles (AGENTLOAD_WORKER_BUNDLE=0 opts out)', async () => {
  const b = await workerBoot({});
  bundleFile(b);
  assert.deepEqual(await workerBoot({ AGENTLOAD_WORKER_BUNDLE: '0' }), { kind: 'tsx', reason: 'AGENTLOAD_WORKER_BUNDLE=0' });
});

void test('a package left outside the bundle counts by its package.json: upgrading it rebuilds', async () => {
  const p = project(`import { where as w } from 'fakepkg';\nexport const where = (): string => w();\n`);
  const pkg = join(p.root, 'node_modules', 'fakepkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'fakepkg', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), `exports.where = () => 'pkg v1';\n`);
  const target = { entry: p.entry, root: p.root, dirs: [join(p.root, 'cache')] };
  const first = await resolveBundle(target);
  assert.equal(await runBundle(bundleFile(first)), 'pkg v1');
  assert.deepEqual(await resolveBundle(target), { kind: 'bundle', file: bundleFile(first), built: false });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'fakepkg', version: '2.0.0', main: 'index.js' }));
  const upgraded = await resolveBundle(target);
  assert.equal(upgraded.kind === 'bundle' && upgraded.built, true);
  assert.notEqual(bundleFile(upgraded), bundleFile(first));
});

void test('every entry point the scripts load bundles (a module using import.meta beyond .url would send it through tsx)', async () => {
  const { prebuilt, PACKAGE_ROOT } = await import('../../../engine/runtime/prebuilt.ts');
  for (const rel of [
    'src/cli/main.ts',
    'src/reporting/cli.ts',
    'target/index.ts',
    'engine/cli.ts',
    'src/bundle/typecheck-child.ts',
    'src/ci/gate.ts',
    // the run's children: the watch preloaded into each, the guard of other commands, the lab, the Slack sink
    'src/run/child-preload.ts',
    'src/run/child-guard.ts',
    'src/faults/main.ts',
    'src/slack-sink/main.ts',
  ]) {
    const b = await prebuilt(join(PACKAGE_ROOT, rel), {});
    assert.equal(b.kind, 'bundle', `${rel}: ${b.kind === 'tsx' ? b.reason : ''}`);
  }
});

void test('the command bundles never require the TypeScript compiler (the type check runs in its own process)', async () => {
  const { prebuilt, PACKAGE_ROOT } = await import('../../../engine/runtime/prebuilt.ts');
  for (const rel of ['src/cli/main.ts', 'engine/cli.ts', 'src/reporting/cli.ts']) {
    const b = await prebuilt(join(PACKAGE_ROOT, rel), {});
    assert.doesNotMatch(
      readFileSync(bundleFile(b), 'utf8'),
      /node_modules\/typescript\//,
      `${rel} leaves typescript outside its bundle and requires it`,
    );
  }
  const child = await prebuilt(join(PACKAGE_ROOT, 'src/bundle/typecheck-child.ts'), {});
  assert.match(readFileSync(bundleFile(child), 'utf8'), /node_modules\/typescript\//, 'control: the check child does require it');
});

void test('the cache is pruned on write: the newest bundles of the entry point are kept, older ones and old leftovers deleted, other entries left alone', async () => {
  const p = project(`export const where = (): string => 'v0';\n`);
  const cache = join(p.root, 'cache');
  const target = { entry: p.entry, root: p.root, dirs: [cache] };
  const other = await resolveBundle({ ...target, entry: p.dep });
  const stale = new Date(Date.now() - 2 * 24 * 3600_000);
  // Leftovers of an older version (bundles named without the entry hash) and of a crashed write.
  for (const name of ['entry-0123456789abcdef01234567.cjs', 'entry-manifest.json.123.456.tmp']) {
    writeFileSync(join(cache, name), '');
    utimesSync(join(cache, name), stale, stale);
  }
  writeFileSync(join(cache, 'entry-89abcdef0123456789abcdef.cjs'), ''); // fresh: maybe a run of an older version in flight
  const built: string[] = [];
  for (let v = 1; v <= KEEP_PER_ENTRY + 2; v++) {
    writeFileSync(p.dep, `export const where = (): string => 'v${String(v)}';\n`);
    const b = bundleFile(await resolveBundle(target));
    const t = new Date(Date.now() - (KEEP_PER_ENTRY + 2 - v) * 60_000); // written a minute apart
    utimesSync(b, t, t);
    built.push(b);
  }
  const left = readdirSync(cache);
  assert.deepEqual(
    built.filter((b) => left.includes(basename(b))),
    built.slice(-KEEP_PER_ENTRY),
    'the newest bundles of the entry are kept',
  );
  assert.ok(left.includes(basename(bundleFile(other))), 'another entry point keeps its bundle');
  assert.ok(!left.includes('entry-0123456789abcdef01234567.cjs') && !left.includes('entry-manifest.json.123.456.tmp'), 'old leftovers go');
  assert.ok(left.includes('entry-89abcdef0123456789abcdef.cjs'), 'a recent one of the old naming stays');
  assert.equal(await runBundle(bundleFile(await resolveBundle(target))), `v${String(KEEP_PER_ENTRY + 2)}`);
});
