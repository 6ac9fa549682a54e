/** Helpers for report tests: k6 `--out json` line writers and fixture paths. */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { K6_REFERENCE_DIR } from '../support/k6-reference.ts';

export const REF = K6_REFERENCE_DIR;
export const FIXTURE_OUT = join(REF, 'fixture.out.json');
export const FIXTURE_SUMMARY = join(REF, 'fixture.summary-export.json');
export const FIXTURE_HANDLE = join(REF, 'fixture.handle-summary-data.json');
export const ROOT = new URL('../../', import.meta.url).pathname;

/** A seeded generator (mulberry32), so every run of a test sees the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function tmp(prefix = 'agentload-report-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export type K6Type = 'counter' | 'gauge' | 'rate' | 'trend';

export function metricLine(
  name: string,
  type: K6Type,
  contains: 'default' | 'time' | 'data' = type === 'trend' ? 'time' : 'default',
  thresholds: string[] = [],
  submetrics: { name: string; suffix: string; tags: Record<string, string> }[] | null = null,
): string {
  return JSON.stringify({ type: 'Metric', data: { name, type, contains, thresholds, submetrics }, metric: name });
}

export function pointLine(metric: string, timeMs: number, value: number, tags: Record<string, string>): string {
  return JSON.stringify({ metric, type: 'Point', data: { time: new Date(timeMs).toISOString(), value, tags } });
}

/** A small HTTP run: `n` requests to one endpoint, latencies from `latency(i)`, every `errEvery`-th failing. */
export function httpRun(o: {
  n: number;
  latency: (i: number) => number;
  start?: number;
  spacingMs?: number;
  errEvery?: number;
  name?: string;
  thresholds?: string[];
  /** The first `setup` requests run in setup() (group `::setup`), as k6 tags them. */
  setup?: number;
}): string {
  const start = o.start ?? Date.UTC(2026, 0, 1, 12, 0, 0);
  const spacing = o.spacingMs ?? 10;
  const name = o.name ?? 'http://127.0.0.1:1/api/agents';
  const lines = [
    metricLine('http_reqs', 'counter'),
    metricLine('http_req_duration', 'trend', 'time', o.thresholds ?? []),
    metricLine('http_req_failed', 'rate'),
  ];
  for (let i = 0; i < o.n; i++) {
    const err = o.errEvery !== undefined && i % o.errEvery === 0;
    const tags = {
      method: 'GET',
      name,
      scenario: 'default',
      status: err ? '500' : '200',
      expected_response: err ? 'false' : 'true',
      group: i < (o.setup ?? 0) ? '::setup' : '',
    };
    const t = start + i * spacing;
    lines.push(
      pointLine('http_reqs', t, 1, tags),
      pointLine('http_req_duration', t, o.latency(i), tags),
      pointLine('http_req_failed', t, err ? 1 : 0, tags),
    );
  }
  return lines.join('\n') + '\n';
}

/** k6's percentile on exact values: linear interpolation between the order statistics around q·(n−1). */
export function exactQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = q * (sorted.length - 1);
  const lo = sorted[Math.floor(i)] ?? 0;
  const hi = sorted[Math.ceil(i)] ?? 0;
  return lo + (hi - lo) * (i - Math.floor(i));
}
