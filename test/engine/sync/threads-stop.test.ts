/**
 * The VU threads of the synchronous mode stop with the run, however it ends: after a normal end, a stop
 * from outside (Ctrl+C's path) with VUs asleep or spinning, a VU whose init code throws while other VU
 * threads are already up, a setup() that throws, an abort from the script, and a VU thread that crashed and was restarted. Counted as the process's
 * own OS threads (/proc/self/task): every worker thread is one, and it is gone once the worker has ended.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runEngine } from '../../../engine/index.ts';
import { Capture, tempDir } from '../conformance/run-helpers.ts';

const dir = tempDir();
let scripts = 0;

const osThreads = (): number => readdirSync('/proc/self/task').length;

async function run(source: string, stopAtThreads?: number): Promise<{ code: number; err: string; during: number }> {
  const script = join(dir, `s${String(scripts++)}.js`);
  writeFileSync(script, source);
  const stderr = new Capture();
  const ctl = new AbortController();
  let during = 0;
  // Stopped once `stopAtThreads` OS threads run (the VU threads are up, however slowly the machine starts them), or after 60 s.
  const started = Date.now();
  const timer =
    stopAtThreads === undefined
      ? undefined
      : setInterval(() => {
          const n = osThreads();
          if (n >= stopAtThreads || Date.now() - started > 60_000) {
            during = n;
            clearInterval(timer);
            ctl.abort();
          }
        }, 50);
  const code = await runEngine({
    script,
    args: ['-q', '--no-summary', '--vu-mode', 'sync'],
    env: {},
    cwd: dir,
    stdout: new Capture(),
    stderr,
    handleSignals: false,
    signal: ctl.signal,
  });
  clearInterval(timer);
  return { code, err: stderr.text, during };
}

/** Waits (bounded) for worker threads that were told to end to be gone. */
async function settledThreads(baseline: number): Promise<number> {
  const until = Date.now() + 10_000;
  while (osThreads() > baseline && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return osThreads();
}

void test('sync-mode VU threads end with the run in every way it ends', { timeout: 300_000 }, async () => {
  // Warm-up: libuv's pool and V8's helpers exist before the baseline is taken.
  const warm = await run(
    `import { sleep } from 'k6';\nexport const options = { vus: 2, iterations: 2 };\nexport default function () { sleep(0.01); }\n`,
  );
  assert.equal(warm.code, 0, warm.err);
  await new Promise((r) => setTimeout(r, 500));
  const baseline = osThreads();

  const stopped = await run(
    `import { sleep } from 'k6';
export const options = { scenarios: {
  sleepy: { executor: 'constant-vus', vus: 3, duration: '60s', exec: 'sleepy' },
  spin: { executor: 'constant-vus', vus: 1, duration: '60s', exec: 'spin' },
} };
export function sleepy() { sleep(30); }
export function spin() { for (;;) { /* never yields */ } }
`,
    baseline + 4,
  );
  assert.equal(stopped.code, 105, stopped.err);
  assert.ok(
    stopped.during >= baseline + 4,
    `4 VU threads ran while the test did (${String(stopped.during)} threads, baseline ${String(baseline)})`,
  );
  assert.equal(await settledThreads(baseline), baseline, 'a stopped run leaves no VU thread');

  const initFails = await run(`import { sleep } from 'k6';
export const options = { vus: 4, iterations: 4 };
if (__VU === 4) throw new Error('init failed on VU 4');
export default function () { sleep(0.01); }
`);
  assert.equal(initFails.code, 107, initFails.err);
  assert.equal(await settledThreads(baseline), baseline, 'VU threads already up when another failed its init are stopped');

  const setupFails = await run(`import { sleep } from 'k6';
export const options = { vus: 2, iterations: 2 };
export function setup() { sleep(0.01); throw new Error('setup failed'); }
export default function () { sleep(0.01); }
`);
  assert.equal(setupFails.code, 107, setupFails.err);
  assert.equal(await settledThreads(baseline), baseline, 'a failed setup() leaves no VU thread');

  const aborted = await run(`import { sleep } from 'k6';
import exec from 'k6/execution';
export const options = { vus: 3, duration: '60s' };
export default function () { sleep(0.2); if (exec.vu.idInTest === 2) exec.test.abort('enough'); }
`);
  assert.equal(aborted.code, 108, aborted.err);
  assert.equal(await settledThreads(baseline), baseline, 'a run aborted by the script leaves no VU thread');

  // An exception thrown in a microtask ends the VU's thread ('error', then 'exit'; an unhandled rejection no
  // longer does: rejections.ts); the VU starts a new one (its init code runs again) at its next iteration,
  // possibly before the old one's 'exit' arrives, which must not end the new one's run (left running).
  const crashing = await run(`export const options = { vus: 1, iterations: 4 };
console.log('init code ran');
export default function () { queueMicrotask(() => { throw new Error('nobody catches this'); }); }
`);
  assert.equal(crashing.code, 0, crashing.err);
  assert.ok(crashing.err.split('init code ran').length - 1 >= 3, `the VU's thread was restarted\n${crashing.err}`);
  assert.equal(await settledThreads(baseline), baseline, 'a VU thread restarted after it crashed leaves no thread');
});
