/**
 * Stops from outside, through the real run command on the embedded engine and the bundled platform:
 * - the run is SIGKILLed: the platform and the Slack reply sink stop by themselves (nothing keeps listening);
 * - SIGINT/SIGTERM while the run is starting: exit 105, nothing left running;
 * - a terminal Ctrl+C (SIGINT to the run's whole foreground process group) reaches the run only: the engine
 *   stops gracefully, its teardown still reaches the platform, and the platform stops after it.
 * Processes left behind are found by a marker in their environment (SEED, which the platform receives).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { portOpen } from '../../src/run/processes.ts';
import { cleanEnv, collect, makeProject, pidsWithEnv, readJson, ROOT, spawnCli, STOP_EARLY } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

const LONG = `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 1, duration: '60s' };
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}/health\`);
  await sleep(0.2);
}
export async function teardown(): Promise<void> {
  const r = await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}/health\`);
  console.log(\`teardown status \${String(r.status)}\`);
}
`;

/** Pids of live processes of the run marked `marker` (`SEED=<marker>` in their environment). */
const withMarker = (marker: string): number[] => pidsWithEnv(`SEED=${marker}`);

/** CPU time `pid` has used so far, ms (/proc/PID/stat utime + stime, in 100 Hz ticks); 0 when it is gone. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A SEED value no other run on the machine uses (the platform takes 0..2^31-1). */
const marker = (): string => String(1_000_000_000 + Math.floor(Math.random() * 1_000_000_000));

void test('the run is SIGKILLed: the bundled platform and the Slack reply sink stop by themselves', async () => {
  const scenario = project.write('slack-killed.ts', LONG);
  const seed = marker();
  const child = spawnCli([scenario], { cwd: project.dir, env: cleanEnv(project, { SEED: seed }) });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = collect(child);
  await until(
    'the platform and the sink',
    () => /target bundled platform at http:\/\/127\.0\.0\.1:\d+/.test(stderr) && /Slack reply sink at/.test(stderr),
    120_000,
  );
  const platformPort = Number(/target bundled platform at http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
  const sinkPort = Number(/Slack reply sink at http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
  assert.ok(await portOpen(platformPort), 'control: the platform listens while the run runs');
  assert.ok(await portOpen(sinkPort), 'control: the sink listens while the run runs');
  assert.ok(withMarker(seed).length > 0, 'control: the marker finds the platform process');
  child.kill('SIGKILL');
  await done;
  await until('the platform to stop', async () => !(await portOpen(platformPort)), 15_000);
  await until('the sink to stop', async () => !(await portOpen(sinkPort)), 15_000);
  await until('no process of the run to be left', () => withMarker(seed).length === 0, 15_000);
});

void test('SIGINT while Node loads the toolkit, SIGTERM while the platform starts: exit 105, nothing left running', async () => {
  const first = spawnCli([project.write('early-load.ts', LONG)], { cwd: project.dir, env: cleanEnv(project, { SEED: marker() }) });
  const firstDone = collect(first);
  // Once Node itself is up (about 150 ms of CPU: it is then loading the toolkit, pre-built, or still the stop-early
  // preload): CPU time, not wall time, so a busy machine does not move the moment. Whichever handler holds
  // the signal then (stop-early's, or the run command's from its first step), the run stops with 105.
  const deadline = Date.now() + 30_000;
  while (cpuMs(first.pid ?? 0) < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  first.kill('SIGINT');
  const r1 = await firstDone;
  assert.equal(r1.code, 105, `exit code (stderr: ${r1.stderr})`);
  assert.match(r1.stderr, /agentload: SIGINT while starting: nothing was run|SIGINT: stopping before the run starts \(nothing is sent\)/);

  const scenario = project.write('early.ts', LONG);
  const seed = marker();
  const second = spawnCli([scenario], { cwd: project.dir, env: cleanEnv(project, { SEED: seed }) });
  const secondDone = collect(second);
  // The platform starts side by side with the checks: once its process is up, the type check of this new
  // scenario (a child running tsc, seconds), the bundle, the options check and the platform's own start are
  // still to come before the load.
  await until('the platform process', () => pidsWithEnv(`SEED=${seed}`, 'target.mjs').length > 0, 120_000);
  second.kill('SIGTERM');
  const r2 = await secondDone;
  assert.equal(r2.code, 105, `exit code (stderr: ${r2.stderr})`);
  assert.match(r2.stderr, /SIGTERM: stopping before the run starts \(nothing is sent\)/);
  await until('no process of the run to be left', () => withMarker(seed).length === 0, 15_000);
  const runDir = project.runDirs().find((d) => /[\\/]early-\d/.test(d) && existsSync(join(d, 'run.json')));
  assert.ok(runDir !== undefined);
  const manifest = readJson(join(runDir, 'run.json')) as { exitCode: number; interrupted: boolean };
  assert.deepEqual([manifest.exitCode, manifest.interrupted], [105, true]);
  assert.match(
    readFileSync(join(runDir, 'junit.xml'), 'utf8'),
    /<failure message="exit code 105: stopped by SIGTERM before the run started/,
  );
});

void test('a terminal Ctrl+C reaches the run only: graceful stop, teardown still reaches the platform, which stops after it', async () => {
  const scenario = project.write('ctrlc.ts', LONG);
  const seed = marker();
  // A terminal sends Ctrl+C to its whole foreground process group: the run leads a group of its own here.
  const child = spawn(process.execPath, ['--import', STOP_EARLY, join(ROOT, 'scripts/k6.mjs'), scenario], {
    cwd: project.dir,
    env: cleanEnv(project, { SEED: seed }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = collect(child);
  await until(
    'the run to be under way',
    () =>
      /target bundled platform/.test(stderr) && project.runDirs().some((d) => d.includes('ctrlc-') && existsSync(join(d, 'out.json.gz'))),
    120_000,
  );
  await new Promise((r) => setTimeout(r, 1500));
  process.kill(-(child.pid ?? 0), 'SIGINT');
  const r = await done;
  assert.equal(r.code, 105, r.stderr);
  assert.match(r.stderr, /teardown status 200/, 'teardown reached the platform: it was still up');
  assert.doesNotMatch(r.stderr, /target: .*SIGINT/);
  await until('no process of the run to be left', () => withMarker(seed).length === 0, 15_000);
});
