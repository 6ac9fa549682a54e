/**
 * A private RabbitMQ broker from Debian's `rabbitmq-server`, on free loopback ports in a temporary folder:
 * its own node name, Erlang cookie (in a temporary HOME), epmd on a port of its own (started by us, not
 * the machine's), distribution port, data and config — so several brokers and the machine's own service
 * never collide. No plugins (management off). The broker and its epmd run under child-keeper.mjs, so they
 * end with the process that started them, however it ends.
 *
 * `stop()`/`start()` restart it on the same data (durable queues and persistent messages survive);
 * `kill()` is a kill -9 of the whole broker. Used by the fault controller (src/faults/) and the tests
 * (test/support/rabbitmq.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { freePort, portOpen } from '../run/processes.ts';
import { spawnKept, type KeptProcess } from '../run/kept-process.ts';
import { CodedError } from '../../shared/errors.ts';

export interface BrokerOptions {
  /** Where data, config, logs and HOME go; default a new temporary folder (removed by `close()`). */
  readonly dir?: string;
  /** Every line the broker prints (warnings and errors; it runs at log level warning). */
  readonly onLine?: (line: string) => void;
  /** How long a start may take (default 90 s: a cold start on a busy 2-core machine takes 10-20 s). */
  readonly startTimeoutMs?: number;
}

export interface Broker {
  /** `amqp://guest:guest@127.0.0.1:PORT` (guest may connect over loopback only). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  running(): boolean;
  /** Pid of the broker's process-group leader while it runs. */
  pid(): number | undefined;
  /** Starts it again on the same data; resolves once it accepts AMQP connections. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM), resolves when it has exited. */
  stop(): Promise<void>;
  /** kill -9 of every broker process, resolves when they are gone. */
  kill(): Promise<void>;
  /** Stops the broker and its epmd and removes the folder (when we made it). */
  close(): Promise<void>;
}

/** Why the test broker could not start: not installed, exited while starting, or not up in time. */
export class BrokerError extends CodedError<'rabbitmq-not-installed' | 'rabbitmq-exited' | 'rabbitmq-start-timeout'> {
  override readonly name = 'BrokerError';
}

const RABBITMQ_BASE = '/usr/lib/rabbitmq/lib';

/** The rabbitmq-server start script (the Debian wrapper in /usr/sbin would `su` to the rabbitmq user). */
export function findRabbitmqServer(): string {
  if (existsSync(RABBITMQ_BASE)) {
    const versions = readdirSync(RABBITMQ_BASE)
      .filter((d) => d.startsWith('rabbitmq_server-'))
      .sort()
      .reverse();
    for (const v of versions) {
      const p = join(RABBITMQ_BASE, v, 'sbin', 'rabbitmq-server');
      if (existsSync(p)) return p;
    }
  }
  throw new BrokerError(
    'rabbitmq-not-installed',
    `rabbitmq-server not found under ${RABBITMQ_BASE}: install Debian's package (apt-get install -y rabbitmq-server), or set TARGET_AMQP_URL to a broker of your own`,
  );
}

const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The node's own folder: its Erlang cookie (made once), its config (AMQP on 127.0.0.1:`port`, warnings to the console), no plugins. */
function writeNodeFiles(dir: string, home: string, port: number): void {
  mkdirSync(home, { recursive: true });
  const cookie = join(home, '.erlang.cookie');
  if (!existsSync(cookie)) {
    writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase());
    chmodSync(cookie, 0o400);
  }
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      'log.console = true',
      'log.console.level = warning',
      'log.file = false',
      'disk_free_limit.absolute = 10MB',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
}

/** The broker's environment: its own HOME, node name, ports and files in `dir`, epmd started apart (on `epmdPort`). */
function brokerEnv(
  dir: string,
  home: string,
  node: string,
  ports: { port: number; distPort: number; epmdPort: number },
): Record<string, string> {
  const { port, distPort, epmdPort } = ports;
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-start_epmd false',
  };
}

/** Resolves once the broker accepts an AMQP connection; a BrokerError (with its last log lines) if it exits first or runs out of time. */
async function waitReady(p: KeptProcess, url: string, port: number, timeoutMs: number, tail: readonly string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state = { exited: false };
  void p.exited.then(() => {
    state.exited = true;
  });
  for (;;) {
    if (state.exited)
      throw new BrokerError('rabbitmq-exited', `RabbitMQ exited while starting on 127.0.0.1:${port}: ${tail.slice(-3).join(' | ')}`);
    if (Date.now() > deadline) {
      p.signal('SIGKILL');
      throw new BrokerError(
        'rabbitmq-start-timeout',
        `RabbitMQ did not accept AMQP connections on 127.0.0.1:${port} within ${timeoutMs / 1000} s: ${tail.slice(-3).join(' | ')}`,
      );
    }
    if (await portOpen(port)) {
      try {
        const c = await connect(url, { timeout: 2000 });
        await c.close();
        return;
      } catch {
        // listening but not ready yet
      }
    }
    await sleep(200);
  }
}

export async function startRabbitmq(o: BrokerOptions = {}): Promise<Broker> {
  const script = findRabbitmqServer();
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'agentload-rabbitmq-'));
  const home = join(dir, 'home');
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  writeNodeFiles(dir, home, port);
  const node = `agentload-${randomBytes(4).toString('hex')}@localhost`;
  const tail: string[] = [];
  const onLine = (line: string): void => {
    // Strip the console colour codes.
    const clean = line.replace(ANSI_COLOUR, '');
    if (clean.trim() === '') return;
    tail.push(clean);
    if (tail.length > 20) tail.shift();
    o.onLine?.(clean);
  };
  const env = brokerEnv(dir, home, node, { port, distPort, epmdPort });
  const url = `amqp://guest:guest@127.0.0.1:${port}`;

  const epmd = await spawnKept('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, cwd: dir, onLine });
  for (let i = 0; i < 100 && !(await portOpen(epmdPort)); i++) await sleep(50);

  let proc: KeptProcess | undefined;
  let starting: Promise<void> | undefined;

  const start = (): Promise<void> => {
    starting ??= (async () => {
      if (proc?.running() === true) return;
      const p = await spawnKept(script, [], { env, cwd: dir, onLine });
      proc = p;
      await waitReady(p, url, port, o.startTimeoutMs ?? 90_000, tail);
    })().finally(() => {
      starting = undefined;
    });
    return starting;
  };

  const end = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    await starting?.catch(() => undefined);
    const p = proc;
    if (p === undefined || !p.running()) return;
    p.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      p.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => {
          r('timeout');
        }, 30_000);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      p.signal('SIGKILL');
      await p.exited;
    }
  };

  try {
    await start();
  } catch (e) {
    await end('SIGKILL');
    epmd.signal('SIGKILL');
    await epmd.exited;
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    url,
    port,
    dir,
    running: () => proc?.running() === true,
    pid: () => (proc?.running() === true ? proc.pid : undefined),
    start,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async close() {
      await end('SIGTERM');
      epmd.signal('SIGTERM');
      await epmd.exited;
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
