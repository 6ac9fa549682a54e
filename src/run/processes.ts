/** Child processes and ports for what the toolkit starts: ending a child gracefully, then for sure; a free loopback port. */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Resolves once `child` has exited: `ask()` (a signal, an IPC disconnect) first, SIGKILL after
 * `graceMs`. `exited` resolves on the child's exit.
 */
export async function endChild(child: ChildProcess, exited: Promise<void>, ask: () => void, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  ask();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((r) => { timer = setTimeout(() => { r('timeout'); }, graceMs); }),
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => { resolve(port); });
    });
  });
}
