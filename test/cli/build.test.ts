/** `npm run build`: every scenario in scenarios/ bundled with one size line each; type errors 107; budget 120. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanEnv, collect, makeProject, ROOT, scenarioSource } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());
mkdirSync(join(project.dir, 'scenarios'));
project.write('scenarios/alpha.ts', scenarioSource());
project.write('scenarios/beta.ts', scenarioSource());

async function build(args: string[], env: Record<string, string> = {}): ReturnType<typeof collect> {
  return collect(
    spawn(process.execPath, [join(ROOT, 'scripts/build.mjs'), ...args], {
      cwd: project.dir,
      env: cleanEnv(project, env),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

void test('bundles every scenario, one size line each', async () => {
  const r = await build([]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /^bundle .*alpha\.js \d+\.\d KB \(es2017\)$/);
  assert.match(lines[1] ?? '', /^bundle .*beta\.js \d+\.\d KB \(es2017\)$/);
  assert.ok(existsSync(join(project.build, 'alpha.js')) && existsSync(join(project.build, 'beta.js')));
});

void test('a budget every bundle exceeds: each over-budget line printed, exit 120', async () => {
  const r = await build(['--bundle-budget', '0.1']);
  assert.equal(r.code, 120);
  assert.equal(
    r.stdout
      .trim()
      .split('\n')
      .filter((l) => / is over the budget of 0\.1 KB/.test(l)).length,
    2,
  );
});

void test('a type error in one scenario stops the build with file:line:col (107)', async () => {
  const bad = project.write('scenarios/gamma.ts', "const n: number = 'x';\nexport default function (): void { console.log(n); }\n");
  const r = await build([bad]);
  assert.equal(r.code, 107);
  assert.match(r.stderr, /^scenarios\/gamma\.ts:1:7 Type 'string' is not assignable to type 'number'\.$/m);
});
