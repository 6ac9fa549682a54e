/**
 * Signals on the real engine CLI (`node --import tsx engine/cli.ts run <script>`): the first SIGTERM stops
 * gracefully (teardown runs to its end), a second one while teardown is still running ends the process at
 * once with exit code 105 (k6's external abort), without waiting for teardown.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'agentload-signals-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Iterations run for a minute; teardown sleeps TEARDOWN_S seconds (async, as the engine's sleep is). */
const SCRIPT = `import { sleep } from 'k6';
export const options = { vus: 1, duration: '60s', teardownTimeout: '120s' };
export default async function () { await sleep(0.05); }
export async function teardown() {
  console.log('teardown started');
  await sleep(Number(__ENV.TEARDOWN_S));
  console.log('teardown finished');
}
`;
const script = join(dir, 'slow-teardown.js');
writeFileSync(script, SCRIPT);

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** ms from the last SIGTERM sent to the process's end. */
  readonly msAfterLastSignal: number;
}

function waitFor(text: () => string, re: RegExp, child: ChildProcess, what: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((done, fail) => {
    const deadline = Date.now() + timeoutMs;
    const tick = (): void => {
      if (re.test(text())) done();
      else if (child.exitCode !== null || Date.now() > deadline) fail(new Error(`${what} never appeared:\n${text()}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

/** Runs the script, sends SIGTERM once the test runs, and again (when `second`) once teardown has started. */
async function run(teardownS: number, second: boolean): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'engine/cli.ts'), 'run', '--no-color', script], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TEARDOWN_S: String(teardownS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) => {
    child.on('close', (code, signal) => {
      r({ code, signal, at: Date.now() });
    });
  });
  const hardStop = setTimeout(() => {
    child.kill('SIGKILL');
  }, 120_000);
  try {
    await waitFor(() => stdout, /\* default:/, child, 'the scenario header');
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGTERM');
    let lastSignal = Date.now();
    await waitFor(() => stderr + stdout, /teardown started/, child, 'teardown');
    if (second) {
      child.kill('SIGTERM');
      lastSignal = Date.now();
    }
    const end = await closed;
    return { code: end.code, signal: end.signal, stdout, stderr, msAfterLastSignal: end.at - lastSignal };
  } finally {
    clearTimeout(hardStop);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

void test('one SIGTERM: graceful stop, teardown runs to its end, exit 105', async () => {
  const r = await run(2, false);
  assert.equal(r.code, 105, r.stderr);
  assert.match(r.stderr + r.stdout, /teardown finished/, 'the graceful path waits for teardown');
});

void test('a second SIGTERM while teardown sleeps: exit 105 at once, teardown not awaited', async () => {
  const TEARDOWN_S = 30;
  const r = await run(TEARDOWN_S, true);
  assert.equal(r.code, 105, `exit ${String(r.code)} (signal ${String(r.signal)})\n${r.stderr}`);
  assert.doesNotMatch(r.stderr + r.stdout, /teardown finished/, 'teardown was cut short');
  assert.match(r.stderr, /again, exiting at once/);
  assert.ok(r.msAfterLastSignal < (TEARDOWN_S * 1000) / 2, `the process ended ${String(r.msAfterLastSignal)} ms after the second SIGTERM`);
});
