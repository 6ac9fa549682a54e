/**
 * The process watcher the fault-scenario tests use (test/scenarios/fault-run.ts): a process that has
 * exited but is not reaped yet (a zombie) reads as an empty command line; the watcher must keep the one it
 * ran with, or a run's processes go uncounted when the last look lands during its shutdown.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { snapshot, watchStep, type ProcessId } from './processes.ts';

void test('a process seen running keeps its command line once it is a zombie', async () => {
  // A shell that starts `sleep` and does not reap it: sleep stays a zombie until the shell exits.
  const sh = spawn('sh', ['-c', 'sleep 0.3 & exec sleep 30'], { stdio: 'ignore' });
  try {
    const pid = sh.pid ?? 0;
    const seen = new Map<string, ProcessId>();
    const deadline = Date.now() + 10_000;
    const short = (): ProcessId | undefined => [...seen.values()].find((p) => p.command === 'sleep 0.3');
    while (short() === undefined && Date.now() < deadline) {
      watchStep(seen, pid);
      await new Promise((r) => setTimeout(r, 20));
    }
    const running = short();
    assert.ok(running !== undefined, 'the short sleep was seen running');
    // Wait until it is a zombie: still listed below the shell, with an empty command line.
    let zombie: ProcessId | undefined;
    while (Date.now() < deadline) {
      zombie = snapshot(pid).find((p) => p.pid === running.pid && p.start === running.start);
      if (zombie?.command === '') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(zombie?.command, '', 'the exited sleep is a zombie that reads as an empty command line');
    watchStep(seen, pid);
    assert.equal(seen.get(`${running.pid}:${running.start}`)?.command, 'sleep 0.3');
  } finally {
    sh.kill('SIGKILL');
  }
});
