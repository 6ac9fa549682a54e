/**
 * Command-line polish: `agentload --help` prints "Usage" once with the commands, the scenarios and the exit
 * codes; `npm run target -- --help` prints help instead of starting the platform; a scenario is named by its
 * name (`npm run k6 -- api-latency`); scenarios/smoke.ts reads BASE_URL through lib/config (a trailing slash
 * does not make `//health`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { agentloadHelp } from '../../src/cli/main.ts';
import { makeFakeK6 } from '../support/fake-k6.ts';
import { cleanEnv, collect, countingServer, makeProject, ROOT, runCli, scenarioSource } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

void test('agentload --help: "Usage" once, every command, the scenarios of this install and the exit codes', async () => {
  const r = await collect(
    spawn(process.execPath, [join(ROOT, 'bin/agentload.mjs'), '--help'], {
      cwd: project.dir,
      env: cleanEnv(project),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/Usage/g)?.length, 1, r.stdout);
  for (const command of ['run', 'build', 'new', 'k6', 'k8s', 'report', 'compare', 'target', 'version'])
    assert.match(r.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
  assert.match(r.stdout, /^Scenarios: .*\bapi-latency\b.*\bsmoke\b/m);
  for (const code of [0, 2, 3, 4, 5, 99, 104, 105, 107, 108, 120])
    assert.match(r.stdout, new RegExp(`^ +${String(code)}  \\S`, 'm'), `exit code ${String(code)}`);
  assert.match(r.stdout, /--summary-mode/, 'the run flags too');
  assert.equal(agentloadHelp(ROOT), r.stdout.trimEnd());
});

void test('npm run target -- --help prints help and starts nothing; an argument it does not take is one line, exit 2', async () => {
  const run = (args: string[]): ReturnType<typeof collect> =>
    collect(
      spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/target.mjs'), ...args], {
        cwd: ROOT,
        env: cleanEnv(project),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  const help = await run(['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: npm run target/);
  assert.match(help.stdout, /PORT/);
  assert.doesNotMatch(help.stdout, /listening/);
  const bad = await run(['--port', '3000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unexpected argument "--port".*npm run target -- --help/);
});

void test('a scenario named by its name runs scenarios/<name>.ts; an unknown name lists the scenarios there', async () => {
  const server = await countingServer();
  try {
    mkdirSync(join(project.dir, 'scenarios'), { recursive: true });
    project.write('scenarios/by-name.ts', scenarioSource());
    const env = cleanEnv(project, { BASE_URL: server.url });
    const r = await runCli(['by-name', '--engine', 'node', '--no-report'], { cwd: project.dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.requests(), 1);
    const missing = await runCli(['no-such'], { cwd: project.dir, env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /scenario file not found: no-such.*scenarios here: by-name/);
  } finally {
    await server.close();
  }
});

void test('scenarios/smoke.ts with BASE_URL ending in a slash asks for /health, not //health', async () => {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  try {
    const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`;
    const r = await runCli([join(ROOT, 'scenarios/smoke.ts'), '--engine', 'node', '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: url }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(paths.length >= 3 && paths.every((p) => p === '/health'), paths.join(' '));
  } finally {
    await new Promise<void>((res) =>
      server.close(() => {
        res();
      }),
    );
  }
});

void test('scenarios/soak.ts reads DURATION and RATE like the other scenarios (SOAK_DURATION / SOAK_RATE still read when those are unset)', async () => {
  const server = await countingServer();
  try {
    const r = await runCli([join(ROOT, 'scenarios/soak.ts'), '--engine', 'node', '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: server.url, DURATION: 'banana' }),
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /DURATION must be a positive duration like "30s", "5m" or "8h", got "banana"/, 'DURATION is the one read');
  } finally {
    await server.close();
  }
});

void test("api-latency's setup against a system that answers 404: the error names the request, the status and the shape expected", async () => {
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end('{"error":"not found"}');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  try {
    const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
    const r = await runCli([join(ROOT, 'scenarios/api-latency.ts'), '--engine', 'node', '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: url }),
    });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /GET \/api\/agents → 404 \(expected 200 with \{"items": \[\{"id": \.\.\.\}\]\}\); POST \/api\/agents → 404 \(expected 201 with \{"agents"/,
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /check the system is up/);
  } finally {
    await new Promise<void>((res) =>
      server.close(() => {
        res();
      }),
    );
  }
});

void test('agentload new <name> writes a scenario that type-checks and runs as written (header, lib/config, endpoint tags, profile thresholds); a bad or taken name is one line, exit 2', async () => {
  const dir = join(project.dir, 'scaffold');
  mkdirSync(dir);
  // The new scenario imports ../lib and ../objectives as the others do.
  for (const d of ['lib', 'objectives', 'shared']) symlinkSync(join(ROOT, d), join(dir, d));
  const bin = (args: string[], env: Record<string, string> = cleanEnv(project)): ReturnType<typeof collect> =>
    collect(spawn(process.execPath, [join(ROOT, 'bin/agentload.mjs'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const made = await bin(['new', 'agent-probe']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^wrote scenarios\/agent-probe\.ts: .* npm run k6 -- agent-probe$/m);
  const text = readFileSync(join(dir, 'scenarios', 'agent-probe.ts'), 'utf8');
  for (const part of [
    /^ \* agent-probe — /m,
    /^ \* Variables:$/m,
    /from '\.\.\/lib\/config\.ts'/,
    /endpoint: 'health'/,
    /selectProfile\(env\)/,
    /export async function agentProbe\(\)/,
  ])
    assert.match(text, part);
  const server = await countingServer();
  try {
    const r = await bin(
      ['run', 'agent-probe', '--engine', 'node', '--no-report', '-e', 'DURATION=2s'],
      cleanEnv(project, { BASE_URL: server.url }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(server.requests() >= 5, `${String(server.requests())} requests`);
  } finally {
    await server.close();
  }
  const again = await bin(['new', 'agent-probe']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /scenarios\/agent-probe\.ts exists already/);
  const bad = await bin(['new', 'Bad Name']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /scenario name "Bad Name" must be lower-case/);
});

void test('--open opens report.html with $BROWSER when the run is done', async () => {
  const server = await countingServer();
  const opened = join(project.dir, 'opened.txt');
  const browser = project.write('fake-browser.sh', `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  chmodSync(browser, 0o755);
  try {
    const scenario = project.write('opened.ts', scenarioSource());
    const r = await runCli([scenario, '--engine', 'node', '--open'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: server.url, BROWSER: browser }),
    });
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 50 && !existsSync(opened); i++) await new Promise((res) => setTimeout(res, 100));
    const runDir =
      project
        .runDirs()
        .filter((d) => d.includes('opened-'))
        .at(-1) ?? assert.fail('a run folder');
    assert.equal(readFileSync(opened, 'utf8'), join(runDir, 'report.html'));
  } finally {
    await server.close();
  }
});

void test('a run that recorded nothing: "no report: the run recorded no samples", not a hint to run k6 with --out json', async () => {
  // A k6 that exits 0 without writing out.json (the run command always asks it to): nothing to report on.
  const silent = makeFakeK6({ writesOutputs: false });
  try {
    const scenario = project.write('recorded-nothing.ts', scenarioSource());
    const r = await runCli([scenario], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, silent.dir) });
    assert.equal(silent.calls().length, 1, 'k6 ran once');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^agentload: no report: the run recorded no samples \(no iteration ran: check the scenario's options/m);
    assert.doesNotMatch(r.stderr, /--out json|report not built/, 'no hint about k6 outputs the run command already asked for');
  } finally {
    silent.cleanup();
  }
});
