/**
 * `npm run bench:engine`: the embedded engine side by side with autocannon and wrk against the same
 * trivial loopback endpoint (a separate Node.js process), then memory per sleeping VU and RSS
 * growth at full rate. Every load generator is its own process; CPU time is read from /proc.
 *
 * Env: BENCH_SECONDS (default 10) per throughput run; BENCH_RATE (default 3000) for the
 * constant-arrival-rate run; BENCH_IDLE_VUS (default 1000); BENCH_SYNC_IDLE_VUS (default 100) and
 * BENCH_SYNC_IDLE_SECONDS (20) for the sync VU mode's memory per VU; BENCH_SOAK_SECONDS (default 60; 600 for
 * the full minute-1 vs minute-10 comparison), RSS sampled at 1/10 and at the end.
 * Also the engine over https, HTTP/1.1 and HTTP/2 (ALPN), against servers in the same process, and
 * the iterations the arrival-rate run dropped.
 * BENCH_BASE=<another checkout with node_modules> runs only the constant-vus row, for this checkout and
 * that one, with autocannon, in BENCH_ROUNDS (default 3) interleaved rounds, and prints each round and
 * the medians: a change measured side by side with the code before it, on the machine as it is.
 * BENCH_ONLY=https runs only the two https rows (HTTP/1.1 and HTTP/2 over TLS), BENCH_ROUNDS times, and prints each
 * round and the medians with the HTTP/2 / HTTP/1.1 ratio (with BENCH_BASE: both checkouts round by round in turn), then
 * a bare node:http2 client's CPU per request.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { autoWorkers, type GeneratorLoad } from '../engine/runtime/workers.ts';
import { youngGenerationFlags } from '../scripts/young-generation.mjs';
import { procStats } from './proc.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 3000);
const IDLE_VUS = Number(process.env.BENCH_IDLE_VUS ?? 1000);
/** Sleeping VUs of the sync VU mode's memory row (a thread each) and how long that run lasts (all must be up before its last second). */
const SYNC_IDLE_VUS = Number(process.env.BENCH_SYNC_IDLE_VUS ?? 100);
const SYNC_IDLE_SECONDS = Number(process.env.BENCH_SYNC_IDLE_SECONDS ?? 20);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const BASE = process.env.BENCH_BASE === undefined ? undefined : resolve(process.env.BENCH_BASE);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'https') throw new Error(`BENCH_ONLY is 'https' or unset, got ${ONLY}`);
const dir = mkdtempSync(join(tmpdir(), 'agentload-bench-'));

