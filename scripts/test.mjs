#!/usr/bin/env node
// Runs every test file (test/**/*.test.ts) with node's test runner and tsx.
// Usage: npm test [-- <file or folder filter>...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

// System packages the tests need (PostgreSQL server binaries, Chromium): installed when missing and we are
// root, else one line saying what to run. Quiet and quick when everything is there.
const setup = spawnSync('bash', [join(root, 'scripts/setup-system.sh')], { cwd: root, stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || 'test/**/*.test.ts'}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// --test-force-exit: a file whose failed assertion left a server or socket open still ends (it would
// otherwise keep its process, and the whole run, waiting forever); the failure is reported as usual.
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-force-exit', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
