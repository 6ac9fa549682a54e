#!/usr/bin/env node
// Runs every test file (test/**/*.test.ts) with node's test runner and tsx.
// Usage: npm test [-- <file or folder filter>...]
// Files marked `@heavy` in their header comment run after the others (see below).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

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
// Files whose header comment says `@heavy` (they start RabbitMQ brokers and clusters of processes) run in
// a second phase, among themselves: their CPU bursts would otherwise skew the timing of the files that
// measure latency next to them.
const heavy = files.filter((f) => readFileSync(join(root, f), 'utf8').slice(0, 4096).includes('@heavy'));
const phases = [files.filter((f) => !heavy.includes(f)), heavy].filter((p) => p.length > 0);
let status = 0;
const totals = { pass: 0, fail: 0, cancelled: 0, skipped: 0 };
for (const phase of phases) {
  if (phases.length > 1)
    console.log(`\n# ${phase === heavy ? 'heavy files (brokers, clusters of processes)' : 'test files'}: ${phase.length}\n`);
  // --test-force-exit: a file whose failed assertion left a server or socket open still ends (it would
  // otherwise keep its process, and the whole run, waiting forever); the failure is reported as usual.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-force-exit', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...phase],
    { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] },
  );
  // The output passes through as it comes; its last lines (the runner's counts) are kept for the total.
  let tail = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-8192);
  });
  const code = await new Promise((resolve) => {
    child.on('close', (c) => {
      resolve(c ?? 1);
    });
  });
  for (const key of Object.keys(totals)) {
    const m = new RegExp(`^ℹ ${key} (\\d+)$`, 'm').exec(tail);
    if (m) totals[key] += Number(m[1]);
  }
  if (code !== 0) status = code;
}
if (phases.length > 1) {
  console.log(`\n# all phases: ${totals.pass} passed, ${totals.fail} failed, ${totals.cancelled} cancelled, ${totals.skipped} skipped`);
}
process.exit(status);
