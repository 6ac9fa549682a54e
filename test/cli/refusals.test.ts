/**
 * Failures give one clear line and the right code, before any traffic: a missing scenario, a type error
 * (107; a server in the test sees no request), a non-loopback BASE_URL without the allowlist (104), and the
 * same host accepted once it is listed. A stand-in k6 is on PATH, so "no traffic" is checked for real: it
 * would request BASE_URL/health if it were ever started.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { makeFakeK6, type FakeK6 } from '../support/fake-k6.ts';
import {
  cleanEnv,
  errorLines,
  runCli,
  scenarioSource,
  refusalBench,
  type CountingServer,
  type Project,
  type RefusalBench,
} from './helpers.ts';

let server: CountingServer;
let baseUrl = '';
let fake: FakeK6;
let project: Project;
let bench: RefusalBench;

before(async () => {
  bench = await refusalBench();
  ({ server, fake, project } = bench);
  baseUrl = server.url;
});

after(() => bench.close());

void test('control: a valid scenario reaches the test server (so "no request" below means something)', async () => {
  const before = server.requests();
  const scenario = project.write('control.ts', scenarioSource());
  const r = await runCli([scenario, '--no-report'], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: baseUrl }, fake.dir) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(server.requests() - before, 1);
});

void test('a missing scenario file: one line naming it, exit 2, k6 never started', async () => {
  const calls = fake.calls().length;
  const r = await runCli(['scenarios/does-not-exist.ts'], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: baseUrl }, fake.dir) });
  assert.equal(r.code, 2);
  assert.deepEqual(errorLines(r.stderr), ['agentload: scenario file not found: scenarios/does-not-exist.ts: check the path']);
  assert.equal(fake.calls().length, calls);
});

void test('no scenario at all: one line with the usage', async () => {
  const r = await runCli(['--vus', '2'], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: baseUrl }, fake.dir) });
  assert.equal(r.code, 2);
  assert.equal(errorLines(r.stderr).length, 1);
  assert.match(r.stderr, /^agentload: no scenario given: npm run k6 -- scenarios\/<name>\.ts/);
});

void test('a type error: file:line:col message, exit 107, no request reaches the server', async () => {
  const before = server.requests();
  const calls = fake.calls().length;
  const scenario = project.write(
    'typo.ts',
    `import http from 'k6/http';\nconst retries: number = 'three';\nexport default async function (): Promise<void> {\n  await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}/health\`);\n  console.log(retries);\n}\n`,
  );
  const r = await runCli([scenario], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: baseUrl }, fake.dir) });
  assert.equal(r.code, 107);
  assert.deepEqual(errorLines(r.stderr), ["typo.ts:2:7 Type 'string' is not assignable to type 'number'."]);
  assert.equal(server.requests() - before, 0, 'no request reached the server');
  assert.equal(fake.calls().length, calls, 'k6 was never started');
  const dirs = project.runDirs().filter((d) => d.includes('typo-'));
  assert.equal(dirs.length, 1, 'one run folder, for run.json and a failing junit.xml');
  assert.deepEqual(readdirSync(dirs[0] ?? '').sort(), ['junit.xml', 'run.json'], 'nothing was bundled or run');
});

void test('a scenario calling a k6 API wrongly is a type error too (k6 types are checked)', async () => {
  const scenario = project.write('wrongapi.ts', `import http from 'k6/http';\nexport default function (): void { http.get(42); }\n`);
  const r = await runCli([scenario], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: baseUrl }, fake.dir) });
  assert.equal(r.code, 107);
  assert.match(r.stderr, /^wrongapi\.ts:2:45 Argument of type 'number' is not assignable/);
});

void test('a non-loopback BASE_URL without the allowlist: refused in one line, exit 104, nothing started', async () => {
  const calls = fake.calls().length;
  const scenario = project.write('remote.ts', scenarioSource());
  const r = await runCli([scenario], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: 'http://loadtest.example.test:8080' }, fake.dir),
  });
  assert.equal(r.code, 104);
  assert.deepEqual(errorLines(r.stderr), [
    'agentload: BASE_URL host "loadtest.example.test" is not loopback and not in AGENTLOAD_ALLOWED_HOSTS: to load-test it on purpose, set AGENTLOAD_ALLOWED_HOSTS=loadtest.example.test',
  ]);
  assert.equal(fake.calls().length, calls);
});

void test('WS_URL is checked as well', async () => {
  const scenario = project.write('remotews.ts', scenarioSource());
  const r = await runCli([scenario], {
    cwd: project.dir,
    env: cleanEnv(
      project,
      { BASE_URL: baseUrl, WS_URL: 'wss://ws.example.test/hub', AGENTLOAD_ALLOWED_HOSTS: 'other.example.test' },
      fake.dir,
    ),
  });
  assert.equal(r.code, 104);
  assert.match(r.stderr, /^agentload: WS_URL host "ws\.example\.test" is not loopback/);
});

void test('the same host is accepted once listed in AGENTLOAD_ALLOWED_HOSTS (the stand-in k6 sends nothing there)', async () => {
  const stillFake = makeFakeK6();
  try {
    const scenario = project.write('listed.ts', scenarioSource());
    const r = await runCli([scenario, '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(
        project,
        { BASE_URL: 'http://loadtest.example.test:8080', AGENTLOAD_ALLOWED_HOSTS: 'other.test, loadtest.example.test' },
        stillFake.dir,
      ),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(stillFake.calls().length, 1);
    assert.equal(stillFake.calls()[0]?.env.BASE_URL, 'http://loadtest.example.test:8080');
  } finally {
    stillFake.cleanup();
  }
});

void test('a bad toolkit flag value: one line, exit 2', async () => {
  const scenario = project.write('badflag.ts', scenarioSource());
  const r = await runCli([scenario, '--engine', 'go'], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: baseUrl }, fake.dir) });
  assert.equal(r.code, 2);
  assert.deepEqual(errorLines(r.stderr), ['agentload: --engine: --engine must be one of auto, k6, node, got "go"']);
});
