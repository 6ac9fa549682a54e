/**
 * The k6 path, against a stand-in k6 on PATH: the exact argument list, the exit code passed back unchanged,
 * `k6 cloud run`, the k6/websockets alias for binaries before v1.6.0, and run.json.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeFakeK6, type FakeK6 } from '../support/fake-k6.ts';
import { cleanEnv, collect, makeProject, readJson, ROOT, runCli, scenarioSource, type Project } from './helpers.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

function setup(opts: Parameters<typeof makeFakeK6>[0] = {}): { fake: FakeK6; project: Project } {
  const fake = makeFakeK6(opts);
  const project = makeProject();
  cleanups.push(
    () => fake.cleanup(),
    () => project.cleanup(),
  );
  return { fake, project };
}

void describe('k6 path', () => {
  void it('passes run, the bundle, its outputs, then the user flags in order, and returns k6 exit code 99 unchanged', async () => {
    const { fake, project } = setup({ exitCode: 99 });
    const scenario = project.write('argcheck.ts', scenarioSource());
    const r = await runCli([scenario, '--vus', '2', '-e', 'FOO=bar', '--no-report', '--tag=team=x', '--duration', '1s', '--http-debug'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir),
    });
    assert.equal(r.code, 99, r.stderr);
    const calls = fake.calls();
    assert.equal(calls.length, 1, 'k6 run called once');
    const [runDir] = project.runDirs();
    assert.ok(runDir !== undefined, 'a run folder exists');
    assert.match(runDir, /argcheck-\d{8}-\d{6}$/);
    assert.deepEqual(calls[0]?.args, [
      'run',
      join(project.build, 'argcheck.js'),
      '--out',
      `json=${join(runDir, 'out.json.gz')}`,
      `--summary-export=${join(runDir, 'summary-export.json')}`,
      '--vus',
      '2',
      '-e',
      'FOO=bar',
      '--tag=team=x',
      '--duration',
      '1s',
      '--http-debug',
    ]);
    assert.equal(calls[0].env.AGENTLOAD_HANDLE_SUMMARY_PATH, join(runDir, 'handle-summary-data.json'));
    const manifest = readJson(join(runDir, 'run.json')) as Record<string, unknown>;
    assert.equal(manifest.exitCode, 99);
    assert.equal(manifest.engineExitCode, 99);
    assert.deepEqual(manifest.engine, { kind: 'k6', name: 'k6', version: '0.49.0', path: fake.bin, command: 'k6 run' });
    assert.equal((manifest.toolkit as { name: string }).name, 'agentload');
    assert.ok(typeof manifest.startedAt === 'string' && typeof manifest.endedAt === 'string');
    assert.ok(existsSync(join(runDir, 'out.json.gz')) && existsSync(join(runDir, 'summary-export.json')));
    assert.ok(existsSync(join(runDir, 'handle-summary-data.json')));
  });

  void it('returns exit code 0 when k6 passes, and the bundle is what k6 was given', async () => {
    const { fake, project } = setup({ exitCode: 0 });
    const scenario = project.write('passing.ts', scenarioSource());
    const r = await runCli([scenario, '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir),
    });
    assert.equal(r.code, 0, r.stderr);
    const bundle = readFileSync(join(project.build, 'passing.js'), 'utf8');
    assert.match(bundle, /from "k6\/http"/, 'k6 modules stay external');
    assert.match(bundle, /export \{[^}]*handleSummary/s, 'the entry adds handleSummary');
    assert.match(bundle, /sourceMappingURL=passing\.js\.map/);
    assert.ok(existsSync(join(project.build, 'passing.js.map')));
    assert.match(r.stderr, /bundle .*passing\.js \d+\.\d KB \(es2017\)/);
    assert.match(r.stdout, /results:.*reports\/passing-\d{8}-\d{6}\//);
  });

  void it('runs `k6 cloud run <bundle> <user flags>` with --cloud, without local outputs', async () => {
    const { fake, project } = setup({ exitCode: 0 });
    const scenario = project.write('cloudy.ts', scenarioSource());
    const r = await runCli(['--cloud', scenario, '--vus', '3'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'https://staging.example.test', AGENTLOAD_ALLOWED_HOSTS: 'staging.example.test' }, fake.dir),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fake.calls()[0]?.args, ['cloud', 'run', join(project.build, 'cloudy.js'), '--vus', '3']);
  });

  void it('refuses --cloud without a BASE_URL (the cloud cannot reach a platform on this machine)', async () => {
    const { fake, project } = setup();
    const scenario = project.write('cloudless.ts', scenarioSource());
    const r = await runCli(['--cloud', scenario], { cwd: project.dir, env: cleanEnv(project, {}, fake.dir) });
    assert.equal(r.code, 104);
    assert.equal(fake.calls().length, 0);
    assert.match(r.stderr, /^agentload: --cloud .*BASE_URL/m);
  });

  const wsScenario = scenarioSource(
    "import { WebSocket } from 'k6/websockets';\nexport function ws(): void { new WebSocket('ws://127.0.0.1:9/ws').close(); }",
  );

  void it('aliases k6/websockets to k6/experimental/websockets for k6 v0.49.0', async () => {
    const { fake, project } = setup({ version: '0.49.0' });
    const scenario = project.write('wsold.ts', wsScenario);
    const r = await runCli([scenario, '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir),
    });
    assert.equal(r.code, 0, r.stderr);
    const bundle = readFileSync(join(project.build, 'wsold.js'), 'utf8');
    assert.match(bundle, /from "k6\/experimental\/websockets"/);
    assert.doesNotMatch(bundle, /from "k6\/websockets"/);
  });

  void it('keeps k6/websockets for k6 v1.6.0 and later', async () => {
    const { fake, project } = setup({ version: '1.6.0' });
    const scenario = project.write('wsnew.ts', wsScenario);
    const r = await runCli([scenario, '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir),
    });
    assert.equal(r.code, 0, r.stderr);
    const bundle = readFileSync(join(project.build, 'wsnew.js'), 'utf8');
    assert.match(bundle, /from "k6\/websockets"/);
    assert.doesNotMatch(bundle, /k6\/experimental\/websockets/);
  });

  void it('uses K6_BIN over PATH', async () => {
    const { fake, project } = setup({ exitCode: 0 });
    const scenario = project.write('k6bin.ts', scenarioSource());
    const r = await runCli([scenario, '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9', K6_BIN: fake.bin }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fake.calls().length, 1);
  });

  void it('starts the bundled platform when BASE_URL is unset and gives k6 its URL', async () => {
    const { fake, project } = setup({ exitCode: 0, hitBaseUrl: true });
    const scenario = project.write('bundledtarget.ts', scenarioSource());
    const r = await runCli([scenario, '--no-report'], { cwd: project.dir, env: cleanEnv(project, {}, fake.dir) });
    assert.equal(r.code, 0, r.stderr);
    const url = fake.calls()[0]?.env.BASE_URL ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(r.stderr, new RegExp(`target bundled platform at ${url.replace(/\./g, '\\.')}`));
    const [runDir] = project.runDirs();
    assert.ok(runDir !== undefined);
    const manifest = readJson(join(runDir, 'run.json')) as { target: { kind: string }; env: { names: string[] } };
    assert.equal(manifest.target.kind, 'bundled');
    assert.ok(manifest.env.names.includes('BASE_URL'));
  });

  void it('without AGENTLOAD_BUILD_DIR the bundle goes into the run folder; a bundle over budget leaves run.json and a failing junit.xml', async () => {
    const { fake, project } = setup({ exitCode: 0 });
    const scenario = project.write('inrun.ts', scenarioSource());
    const env = cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir);
    delete env.AGENTLOAD_BUILD_DIR;
    const r = await runCli([scenario, '--no-report'], { cwd: project.dir, env });
    assert.equal(r.code, 0, r.stderr);
    const [runDir] = project.runDirs();
    assert.ok(runDir !== undefined);
    assert.equal(fake.calls()[0]?.args[1], join(runDir, 'inrun.js'), 'k6 ran the bundle kept with the run');
    assert.ok(existsSync(join(runDir, 'inrun.js')) && existsSync(join(runDir, 'inrun.js.map')));
    assert.ok(!existsSync(project.build), 'nothing written to build/');
    const over = await runCli([scenario, '--bundle-budget', '0.1'], { cwd: project.dir, env });
    assert.equal(over.code, 120, over.stderr);
    const refused = project.runDirs().filter((d) => d !== runDir);
    assert.equal(refused.length, 1, 'the refused run has a folder of its own');
    assert.match(readFileSync(join(refused[0] ?? '', 'junit.xml'), 'utf8'), /<failure message="exit code 120: /);
    assert.equal((readJson(join(refused[0] ?? '', 'run.json')) as { exitCode: number }).exitCode, 120);
  });
  void it("output not a terminal (CI logs): k6's logfmt error lines become readable lines, stack frames on lines of their own; stdout passes through", async () => {
    // Recorded from k6 v0.49 with stderr not a terminal (test/fixtures/k6-reference, exception.js and fixture.js).
    const { fake, project } = setup({
      exitCode: 99,
      // A handleSummary's text often ends without a newline: its last line still comes through.
      stdoutText: 'handleSummary ran\nits last line, no newline',
      stderrLines: [
        'time="2026-11-23T15:58:23Z" level=error msg="Error: boom from script\\n\\tat file:///k6-reference/exception.js:3:35(3)\\n" executor=shared-iterations scenario=default source=stacktrace',
        `time="2026-11-23T15:58:18Z" level=error msg="thresholds on metrics 'checks, fixture_ttft' have been crossed"`,
      ],
    });
    const scenario = project.write('logfmt.ts', scenarioSource());
    const r = await runCli([scenario, '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir),
    });
    assert.equal(r.code, 99, r.stderr);
    assert.match(r.stdout, /^handleSummary ran$/m);
    assert.match(r.stdout, /^its last line, no newline$/m);
    assert.match(r.stderr, /^ERRO\[\d{4}\] Error: boom from script {2}executor=shared-iterations scenario=default source=stacktrace$/m);
    assert.match(r.stderr, /^ {4}at file:\/\/\/k6-reference\/exception\.js:3:35\(3\)$/m);
    assert.match(r.stderr, /^ERRO\[\d{4}\] thresholds on metrics 'checks, fixture_ttft' have been crossed$/m);
    assert.doesNotMatch(r.stderr, /time="|\\n\\tat/, 'no logfmt left');
  });

  /** The test environment without cleanEnv's NO_COLOR, so colours are k6's default. */
  function withoutNoColor(env: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NO_COLOR'));
  }

  /**
   * The run command under `script` (util-linux): its stdout a pseudo-terminal, its stderr redirected to a file
   * (`2>log`), as a user's `npm run k6 -- … 2>log` at a terminal. Returns the exit code and the log.
   */
  async function underTerminal(
    project: Project,
    args: readonly string[],
    env: Record<string, string>,
  ): Promise<{ code: number | null; log: string }> {
    const log = join(project.dir, 'stderr.log');
    const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, join(ROOT, 'scripts/k6.mjs'), ...args].map(quote).join(' ') + ` 2>${quote(log)}`;
    const r = await collect(
      spawn('script', ['-qec', command, '/dev/null'], {
        cwd: project.dir,
        env: { ...env, SHELL: '/bin/sh' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    return { code: r.code, log: existsSync(log) ? readFileSync(log, 'utf8') : '' };
  }

  void it('stdout a terminal, stderr redirected (2>log): k6 gets the terminal for stdout (its colours) and a pipe for stderr, made readable', async () => {
    const { fake, project } = setup({
      exitCode: 0,
      stderrLines: [`time="2026-11-23T15:58:18Z" level=error msg="thresholds on metrics 'checks' have been crossed"`],
    });
    const scenario = project.write('tty.ts', scenarioSource());
    const env = withoutNoColor(cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir));
    const r = await underTerminal(project, [scenario, '--no-report'], env);
    assert.equal(r.code, 0, r.log);
    const call = fake.calls()[0];
    assert.deepEqual(call?.tty, { stdout: true, stderr: false }, 'decided per stream, as k6 does');
    assert.equal(call.env.AGENTLOAD_SUMMARY_COLORS, '1', 'the summary is coloured: stdout is a terminal');
    assert.match(r.log, /^ERRO\[\d{4}\] thresholds on metrics 'checks' have been crossed$/m, 'the redirected stderr is made readable');
  });

  void it('NO_COLOR (even empty), K6_NO_COLOR or --no-color: no summary colours on a terminal; TERM=dumb: k6 gets no terminal at all', async () => {
    const { fake, project } = setup({ exitCode: 0 });
    const scenario = project.write('nocolor.ts', scenarioSource());
    const env = withoutNoColor(cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir));
    for (const [extra, args] of [
      [{ NO_COLOR: '' }, []],
      [{ K6_NO_COLOR: '1' }, []],
      [{}, ['--no-color']],
      [{ TERM: 'dumb' }, []],
    ] as const) {
      const r = await underTerminal(project, [scenario, '--no-report', ...args], { ...env, ...extra });
      assert.equal(r.code, 0, r.log);
    }
    const calls = fake.calls();
    assert.deepEqual(
      calls.map((c) => [c.tty.stdout, c.env.AGENTLOAD_SUMMARY_COLORS]),
      [
        [true, '0'],
        [true, '0'],
        [true, '0'],
        [false, '0'],
      ],
    );
  });
});
