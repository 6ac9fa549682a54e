/**
 * A scenario whose options k6 refuses (104) or whose init code throws (107) on the embedded engine: the run
 * command finds out before it sends anything, prints the engine's own lines and no misleading hint, and
 * leaves run.json and a junit.xml that fails. The bundled platform starts side by side with the checks: its
 * process is seen running while they run, is stopped unannounced when one fails, and none is left behind.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { cleanEnv, collect, makeProject, pidsWithEnv, readJson, spawnCli, type CliResult } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

const scenario = (name: string, options: string, initCode = ''): string =>
  project.write(
    name,
    `import http from 'k6/http';
${initCode}
export const options = ${options};
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}/health\`);
}
`,
  );

/** Pids of the bundled platform's processes (scripts/target.mjs) whose environment holds `marker`. */
const platformPids = (marker: string): number[] => pidsWithEnv(marker, 'target.mjs');

/** Runs `child` to its end, noting every platform process marked `marker` seen meanwhile (polled every 50 ms). */
async function collectWatching(child: ChildProcess, marker: string): Promise<{ r: CliResult; seen: Set<number> }> {
  const seen = new Set<number>();
  const watch = setInterval(() => {
    for (const pid of platformPids(marker)) seen.add(pid);
  }, 50);
  const r = await collect(child).finally(() => {
    clearInterval(watch);
  });
  return { r, seen };
}

for (const c of [
  {
    file: 'badthreshold.ts',
    options: "{ iterations: 1, thresholds: { http_req_duration: ['p(95)<<500'] } }",
    init: '',
    code: 104,
    engineLine: /^ERRO\[\d{4}\] failed parsing threshold expresion's "p\(95\)<<500" right hand side/m,
  },
  {
    file: 'badinit.ts',
    options: '{ iterations: 1 }',
    init: "if (__ENV.BASE_URL !== undefined) throw new Error('init refuses to go on');",
    code: 107,
    engineLine: /init refuses to go on/,
  },
]) {
  void test(`exit ${String(c.code)} found before anything is sent: the platform started alongside is stopped, the engine's own line, a failing junit.xml`, async () => {
    // The platform's own variables reach it: a SQLite file of this test's marks its process.
    const marker = `SQLITE_PATH=${project.dir}/platform-${randomBytes(6).toString('hex')}.sqlite`;
    const child = spawnCli([scenario(c.file, c.options, c.init), '--engine', 'node'], {
      cwd: project.dir,
      env: cleanEnv(project, { SQLITE_PATH: marker.slice('SQLITE_PATH='.length) }),
    });
    const { r, seen } = await collectWatching(child, marker);
    assert.equal(r.code, c.code, r.stderr);
    assert.ok(seen.size > 0, 'the platform started while the checks ran');
    assert.deepEqual(platformPids(marker), [], 'no platform process is left');
    assert.match(r.stderr, c.engineLine);
    assert.doesNotMatch(r.stderr, /target bundled platform/, 'the platform was never announced');
    assert.doesNotMatch(r.stderr, /report not built|--out json/, 'no misleading hint');
    assert.match(
      r.stderr,
      new RegExp(`agentload: the scenario failed its check before the run \\(see above; exit code ${String(c.code)}\\): nothing was sent`),
    );
    const dir = project.runDirs().find((d) => d.includes(c.file.replace('.ts', '-')));
    assert.ok(dir !== undefined);
    assert.ok(readdirSync(dir).includes('junit.xml'));
    assert.match(
      readFileSync(join(dir, 'junit.xml'), 'utf8'),
      new RegExp(`failures="1"[\\s\\S]*<failure message="exit code ${String(c.code)}: `),
    );
    const manifest = readJson(join(dir, 'run.json')) as { exitCode: number; engineExitCode: number; target: { kind: string } };
    assert.deepEqual([manifest.exitCode, manifest.engineExitCode], [c.code, c.code]);
  });
}

void test("a platform that would reach the user's own database starts only after the checks: a refused run (104) never starts it", async () => {
  const marker = `SQLITE_PATH=${project.dir}/platform-${randomBytes(6).toString('hex')}.sqlite`;
  const child = spawnCli(
    [scenario('badthreshold-db.ts', "{ iterations: 1, thresholds: { http_req_duration: ['p(95)<<500'] } }"), '--engine', 'node'],
    {
      cwd: project.dir,
      // Nothing listens there: the platform would try it (and the user's database with it) if it started.
      env: cleanEnv(project, {
        SQLITE_PATH: marker.slice('SQLITE_PATH='.length),
        TARGET_DATABASE_URL: 'postgres://agentload@127.0.0.1:9/none',
      }),
    },
  );
  const { r, seen } = await collectWatching(child, marker);
  assert.equal(r.code, 104, r.stderr);
  assert.deepEqual([...seen], [], 'no platform process was ever started');
  assert.doesNotMatch(r.stderr, /^target: /m, 'no line of the platform');
});
