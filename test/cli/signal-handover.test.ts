/**
 * The hand-over from scripts/stop-early.mjs's start-up handler to the run command's (processIO().onSignal in
 * src/cli/main.ts) loses no signal: one that arrived while the toolkit was still loading (the process busy,
 * the signal waiting in Node's watcher) reaches the run command's handler. Removing the start-up handler
 * first left no listener for a moment; Node then dropped its watcher with the waiting signal, and the run
 * went on as if never stopped (seen as exit 0 instead of 105 once the toolkit loaded pre-built).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { collect, makeProject, STOP_EARLY, TSX } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

void test('a signal that came before the run command took over reaches its handler', async () => {
  const main = new URL('../../src/cli/main.ts', import.meta.url).href;
  const driver = project.write(
    'handover.mjs',
    `const { processIO } = await import(${JSON.stringify(main)});
// Sent and handed over in one synchronous step: the signal waits in Node's watcher until the loop turns.
process.kill(process.pid, 'SIGINT');
processIO().onSignal((s) => { console.log('run command got ' + s); process.exit(0); });
setTimeout(() => { console.log('signal lost'); process.exit(1); }, 3000);
`,
  );
  const r = await collect(
    spawn(process.execPath, ['--import', STOP_EARLY, '--import', TSX, driver], { cwd: project.dir, stdio: ['ignore', 'pipe', 'pipe'] }),
    60_000,
  );
  assert.equal(r.stdout.trim(), 'run command got SIGINT', r.stderr);
  assert.equal(r.code, 0);
});
