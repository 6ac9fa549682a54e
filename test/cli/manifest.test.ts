/**
 * run.json and secrets: env NAMES only (from the process, .env and -e flags), never values; no file in the
 * run folder contains a secret value. Ctrl+C: forwarded to k6 once, run.json still written, marked interrupted.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { makeFakeK6 } from '../support/fake-k6.ts';
import { cleanEnv, collect, makeProject, readJson, runCli, scenarioSource, spawnCli } from './helpers.ts';

// Exit 99 like the real k6 run whose outputs the stand-in copies (its thresholds were crossed).
const fake = makeFakeK6({ exitCode: 99 });
const project = makeProject();
after(() => {
  fake.cleanup();
  project.cleanup();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

function text(file: string): string {
  const raw = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

void test('run.json records env names, not values; no secret reaches any file in the run folder', async () => {
  const secrets = {
    process: 'proc-secret-4f9c1d',
    documented: 'xoxb-documented-5a6b',
    dotenv: 'dotenv-signing-secret-77aa',
    flag: 'flag-token-value-1b2c',
    url: 'db-password-9e8d',
  };
  project.write('.env', `FROM_DOTENV=plain-dotenv-value\nSLACK_SIGNING_SECRET=${secrets.dotenv}\n`);
  const scenario = project.write('secretive.ts', scenarioSource());
  const r = await runCli([scenario, '-e', `API_TOKEN=${secrets.flag}`, '--out', `influxdb=http://user:${secrets.url}@127.0.0.1:8086/k6`], {
    cwd: project.dir,
    env: cleanEnv(
      project,
      { BASE_URL: 'http://127.0.0.1:9', FAKE_SECRET_TOKEN: secrets.process, SLACK_BOT_TOKEN: secrets.documented },
      fake.dir,
    ),
  });
  assert.equal(r.code, 99, r.stderr);
  const call = fake.calls().at(-1);
  assert.equal(call?.env.FAKE_SECRET_TOKEN, secrets.process, 'k6 sees the secret (it needs it)');
  assert.equal(call.env.FROM_DOTENV, 'plain-dotenv-value', '.env reaches k6');

  const runDir = project.runDirs().find((d) => d.includes('secretive-'));
  assert.ok(runDir !== undefined);
  const manifest = readJson(join(runDir, 'run.json')) as { env: { names: string[] }; args: string[] };
  // Names from .env, -e flags, variables documented in .env.example, and the ones the toolkit sets.
  for (const name of ['SLACK_BOT_TOKEN', 'FROM_DOTENV', 'SLACK_SIGNING_SECRET', 'API_TOKEN', 'BASE_URL', 'AGENTLOAD_HANDLE_SUMMARY_PATH']) {
    assert.ok(manifest.env.names.includes(name), `env name ${name} recorded`);
  }
  for (const name of ['HOME', 'FAKE_SECRET_TOKEN']) {
    assert.ok(!manifest.env.names.includes(name), `unrelated variable ${name} is not listed`);
  }
  assert.ok(manifest.args.includes('API_TOKEN=***'), `args masked: ${manifest.args.join(' ')}`);

  const files = filesUnder(runDir);
  assert.ok(files.length >= 4, `run folder has the outputs and run.json: ${files.join(', ')}`);
  for (const file of files) {
    const body = text(file);
    for (const [where, value] of Object.entries(secrets)) {
      assert.ok(!body.includes(value), `${file} contains the ${where} secret`);
    }
  }
  // The check can fail: the fake's own log (outside the run folder) does hold the secret.
  assert.ok(readFileSync(fake.log, 'utf8').includes(secrets.process));
});

void test("run.json records how busy the machine was during the load (a k6 binary too), and the report keeps it as the run's noise figures", async () => {
  const scenario = project.write('noisy.ts', scenarioSource());
  const r = await runCli([scenario], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir) });
  assert.equal(r.code, 99, r.stderr);
  const runDir = project.runDirs().find((d) => d.includes('noisy-'));
  assert.ok(runDir !== undefined);
  const { machine } = readJson(join(runDir, 'run.json')) as {
    machine?: { cores: number; loadPerCore?: { mean: number; max: number; samples: number }; schedLagMs?: { p99: number } };
  };
  assert.ok(machine !== undefined, 'run.json has machine');
  assert.ok(machine.cores >= 1);
  assert.ok(machine.loadPerCore !== undefined && machine.loadPerCore.samples >= 2 && machine.loadPerCore.mean >= 0);
  const verdict = readJson(join(runDir, 'verdict.json')) as { baseline: { noise?: { loadPerCore?: number; sendingP99Ms?: number } } };
  assert.equal(verdict.baseline.noise?.loadPerCore, machine.loadPerCore.mean);
  assert.equal(typeof verdict.baseline.noise.sendingP99Ms, 'number', "the generator's http_req_sending p99 from k6's output");
});

void test('Ctrl+C: forwarded to k6 exactly once, exit 105, run.json written and marked interrupted', async () => {
  const waiting = makeFakeK6({ waitForSignal: true });
  try {
    const scenario = project.write('interrupted.ts', scenarioSource());
    const child = spawnCli([scenario, '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, waiting.dir),
    });
    const done = collect(child);
    const deadline = Date.now() + 60_000;
    while (!waiting.calls().some((c) => c.signal === 'waiting')) {
      if (Date.now() > deadline) throw new Error('k6 stand-in never started');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 105, r.stderr);
    assert.deepEqual(
      waiting.calls().map((c) => c.signal),
      ['waiting', 'SIGINT'],
    );
    const runDir = project.runDirs().find((d) => d.includes('interrupted-'));
    assert.ok(runDir !== undefined);
    const manifest = readJson(join(runDir, 'run.json')) as { interrupted: boolean; exitCode: number };
    assert.equal(manifest.interrupted, true);
    assert.equal(manifest.exitCode, 105);
  } finally {
    waiting.cleanup();
  }
});
