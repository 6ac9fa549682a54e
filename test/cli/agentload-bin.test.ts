/** The `agentload` binary (npx agentload ...): run with the exit code passed back, version, unknown commands. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeFakeK6 } from '../support/fake-k6.ts';
import { cleanEnv, collect, errorLines, makeProject, ROOT, scenarioSource } from './helpers.ts';

const fake = makeFakeK6({ exitCode: 99 });
const project = makeProject();
after(() => {
  fake.cleanup();
  project.cleanup();
});

async function agentload(args: string[], env: Record<string, string>): ReturnType<typeof collect> {
  return collect(
    spawn(process.execPath, [join(ROOT, 'bin/agentload.mjs'), ...args], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

void test('agentload run: same flow as npm run k6, k6 exit code 99 passed back through the binary', async () => {
  const scenario = project.write('viabin.ts', scenarioSource());
  const r = await agentload(
    ['run', scenario, '--no-report', '--vus', '1'],
    cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir),
  );
  assert.equal(r.code, 99, r.stderr);
  const args = fake.calls()[0]?.args ?? [];
  assert.deepEqual([args[0], args[1], ...args.slice(-2)], ['run', join(project.build, 'viabin.js'), '--vus', '1']);
});

void test('agentload run --verbose: phase times on stderr, and k6 gets its own --verbose', async () => {
  const scenario = project.write('verbose.ts', scenarioSource());
  const r = await agentload(['run', scenario, '--no-report', '--verbose'], cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir));
  assert.equal(r.code, 99, r.stderr);
  assert.match(r.stderr, /agentload: \[phase\] scenario bundled: \d+ ms, at \d+ ms/);
  const args = fake.calls().at(-1)?.args ?? [];
  assert.equal(args.at(-1), '--verbose');
});

void test('agentload version, and an unknown command in one line (exit 2)', async () => {
  const v = await agentload(['version'], cleanEnv(project));
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^agentload \d+\.\d+\.\d+\n$/);
  const bad = await agentload(['launch'], cleanEnv(project));
  assert.equal(bad.code, 2);
  assert.deepEqual(errorLines(bad.stderr), [
    'agentload: unknown command "launch": use run, build, new, k6, k8s, report, compare, target or version (agentload help)',
  ]);
});
