/**
 * `npm run bench:soak`: a long run at a fixed arrival rate as a benchmark of memory over time. Runs the
 * embedded engine and then, when a k6 binary is found (K6_BIN, else `k6` on PATH), k6 on the same script
 * against the same loopback endpoint (a separate Node.js process), and prints for each: RSS per minute,
 * the growth from the end of the warm-up to the end, requests and dropped iterations.
 *
 * The script is async-first (as scenarios are written), so the engine runs it in its async VU mode.
 *
 * Env: SOAK_MINUTES (default 10; 60 for the documented hour), SOAK_RATE (default 2000 requests/s),
 * SOAK_VUS (pre-allocated VUs, default 50), SOAK_WARMUP_MINUTES (default 5, at most half the run): the
 * growth is the median RSS of the last minute against that of the warm-up's last minute. The engine runs with
 * the young-generation flags `npm run k6` and the agentload binary use (scripts/young-generation.mjs);
 * AGENTLOAD_YOUNG_GENERATION=grow runs it without them (V8's growing young generation).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { youngGenerationFlags } from '../scripts/young-generation.mjs';
import { procStats } from './proc.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const RATE = Number(process.env.SOAK_RATE ?? 2000);
const VUS = Number(process.env.SOAK_VUS ?? 50);
const WARMUP = Math.min(Number(process.env.SOAK_WARMUP_MINUTES ?? 5), MINUTES / 2);
for (const [name, v] of [
  ['SOAK_MINUTES', MINUTES],
  ['SOAK_RATE', RATE],
  ['SOAK_VUS', VUS],
  ['SOAK_WARMUP_MINUTES', WARMUP],
] as const) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench:soak: ${name} must be a positive number, got "${String(process.env[name])}"`);
    process.exit(2);
  }
}
const dir = mkdtempSync(join(tmpdir(), 'agentload-bench-soak-'));

/** The k6 binary: K6_BIN, else `k6` on PATH; undefined when there is none. */
function k6Binary(): string | undefined {
  if ((process.env.K6_BIN ?? '') !== '') return process.env.K6_BIN;
  const found = spawnSync('sh', ['-c', 'command -v k6'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/** The endpoint: its own process, 2 bytes per answer. */
async function startServer(): Promise<{ url: string; stop: () => void }> {
  const file = join(dir, 'server.mjs');
  writeFileSync(
    file,
    `import { createServer } from 'node:http';
const s = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => { process.stdout.write('http://127.0.0.1:' + s.address().port + '/\\n'); });
`,
  );
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((r) =>
    child.stdout.once('data', (c: Buffer) => {
      r(c.toString('utf8').trim());
    }),
  );
  return {
    url,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}

interface Soak {
  readonly perMinute: number[];
  readonly requests: number;
  readonly dropped: number;
  /** VUs the arrival-rate executor had allocated at most (from SOAK_VUS up to 4×): each one's memory stays with the run. */
  readonly vusMax: number;
  readonly code: number;
  readonly err: string;
}

/** Runs `cmd` (a k6-compatible `run`), reading its RSS every second; one median per minute. */
async function soak(cmd: string, args: readonly string[], exportFile: string): Promise<Soak> {
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err = (err + c.toString('utf8')).slice(-4000);
  });
  const readings: number[][] = [];
  const started = performance.now();
  const timer = setInterval(() => {
    const s = child.pid === undefined ? undefined : procStats(child.pid);
    if (s === undefined) return;
    const minute = Math.floor((performance.now() - started) / 60_000);
    (readings[minute] ??= []).push(s.rssMb);
  }, 1000);
  const code = await new Promise<number>((r) =>
    child.once('close', (c) => {
      r(c ?? -1);
    }),
  ).finally(() => {
    clearInterval(timer);
  });
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  // Whole minutes only: the last partial minute is the run's end (summary, shutdown).
  const perMinute = readings.slice(0, MINUTES).map((xs) => median(xs));
  let requests = 0;
  let dropped = 0;
  let vusMax = 0;
  try {
    const s = JSON.parse(readFileSync(exportFile, 'utf8')) as { metrics: Record<string, { count?: number; max?: number }> };
    requests = s.metrics.http_reqs?.count ?? 0;
    dropped = s.metrics.dropped_iterations?.count ?? 0;
    vusMax = s.metrics.vus_max?.max ?? 0;
  } catch {
    // no summary: the run failed (reported with its exit code)
  }
  return { perMinute, requests, dropped, vusMax, code, err };
}

function report(name: string, s: Soak): void {
  if (s.code !== 0) {
    console.log(`${name}: exit ${String(s.code)}: ${s.err.trim().split('\n').slice(-3).join(' ')}`);
    return;
  }
  const w = Math.max(1, Math.round(WARMUP));
  const base = s.perMinute[w - 1] ?? Number.NaN;
  const last = s.perMinute.at(-1) ?? Number.NaN;
  console.log(`${name}: RSS (MB, median per minute) ${s.perMinute.map((m) => m.toFixed(0)).join(' ')}`);
  console.log(
    `${name}: growth after minute ${String(w)}: ${base.toFixed(1)} → ${last.toFixed(1)} MB = ${(((last - base) / base) * 100).toFixed(1)} %;` +
      ` ${String(s.requests)} requests (${(s.requests / (MINUTES * 60)).toFixed(0)}/s of ${String(RATE)}), ${String(s.dropped)} dropped iterations,` +
      ` VUs allocated at most ${String(s.vusMax)} (${String(VUS)} pre-allocated)`,
  );
}

const server = await startServer();
try {
  const script = join(dir, 'soak.js');
  writeFileSync(
    script,
    `import http from 'k6/http';
export const options = {
  scenarios: { soak: { executor: 'constant-arrival-rate', rate: ${String(RATE)}, timeUnit: '1s', duration: '${String(MINUTES)}m', preAllocatedVUs: ${String(VUS)}, maxVUs: ${String(VUS * 4)} } },
};
export default async function () { await http.get(__ENV.URL); }
`,
  );
  const young = youngGenerationFlags(process.env);
  console.log(
    `bench:soak: ${String(RATE)} requests/s for ${String(MINUTES)} min against ${server.url} (warm-up ${String(WARMUP)} min;` +
      ` engine young generation: ${young.length > 0 ? young.join(' ') : "V8's default (AGENTLOAD_YOUNG_GENERATION=grow)"})`,
  );
  const engineExport = join(dir, 'engine-summary.json');
  report(
    'engine',
    await soak(
      process.execPath,
      [
        ...young,
        join(ROOT, 'scripts', 'engine.mjs'),
        'run',
        '-q',
        '--no-summary',
        '--summary-export',
        engineExport,
        '-e',
        `URL=${server.url}`,
        script,
      ],
      engineExport,
    ),
  );
  const k6 = k6Binary();
  if (k6 === undefined) {
    console.log('k6: no k6 binary (K6_BIN or k6 on PATH): engine only');
  } else {
    const k6Export = join(dir, 'k6-summary.json');
    report(
      `k6 (${k6})`,
      await soak(k6, ['run', '-q', '--no-summary', '--summary-export', k6Export, '-e', `URL=${server.url}`, script], k6Export),
    );
  }
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
