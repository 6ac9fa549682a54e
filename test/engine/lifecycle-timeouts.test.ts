/**
 * setupTimeout / teardownTimeout / handleSummary's limit, as k6 enforces them (k6's js/runner.go and
 * errext/exitcodes): `setup() execution timed out after N seconds` with the option as hint, exit 100 for
 * setup and 101 for teardown; after a failed setup no iteration and no teardown run, but the summary
 * does; a timed-out handleSummary prints no summary and leaves the exit code alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runEngine } from '../../engine/index.ts';
import { EXIT_CODES, LifecycleTimeoutError, goWholeNumber } from '../../engine/runtime/errors.ts';
import { Capture, runSource } from './conformance/run-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-lifecycle-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

const run = (source: string, args: readonly string[] = []): Promise<Outcome> => runSource(source, ['--quiet', ...args]);

/** A script whose setup and teardown sleep SETUP_S / TEARDOWN_S seconds (async, like the engine's sleep). */
function script(o: {
  setupTimeout: string;
  teardownTimeout: string;
  setup: string;
  teardown: string;
  extraOptions?: string;
  handleSummary?: string;
}): string {
  return `import { sleep } from 'k6';
export const options = { vus: 1, iterations: 1, setupTimeout: '${o.setupTimeout}', teardownTimeout: '${o.teardownTimeout}'${o.extraOptions ?? ''} };
export async function setup() { console.log('setup started'); ${o.setup}; console.log('setup finished'); return { v: 1 }; }
export default function (data) { console.log('iteration ran with ' + JSON.stringify(data)); }
export async function teardown(data) { console.log('teardown started ' + JSON.stringify(data)); ${o.teardown}; console.log('teardown finished'); }
export ${o.handleSummary ?? `function handleSummary() { return { stdout: 'handleSummary ran\\n' }; }`}
`;
}

const SETUP_HINT = 'hint="You can increase the time limit via the setupTimeout option"';
const TEARDOWN_HINT = 'hint="You can increase the time limit via the teardownTimeout option"';

void test("k6's message formats the limit in whole seconds as Go's %.f does (halves to even)", () => {
  assert.equal(goWholeNumber(0.2), '0');
  assert.equal(goWholeNumber(0.5), '0');
  assert.equal(goWholeNumber(1.5), '2');
  assert.equal(goWholeNumber(2.5), '2');
  assert.equal(goWholeNumber(2.6), '3');
  assert.equal(goWholeNumber(60), '60');
  const e = new LifecycleTimeoutError('setup', 60_000);
  assert.equal(e.message, 'setup() execution timed out after 60 seconds');
  assert.equal(e.exitCode, 100);
  assert.equal(e.code, 'setup-timeout');
  assert.equal(new LifecycleTimeoutError('teardown', 1500).message, 'teardown() execution timed out after 2 seconds');
  assert.equal(new LifecycleTimeoutError('teardown', 1500).exitCode, 101);
  assert.equal(new LifecycleTimeoutError('handleSummary', 120_000).exitCode, EXIT_CODES.genericTimeout);
});

void test("setup() past setupTimeout: exit 100 with k6's message and hint; no iteration, no teardown; the summary still runs", async () => {
  const r = await run(script({ setupTimeout: '200ms', teardownTimeout: '5s', setup: 'await sleep(2)', teardown: '' }));
  assert.equal(r.code, EXIT_CODES.setupTimeout, r.stderr);
  assert.match(r.stderr, new RegExp(`level=error msg="setup\\(\\) execution timed out after 0 seconds" ${SETUP_HINT}`));
  assert.match(r.stderr, /setup started/);
  assert.doesNotMatch(r.stderr, /setup finished/, 'the sleep was interrupted, setup() did not go on');
  assert.doesNotMatch(r.stderr, /iteration ran/);
  assert.doesNotMatch(r.stderr, /teardown started/, 'k6 runs no teardown after a failed setup');
  assert.match(r.stdout, /handleSummary ran/);
});

void test('the twin whose setup() ends in time exits 0 and runs the iteration and teardown with its data', async () => {
  const r = await run(script({ setupTimeout: '5s', teardownTimeout: '5s', setup: 'await sleep(0.05)', teardown: 'await sleep(0.05)' }));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /setup finished/);
  assert.match(r.stderr, /iteration ran with \{\\"v\\":1\}/);
  assert.match(r.stderr, /teardown finished/);
  assert.doesNotMatch(r.stderr, /timed out/);
  assert.match(r.stdout, /handleSummary ran/);
});

void test('a setup() that never settles is still cut at setupTimeout (exit 100)', async () => {
  const r = await run(script({ setupTimeout: '200ms', teardownTimeout: '5s', setup: 'await new Promise(() => {})', teardown: '' }));
  assert.equal(r.code, EXIT_CODES.setupTimeout, r.stderr);
  assert.match(r.stderr, /setup\(\) execution timed out/);
});

void test("teardown() past teardownTimeout: exit 101 with k6's message and hint, after the iteration; the summary still runs", async () => {
  const r = await run(script({ setupTimeout: '5s', teardownTimeout: '200ms', setup: '', teardown: 'await sleep(2)' }));
  assert.equal(r.code, EXIT_CODES.teardownTimeout, r.stderr);
  assert.match(r.stderr, new RegExp(`level=error msg="teardown\\(\\) execution timed out after 0 seconds" ${TEARDOWN_HINT}`));
  assert.match(r.stderr, /iteration ran/);
  assert.match(r.stderr, /teardown started/);
  assert.doesNotMatch(r.stderr, /teardown finished/);
  assert.match(r.stdout, /handleSummary ran/);
});

