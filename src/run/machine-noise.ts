/**
 * How busy the machine was while the load ran: recorded in run.json (`machine`) by the run command, for the
 * embedded engine and a k6 binary alike, so the baseline gate can tell "the code got slower" from "the machine
 * was busier than when the baseline was saved" (src/reporting/compare.ts, docs/reports.md "Machine noise").
 *
 * - `loadPerCore`: the 1-minute load average divided by the cores, sampled every 2 s while the load runs (mean
 *   and highest). It includes the run's own processes (engine, platform), which every run of one scenario and
 *   size adds alike; what differs between runs is everyone else's work.
 * - `schedLagMs`: a scheduling-lag probe: a worker thread that does nothing but wake every 10 ms
 *   (`monitorEventLoopDelay`) and records how late it woke (p50, p99, max). It has an event loop of its own, so the
 *   embedded engine's busy loop on the main thread does not delay it: only the kernel's scheduling of the
 *   machine's cores does. Its CPU cost is a wake-up every 10 ms.
 * - `stealPct`: CPU time stolen by the hypervisor (/proc/stat) over the run, when the kernel reports it.
 *
 * Everything is best effort: a probe that cannot start (no /proc, no worker threads) leaves its figure out.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface MachineNoise {
  cores: number;
  /** 1-minute load average per core during the run: mean and highest of the samples (every 2 s). */
  loadPerCore?: { mean: number; max: number; samples: number };
  /** How late a thread that only sleeps woke up, in ms (10 ms timer, from `monitorEventLoopDelay`). */
  schedLagMs?: { p50: number; p99: number; max: number };
  /** Share of CPU time stolen by the hypervisor over the run, in per cent (/proc/stat). */
  stealPct?: number;
}

/** The worker's code: a histogram of its own event loop's delay, sent back when asked. */
const PROBE = `
const { parentPort } = require('node:worker_threads');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const keep = setInterval(() => {}, 1000);
parentPort.on('message', () => {
  h.disable();
  // The histogram holds the whole wait (the 10 ms period included): lateness is what lies past it.
  const ms = (ns) => Math.max(0, ns / 1e6 - 10);
  parentPort.postMessage(h.count > 0 ? { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) } : null);
  clearInterval(keep);
  parentPort.close();
});
`;

/** CPU jiffies from /proc/stat's first line: steal and total (undefined without /proc). */
function cpuTimes(): { steal: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const xs = line.trim().split(/\s+/).slice(1).map(Number);
    if (xs.length < 8 || xs.some((x) => !Number.isFinite(x))) return undefined;
    // user nice system idle iowait irq softirq steal [guest guest_nice: already inside user/nice]
    const total = xs.slice(0, 8).reduce((a, b) => a + b, 0);
    return { steal: xs[7] ?? 0, total };
  } catch {
    return undefined;
  }
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Starts sampling; `stop()` ends it and gives the figures (resolves within about a second even if the worker hangs). */
export function startMachineNoise(): { stop: () => Promise<MachineNoise> } {
  const cores = Math.max(1, availableParallelism());
  const loads: number[] = [];
  const sample = (): void => {
    loads.push((loadavg()[0] ?? 0) / cores);
  };
  sample();
  const timer = setInterval(sample, 2000);
  timer.unref();
  const cpu0 = cpuTimes();
  let worker: Worker | undefined;
  try {
    worker = new Worker(PROBE, { eval: true });
    worker.unref();
    worker.on('error', () => {
      worker = undefined;
    });
  } catch {
    worker = undefined;
  }
  return {
    stop: async (): Promise<MachineNoise> => {
      clearInterval(timer);
      sample();
      const out: MachineNoise = { cores };
      const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
      out.loadPerCore = { mean: round(mean), max: round(Math.max(...loads)), samples: loads.length };
      const cpu1 = cpuTimes();
      if (cpu0 !== undefined && cpu1 !== undefined && cpu1.total > cpu0.total)
        out.stealPct = round(((cpu1.steal - cpu0.steal) / (cpu1.total - cpu0.total)) * 100, 2);
      const w = worker;
      if (w !== undefined) {
        const lag = await new Promise<MachineNoise['schedLagMs'] | null>((res) => {
          const t = setTimeout(() => res(null), 1000);
          w.once('message', (m: MachineNoise['schedLagMs'] | null) => {
            clearTimeout(t);
            res(m);
          });
          w.once('error', () => {
            clearTimeout(t);
            res(null);
          });
          w.postMessage('stop');
        });
        void w.terminate().catch(() => undefined);
        if (lag !== null && lag !== undefined) out.schedLagMs = { p50: round(lag.p50), p99: round(lag.p99), max: round(lag.max) };
      }
      return out;
    },
  };
}
