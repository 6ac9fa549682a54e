/**
 * Before a k6 binary runs anything: the version floor, module names by version, and the `k6/x/*` extension
 * pre-flight, each against a stand-in k6 on PATH that reports a version and extensions. Every refusal is one
 * line with exit 2, k6 is never started, and the run folder holds only run.json and a failing junit.xml.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeFakeK6, type FakeK6 } from '../support/fake-k6.ts';
import { cleanEnv, errorLines, makeProject, readJson, runCli, scenarioSource, type Project } from './helpers.ts';

const cleanups: (() => void)[] = [];
after(() => {
  cleanups.forEach((c) => {
    c();
  });
});

function setup(opts: Parameters<typeof makeFakeK6>[0] = {}): { fake: FakeK6; project: Project; env: Record<string, string> } {
  const fake = makeFakeK6(opts);
  const project = makeProject();
  cleanups.push(
    () => {
      fake.cleanup();
    },
    () => {
      project.cleanup();
    },
  );
  return { fake, project, env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }, fake.dir) };
}

/** Nothing ran: the run folder holds run.json (with the exit code) and a junit.xml that fails, nothing else. */
function assertRefusedRun(project: Project, code: number): void {
  const dirs = project.runDirs();
  assert.equal(dirs.length, 1, 'one run folder');
  const dir = dirs[0] ?? '';
  assert.deepEqual(readdirSync(dir).sort(), ['junit.xml', 'run.json']);
  assert.equal((readJson(join(dir, 'run.json')) as { exitCode: number }).exitCode, code);
  assert.match(
    readFileSync(join(dir, 'junit.xml'), 'utf8'),
    new RegExp(`failures="1"[\\s\\S]*<failure message="exit code ${String(code)}: `),
  );
}

/** A plain k6 JavaScript script using the SQL extension (JS: no type check, like most k6 users' scripts). */
const SQL_SCRIPT = `import sql from 'k6/x/sql';
import driver from 'k6/x/sql/driver/sqlite3';
const db = sql.open(driver, ':memory:');
export const options = { vus: 1, iterations: 1 };
export default function () { db.query('select 1'); }
export function teardown() { db.close(); }
`;

void describe('k6 version floor', () => {
  void it('refuses k6 v0.48.0 in one line (exit 2) naming the floor, K6_BIN and --engine node; k6 is never run', async () => {
    const { fake, project, env } = setup({ version: '0.48.0' });
    const scenario = project.write('tooold.ts', scenarioSource());
    const r = await runCli([scenario], { cwd: project.dir, env });
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      `agentload: k6 v0.48.0 (${fake.bin}) is older than v0.49.0, the oldest k6 agentload supports: install a newer k6 (or point K6_BIN at one), or run on the embedded engine with --engine node`,
    ]);
    assert.equal(fake.calls().length, 0);
    assertRefusedRun(project, 2);
  });

  void it('runs on k6 v0.49.0, the floor', async () => {
    const { fake, project, env } = setup({ version: '0.49.0' });
    const scenario = project.write('floor.ts', scenarioSource());
    const r = await runCli([scenario, '--no-report'], { cwd: project.dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fake.calls().length, 1);
  });
});

void describe('module names by k6 version', () => {
  const timers = scenarioSource(
    "import { setTimeout } from 'k6/timers';\nexport function later(): void { setTimeout(() => undefined, 1); }",
  );

  void it('k6/timers becomes k6/experimental/timers for k6 v0.49.0, said on the bundle line and kept in run.json', async () => {
    const { fake, project, env } = setup({ version: '0.49.0' });
    const scenario = project.write('timersold.ts', timers);
    const r = await runCli([scenario, '--no-report'], { cwd: project.dir, env });
    assert.equal(r.code, 0, r.stderr);
    const bundle = readFileSync(join(project.build, 'timersold.js'), 'utf8');
    assert.match(bundle, /from "k6\/experimental\/timers"/);
    assert.doesNotMatch(bundle, /from "k6\/timers"/);
    assert.match(r.stderr, /bundle .*timersold\.js .*\(k6\/timers → k6\/experimental\/timers\)/);
    assert.equal(fake.calls().length, 1);
    const [runDir] = project.runDirs();
    assert.ok(runDir !== undefined);
    const manifest = readJson(join(runDir, 'run.json')) as { bundle: { moduleAliases: Record<string, string>; websocketsAlias: boolean } };
    assert.deepEqual(manifest.bundle.moduleAliases, { 'k6/timers': 'k6/experimental/timers' });
    assert.equal(manifest.bundle.websocketsAlias, true, 'v0.49 also needs the websockets alias (unused by this bundle)');
  });

  void it('k6/timers stays for k6 v0.50.0 and later', async () => {
    const { project, env } = setup({ version: '0.50.0' });
    const scenario = project.write('timersnew.ts', timers);
    const r = await runCli([scenario, '--no-report'], { cwd: project.dir, env });
    assert.equal(r.code, 0, r.stderr);
    const bundle = readFileSync(join(project.build, 'timersnew.js'), 'utf8');
    assert.match(bundle, /from "k6\/timers"/);
    assert.doesNotMatch(bundle, /k6\/experimental\/timers/);
    assert.doesNotMatch(r.stderr, /→/);
  });
});

