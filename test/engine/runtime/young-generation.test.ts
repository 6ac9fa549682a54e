/**
 * The process running the engine's load starts with its young generation fixed at 16 MB semi-spaces
 * (scripts/young-generation.mjs), through `npm run k6` and the agentload binary, and a run gives the
 * threads it starts V8's own small young generation back. Observed, not assumed: each process's V8 new
 * space is read at its start by a preload, and a thread's by the thread itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { YOUNG_GENERATION_FLAGS } from '../../../scripts/young-generation.mjs';
import { collect, ROOT, TSX } from '../../cli/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-young-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** V8's new space of an isolate at its start: 2 MB or less by default, 16 MB with the flags. */
const NEW_SPACE = `(await import('node:v8')).getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576`;

/** A preload (NODE_OPTIONS) writing each Node.js process's script and new space at start into `out`. */
function probe(out: string): string {
  const file = join(dir, 'probe.mjs');
  writeFileSync(
    file,
    `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(out)} + '/' + process.pid + '.json', JSON.stringify({ script: process.argv[1] ?? '', newSpaceMb: ${NEW_SPACE} }));
`,
  );
  return file;
}

/** Runs `cmd args` with the probe preloaded; the new space (MB) of the process whose script ends with `script`. */
async function newSpaceOf(cmd: string, args: readonly string[], script: string, env: Record<string, string> = {}): Promise<number> {
  const out = mkdtempSync(join(dir, 'probe-'));
  const r = await collect(
    spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env, NODE_OPTIONS: `--import ${probe(out)}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  assert.equal(r.code, 0, r.stderr);
  const seen = readdirSync(out).map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { script: string; newSpaceMb: number });
  const hit = seen.filter((p) => p.script.endsWith(script));
  assert.equal(hit.length, 1, `one process running ${script} among ${JSON.stringify(seen)}`);
  return hit[0]?.newSpaceMb ?? Number.NaN;
}

void test('npm run k6 starts the run process with the fixed young generation (the flags in package.json are the shared ones)', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(await newSpaceOf('npm', ['run', '--silent', 'k6', '--', '--help'], 'scripts/k6.mjs'), 16);
  assert.match(pkg.scripts.k6 ?? '', new RegExp(`^node ${YOUNG_GENERATION_FLAGS.join(' ')} `));
});

void test('the agentload binary starts the run process with it; AGENTLOAD_YOUNG_GENERATION=grow leaves V8 its default', async () => {
  const bin = join(ROOT, 'bin/agentload.mjs');
  assert.equal(await newSpaceOf(process.execPath, [bin, 'version'], 'scripts/agentload.mjs'), 16);
  const grown = await newSpaceOf(process.execPath, [bin, 'version'], 'scripts/agentload.mjs', { AGENTLOAD_YOUNG_GENERATION: 'grow' });
  assert.ok(grown < 16, `default new space ${String(grown)} MB`);
});

void test('a run keeps its own thread fixed and gives threads it starts after it V8 default (VU threads are many)', async () => {
  const script = join(dir, 'one.js');
  writeFileSync(script, 'export const options = { iterations: 1 };\nexport default async function () {}\n');
  const child = join(dir, 'child.mts');
  writeFileSync(
    child,
    `import { Worker } from 'node:worker_threads';
import { runEngine } from ${JSON.stringify(join(ROOT, 'engine/index.ts'))};
const before = ${NEW_SPACE};
const code = await runEngine({ script: ${JSON.stringify(script)}, args: ['-q', '--no-summary'], env: {}, cwd: ${JSON.stringify(dir)}, stdout: process.stdout, stderr: process.stderr, handleSignals: false });
const worker = new Worker(${JSON.stringify(`const { parentPort } = require('node:worker_threads'); (async () => parentPort.postMessage(${NEW_SPACE}))();`)}, { eval: true });
const thread = await new Promise((r) => worker.once('message', r));
await worker.terminate();
process.stdout.write(JSON.stringify({ code, before, thread }));
`,
  );
  const r = await collect(
    spawn(process.execPath, [...YOUNG_GENERATION_FLAGS, '--import', TSX, child], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { code: number; before: number; thread: number };
  assert.equal(got.code, 0);
  assert.ok(got.before >= 16, `the run's own new space ${String(got.before)} MB`);
  assert.ok(got.thread < 16, `a thread started after the run has a ${String(got.thread)} MB new space`);
});
