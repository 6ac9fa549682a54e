/**
 * `exec.test.abort()` as k6 handles it (errext.InterruptError, exitcodes.ScriptAborted): exit 108 with
 * k6's text `test aborted: <reason>`; from an iteration teardown and the summary still run; from setup()
 * nothing else of the test runs (k6 returns before teardown) but the summary does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runEngine } from '../../engine/index.ts';
import { EXIT_CODES } from '../../engine/runtime/errors.ts';
import { Capture, runSource, type RunOutcome } from './conformance/run-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-abort-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const run = (source: string, env: Record<string, string> = {}): Promise<RunOutcome> => runSource(source, ['--quiet'], env);

const SCRIPT = `import exec from 'k6/execution';
export const options = { vus: 1, iterations: 5 };
export function setup() { console.log('setup ran'); if (__ENV.WHERE === 'setup') exec.test.abort(__ENV.REASON); }
export default function () { console.log('iteration ' + __ITER); if (__ENV.WHERE === 'iteration' && __ITER === 1) exec.test.abort(__ENV.REASON); }
export function teardown() { console.log('teardown ran'); if (__ENV.WHERE === 'teardown') exec.test.abort(__ENV.REASON); }
export function handleSummary() { return { stdout: 'summary ran\\n' }; }
`;

void test('abort in an iteration: exit 108, k6\'s "test aborted: reason", no further iterations, teardown and summary run', async () => {
  const r = await run(SCRIPT, { WHERE: 'iteration', REASON: 'no data' });
  assert.equal(r.code, EXIT_CODES.scriptAborted, r.stderr);
  assert.match(r.stderr, /level=error msg="test aborted: no data"/);
  assert.doesNotMatch(r.stderr, /iteration 2/);
  assert.match(r.stderr, /teardown ran/);
  assert.match(r.stdout, /summary ran/);
});

void test('abort without a reason says "test aborted"', async () => {
  const r = await run(
    SCRIPT.replace('exec.test.abort(__ENV.REASON); }\nexport function teardown', 'exec.test.abort(); }\nexport function teardown'),
    { WHERE: 'iteration' },
  );
  assert.equal(r.code, EXIT_CODES.scriptAborted, r.stderr);
  assert.match(r.stderr, /level=error msg="test aborted"\n/);
});

void test('abort in setup(): exit 108 (not a script exception), no iteration, no teardown, the summary runs', async () => {
  const r = await run(SCRIPT, { WHERE: 'setup', REASON: 'target down' });
  assert.equal(r.code, EXIT_CODES.scriptAborted, r.stderr);
  assert.match(r.stderr, /level=error msg="test aborted: target down"/);
  assert.doesNotMatch(r.stderr, /setup\(\) failed|iteration \d|teardown ran/);
  assert.match(r.stdout, /summary ran/);
});

void test('abort in teardown(): exit 108, not 107', async () => {
  const r = await run(SCRIPT, { WHERE: 'teardown', REASON: 'cleanup failed' });
  assert.equal(r.code, EXIT_CODES.scriptAborted, r.stderr);
  assert.match(r.stderr, /level=error msg="test aborted: cleanup failed"/);
  assert.doesNotMatch(r.stderr, /teardown\(\) failed/);
});

/** Runs the real CLI, signals it once the run has started, returns exit code and stderr. */
async function signalled(sig: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const { pathToFileURL, fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const script = join(dir, `sig-${sig}.js`);
  writeFileSync(
    script,
    `import { sleep } from 'k6';
export const options = { vus: 1, duration: '30s' };
export default async function () { await sleep(0.05); }
export function teardown() { console.log('teardown ran'); }
`,
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href,
      join(root, 'engine/cli.ts'),
      'run',
      '--no-summary',
      script,
    ],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  child.stdout.on('data', (c: Buffer) => {
    if (c.toString('utf8').includes('* default:')) setTimeout(() => child.kill(sig), 300);
  });
  // Bounded: the run would end by itself after 30 s; a stuck child is killed.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((r) =>
    child.on('close', (c) => {
      r(c);
    }),
  );
  clearTimeout(guard);
  return { code, stderr };
}

void test("a graceful stop by signal ends with k6's last line naming the signal as Go does (exit 105)", async () => {
  for (const [sig, name] of [
    ['SIGTERM', 'terminated'],
    ['SIGINT', 'interrupt'],
  ] as const) {
    const r = await signalled(sig);
    assert.equal(r.code, EXIT_CODES.externalAbort, r.stderr);
    assert.match(r.stderr, /teardown ran/);
    assert.match(r.stderr, new RegExp(`level=error msg="test run was aborted because k6 received a '${name}' signal"`));
  }
});

void test('a stop from outside during setup() interrupts it (k6 runs setup under the run context): 105, no iteration, no teardown', async () => {
  const script = join(dir, 'stop-in-setup.js');
  writeFileSync(
    script,
    `import { sleep } from 'k6';
export const options = { vus: 1, iterations: 1, setupTimeout: '60s' };
export async function setup() { console.log('setup started'); await sleep(30); console.log('setup finished'); }
export default function () { console.log('iteration ran'); }
export function teardown() { console.log('teardown ran'); }
`,
  );
  const stderr = new Capture();
  const stdout = new Capture();
  const ctl = new AbortController();
  // Stop as soon as setup() has started.
  const poll = setInterval(() => {
    if (stderr.text.includes('setup started')) ctl.abort();
  }, 20);
  const code = await runEngine({ script, args: ['--quiet'], env: {}, cwd: dir, stdout, stderr, handleSignals: false, signal: ctl.signal });
  clearInterval(poll);
  assert.equal(code, EXIT_CODES.externalAbort, stderr.text);
  assert.doesNotMatch(stderr.text, /setup finished|iteration ran|teardown ran/);
  // The summary still runs: with no metric at all k6's text summary is empty, framed "\n" + "" + "\n\n".
  assert.equal(stdout.text, '\n\n\n');
});