void describe('k6/x extension pre-flight', () => {
  void it('a k6 without the SQL extension: one line naming the missing modules, the xk6 build line and --engine node (exit 2); k6 never runs', async () => {
    const { fake, project, env } = setup({ version: '1.2.3' });
    const script = project.write('sqlcheck.js', SQL_SCRIPT);
    const r = await runCli([script], { cwd: project.dir, env });
    assert.equal(r.code, 2, r.stderr);
    const lines = errorLines(r.stderr).filter((l) => !/^agentload: (engine|bundle) /.test(l));
    assert.deepEqual(lines, [
      `agentload: sqlcheck.js imports k6/x/sql, k6/x/sql/driver/sqlite3, which ${fake.bin} (k6 v1.2.3) was not built with (it lists no JavaScript extensions): build a k6 with \`xk6 build v1.2.3 --with github.com/grafana/xk6-sql --with github.com/grafana/xk6-sql-driver-sqlite3\` and set K6_BIN to it, or run on the embedded engine with --engine node`,
    ]);
    assert.equal(fake.calls().length, 0, 'k6 was never started');
    assertRefusedRun(project, 2);
  });

  void it('a k6 with only the SQL module: the missing driver alone is named', async () => {
    const { project, env } = setup({ version: '1.2.3', extensions: ['k6/x/sql'] });
    const script = project.write('sqldriver.js', SQL_SCRIPT);
    const r = await runCli([script], { cwd: project.dir, env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^agentload: sqldriver\.js imports k6\/x\/sql\/driver\/sqlite3, which .* \(it has k6\/x\/sql\): build/m);
  });

  void it('k6 v2: k6/experimental/redis becomes the k6/x/redis extension, refused without it; K6_AUTO_EXTENSION_RESOLUTION=true lets k6 fetch it', async () => {
    const { fake, project, env } = setup({ version: '2.0.0' });
    const script = project.write(
      'cachev2.js',
      "import redis from 'k6/experimental/redis';\nconst client = new redis.Client(__ENV.REDIS_URL);\nexport default async function () { await client.get('k'); }\n",
    );
    const refused = await runCli([script], { cwd: project.dir, env });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /^agentload: cachev2\.js imports k6\/x\/redis, which .* \(k6 v2\.0\.0\) was not built with .*`xk6 build v2\.0\.0 --with github\.com\/grafana\/xk6-redis`/m,
    );
    assert.equal(fake.calls().length, 0);
    const fetched = await runCli([script, '--no-report'], { cwd: project.dir, env: { ...env, K6_AUTO_EXTENSION_RESOLUTION: 'true' } });
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.match(fetched.stderr, /\(k6\/experimental\/redis → k6\/x\/redis\)/);
    assert.match(
      fetched.stderr,
      /^agentload: k6 will fetch k6\/x\/redis itself \(K6_AUTO_EXTENSION_RESOLUTION=true\): this needs network access$/m,
    );
    assert.match(readFileSync(join(project.build, 'cachev2.js'), 'utf8'), /from "k6\/x\/redis"/);
    assert.equal(fake.calls().length, 1);
  });

  void it('a k6 built with both extensions runs the script', async () => {
    const { fake, project, env } = setup({ version: '1.2.3', extensions: ['k6/x/sql', 'k6/x/sql/driver/sqlite3'] });
    const script = project.write('sqlok.js', SQL_SCRIPT);
    const r = await runCli([script, '--no-report'], { cwd: project.dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fake.calls().length, 1);
  });
});
