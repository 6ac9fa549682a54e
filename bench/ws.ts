/**
 * WebSocket capacity of one engine process: how many connections `k6/websockets` holds open, memory per
 * connection, and broadcast messages received per second.
 *
 *   npm run bench:ws                      # 10,000 connections, 10 broadcast rounds
 *   WS_BENCH_CONNS=20000 WS_BENCH_ROUNDS=5 npm run bench:ws
 *
 * The echo/broadcast server runs in a child process (its own event loop and fd table). Each process needs
 * one file descriptor per connection plus a few: the script re-executes itself under `ulimit -n` (raised
 * to WS_BENCH_FDS, default 65536, capped at the hard limit) with `--expose-gc` for clean heap figures.
 * If the limit is still too low it says so and stops; raise the hard limit (`ulimit -Hn`) as root.
 * Every phase is bounded in time; the run stops by itself. Loopback only.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createWebSocketsModule } from '../engine/modules/websockets.ts';
import { benchModuleContext } from './module-context.ts';

const CONNS = Number(process.env.WS_BENCH_CONNS ?? 10_000);
const ROUNDS = Number(process.env.WS_BENCH_ROUNDS ?? 10);
const FDS = Number(process.env.WS_BENCH_FDS ?? 65_536);
const CONNECT_CONCURRENCY = Number(process.env.WS_BENCH_CONCURRENCY ?? 500);
const PHASE_TIMEOUT_MS = 180_000;

function fdLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : Number.POSITIVE_INFINITY;
}

/** Re-runs this file with a raised fd limit and --expose-gc (once). */
function reexec(): boolean {
  if (process.env.WS_BENCH_INNER === '1') return false;
  const self = fileURLToPath(import.meta.url);
  const script = `ulimit -n ${FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" --expose-gc --import tsx "$1"`;
  const r = spawnSync('sh', ['-c', script, process.execPath, self], { stdio: 'inherit', env: { ...process.env, WS_BENCH_INNER: '1' } });
  process.exitCode = r.status ?? 1;
  return true;
}

const SERVER = `
const { WebSocketServer } = require('ws');
const readline = require('node:readline');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 4096, perMessageDeflate: false, clientTracking: true });
wss.on('connection', (s) => { s.on('error', () => {}); });
wss.on('listening', () => { process.stdout.write('port ' + wss.address().port + '\\n'); });
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, a, b] = line.split(' ');
  if (cmd === 'count') { process.stdout.write('count ' + wss.clients.size + '\\n'); return; }
  if (cmd === 'broadcast') {
    const rounds = Number(a); const payload = 'x'.repeat(Number(b));
    let r = 0;
    const round = () => {
      const msg = JSON.stringify({ r, t: Date.now(), payload });
      for (const c of wss.clients) c.send(msg);
      if (++r < rounds) setImmediate(round); else process.stdout.write('sent\\n');
    };
    round();
  }
});
`;

class Server {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  constructor() {
    const script = `ulimit -n ${FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" -e "$1"`;
    this.#proc = spawn('sh', ['-c', script, process.execPath, SERVER], { cwd: process.cwd(), stdio: 'pipe' });
    this.#proc.stderr.pipe(process.stderr);
    createInterface({ input: this.#proc.stdout }).on('line', (line) => {
      const i = this.#waiters.findIndex((w) => line.startsWith(w.prefix));
      if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(line);
    });
  }
  next(prefix: string): Promise<string> {
    return new Promise((resolve) => {
      this.#waiters.push({ prefix, resolve });
    });
  }
  send(cmd: string): void {
    this.#proc.stdin.write(`${cmd}\n`);
  }
  stop(): void {
    this.#proc.kill('SIGKILL');
  }
}

/** A VU context that counts samples per metric (what an aggregator would receive) without keeping them. */
function countingContext(counts: Map<string, number>): ReturnType<typeof benchModuleContext> {
  return benchModuleContext({
    emit: (samples) => {
      for (const s of samples) counts.set(s.metric, (counts.get(s.metric) ?? 0) + 1);
    },
    log: (level, m) => {
      process.stderr.write(`${level}: ${m}\n`);
    },
  });
}