interface Measured {
  requests: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

/** The endpoint over plain http, and over https speaking only HTTP/1.1 or offering HTTP/2. */
interface Targets {
  readonly url: string;
  readonly https1: string;
  readonly https2: string;
}

/** Runs a command, polling its CPU/RSS every 100 ms; `at` samples RSS at given seconds. */
async function measure(
  cmd: string,
  args: readonly string[],
): Promise<{ out: string; err: string; cpu: number; peakRssMb: number; seconds: number; rssSeries: [number, number][]; code: number }> {
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  let cpu = 0;
  let peak = 0;
  /** [seconds since start, RSS MB], every poll. */
  const rssSeries: [number, number][] = [];
  const timer = setInterval(() => {
    if (child.pid === undefined) return;
    const s = procStats(child.pid);
    if (s === undefined) return;
    cpu = s.cpu;
    peak = Math.max(peak, s.rssMb);
    const elapsed = (performance.now() - started) / 1000;
    rssSeries.push([elapsed, s.rssMb]);
  }, 100);
  // A command that is not installed (e.g. wrk) rejects instead of crashing the bench; wrk() reports it.
  const code = await new Promise<number>((r, reject) => {
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('close', (c) => {
      r(c ?? -1);
    });
  }).finally(() => {
    clearInterval(timer);
  });
  return { out, err, cpu, peakRssMb: peak, seconds: (performance.now() - started) / 1000, rssSeries, code };
}

/** The first RSS reading at or after `seconds` into the run (NaN if the run ended before). */
function rssAtSecond(series: readonly [number, number][], seconds: number): number {
  return series.find(([t]) => t >= seconds)?.[1] ?? Number.NaN;
}

async function startServer(): Promise<Targets & { child: ChildProcess }> {
  const file = join(dir, 'server.mjs');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(
    file,
    `import { createServer } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createSecureServer } from 'node:http2';
import { readFileSync } from 'node:fs';
const ok = (req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); };
const tls = { key: readFileSync(${JSON.stringify(join(dir, 'key.pem'))}), cert: readFileSync(${JSON.stringify(join(dir, 'cert.pem'))}) };
// HTTP/2 through the stream API, not the compatibility API's (req, res): res.end('ok') sends HEADERS and DATA in one
// write and END_STREAM in a second, once that write has completed, so every response took two TCP segments (and the
// client's kernel an extra ACK); respond() and end('ok') send the whole response in one write, as the HTTP/1.1 servers
// here do.
const h2 = createSecureServer(tls);
h2.on('stream', (stream) => { stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': 2 }); stream.end('ok'); });
const servers = { url: createServer(ok), https1: createHttps(tls, ok), https2: h2 };
servers.url.keepAliveTimeout = 60000;
servers.https1.keepAliveTimeout = 60000;
const out = {};
for (const [name, s] of Object.entries(servers)) {
  s.listen(0, '127.0.0.1', () => {
    out[name] = (name === 'url' ? 'http' : 'https') + '://127.0.0.1:' + s.address().port + '/';
    if (Object.keys(out).length === 3) process.stdout.write(JSON.stringify(out) + '\\n');
  });
}
`,
  );
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const targets = await new Promise<Targets>((r) =>
    child.stdout.once('data', (c: Buffer) => {
      r(JSON.parse(c.toString('utf8')) as Targets);
    }),
  );
  return { ...targets, child };
}

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

/**
 * CPU-seconds an engine process spends starting and stopping (tsx, script load, worker threads
 * with their bundle and one VU each), by worker count; subtracted from runs. The least of two
 * runs of an empty script, so a first-run worker bundle build is not counted.
 */
const engineStartupCpu = new Map<string, number>();
const startupKey = (workers: number, root: string): string => `${root}|${String(workers)}`;

/** Worker threads the engine picks by itself (auto rule) for a load; each run passes it as --workers so the subtraction matches. */
function workersFor(load: GeneratorLoad): number {
  const forced = Number(process.env.AGENTLOAD_WORKERS);
  return Number.isInteger(forced) && forced > 0 ? forced : autoWorkers(load, availableParallelism());
}

const plural = (w: number): string => `${String(w)} worker${w === 1 ? '' : 's'}`;

/**
 * `engine/cli.ts run -q --no-summary` with these arguments (of this checkout or `root`), measured (CPU, RSS readings), as
 * `npm run k6` runs it: with its fixed young generation (scripts/young-generation.mjs; AGENTLOAD_YOUNG_GENERATION=grow: without).
 */
function engineProcess(args: readonly string[], root = ROOT): ReturnType<typeof measure> {
  const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href;
  return measure(process.execPath, [
    ...youngGenerationFlags(process.env),
    '--import',
    tsx,
    join(root, 'engine/cli.ts'),
    'run',
    '-q',
    '--no-summary',
    ...args,
  ]);
}

async function engineRun(
  file: string,
  url: string,
  workers = 1,
  root = ROOT,
): Promise<Measured & { rssSeries: [number, number][]; dropped: number; iterations: number }> {
  const exportFile = join(dir, `${String(Date.now())}-summary.json`);
  const r = await engineProcess(['--workers', String(workers), '--summary-export', exportFile, '-e', `URL=${url}`, file], root);
  if (r.code !== 0) throw new Error(`engine run failed (exit ${String(r.code)}): ${r.err.slice(-2000)}`);
  const s = JSON.parse(readFileSync(exportFile, 'utf8')) as { metrics: Record<string, { count?: number }> };
  return {
    requests: s.metrics.http_reqs?.count ?? 0,
    seconds: SECONDS,
    cpuSeconds: Math.max(0, r.cpu - (engineStartupCpu.get(startupKey(workers, root)) ?? 0)),
    peakRssMb: r.peakRssMb,
    rssSeries: r.rssSeries,
    dropped: s.metrics.dropped_iterations?.count ?? 0,
    iterations: s.metrics.iterations?.count ?? 0,
  };
}

async function autocannon(url: string): Promise<Measured> {
  const r = await measure(process.execPath, [
    join(ROOT, 'node_modules/autocannon/autocannon.js'),
    '-c',
    '50',
    '-d',
    String(SECONDS),
    '-j',
    url,
  ]);
  const j = JSON.parse(r.out) as { requests: { total: number } };
  return { requests: j.requests.total, seconds: SECONDS, cpuSeconds: r.cpu, peakRssMb: r.peakRssMb };
}

async function wrk(url: string): Promise<Measured | undefined> {
  try {
    const r = await measure('wrk', ['-t', '1', '-c', '50', '-d', `${String(SECONDS)}s`, url]);
    const m = /(\d+) requests in/.exec(r.out);
    return { requests: Number(m?.[1] ?? 0), seconds: SECONDS, cpuSeconds: r.cpu, peakRssMb: r.peakRssMb };
  } catch {
    return undefined; // wrk not installed (Debian package `wrk`)
  }
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** The benchmark's load scripts, written once to its scratch folder. */
function benchScripts(): Record<'vus50' | 'car' | 'idle' | 'empty' | 'vus50sync' | 'syncOnce' | 'idleSync', string> {
  const vus50 = script(
    'vus50.js',
    `import http from 'k6/http';
export const options = { vus: 50, duration: '${String(SECONDS)}s', insecureSkipTLSVerify: true };
export default async function () { await http.get(__ENV.URL); }
`,
  );
  const car = script(
    'car.js',
    `import http from 'k6/http';
export const options = { scenarios: { car: { executor: 'constant-arrival-rate', rate: ${String(RATE)}, timeUnit: '1s', duration: '${String(SECONDS)}s', preAllocatedVUs: 50, maxVUs: 200 } } };
export default async function () { await http.get(__ENV.URL); }
`,
  );
  const idle = script(
    'idle.js',
    `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: Number(__ENV.VUS), duration: '8s' };
export default async function () { await sleep(60); }
`,
  );
  const empty = script(
    'empty.js',
    `export const options = { vus: 1, iterations: 1 };
export default async function () {}
`,
  );
  // k6-style scripts: the same loads written synchronously, which the engine runs in its sync VU mode.
  const vus50sync = script(
    'vus50-sync.js',
    `import http from 'k6/http';
export const options = { vus: 50, duration: '${String(SECONDS)}s' };
export default function () { http.get(__ENV.URL); }
`,
  );
  const syncOnce = script(
    'once-sync.js',
    `import http from 'k6/http';
export const options = { vus: 50, iterations: 50 };
export default function () { http.get(__ENV.URL); }
`,
  );
  const idleSync = script(
    'idle-sync.js',
    `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: Number(__ENV.VUS), duration: '${String(SYNC_IDLE_SECONDS)}s' };
export default function () { sleep(60); }
`,
  );
  return { vus50, car, idle, empty, vus50sync, syncOnce, idleSync };
}

/** Sets the CPU-seconds a process of `root`'s engine with `workers` spends starting and stopping (the least of two empty runs). */
async function measureStartup(empty: string, url: string, workers: number, root: string): Promise<void> {
  const a = await engineRun(empty, url, workers, root);
  const b = await engineRun(empty, url, workers, root);
  engineStartupCpu.set(startupKey(workers, root), Math.min(a.cpuSeconds, b.cpuSeconds));
}

function printStartup(): void {
  const shown = [...engineStartupCpu].map(([key, c]) => {
    const [root = '', w = ''] = key.split('|');
    return `${fmt(c, 2)} CPU-s with ${plural(Number(w))}${root === ROOT ? '' : ` (${root})`}`;
  });
  console.log(
    `engine CPU excludes process start-up (tsx, script load, worker threads), measured with an empty script: ${shown.join(', ')}`,
  );
}

/** CPU-seconds per 10k requests. */
const per10k = (m: Measured): number => (m.cpuSeconds / Math.max(1, m.requests)) * 10_000;
const median = (v: readonly number[]): number => {
  const s = [...v].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2;
};
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** BENCH_BASE: the constant-vus row of this checkout and of `base`, with autocannon, in interleaved rounds; each round and the medians. */
async function sideBySide(sc: ReturnType<typeof benchScripts>, url: string, base: string): Promise<void> {
  const workers = workersFor({ closedVUs: 50, peakRate: 0 });
  await measureStartup(sc.empty, url, workers, ROOT);
  await measureStartup(sc.empty, url, workers, base);
  console.log(`bench:engine side by side — ${String(ROUNDS)} rounds of ${String(SECONDS)} s against ${url}; ${new Date().toISOString()}`);
  console.log(`this checkout: ${ROOT}; BENCH_BASE: ${base}`);
  printStartup();
  const names = ['this checkout', 'BENCH_BASE', 'autocannon -c 50'] as const;
  const runs: Record<(typeof names)[number], Measured[]> = { 'this checkout': [], BENCH_BASE: [], 'autocannon -c 50': [] };
  console.log(`\n| round | load average before | ${names.map((n) => `${n}: requests/s, CPU-s per 10k`).join(' | ')} |`);
  console.log(`|---|---|${names.map(() => '---:').join('|')}|`);
  for (let round = 1; round <= ROUNDS; round++) {
    const load = loadavg();
    runs['this checkout'].push(await engineRun(sc.vus50, url, workers, ROOT));
    runs.BENCH_BASE.push(await engineRun(sc.vus50, url, workers, base));
    runs['autocannon -c 50'].push(await autocannon(url));
    const cells = names.map((n) => {
      const m = runs[n].at(-1);
      return m === undefined ? '' : `${fmt(m.requests / m.seconds)}, ${fmt(per10k(m), 3)}`;
    });
    console.log(`| ${String(round)} | ${load} | ${cells.join(' | ')} |`);
  }
  const med = (n: (typeof names)[number]): number => median(runs[n].map(per10k));
  const ac = med('autocannon -c 50');
  console.log(`\nmedians (CPU-s per 10k requests, engine constant-vus 50 with ${plural(workers)}), load average after: ${loadavg()}`);
  for (const n of names)
    console.log(`  ${n}: ${fmt(med(n), 3)}${n === 'autocannon -c 50' ? '' : ` → ${fmt(ac / med(n), 2)}x autocannon per CPU-second`}`);
  console.log(`  this checkout / BENCH_BASE: ${fmt(med('this checkout') / med('BENCH_BASE'), 2)} of the CPU per request`);
}

/** Requests per second and CPU per request: the engine's modes and workers beside autocannon and wrk, as a table. */
async function throughput(sc: ReturnType<typeof benchScripts>, url: string, https1: string, https2: string): Promise<void> {
  const { vus50, car, empty, vus50sync, syncOnce } = sc;
  const vusWorkers = workersFor({ closedVUs: 50, peakRate: 0 });
  const carWorkers = workersFor({ closedVUs: 0, peakRate: RATE });
  // The other choice for constant-vus 50 (one thread if auto spreads it, else two workers), as an extra row.
  const altWorkers = vusWorkers === 1 ? Math.min(2, availableParallelism()) : 1;
  for (const w of new Set([1, vusWorkers, carWorkers, altWorkers])) await measureStartup(empty, url, w, ROOT);
  console.log(`bench:engine — ${String(SECONDS)} s per run against ${url} (separate process); ${new Date().toISOString()}`);
  printStartup();
  const rows: [string, Measured | undefined][] = [];
  rows.push([`engine constant-vus 50 (${plural(vusWorkers)}, auto)`, await engineRun(vus50, url, vusWorkers)]);
  const carRun = await engineRun(car, url, carWorkers);
  rows.push([`engine constant-arrival-rate ${String(RATE)}/s (${plural(carWorkers)}, auto)`, carRun]);
  rows.push(['autocannon -c 50', await autocannon(url)]);
  rows.push(['wrk -t1 -c 50', await wrk(url)]);
  if (altWorkers !== vusWorkers)
    rows.push([`engine constant-vus 50 (${plural(altWorkers)}, --workers ${String(altWorkers)})`, await engineRun(vus50, url, altWorkers)]);
  // The same load over https: a server speaking only HTTP/1.1, and one whose ALPN picks HTTP/2.
  rows.push([`engine constant-vus 50, https HTTP/1.1 (${plural(vusWorkers)})`, await engineRun(vus50, https1, vusWorkers)]);
  rows.push([`engine constant-vus 50, https HTTP/2 (${plural(vusWorkers)})`, await engineRun(vus50, https2, vusWorkers)]);
  // The synchronous VU mode (a VU per thread, k6-style script): its start-up is the 50 threads, so it is measured with them.
  // Its 50 VU threads' start-up, measured with 50 one-request iterations, is subtracted like the process start-up.
  const syncStart = await engineRun(syncOnce, url, vusWorkers);
  const syncRun = await engineRun(vus50sync, url, vusWorkers);
  rows.push([
    `engine constant-vus 50, sync VU mode (k6-style \`http.get\`, ${plural(vusWorkers)})`,
    { ...syncRun, cpuSeconds: Math.max(0, syncRun.cpuSeconds - syncStart.cpuSeconds) },
  ]);
  console.log('\n| load generator | requests/s | CPU-seconds per 10k requests | peak RSS MB |');
  console.log('|---|---:|---:|---:|');
  for (const [name, m] of rows) {
    if (m === undefined) {
      console.log(`| ${name} | (not installed) | | |`);
      continue;
    }
    console.log(`| ${name} | ${fmt(m.requests / m.seconds)} | ${fmt(per10k(m), 3)} | ${fmt(m.peakRssMb)} |`);
  }
  console.log(`\narrival rate: ${fmt(carRun.dropped)} dropped of ${fmt(carRun.iterations + carRun.dropped)} iterations`);
  const eng = rows[0]?.[1];
  const ac = rows[2]?.[1];
  const wk = rows[3]?.[1];
  if (eng !== undefined && ac !== undefined) {
    const perCpu = (m: Measured): number => m.requests / Math.max(0.01, m.cpuSeconds);
    console.log(
      `\nengine/autocannon: requests/s ${fmt(eng.requests / ac.requests, 2)}x, requests per CPU-second ${fmt(perCpu(eng) / perCpu(ac), 2)}x`,
    );
    if (wk !== undefined)
      console.log(
        `engine/wrk: requests/s ${fmt(eng.requests / wk.requests, 2)}x, requests per CPU-second ${fmt(perCpu(eng) / perCpu(wk), 2)}x`,
      );
  }
}

/** Memory per sleeping VU, in the async mode (one thread) and the sync VU mode (a thread per VU). */
async function memoryPerVu(sc: ReturnType<typeof benchScripts>): Promise<void> {
  const { idle, idleSync } = sc;
  // Memory per sleeping VU: RSS at 6 s of an 8 s run, IDLE_VUS VUs vs 1 VU, both in one thread.
  const one = await engineProcess(['--workers', '1', '-e', 'VUS=1', idle]);
  const many = await engineProcess(['--workers', '1', '-e', `VUS=${String(IDLE_VUS)}`, idle]);
  const r1 = rssAtSecond(one.rssSeries, 6);
  const rn = rssAtSecond(many.rssSeries, 6);
  console.log(
    `\nmemory per sleeping VU: RSS ${fmt(r1, 1)} MB at 1 VU, ${fmt(rn, 1)} MB at ${String(IDLE_VUS)} VUs → ${fmt(((rn - r1) * 1024) / (IDLE_VUS - 1), 1)} KB per VU`,
  );

  // The sync VU mode: RSS and CPU per VU thread (SYNC_IDLE_VUS sleeping VUs vs 1): peak RSS, reached once every thread is up.
  const syncOne = await engineProcess(['-e', 'VUS=1', idleSync]);
  const syncMany = await engineProcess(['-e', `VUS=${String(SYNC_IDLE_VUS)}`, idleSync]);
  const s1 = syncOne.peakRssMb;
  const sn = syncMany.peakRssMb;
  console.log(
    `sync VU mode, per sleeping VU: RSS ${fmt(s1, 1)} MB at 1 VU, ${fmt(sn, 1)} MB at ${String(SYNC_IDLE_VUS)} VUs → ${fmt((sn - s1) / (SYNC_IDLE_VUS - 1), 2)} MB per VU; start-up ${fmt(((syncMany.cpu - syncOne.cpu) * 1000) / (SYNC_IDLE_VUS - 1))} ms of CPU per VU (engine/sync/mode.ts SYNC_VU_RSS_MB, SYNC_VU_START_MS)`,
  );
  console.log(
    'k6 (published, not measured here: no k6 binary on this machine): about 2.7-3 MB per VU for small scripts (grafana/k6#1543), 30,000-40,000 VUs per instance (k6 docs, "Running large tests")',
  );
}

/** RSS growth at full rate over SOAK_SECONDS. */
async function rssGrowth(url: string): Promise<void> {
  // RSS growth at full rate (constant-vus 50, one thread).
  const soak = script(
    'soak.js',
    `import http from 'k6/http';
export const options = { vus: 50, duration: '${String(SOAK_SECONDS)}s' };
export default async function () { await http.get(__ENV.URL); }
`,
  );
  // RSS saw-tooths with the garbage collector, so a single reading can land on a peak or a trough:
  // compare the median of every 100 ms reading in the first and the last window (minute 1 vs minute 10
  // for a 600 s run).
  const w = Math.max(5, SOAK_SECONDS / 10);
  const s = await engineRun(soak, url);
  const median = (from: number, to: number): number => {
    const v = s.rssSeries
      .filter(([t]) => t >= from && t < to)
      .map(([, mb]) => mb)
      .sort((x, y) => x - y);
    return v[Math.floor(v.length / 2)] ?? Number.NaN;
  };
  const a = median(w, 2 * w);
  const b = median(SOAK_SECONDS - w, SOAK_SECONDS);
  console.log(
    `RSS at full rate (median of 100 ms readings): ${fmt(a, 1)} MB in ${fmt(w)}–${fmt(2 * w)} s vs ${fmt(b, 1)} MB in ${fmt(SOAK_SECONDS - w)}–${fmt(SOAK_SECONDS)} s → ${fmt(((b - a) / a) * 100, 1)} % growth (${fmt(s.requests)} requests in ${String(SOAK_SECONDS)} s)`,
  );
}

/** BENCH_ONLY=https: HTTP/1.1 and HTTP/2 over TLS, ROUNDS rounds, this checkout and BENCH_BASE in turn; medians and the ratio. */
async function httpsOnly(sc: ReturnType<typeof benchScripts>, url: string, https1: string, https2: string): Promise<void> {
  const workers = workersFor({ closedVUs: 50, peakRate: 0 });
  const variants = [{ name: 'this checkout', root: ROOT }, ...(BASE === undefined ? [] : [{ name: 'BENCH_BASE', root: BASE }])];
  for (const v of variants) await measureStartup(sc.empty, url, workers, v.root);
  console.log(
    `bench:engine (BENCH_ONLY=https) — constant-vus 50, ${String(SECONDS)} s per run, ${plural(workers)}, ${String(ROUNDS)} rounds; ${new Date().toISOString()}`,
  );
  const results = new Map(
    variants.map((v) => [v.name, { h1: [] as number[], h2: [] as number[], rps1: [] as number[], rps2: [] as number[] }]),
  );
  for (let i = 0; i < ROUNDS; i++) {
    for (const v of variants) {
      const before = loadavg();
      const h1 = await engineRun(sc.vus50, https1, workers, v.root);
      const h2 = await engineRun(sc.vus50, https2, workers, v.root);
      const r = results.get(v.name);
      r?.h1.push(per10k(h1));
      r?.h2.push(per10k(h2));
      r?.rps1.push(h1.requests / h1.seconds);
      r?.rps2.push(h2.requests / h2.seconds);
      console.log(
        `round ${String(i + 1)} ${v.name}: HTTP/1.1 ${fmt(per10k(h1), 3)}, HTTP/2 ${fmt(per10k(h2), 3)} CPU-s per 10k (${fmt(h1.requests)} / ${fmt(h2.requests)} requests); load ${before} → ${loadavg()}`,
      );
    }
  }
  const floor = await bareH2(https2);
  console.log(
    `\nbare node:http2 client (no engine: request(), 'response'/'data'/'end' listeners only), ${fmt(floor.requests)} requests, 50 streams at a time: ${fmt(floor.one, 3)} CPU-s per 10k on one session, ${fmt(floor.fifty, 3)} on 50 sessions (one per VU, as the engine runs them)`,
  );
  console.log(
    '\n| checkout | HTTP/1.1 over TLS: CPU-s per 10k (median) | HTTP/2: CPU-s per 10k (median) | HTTP/2 / HTTP/1.1 | requests/s h1 / h2 |',
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const v of variants) {
    const r = results.get(v.name);
    if (r === undefined) continue;
    const h1 = median(r.h1);
    const h2 = median(r.h2);
    console.log(
      `| ${v.name} (${v.root}) | ${fmt(h1, 3)} | ${fmt(h2, 3)} | ${fmt(h2 / h1, 2)}x | ${fmt(median(r.rps1))} / ${fmt(median(r.rps2))} |`,
    );
  }
}

/**
 * Beside the engine's HTTP/2 row: a bare node:http2 client (a separate process, Node's own request()) making requests
 * 50 at a time against the same server, on one session and on 50 (one per VU, as the engine runs them);
 * CPU per request from the process's own cpuUsage between the first request and the last response.
 */
async function bareH2(target: string): Promise<{ requests: number; one: number; fifty: number }> {
  const requests = 20_000;
  const file = script(
    'bare-h2.mjs',
    `import { connect } from 'node:http2';
const [target, n, nSessions] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const sessions = [];
let up = 0, started = 0, done = 0, t0;
const one = (i) => {
  if (started >= n) return;
  started++;
  const s = sessions[i % nSessions].request({ ':path': '/', 'user-agent': 'bare' }, { endStream: true });
  s.on('response', () => {});
  s.on('data', () => {});
  s.on('end', () => {
    if (++done < n) return one(i);
    const c = process.cpuUsage(t0);
    process.stdout.write(String((c.user + c.system) / 1e6) + '\\n');
    process.exit(0);
  });
};
for (let i = 0; i < nSessions; i++) {
  const s = connect(target, { rejectUnauthorized: false });
  sessions.push(s);
  s.on('connect', () => {
    if (++up < nSessions) return;
    t0 = process.cpuUsage();
    for (let j = 0; j < 50; j++) one(j);
  });
}
`,
  );
  const run = async (nSessions: number): Promise<number> => {
    const r = await measure(process.execPath, [file, target, String(requests), String(nSessions)]);
    return (Number(r.out.trim()) / requests) * 10_000;
  };
  return { requests, one: await run(1), fifty: await run(50) };
}

async function main(): Promise<void> {
  const { url, https1, https2, child: server } = await startServer();
  const sc = benchScripts();
  if (ONLY === 'https') {
    await httpsOnly(sc, url, https1, https2);
    server.kill();
    return;
  }
  if (BASE !== undefined) {
    await sideBySide(sc, url, BASE);
    server.kill();
    return;
  }
  await throughput(sc, url, https1, https2);
  await memoryPerVu(sc);
  await rssGrowth(url);
  server.kill();
}

await main();
