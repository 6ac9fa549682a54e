/**
 * A throw-away redis-server on 127.0.0.1: a free port, a temporary folder as its working directory, no
 * persistence (no RDB, no AOF), protected mode on. Used by the run command (the bundled platform of the
 * `cache` scenario, when no TARGET_REDIS_URL is given) and by the tests. `stop()` shuts it down and removes
 * the folder; started through ChildGroup, it also stops when the Node process that started it is gone.
 *
 * Needs Debian's `redis-server` (scripts/setup-system.sh installs it): `REDIS_SERVER` names another binary.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.ts';
import { ChildGroup, SYSTEM_ENV, type Child } from './children.ts';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export function redisServerBinary(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const bin = env.REDIS_SERVER ?? '/usr/bin/redis-server';
  if (!existsSync(bin)) {
    throw new Error(
      `redis-server not found at ${bin}: install Debian's package (apt-get install -y redis-server), or set REDIS_SERVER=/path/to/redis-server`,
    );
  }
  return bin;
}

/** Sends PING over a raw socket; true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => {
      done(false);
    });
    s.on('error', () => {
      done(false);
    });
    s.on('connect', () => {
      s.write('PING\r\n');
    });
    s.on('data', (d: Buffer) => {
      done(d.toString('utf8').startsWith('+PONG'));
    });
  });
}

export async function startRedisServer(
  o: { startTimeoutMs?: number; env?: Readonly<Record<string, string | undefined>>; group?: ChildGroup; abort?: AbortSignal } = {},
): Promise<RedisServer> {
  const bin = redisServerBinary(o.env);
  const dir = mkdtempSync(join(tmpdir(), 'agentload-redis-'));
  const port = await freePort();
  // A child of the run (children.ts): it stops when we stop it, and also when this process dies without
  // stopping it (SIGKILL included); in a process group of its own, so a terminal's Ctrl+C does not reach it.
  let log = '';
  const keep = (line: string): void => {
    log = `${log}${line}\n`.slice(-2000);
  };
  const env: Record<string, string> = {};
  for (const name of SYSTEM_ENV) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  let child: Child;
  try {
    child = await (o.group ?? new ChildGroup()).start(
      {
        name: 'redis-server',
        command: bin,
        args: [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--protected-mode',
          'yes',
          '--daemonize',
          'no',
          '--loglevel',
          'warning',
        ],
        cwd: dir,
        env,
        onStdout: keep,
        onStderr: keep,
        stopTimeoutMs: 5000,
      },
      o.abort,
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const life = { gone: false };
  void child.exited.then(() => {
    life.gone = true;
  });
  const stop = async (): Promise<void> => {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 15_000);
  for (;;) {
    if (await ping(port)) break;
    if (life.gone || o.abort?.aborted === true || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start on 127.0.0.1:${port}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}
