/**
 * A throw-away redis-server on 127.0.0.1: a free port, a temporary folder as its working directory, no
 * persistence (no RDB, no AOF), protected mode on. Used by the run command (the bundled platform of the
 * `cache` scenario, when no TARGET_REDIS_URL is given) and by the tests. `stop()` shuts it down and removes
 * the folder; the process is also killed if the Node process exits first.
 *
 * Needs Debian's `redis-server` (scripts/setup-system.sh installs it): `REDIS_SERVER` names another binary.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.ts';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export function redisServerBinary(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const bin = env.REDIS_SERVER ?? '/usr/bin/redis-server';
  if (!existsSync(bin)) {
    throw new Error(`redis-server not found at ${bin}: install Debian's package (apt-get install -y redis-server), or set REDIS_SERVER=/path/to/redis-server`);
  }
  return bin;
}


/** Sends PING over a raw socket; true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(1000, () => { done(false); });
    s.on('error', () => { done(false); });
    s.on('connect', () => { s.write('PING\r\n'); });
    s.on('data', (d: Buffer) => { done(d.toString('utf8').startsWith('+PONG')); });
  });
}

/** `sh -c WATCHDOG name PARENT_PID cmd args...`: runs cmd, ends it on TERM/INT or when PARENT_PID is gone. */
const WATCHDOG = [
  'parent=$1; shift',
  '"$@" & child=$!',
  "trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT HUP",
  'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5 & wait $!; done',
  'kill -TERM $child 2>/dev/null; wait $child',
].join('\n');

export async function startRedisServer(o: { startTimeoutMs?: number; env?: Readonly<Record<string, string | undefined>> } = {}): Promise<RedisServer> {
  const bin = redisServerBinary(o.env);
  const dir = mkdtempSync(join(tmpdir(), 'agentload-redis-'));
  const port = await freePort();
  // Under a small shell watchdog: the server stops when we stop it, and also when this process dies without
  // stopping it (SIGKILL included), within half a second.
  const proc = spawn('/bin/sh', ['-c', WATCHDOG, 'agentload-redis-watchdog', String(process.pid), bin,
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer): void => { log = (log + d.toString('utf8')).slice(-2000); };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const killOnExit = (): void => { proc.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((r) => { proc.once('exit', () => { r(); }); });

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        exited.then(() => 'exited' as const),
        new Promise<'timeout'>((r) => { timer = setTimeout(() => { r('timeout'); }, 5000); }),
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        proc.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 15_000);
  for (;;) {
    if (await ping(port)) break;
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start on 127.0.0.1:${port}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}
