/**
 * `npm run k6 -- scenarios/cache.ts` with no variables starts a redis-server for the bundled platform (and
 * tells the script its URL), and stops it with the run: at the end of the run, and when the run command is
 * killed outright (SIGKILL: the server's watchdog sees its parent gone).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { portOpen } from '../../src/run/processes.ts';
import { cleanEnv, collect, makeProject, ROOT, runCli, spawnCli } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

async function closedWithin(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!(await portOpen(port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const REDIS_LINE = /agentload: redis-server for the bundled platform at redis:\/\/127\.0\.0\.1:(\d+)/;
const small = { DURATION: '2s', RATE: '10', WRITE_RATE: '1', REDIS_RATE: '5', KEYS: '5', LATENCY_SCALE: '20' };

void test('cache with no variables: the run starts its own redis-server, the script times it directly, and it is gone after the run', async () => {
  // --no-thresholds: this test is about the server's lifecycle; the scenario's latency targets are not met on a
  // loaded machine (a Redis GET p95 over 100 ms while the suite runs), and that is not what is checked here.
  const r = await runCli([join(ROOT, 'scenarios/cache.ts'), '--no-report', '--no-thresholds'], {
    cwd: project.dir,
    env: cleanEnv(project, small),
  });
  const m = REDIS_LINE.exec(r.stderr);
  assert.ok(m?.[1] !== undefined, r.stderr);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /redis_command_duration/, 'REDIS_URL reached the script');
  assert.match(r.stdout, /cache_hit/);
  assert.ok(await closedWithin(Number(m[1]), 3000), 'redis-server stopped with the run');
});

void test('a run killed with SIGKILL does not leave its redis-server behind', async () => {
  const child = spawnCli([join(ROOT, 'scenarios/cache.ts'), '--no-report'], {
    cwd: project.dir,
    env: cleanEnv(project, { ...small, DURATION: '30s' }),
  });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no redis-server line: ${stderr}`));
    }, 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = REDIS_LINE.exec(stderr);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  assert.ok(await portOpen(port), 'redis-server is up during the run');
  const done = collect(child, 30_000);
  child.kill('SIGKILL');
  await done;
  assert.ok(await closedWithin(port, 5000), 'redis-server stopped within 5 s of the run command dying');
});
