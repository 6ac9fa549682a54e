/**
 * npm run bench:report [-- --lines N] [--keep]
 * Generates a realistic k6 `--out json` file (default 5,000,000 lines), then measures in the same run:
 * `wc -l` on it, our streaming ingest (lines/s, peak RSS) on the whole file and on a 1/5 prefix
 * (memory must stay flat whatever the size), and ingest of a gzipped prefix. Each ingest runs in a
 * child process so its peak RSS (VmHWM) is its own.
 */

import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import { HTTP_REQ_METRICS } from '../shared/k6-metrics.ts';

const SELF = fileURLToPath(import.meta.url);

function peakRssMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

/** Child mode: ingest one file, print figures as JSON. */
async function childIngest(file: string, full: boolean): Promise<void> {
  // Modules are loaded (and compiled by tsx) before the clock starts: the figures are ingest, not start-up.
  const { buildReport } = await import('../src/reporting/index.ts');
  const { ingestFiles } = await import('../src/reporting/ingest.ts');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let lines = 0;
  if (full) {
    const out = mkdtempSync(join(tmpdir(), 'agentload-bench-out-'));
    await buildReport({ runDir: file, outDir: out, historyDir: false });
    const v = JSON.parse(readFileSync(join(out, 'verdict.json'), 'utf8')) as { run: { inputs: { lines: number }[] } };
    lines = v.run.inputs.reduce((n, f) => n + f.lines, 0);
    rmSync(out, { recursive: true, force: true });
  } else {
    const acc = await ingestFiles([file]);
    lines = acc.files.reduce((n, f) => n + f.lines, 0);
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  process.stdout.write(JSON.stringify({ ms, cpuMs: (c.user + c.system) / 1000, lines, peakRssMB: peakRssMB() }) + '\n');
}

const ENDPOINTS = [
  { method: 'GET', path: '/health', endpoint: 'health', base: 2 },
  { method: 'GET', path: '/api/agents', endpoint: 'agents', base: 12 },
  { method: 'POST', path: '/api/agents/7/start', endpoint: 'start', base: 80 },
  { method: 'GET', path: '/api/tasks?limit=20', endpoint: 'tasks', base: 25 },
];
const HTTP_METRICS = HTTP_REQ_METRICS;

function metricLine(name: string, type: string, contains: string): string {
  return JSON.stringify({
    type: 'Metric',
    data: { name, type, contains, thresholds: name === 'http_req_duration' ? ['p(95)<500'] : [], submetrics: null },
    metric: name,
  });
}

/** Writes `total` lines shaped like k6 v0.49 output: 9 HTTP lines per request, checks, data, iterations, vus. */
async function generate(path: string, total: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 22 });
  const write = (s: string): Promise<void> => (out.write(s) ? Promise.resolve() : new Promise((r) => out.once('drain', () => r())));
  const defs = [
    ...HTTP_METRICS.map((m) =>
      metricLine(
        m,
        m === 'http_reqs' ? 'counter' : m === 'http_req_failed' ? 'rate' : 'trend',
        m === 'http_reqs' || m === 'http_req_failed' ? 'default' : 'time',
      ),
    ),
    metricLine('checks', 'rate', 'default'),
    metricLine('data_sent', 'counter', 'data'),
    metricLine('data_received', 'counter', 'data'),
    metricLine('iteration_duration', 'trend', 'time'),
    metricLine('iterations', 'counter', 'default'),
    metricLine('vus', 'gauge', 'default'),
  ];
  let n = defs.length;
  await write(defs.join('\n') + '\n');
  const start = Date.UTC(2026, 10, 23, 15, 0, 0);
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const ts = (ms: number): string => {
    const iso = new Date(Math.floor(ms)).toISOString();
    const nanos = String(Math.floor((ms % 1000) * 1e6)).padStart(9, '0');
    return `${iso.slice(0, 19)}.${nanos}Z`;
  };
  let iter = 0;
  let batch: string[] = [];
  let lastVuSec = -1;
  while (n < total) {
    const t = start + iter * 1.5; // ~670 iterations/s
    const sec = Math.floor((t - start) / 1000);
    const time = ts(t);
    if (sec !== lastVuSec) {
      lastVuSec = sec;
      batch.push(`{"metric":"vus","type":"Point","data":{"time":"${time}","value":${50 + (sec % 20)},"tags":null}}`);
      n++;
    }
    const e = ENDPOINTS[iter % ENDPOINTS.length] ?? ENDPOINTS[0];
    if (!e) break;
    const failed = rnd() < 0.01;
    const status = failed ? '503' : e.method === 'POST' ? '201' : '200';
    const url = `http://127.0.0.1:3000${e.path}`;
    const tags = `{"endpoint":"${e.endpoint}","expected_response":"${failed ? 'false' : 'true'}","group":"","method":"${e.method}","name":"${url}","proto":"HTTP/1.1","scenario":"api","status":"${status}","url":"${url}"}`;
    const dur = e.base * (0.5 + rnd() * 1.5) + (rnd() < 0.02 ? 200 * rnd() : 0);
    const parts = [1, dur, rnd() * 0.05, 0, 0, rnd() * 0.03, dur * 0.95, rnd() * 0.2, failed ? 1 : 0];
    for (let k = 0; k < HTTP_METRICS.length && n < total; k++) {
      batch.push(`{"metric":"${HTTP_METRICS[k] ?? ''}","type":"Point","data":{"time":"${time}","value":${parts[k] ?? 0},"tags":${tags}}}`);
      n++;
    }
    const itTags = `{"group":"","scenario":"api"}`;
    const tail = [
      `{"metric":"checks","type":"Point","data":{"time":"${time}","value":${failed ? 0 : 1},"tags":{"check":"status is 2xx","group":"","scenario":"api"}}}`,
      `{"metric":"data_sent","type":"Point","data":{"time":"${time}","value":${180 + (iter % 40)},"tags":${itTags}}}`,
      `{"metric":"data_received","type":"Point","data":{"time":"${time}","value":${900 + (iter % 300)},"tags":${itTags}}}`,
      `{"metric":"iteration_duration","type":"Point","data":{"time":"${time}","value":${dur + 1.2},"tags":${itTags}}}`,
      `{"metric":"iterations","type":"Point","data":{"time":"${time}","value":1,"tags":${itTags}}}`,
    ];
    for (const l of tail) {
      if (n >= total) break;
      batch.push(l);
      n++;
    }
    iter++;
    if (batch.length >= 20000) {
      await write(batch.join('\n') + '\n');
      batch = [];
    }
  }
  if (batch.length > 0) await write(batch.join('\n') + '\n');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