void test('the twin whose teardown() ends in time exits 0', async () => {
  const r = await run(script({ setupTimeout: '5s', teardownTimeout: '5s', setup: '', teardown: 'await sleep(0.05)' }));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /teardown finished/);
});

void test('a teardown timeout wins over crossed thresholds, as k6\'s run error does (101, no "crossed" error line)', async () => {
  const src = script({
    setupTimeout: '5s',
    teardownTimeout: '200ms',
    setup: '',
    teardown: 'await sleep(2)',
    extraOptions: ", thresholds: { iterations: ['count<1'] }",
  });
  const r = await run(src);
  assert.equal(r.code, EXIT_CODES.teardownTimeout, r.stderr);
  assert.doesNotMatch(r.stderr, /have been crossed/);
  // Without the timeout the same thresholds decide the exit code.
  const twin = await run(src.replace("teardownTimeout: '200ms'", "teardownTimeout: '5s'").replace('await sleep(2)', ''));
  assert.equal(twin.code, EXIT_CODES.thresholdsFailed, twin.stderr);
  assert.match(twin.stderr, /thresholds on metrics 'iterations' have been crossed/);
});

void test('an exception in setup() exits 107 without iterations or teardown, and the summary still runs (k6)', async () => {
  const r = await run(script({ setupTimeout: '5s', teardownTimeout: '5s', setup: "throw new Error('no token')", teardown: '' }));
  assert.equal(r.code, EXIT_CODES.scriptException, r.stderr);
  // k6's last line for a script exception: the stack as msg, hint="script exception".
  assert.match(r.stderr, /level=error msg="Error: no token\\n\\tat setup \(file:\/\/\/[^"]+\)\\n" hint="script exception"/);
  assert.doesNotMatch(r.stderr, /iteration ran|teardown started/);
  assert.match(r.stdout, /handleSummary ran/);
});

void test('handleSummary() past its limit: one error line, no summary at all, the exit code untouched', async () => {
  const r = await run(
    script({
      setupTimeout: '5s',
      teardownTimeout: '5s',
      setup: '',
      teardown: '',
      extraOptions: ", handleSummaryTimeout: '200ms'",
      handleSummary: "async function handleSummary() { await sleep(2); return { stdout: 'late summary\\n' }; }",
    }),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /level=error msg="failed to handle the end-of-test summary" error="handleSummary\(\) execution timed out after 0 seconds"/,
  );
  assert.doesNotMatch(r.stdout, /late summary|iterations\.{3,}/);
});

void test('a handleSummary() that throws falls back to the default summary (k6), exit 0', async () => {
  const r = await run(
    script({
      setupTimeout: '5s',
      teardownTimeout: '5s',
      setup: '',
      teardown: '',
      handleSummary: "function handleSummary() { throw new Error('bad summary'); }",
    }),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Error: bad summary/);
  assert.match(r.stdout, /iterations\.{3,}/);
});

const PLAIN = (handleSummary: string): string => `export const options = { vus: 1, iterations: 1 };
export default function () {}
${handleSummary}
`;

void test("a handleSummary() returning nothing gets k6's default summary (the wrapper's `if (!result)`); a non-object is an error", async () => {
  const none = await run(PLAIN('export function handleSummary() { console.log("summary called"); }'));
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stderr, /summary called/);
  assert.match(none.stdout, /iterations\.{3,}/);
  const text = await run(PLAIN("export function handleSummary() { return 'just a string'; }"));
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stderr,
    /level=error msg="failed to handle the end-of-test summary" error="handleSummary\(\) should return a map with string keys, got string/,
  );
  assert.doesNotMatch(text.stdout, /just a string|iterations\.{3,}/);
});

void test("stdout is framed like k6's: header, one blank line, summary, two newlines after the last metric line", async () => {
  const script = join(dir, 'framing.js');
  writeFileSync(script, PLAIN(''));
  const stdout = new Capture();
  const code = await runEngine({ script, args: [], env: {}, cwd: dir, stdout, stderr: new Capture(), handleSignals: false });
  assert.equal(code, 0);
  // k6: the header ends with a blank line; the default summary is "\n" + text + "\n\n".
  assert.match(stdout.text, /gracefulStop: 30s\)\n\n\n {5}data_received/);
  assert.match(stdout.text, /iterations\.+: 1 +[\d.]+\/s\n\n$/);
  const hs = await run(PLAIN("export function handleSummary() { return { stdout: 'mine\\n' }; }"), []);
  assert.equal(hs.stdout, 'mine\n', '--quiet: only what handleSummary returned');
  const withHeader = new Capture();
  writeFileSync(script, PLAIN("export function handleSummary() { return { stdout: 'mine\\n' }; }"));
  await runEngine({ script, args: [], env: {}, cwd: dir, stdout: withHeader, stderr: new Capture(), handleSignals: false });
  assert.match(
    withHeader.text,
    /gracefulStop: 30s\)\n\nmine\n$/,
    'handleSummary output follows the header after one blank line, as in the reference',
  );
});

void test("an exception in teardown() or in init code ends with k6's script-exception line (107)", async () => {
  const r = await run(script({ setupTimeout: '5s', teardownTimeout: '5s', setup: '', teardown: "throw new Error('cleanup broke')" }));
  assert.equal(r.code, EXIT_CODES.scriptException, r.stderr);
  assert.match(r.stderr, /level=error msg="Error: cleanup broke\\n\\tat teardown \(file:[^"]+\)\\n" hint="script exception"/);
  assert.match(r.stdout, /handleSummary ran/);
  const init = await run("throw new Error('bad init');\nexport default function () {}\n");
  assert.equal(init.code, EXIT_CODES.scriptException, init.stderr);
  assert.match(init.stderr, /level=error msg="Error: bad init[^"]*" hint="script exception"/);
});
