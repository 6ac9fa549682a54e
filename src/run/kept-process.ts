/**
 * Starts a non-Node program under `child-keeper.mjs`, so it (and its whole process group) ends when this
 * process ends, however this process ends: the keeper sees its IPC channel close and stops the group.
 * Used for the RabbitMQ broker and its epmd (src/rabbitmq/broker.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KEEPER = fileURLToPath(new URL('./child-keeper.mjs', import.meta.url));

export interface KeptExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface KeptProcess {
  /** The program's pid (leader of its own process group). */
  readonly pid: number;
  /** Resolves when the program has ended (and the keeper cleaned up its group). */
  readonly exited: Promise<KeptExit>;
  running(): boolean;
  /** Sends a signal to the program's whole process group. */
  signal(signal: 'SIGTERM' | 'SIGKILL' | 'SIGINT'): void;
}

export interface KeptOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Every line the program writes (stdout and stderr). */
  readonly onLine?: (line: string) => void;
}

function lines(onLine: ((line: string) => void) | undefined): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      onLine?.(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  };
}

export function spawnKept(cmd: string, args: readonly string[], o: KeptOptions): Promise<KeptProcess> {
  const keeper = spawn(process.execPath, [KEEPER, cmd, ...args], {
    env: { ...o.env },
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  for (const stream of [keeper.stdout, keeper.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', lines(o.onLine));
  }
  let exit: KeptExit | undefined;
  const exited = new Promise<KeptExit>((resolve) => {
    keeper.on('message', (msg: unknown) => {
      const m = msg as { type?: unknown; code?: unknown; signal?: unknown };
      if (m.type === 'exit') {
        exit = { code: typeof m.code === 'number' ? m.code : null, signal: typeof m.signal === 'string' ? m.signal : null };
      }
    });
    keeper.once('exit', () => {
      resolve(exit ?? { code: null, signal: 'keeper-exited' });
    });
  });
  return new Promise<KeptProcess>((resolve, reject) => {
    keeper.once('error', reject);
    keeper.on('message', (msg: unknown) => {
      const m = msg as { type?: unknown; pid?: unknown; message?: unknown };
      if (m.type === 'error') reject(new Error(`cannot start ${cmd}: ${String(m.message)}`));
      if (m.type !== 'spawned' || typeof m.pid !== 'number') return;
      const pid = m.pid;
      resolve({
        pid,
        exited,
        running: () => keeper.exitCode === null && keeper.signalCode === null && exit === undefined,
        signal: (signal) => {
          if (keeper.connected) keeper.send({ type: 'signal', signal });
          else {
            try {
              process.kill(-pid, signal);
            } catch {
              /* gone */
            }
          }
        },
      });
    });
    void exited.then((e) => {
      reject(new Error(`${cmd} exited before it started (${e.signal ?? `code ${String(e.code)}`})`));
    });
  });
}
