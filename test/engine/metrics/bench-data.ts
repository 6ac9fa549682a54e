/**
 * Throughput of the data side (not a test; figures only):
 *   node --import tsx test/engine/metrics/bench-data.ts [requests]
 * Feeds N requests × 12 HTTP samples (k6's tag set) into an Aggregator with two submetrics,
 * evaluates thresholds, snapshots, and writes the same samples through JsonOutput (plain and .gz).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Aggregator, MetricRegistry } from '../../../engine/metrics/index.ts';
import { JsonOutput } from '../../../engine/output/index.ts';
import { parseThresholds } from '../../../engine/thresholds/index.ts';
import type { Sample } from '../../../engine/contracts.ts';
import { HTTP_REQ_METRICS } from '../../../shared/k6-metrics.ts';

const REQS = Number(process.argv[2] ?? 100_000);
const NAMES = [...HTTP_REQ_METRICS, 'data_sent', 'data_received', 'iteration_duration'];

function batches(): Sample[][] {
  const out: Sample[][] = [];
  const t0 = Date.now();
  for (let r = 0; r < REQS; r++) {
    const tags = {
      endpoint: 'health',
      expected_response: 'true',
      group: '',
      method: 'GET',
      name: 'http://127.0.0.1/health',
      proto: 'HTTP/1.1',
      scenario: r % 2 === 0 ? 'api' : 'ramp',
      status: '200',
      url: 'http://127.0.0.1/health',
    };
    const time = t0 + r * 0.05;
    out.push(NAMES.map((metric) => ({ metric, time, value: metric === 'http_req_failed' ? 0 : 0.2 + Math.random() * 50, tags })));
  }
  return out;
}

const registry = new MetricRegistry();
const { set } = parseThresholds(
  { http_req_duration: ['p(95)<500'], 'http_req_duration{scenario:api}': ['p(99)<900'], http_req_failed: ['rate<0.1'] },
  registry,
);
const data = batches();

const agg = new Aggregator(registry, { submetrics: set.keys() });
let t = performance.now();
let cpu = process.cpuUsage();
for (const b of data) agg.add(b);
let ms = performance.now() - t;
const aggCpu = process.cpuUsage(cpu);
let cpuMs = (aggCpu.user + aggCpu.system) / 1000;
console.log(
  `aggregator: ${REQS} requests × 12 samples in ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU → ` +
    `${((REQS / cpuMs) * 1000).toFixed(0)} requests per CPU-second (${((REQS * 12) / cpuMs / 1000).toFixed(2)} M samples per CPU-second)`,
);
t = performance.now();
set.evaluate(agg, 10_000);
console.log(`threshold evaluation: ${(performance.now() - t).toFixed(1)} ms`);
t = performance.now();
const snap = JSON.stringify(agg.snapshot());
console.log(`snapshot: ${(performance.now() - t).toFixed(1)} ms, ${snap.length} bytes JSON`);

const dir = mkdtempSync(path.join(tmpdir(), 'agentload-bench-'));
try {
  for (const file of ['out.json', 'out.json.gz']) {
    const out = new JsonOutput({ path: path.join(dir, file), registry });
    t = performance.now();
    cpu = process.cpuUsage();
    // Yield now and then, as a real run does, so the file stream drains.
    for (let i = 0; i < data.length; i++) {
      out.add(data[i] ?? []);
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    await out.close();
    ms = performance.now() - t;
    const used = process.cpuUsage(cpu);
    cpuMs = (used.user + used.system) / 1000;
    console.log(
      `JsonOutput ${file}: ${((REQS * 12) / ms / 1000).toFixed(2)} M samples/s wall, ${((REQS * 12) / cpuMs / 1000).toFixed(2)} M samples per CPU-second`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
