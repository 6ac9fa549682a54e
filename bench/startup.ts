/**
 * `npm run bench:startup`: time from command to first request of `npm run k6 -- scenarios/api-latency.ts`
 * against a loopback endpoint of this process (BASE_URL set, so no platform start is counted), and the
 * command's RSS a second after the first request. Each round starts the command as package.json's `k6`
 * script says (without npm's own start-up), stops it once the first request has arrived, and waits for it to exit.
 *
 * Env: BENCH_ROUNDS (default 5) measured rounds per variant, after one warm-up round (caches filled);
 * BENCH_BASE=<another checkout with node_modules> measures that one too, round by round in turn with
 * this one, and prints the ratio (e.g. a checkout of the commit before a start-up change).
 * BENCH_COLD=1 adds a round per variant with an empty cache directory (AGENTLOAD_CACHE_DIR).
 * BENCH_PLATFORM=bundled: no BASE_URL, so each round also starts the bundled reference platform (the README's
 * quick start); the first request is then seen in the command itself: bench/first-connect.cjs, preloaded into
 * it, records when it first opens a connection (the engine's first request; nothing else connects before it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procStats } from './proc.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BASE = process.env.BENCH_BASE;
const COLD = process.env.BENCH_COLD === '1';
const BUNDLED = process.env.BENCH_PLATFORM === 'bundled';
if (!BUNDLED && (process.env.BENCH_PLATFORM ?? '') !== '')
  throw new Error(`BENCH_PLATFORM is 'bundled' or unset, got ${process.env.BENCH_PLATFORM ?? ''}`);
const FIRST_CONNECT = fileURLToPath(new URL('./first-connect.cjs', import.meta.url));

let onFirst: (() => void) | undefined;
const server = createServer((req, res) => {
  onFirst?.();
  onFirst = undefined;
  const body =
    req.url === '/api/agents' || req.url?.startsWith('/api/agents?') === true
      ? JSON.stringify({ items: [{ id: 'a1' }, { id: 'a2' }, { id: 'a3' }] })
      : '{"ok":true}';
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const baseUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;

interface Round {
  readonly firstMs: number;
  readonly rssMb: number;
}

/** One run of `root`'s k6 script; resolves once it has exited. */
async function round(root: string, cacheDir: string | undefined): Promise<Round> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [cmd, ...args] = (pkg.scripts.k6 ?? '').split(' ');
  if (cmd !== 'node') throw new Error(`${root}: the k6 script is not a node command: ${pkg.scripts.k6 ?? '(none)'}`);
  const reports = mkdtempSync(join(tmpdir(), 'agentload-bench-startup-'));
  const connectFile = join(reports, 'first-connect');
  const started = performance.now();
  const startedEpoch = performance.timeOrigin + started;
  const child = spawn(
    process.execPath,
    [...(BUNDLED ? ['--require', FIRST_CONNECT] : []), ...args, 'scenarios/api-latency.ts', '--no-report'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        ...(BUNDLED ? { BENCH_FIRST_CONNECT_FILE: connectFile } : { BASE_URL: baseUrl }),
        RATE: '5',
        DURATION: '30s',
        AGENTLOAD_REPORTS_DIR: reports,
        AGENTLOAD_BUILD_DIR: join(reports, 'build'),
        ...(cacheDir === undefined ? {} : { AGENTLOAD_CACHE_DIR: cacheDir }),
      },
    },
  );
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      r(code);
    }),
  );
  const first = await Promise.race([
    BUNDLED
      ? (async () => {
          while (!existsSync(connectFile) || readFileSync(connectFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
          return Number(readFileSync(connectFile, 'utf8')) - startedEpoch;
        })()
      : new Promise<number>((r) => {
          onFirst = () => {
            r(performance.now() - started);
          };
        }),
    exited.then((code) => {
      throw new Error(`${root}: the run ended (exit ${String(code)}) before any request: ${err.trim().split('\n').slice(-3).join(' ')}`);
    }),
  ]);
  await new Promise((r) => setTimeout(r, 1000));
  const rss = child.pid === undefined ? 0 : (procStats(child.pid)?.rssMb ?? 0);
  child.kill('SIGINT');
  const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(hard);
  rmSync(reports, { recursive: true, force: true });
  return { firstMs: first, rssMb: rss };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

const variants = [{ name: 'this checkout', root: ROOT }, ...(BASE === undefined ? [] : [{ name: 'BENCH_BASE', root: resolve(BASE) }])];
const results = new Map<string, Round[]>(variants.map((v) => [v.name, []]));
const cold = new Map<string, Round>();
if (COLD) {
  for (const v of variants) {
    const dir = mkdtempSync(join(tmpdir(), 'agentload-bench-cache-'));
    cold.set(v.name, await round(v.root, dir));
    rmSync(dir, { recursive: true, force: true });
  }
}
for (const v of variants) await round(v.root, undefined); // warm-up: caches filled
for (let i = 0; i < ROUNDS; i++) {
  for (const v of variants) results.get(v.name)?.push(await round(v.root, undefined));
}
server.close();

console.log(
  `command to first request, npm run k6 -- scenarios/api-latency.ts (${BUNDLED ? 'bundled platform started by the run' : 'BASE_URL set'}), ${String(ROUNDS)} rounds after a warm-up:`,
);
for (const v of variants) {
  const rs = results.get(v.name) ?? [];
  const c = cold.get(v.name);
  console.log(
    `  ${v.name.padEnd(14)} median ${median(rs.map((r) => r.firstMs)).toFixed(0)} ms (min ${Math.min(...rs.map((r) => r.firstMs)).toFixed(0)}, max ${Math.max(...rs.map((r) => r.firstMs)).toFixed(0)}),` +
      ` RSS 1 s after ${median(rs.map((r) => r.rssMb)).toFixed(0)} MB` +
      (c === undefined ? '' : `; cold caches ${c.firstMs.toFixed(0)} ms`) +
      `  [${v.root}]`,
  );
}
if (BASE !== undefined) {
  const a = median((results.get('this checkout') ?? []).map((r) => r.firstMs));
  const b = median((results.get('BENCH_BASE') ?? []).map((r) => r.firstMs));
  console.log(`  ratio this / BENCH_BASE: ${(a / b).toFixed(2)}`);
}
