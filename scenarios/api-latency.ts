/**
 * api-latency — per-endpoint latency (P50/P95/P99) of the agents API under a fixed arrival rate.
 *
 * Proves: each endpoint meets its P95/P99 objective (`http_req_duration{endpoint:<name>}`) and the error rate
 * stays under the profile's limit. Arrival-rate executors keep sending on schedule however slow the answers,
 * so slow responses cannot hide latency (no coordinated omission).
 *
 * Needs from the system: `GET /health`, `GET /api/agents` (`{items:[{id}]}`), `GET /api/agents/:id/status`,
 * `GET /api/agents/:id/logs`, `POST /agents/:id/start`; at least one agent (setup spawns 3 if there is none).
 *
 * Variables:
 *   BASE_URL        the system (set by `npm run k6` when it starts the bundled platform)
 *   SIZE            smoke (default, ~20 s at 20 req/s) | full (5 min at 200 req/s)
 *   RATE            total requests per second, split over the endpoints by weight
 *   DURATION        e.g. 5m
 *   ENDPOINTS       comma list, default health,agents_list,agent_status,agent_logs,agent_start
 *   PROFILE         mvp (default) | production — the thresholds
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { bySize, duration, int, list, size, target } from '../lib/config.ts';
import { get, json, ok, request, type Res } from '../lib/http.ts';
import { arrField, strField } from '../lib/json.ts';
import { sleep } from '../lib/k6.ts';
import { arrival, type ScriptOptions } from '../lib/scenario.ts';
import { API_ENDPOINTS, apiThresholds, selectProfile, type ApiEndpoint } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const RATE = int(env, 'RATE', bySize(sz, { smoke: 20, full: 200 }), { min: 1 });
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '20s', full: '5m' }));
const endpoints = list(env, 'ENDPOINTS', API_ENDPOINTS).map((e): ApiEndpoint => {
  const found = API_ENDPOINTS.find((x) => x === e);
  if (found === undefined) throw new Error(`ENDPOINTS: unknown endpoint "${e}": use some of ${API_ENDPOINTS.join(', ')}`);
  return found;
});

/** Share of the total rate per endpoint (reads dominate, starts are rare). */
const WEIGHT: Readonly<Record<ApiEndpoint, number>> = { health: 3, agents_list: 3, agent_status: 3, agent_logs: 2, agent_start: 1 };
const totalWeight = endpoints.reduce((s, e) => s + WEIGHT[e], 0);

const rates = endpoints.map((e) => Math.max(1, Math.round((RATE * WEIGHT[e]) / totalWeight)));
/**
 * Each endpoint's arrivals start a step later than the one before, the steps spreading the starts over the
 * shortest period (40 ms apart at 20 req/s, 4 ms at 200). Started together, every endpoint's requests fell on
 * the same instants (at 20 req/s: 3-5 requests in the same millisecond every 200 ms), and the p95 measured
 * mostly this load's own burst queueing in the generator and the platform: 8-12 ms against 4-4.6 ms staggered
 * on the same machine, and far more spread between runs (docs/reports.md, "Which statistic").
 */
const stepMs = 1000 / Math.max(...rates) / endpoints.length;
const scenarios: ScriptOptions['scenarios'] = {};
endpoints.forEach((e, i) => {
  const startMs = Math.round(i * stepMs);
  scenarios[e] = arrival({
    exec: e,
    rate: rates[i] ?? 1,
    duration: DURATION,
    tags: { endpoint: e },
    ...(startMs > 0 ? { startTime: `${startMs}ms` } : {}),
  });
});

export const options: ScriptOptions = {
  scenarios,
  thresholds: apiThresholds(selectProfile(env), endpoints),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

interface Data {
  readonly agentIds: string[];
}

/** Tries this many times: an erroring system is what this scenario measures, so one failed call must not end the run. */
const SETUP_ATTEMPTS = 5;

/** `GET /api/agents → 404 (expected 200 with {"items": [{"id": …}]})`: what the last answer was and what was expected. */
function answer(method: string, path: string, status: number, expected: string): string {
  return `${method} ${path} → ${status === 0 ? 'no answer (connection failed)' : String(status)} (expected ${expected})`;
}

export async function setup(): Promise<Data> {
  let last = '';
  for (let attempt = 1; attempt <= SETUP_ATTEMPTS; attempt++) {
    const list0 = await get(`${baseUrl}/api/agents?limit=50`, { endpoint: 'setup', name: '/api/agents' });
    let ids = arrField(json(list0), 'items')
      .map((a) => strField(a, 'id'))
      .filter((x): x is string => x !== undefined);
    last = answer('GET', '/api/agents', list0.status, '200 with {"items": [{"id": ...}]}');
    if (ids.length === 0) {
      const made = await request('POST', `${baseUrl}/api/agents`, JSON.stringify({ count: 3, namePrefix: 'api-latency' }), {
        endpoint: 'setup',
        name: '/api/agents',
      });
      ids = arrField(json(made), 'agents')
        .map((a) => strField(a, 'id'))
        .filter((x): x is string => x !== undefined);
      last = `${last}; ${answer('POST', '/api/agents', made.status, '201 with {"agents": [{"id": ...}]}')}`;
    }
    if (ids.length > 0) return { agentIds: ids };
    if (attempt < SETUP_ATTEMPTS) await sleep(0.2 * attempt);
  }
  throw new Error(`setup found no agents at ${baseUrl} after ${SETUP_ATTEMPTS} tries: ${last}; is BASE_URL the agent platform's API?`);
}

function agentId(d: Data): string {
  const ids = d.agentIds;
  return ids[exec.scenario.iterationInTest % ids.length] ?? '';
}

function verify(r: Res, what: string): void {
  check(r, { [`${what} is 2xx`]: ok });
}

export async function health(): Promise<void> {
  verify(await get(`${baseUrl}/health`, { endpoint: 'health', name: '/health' }), 'health');
}

export async function agents_list(): Promise<void> {
  verify(await get(`${baseUrl}/api/agents?limit=100`, { endpoint: 'agents_list', name: '/api/agents' }), 'agents list');
}

export async function agent_status(d: Data): Promise<void> {
  const r = await get(`${baseUrl}/api/agents/${agentId(d)}/status`, { endpoint: 'agent_status', name: '/api/agents/:id/status' });
  verify(r, 'agent status');
}

export async function agent_logs(d: Data): Promise<void> {
  const r = await get(`${baseUrl}/api/agents/${agentId(d)}/logs?limit=50`, { endpoint: 'agent_logs', name: '/api/agents/:id/logs' });
  verify(r, 'agent logs');
}

export async function agent_start(d: Data): Promise<void> {
  const r = await request('POST', `${baseUrl}/agents/${agentId(d)}/start`, null, { endpoint: 'agent_start', name: '/agents/:id/start' });
  verify(r, 'agent start');
}
