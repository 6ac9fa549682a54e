/**
 * Initialising many VUs: the event loop stays responsive (timers run while thousands of VUs start), a stop
 * during the init ends it and says how many of the requested VUs were initialised, a VU count that cannot
 * fit in memory is announced before the run (measured bytes per VU) and stops cleanly (exit 104) instead of
 * crashing the process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { runEngine } from '../../../engine/index.ts';
import { Logger } from '../../../engine/runtime/logger.ts';
import { VuPool } from '../../../engine/runtime/pool.ts';
import type { Vu } from '../../../engine/runtime/vu.ts';
import { fitWarning, initVUs } from '../../../engine/runtime/vu-init.ts';
import { Capture, ROOT } from '../conformance/run-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-vu-init-'));

/** Init code that takes about `ms` of CPU per VU (a script with heavy imports does the same). */
const slowInit = (ms: number): string => `import { sleep } from 'k6';
const until = Date.now() + ${String(ms)};
while (Date.now() < until) { /* init work */ }
export default async function () { await sleep(0.01); }
`;

void test('fitWarning: measured bytes per VU against the heap limit and free memory', () => {
  const MB = 2 ** 20;
  assert.equal(
    fitWarning(1000, 20, 100 * 1024, { used: 50 * MB, limit: 4096 * MB, free: 8192 * MB }),
    undefined,
    '1,000 VUs of 100 kB fit',
  );
  assert.match(
    fitWarning(100_000, 20, 34 * 1024, { used: 60 * MB, limit: 2048 * MB, free: 16_000 * MB }) ?? '',
    /^100000 VUs need about 3\.3 GB of memory \(34 kB per VU, measured on the first 20\) and this engine process can hold about 2\.0 GB: /,
  );
  assert.match(
    fitWarning(10_000, 20, MB, { used: 60 * MB, limit: 64_000 * MB, free: 1024 * MB }) ?? '',
    /the machine has about 1\.0 GB free/,
  );
});

void test('initVUs: stops past 80 % of the heap limit with exit 104 and says how far it got', async () => {
  const made: unknown[] = [];
  const pool = new VuPool(() => {
    const vu = { close: () => Promise.resolve() };
    made.push(vu);
    return vu as unknown as Vu;
  }, Number.MAX_SAFE_INTEGER);
  const MB = 2 ** 20;
  const heap = { used: (): number => 10 * MB + made.length * MB, limit: 100 * MB, free: 10_000 * MB };
  const err = new Capture();
  await assert.rejects(initVUs(pool, 5000, { logger: new Logger(err), heap }), (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'out-of-memory');
    assert.equal((e as { exitCode?: number }).exitCode, 104);
    // The heap is checked after each batch of VUs (8 start in parallel): 20 measured, then 28, …, 76 is the first past 80 MB.
    assert.match(
      (e as Error).message,
      /^stopped initialising VUs at 76 of 5000: the heap holds 86\.0 MB of its 100\.0 MB limit \(about 1\.0 MB per VU\)/,
    );
    return true;
  });
  assert.match(
    err.text,
    /5000 VUs need about 4\.9 GB of memory \(1\.0 MB per VU, measured on the first 20\)/,
    'announced before the init went on',
  );
});

void test('the event loop keeps turning while 1,500 slow VUs initialise; the init time is reported', async () => {
  const script = join(dir, 'slow.js');
  writeFileSync(script, slowInit(2));
  let last = performance.now();
  let worst = 0;
  const stderr = new Capture();
  // Gaps are measured while the VUs initialise (until the init's own report line), not while 1,500 VUs run.
  const probe = setInterval(() => {
    const t = performance.now();
    worst = Math.max(worst, t - last);
    last = t;
    if (/initialised 1500 of 1500 VUs/.test(stderr.text)) clearInterval(probe);
  }, 10);
  const code = await runEngine({
    script,
    args: ['--vus', '1500', '--duration', '1s', '--workers', '1', '-q', '--no-summary'],
    env: {},
    cwd: dir,
    stdout: new Capture(),
    stderr,
    handleSignals: false,
  });
  clearInterval(probe);
  assert.equal(code, 0, stderr.text);
  assert.ok(worst < 1500, `the longest gap between timer turns was ${worst.toFixed(0)} ms (init takes 3 s or more)`);
  assert.match(stderr.text, /initialised 1500 of 1500 VUs in \d+\.\d s/);
});