interface Figures {
  ms: number;
  cpuMs: number;
  lines: number;
  peakRssMB: number;
}

function runChild(file: string, full = false): Figures {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, full ? '--child-full' : '--child', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`ingest child failed (exit ${String(r.status)}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Figures;
}

/** `wc -l` timed by wall clock and by the child's CPU time (bash's `times`). */
function timeWc(file: string): { ms: number; cpuMs: number; lines: number } {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', 'wc -l "$1"; times', 'wc', file], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  const out = r.stdout.trim().split('\n');
  // `times` prints the shell's and then the children's user/system time: "0m0.120s 0m0.300s"
  const secs = (out[2] ?? '').match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuMs = secs.reduce((n, t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return n + (m ? (Number(m[1]) * 60 + Number(m[2])) * 1000 : 0);
  }, 0);
  return { ms, cpuMs, lines: Number((out[0] ?? '').trim().split(/\s+/)[0]) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child' || args[0] === '--child-full') {
    await childIngest(args[1] ?? '', args[0] === '--child-full');
    return;
  }
  const li = args.indexOf('--lines');
  const total = li >= 0 ? Number(args[li + 1]) : 5_000_000;
  const keep = args.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'agentload-bench-report-'));
  const big = join(dir, 'out.json');
  const small = join(dir, 'small', 'out.json');
  try {
    let t0 = performance.now();
    await generate(big, total);
    console.log(
      `generated ${total.toLocaleString('en')} lines, ${(statSync(big).size / 1048576).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s (${big})`,
    );
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'small'));
    await generate(small, Math.floor(total / 5));
    const gz = join(dir, 'small', 'out.json.gz');
    t0 = performance.now();
    await pipeline(createReadStream(small), createGzip({ level: 1 }), (await import('node:fs')).createWriteStream(gz));
    timeWc(big); // warm the page cache for both contenders
    const wc = timeWc(big);
    const ing = runChild(big);
    const ingSmall = runChild(small);
    const ingGz = runChild(gz);
    const full = runChild(big, true);
    const rate = (lines: number, ms: number): string => `${(((lines / ms) * 1000) / 1e6).toFixed(2)} M/s`;
    const row = (what: string, x: { ms: number; cpuMs: number; lines: number; peakRssMB?: number }): string =>
      `| ${what} | ${x.lines.toLocaleString('en')} | ${(x.ms / 1000).toFixed(2)} s | ${rate(x.lines, x.ms)} | ${(x.cpuMs / 1000).toFixed(2)} s | ${rate(x.lines, x.cpuMs)} | ${x.peakRssMB === undefined ? '–' : `${x.peakRssMB.toFixed(0)} MB`} |`;
    console.log('');
    console.log(
      `load average ${(await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${(await import('node:os')).cpus().length} cores (wall times suffer from other load; CPU times less)`,
    );
    console.log(`| measurement | lines | wall | lines/s (wall) | CPU | lines/s (CPU) | peak RSS |`);
    console.log(`|---|---:|---:|---:|---:|---:|---:|`);
    console.log(row('wc -l', wc));
    console.log(row('ingest (plain)', ing));
    console.log(row('ingest, 1/5 of the file', ingSmall));
    console.log(row('ingest, 1/5 gzipped', ingGz));
    console.log(row('full report (ingest + all files)', full));
    console.log('');
    console.log(
      `ingest / wc -l: wall ${(ing.ms / wc.ms).toFixed(1)}×, CPU ${(ing.cpuMs / Math.max(1, wc.cpuMs)).toFixed(1)}×; peak RSS ${ingSmall.peakRssMB.toFixed(0)} MB at ${ingSmall.lines.toLocaleString('en')} lines vs ${ing.peakRssMB.toFixed(0)} MB at ${ing.lines.toLocaleString('en')} lines (ratio ${(ing.peakRssMB / ingSmall.peakRssMB).toFixed(2)})`,
    );
    console.log(
      `aims: ≥ 1 M lines/s ${(ing.lines / ing.ms) * 1000 >= 1e6 ? 'met' : 'NOT met'} (wall), ${(ing.lines / ing.cpuMs) * 1000 >= 1e6 ? 'met' : 'NOT met'} (per CPU-second); peak RSS < 300 MB ${ing.peakRssMB < 300 ? 'met' : 'NOT met'}`,
    );
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

await main();
