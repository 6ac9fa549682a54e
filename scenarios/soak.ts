/**
 * soak — hours of mixed traffic at a steady rate (~80 % of capacity), with the platform's own memory,
 * heap, event-loop lag and queue depth sampled on a fixed period, so reports can fit growth per hour.
 *
 * Proves: latency and errors of the traffic stay within the profile for the whole run
 * (`http_req_duration{scenario:traffic}`, `http_req_failed{scenario:traffic}`), and records for the soak
 * analysis the gauges `target_rss_bytes`, `target_heap_used_bytes`, `target_event_loop_lag_ms` and
 * `target_queue_depth` every MONITOR_PERIOD (the report fits MB/h, ms/h and the leak verdict against the
 * profile's soak budget, objectives/targets.ts `soak`).
 *
 * Needs from the system: the agents API (`/health`, `/api/agents`, `/api/agents/:id/status`,
 * `/api/agents/:id/logs`), `POST /api/tasks`, `POST /api/bus/:topic`, and Prometheus `/metrics` with
 * process memory, heap, event-loop lag and a queue-depth metric (names configurable below).
 *
 * Variables:
 *   BASE_URL, METRICS_URL (default BASE_URL/metrics)
 *   SIZE              smoke (default: 20 s at 10 req/s, scrape every 2 s) | full (8 h at 50 req/s, every 30 s)
 *   DURATION          e.g. 8h (SOAK_DURATION, its older name, is read too)
 *   RATE              requests per second (set it to ~80 % of the capacity load-profiles found; SOAK_RATE too)
 *   MONITOR_PERIOD    scrape period in seconds
 *   METRIC_RSS        default process_resident_memory_bytes
 *   METRIC_HEAP       default nodejs_heap_size_used_bytes
 *   METRIC_LAG        default nodejs_eventloop_lag_seconds (seconds; recorded as ms)
 *   METRIC_QUEUE      default bus_queue_depth (summed over labels)
 *   PROFILE           mvp (default) | production
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { bySize, duration, int, size, sizeVar, str, target } from '../lib/config.ts';
import { get, json, ok, postJson, type Res } from '../lib/http.ts';
import { arrField, strField } from '../lib/json.ts';
import { monitorMetrics } from '../lib/metrics.ts';
import { parsePrometheus, promValue } from '../lib/prom.ts';
import { arrival, type ScriptOptions } from '../lib/scenario.ts';
import { selectProfile, soakThresholds } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
// DURATION and RATE, as in every other scenario; SOAK_DURATION / SOAK_RATE (older names) when those are not set.
const DURATION = duration(env, sizeVar(env, 'DURATION', 'SOAK_DURATION'), bySize(sz, { smoke: '20s', full: '8h' }));
const RATE = int(env, sizeVar(env, 'RATE', 'SOAK_RATE'), bySize(sz, { smoke: 10, full: 50 }), { min: 1 });
const PERIOD_S = int(env, 'MONITOR_PERIOD', bySize(sz, { smoke: 2, full: 30 }), { min: 1 });
const METRICS_URL = str(env, 'METRICS_URL', `${baseUrl}/metrics`);
const METRIC_RSS = str(env, 'METRIC_RSS', 'process_resident_memory_bytes');
const METRIC_HEAP = str(env, 'METRIC_HEAP', 'nodejs_heap_size_used_bytes');
const METRIC_LAG = str(env, 'METRIC_LAG', 'nodejs_eventloop_lag_seconds');
const METRIC_QUEUE = str(env, 'METRIC_QUEUE', 'bus_queue_depth');

export const options: ScriptOptions = {
  scenarios: {
    traffic: arrival({ exec: 'traffic', rate: RATE, duration: DURATION }),
    monitor: arrival({ exec: 'monitor', rate: 1 / PERIOD_S, duration: DURATION, preAllocatedVUs: 1, maxVUs: 2 }),
  },
  thresholds: soakThresholds(selectProfile(env)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = monitorMetrics();

interface Data {
  readonly agentIds: string[];
}

export async function setup(): Promise<Data> {
  const r = await get(`${baseUrl}/api/agents?limit=20`, { endpoint: 'setup', name: '/api/agents' });
  return {
    agentIds: arrField(json(r), 'items')
      .map((a) => strField(a, 'id'))
      .filter((x): x is string => x !== undefined),
  };
}

/** The traffic mix, by weight: reads dominate, some writes. */
const MIX = [
  ['health', 3],
  ['agents_list', 3],
  ['agent_status', 3],
  ['agent_logs', 2],
  ['task_submit', 1],
  ['bus_publish', 2],
] as const;
const MIX_TOTAL = MIX.reduce((s, [, w]) => s + w, 0);

function pick(i: number): (typeof MIX)[number][0] {
  let k = i % MIX_TOTAL;
  for (const [name, w] of MIX) {
    if (k < w) return name;
    k -= w;
  }
  return 'health';
}

export async function traffic(d: Data): Promise<void> {
  const i = exec.scenario.iterationInTest;
  const what = pick(i);
  const id = d.agentIds[i % Math.max(1, d.agentIds.length)] ?? 'none';
  let r: Res;
  switch (what) {
    case 'health':
      r = await get(`${baseUrl}/health`, { endpoint: 'health', name: '/health' });
      break;
    case 'agents_list':
      r = await get(`${baseUrl}/api/agents?limit=50`, { endpoint: 'agents_list', name: '/api/agents' });
      break;
    case 'agent_status':
      r = await get(`${baseUrl}/api/agents/${id}/status`, { endpoint: 'agent_status', name: '/api/agents/:id/status' });
      break;
    case 'agent_logs':
      r = await get(`${baseUrl}/api/agents/${id}/logs?limit=20`, { endpoint: 'agent_logs', name: '/api/agents/:id/logs' });
      break;
    case 'task_submit':
      r = await postJson(
        `${baseUrl}/api/tasks`,
        { mode: 'autonomous', input: { soak: i } },
        { endpoint: 'task_submit', name: '/api/tasks' },
      );
      break;
    case 'bus_publish':
      r = await postJson(
        `${baseUrl}/api/bus/agent_results`,
        { payload: { soak: i, sentAt: Date.now() } },
        { endpoint: 'bus_publish', name: '/api/bus/:topic' },
      );
      break;
  }
  check(r, { [`${what} ok`]: ok });
}

export async function monitor(): Promise<void> {
  const r = await get(METRICS_URL, { endpoint: 'metrics', name: '/metrics' });
  if (!ok(r) || typeof r.body !== 'string') {
    m.scrapeFailed.add(true);
    return;
  }
  const s = parsePrometheus(r.body);
  const rss = promValue(s, METRIC_RSS);
  const heap = promValue(s, METRIC_HEAP);
  const lag = promValue(s, METRIC_LAG);
  const queue = promValue(s, METRIC_QUEUE);
  if (rss !== undefined) m.rss.add(rss);
  if (heap !== undefined) m.heapUsed.add(heap);
  if (lag !== undefined) m.eventLoopLag.add(lag * 1000);
  if (queue !== undefined) m.queueDepth.add(queue);
  m.scrapeFailed.add(rss === undefined);
}