void test('a stop during the init ends it: initialised N of the requested VUs, exit 105', async () => {
  const script = join(dir, 'stopped.js');
  writeFileSync(script, slowInit(2));
  const stop = new AbortController();
  const stderr = new Capture();
  setTimeout(() => {
    stop.abort(new Error('Ctrl+C'));
  }, 1500);
  const code = await runEngine({
    script,
    args: ['--vus', '5000', '--duration', '1s', '--workers', '1', '-q', '--no-summary'],
    env: {},
    cwd: dir,
    stdout: new Capture(),
    stderr,
    handleSignals: false,
    signal: stop.signal,
  });
  assert.equal(code, 105, stderr.text);
  const m = /initialised (\d+) of 5000 VUs when the run was stopped/.exec(stderr.text);
  assert.ok(m !== null, stderr.text);
  assert.ok(Number(m[1]) < 5000);
});

void test('VUs that cannot fit in memory: a warning before the run, then exit 104 instead of an out-of-memory crash', async () => {
  const script = join(dir, 'heavy.js');
  // About 1 MB of heap kept by every VU.
  writeFileSync(
    script,
    `const keep = Array.from({ length: 131072 }, (_, i) => i + 0.5);
export default function () { if (keep.length === 0) throw new Error('never'); }
`,
  );
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=256',
      '--import',
      pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href,
      join(ROOT, 'engine/cli.ts'),
      'run',
      '--vus',
      '2000',
      '--duration',
      '2s',
      '--workers',
      '1',
      '-q',
      '--no-summary',
      script,
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const code = await new Promise<number | null>((r) =>
    child.on('close', (c) => {
      r(c);
    }),
  );
  assert.equal(code, 104, stderr);
  assert.match(
    stderr,
    /level=warning msg="2000 VUs need about [\d.]+ GB of memory \([\d.]+ (MB|kB) per VU, measured on the first 20\) and this engine process can hold about/,
  );
  assert.match(stderr, /stopped initialising VUs at \d+ of 2000: the heap holds/);
});

void test("sync VU mode: the threads' memory is measured (resident, not the engine's heap) and too many VUs are announced before the run", async () => {
  const script = join(dir, 'sync.js');
  writeFileSync(script, `import { sleep } from 'k6';\nexport default function () { sleep(0.01); }\n`);
  const stop = new AbortController();
  const stderr = new Capture();
  // 100,000 VU threads cannot fit in any machine this runs on; the run is stopped as soon as it says so (or after 30 s).
  const watch = setInterval(() => {
    if (/VUs need about/.test(stderr.text)) stop.abort(new Error('seen'));
  }, 50);
  const limit = setTimeout(() => {
    stop.abort(new Error('time limit'));
  }, 30_000);
  const code = await runEngine({
    script,
    args: ['--vus', '100000', '--duration', '1s', '--vu-mode', 'sync', '-q', '--no-summary'],
    env: {},
    cwd: dir,
    stdout: new Capture(),
    stderr,
    handleSignals: false,
    signal: stop.signal,
  });
  clearInterval(watch);
  clearTimeout(limit);
  assert.equal(code, 105, stderr.text);
  assert.match(
    stderr.text,
    /level=warning msg="100000 VUs need about [\d.]+ (GB|MB) of memory \([\d.]+ (MB|kB) per VU, measured on the first 20\) and the machine has about [\d.]+ GB/,
  );
  assert.match(stderr.text, /initialised \d+ of 100000 VUs when the run was stopped/);
});