interface Sock {
  readyState: number;
  onopen: (() => void) | null;
  onmessage: (() => void) | null;
  onerror: ((e: { error?: string }) => void) | null;
  close(): void;
}
type SockClass = new (url: string) => Sock;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function withTimeout<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not finish within ${PHASE_TIMEOUT_MS / 1000}s`));
    }, PHASE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const limit = fdLimit();
  if (limit < CONNS + 64) {
    process.stderr.write(
      `bench:ws: the open-file limit is ${limit}, too low for ${CONNS} connections: raise it (ulimit -Hn ${FDS} as root) or set WS_BENCH_CONNS lower\n`,
    );
    process.exitCode = 1;
    return;
  }
  const server = new Server();
  const port = Number((await server.next('port')).split(' ')[1]);
  const url = `ws://127.0.0.1:${port}/bench`;
  const counts = new Map<string, number>();
  const WebSocket = createWebSocketsModule(countingContext(counts)).WebSocket as SockClass;

  gc();
  const before = process.memoryUsage();
  const sockets: Sock[] = [];
  let failed = 0;
  let received = 0;
  let onAllReceived: (() => void) | undefined;
  let target = Number.POSITIVE_INFINITY;
  const t0 = performance.now();
  await withTimeout(
    'connecting',
    (async () => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < CONNS) {
          next++;
          await new Promise<void>((resolve) => {
            const s = new WebSocket(url);
            s.onopen = () => {
              resolve();
            };
            s.onerror = (e) => {
              failed++;
              if (failed <= 3) process.stderr.write(`connect error: ${e.error ?? ''}\n`);
              resolve();
            };
            s.onmessage = () => {
              if (++received >= target) onAllReceived?.();
            };
            sockets.push(s);
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, CONNS) }, () => worker()));
    })(),
  );
  const connectMs = performance.now() - t0;
  server.send('count');
  const serverCount = Number((await server.next('count')).split(' ')[1]);
  gc();
  const held = process.memoryUsage();
  const open = sockets.filter((s) => s.readyState === 1).length;

  // Broadcast: every round sends one message to every connection.
  target = open * ROUNDS;
  const done = new Promise<void>((resolve) => {
    onAllReceived = resolve;
  });
  const t1 = performance.now();
  server.send(`broadcast ${ROUNDS} 64`);
  await withTimeout('broadcast', done);
  const recvMs = performance.now() - t1;

  const t2 = performance.now();
  for (const s of sockets) s.close();
  await withTimeout(
    'closing',
    (async () => {
      while (sockets.some((s) => s.readyState !== 3)) await new Promise((r) => setTimeout(r, 50));
    })(),
  );
  const closeMs = performance.now() - t2;
  server.stop();

  const perConnRss = (held.rss - before.rss) / Math.max(1, open);
  const perConnHeap = (held.heapUsed - before.heapUsed) / Math.max(1, open);
  const lines = [
    `bench:ws  node ${process.version}, ${CONNS} connections requested, ${ROUNDS} broadcast rounds of 64-byte payloads`,
    `connections held open     ${open} (server saw ${serverCount}; ${failed} failed) in ${(connectMs / 1000).toFixed(2)} s (${Math.round(open / (connectMs / 1000))}/s)`,
    `memory with all open      rss ${mb(held.rss)} MB (+${mb(held.rss - before.rss)}), heap ${mb(held.heapUsed)} MB (+${mb(held.heapUsed - before.heapUsed)})`,
    `memory per connection     rss ${(perConnRss / 1024).toFixed(1)} KB, JS heap ${(perConnHeap / 1024).toFixed(1)} KB`,
    `messages received         ${received} in ${(recvMs / 1000).toFixed(2)} s = ${Math.round(received / (recvMs / 1000))} msgs/s (server and client on the same 2-core host)`,
    `closed all                in ${(closeMs / 1000).toFixed(2)} s`,
    `samples emitted           ${[...counts].map(([k, v]) => `${k}=${v}`).join(' ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (!reexec()) {
  main()
    .catch((e: unknown) => {
      process.stderr.write(`bench:ws failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    })
    .finally(() => {
      setTimeout(() => process.exit(), 100).unref();
    });
}
