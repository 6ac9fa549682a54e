/**
 * agent-scaling — spawn N agents (5…30) and time until all of them are healthy; memory per agent.
 *
 * Proves: time from the spawn request until every new agent reports healthy, per N
 * (`agents_all_healthy_time{agents:N}`; design: 20 agents < 5 s, 30 < 7 s), spawn failures
 * (`agents_spawn_failed`), and memory per agent (`agent_memory_bytes`: the platform's RSS growth from
 * `/metrics` divided by N, tagged `source:rss`, and each agent's own `memoryBytes`, tagged `source:status`;
 * seed: < 50 MB, production < 30 MB), and that memory grows linearly in N (`agent_memory_linearity`: per-agent
 * RSS growth of the largest batch ÷ that of the smallest, each taken as at least the profile's floor of 1 MiB
 * so that noise on small growth is not judged; 1 = linear). Each batch is stopped again before the next, so
 * batches do not add up.
 *
 * Needs from the system: `POST /api/agents {"count","namePrefix"}` → `{"agents":[{id}]}`,
 * `GET /api/agents/:id/status` → `{"status":"healthy", "healthyAt", "memoryBytes"}`, `POST /agents/:id/stop`,
 * and Prometheus `/metrics` with `process_resident_memory_bytes` (METRIC_RSS to use another name).
 *
 * Variables:
 *   BASE_URL, METRICS_URL (default BASE_URL/metrics)
 *   SIZE             smoke (default: 5 and 10 agents) | full (5, 10, 20, 30)
 *   LEVELS           comma list of N, e.g. 5,20,30 (AGENT_COUNTS, its older name, too)
 *   HEALTH_TIMEOUT   seconds to wait per batch, default 30
 *   POLL_MS          status poll period, default 100
 *   PROFILE          mvp (default) | production
 */
import { check } from 'k6';
import { bySize, int, list, size, sizeVar, str, target } from '../lib/config.ts';
import { sleep } from '../lib/k6.ts';
import { get, json, ok, postJson, request } from '../lib/http.ts';
import { arrField, numField, strField } from '../lib/json.ts';
import { agentMetrics } from '../lib/metrics.ts';
import { parsePrometheus, promValue } from '../lib/prom.ts';
import { once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { agentThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const METRICS_URL = str(env, 'METRICS_URL', `${baseUrl}/metrics`);
const METRIC_RSS = str(env, 'METRIC_RSS', 'process_resident_memory_bytes');
const COUNTS_VAR = sizeVar(env, 'LEVELS', 'AGENT_COUNTS');
const COUNTS = list(env, COUNTS_VAR, bySize(sz, { smoke: ['5', '10'], full: ['5', '10', '20', '30'] })).map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new Error(`${COUNTS_VAR} must list integers 1..500, got "${s}": e.g. ${COUNTS_VAR}=5,20,30`);
  return n;
});
const HEALTH_TIMEOUT_S = int(env, 'HEALTH_TIMEOUT', 30, { min: 1 });
const POLL_MS = int(env, 'POLL_MS', 100, { min: 10 });
const profile = selectProfile(env);

export const options: ScriptOptions = {
  scenarios: { scaling: once('scale', 1, secs(COUNTS.length * (HEALTH_TIMEOUT_S + 10) + 30)) },
  thresholds: agentThresholds(profile, COUNTS),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(95)'],
};

const m = agentMetrics();

async function rss(): Promise<number | undefined> {
  const r = await get(METRICS_URL, { endpoint: 'metrics', name: '/metrics' });
  return ok(r) && typeof r.body === 'string' ? promValue(parsePrometheus(r.body), METRIC_RSS) : undefined;
}

interface Status {
  readonly healthy: boolean;
  readonly healthyAt: number | undefined;
  readonly memoryBytes: number | undefined;
}

async function status(id: string, n: number): Promise<Status> {
  const r = await get(`${baseUrl}/api/agents/${id}/status`, {
    endpoint: 'agent_status',
    name: '/api/agents/:id/status',
    agents: String(n),
  });
  const b = json(r);
  return { healthy: strField(b, 'status') === 'healthy', healthyAt: numField(b, 'healthyAt'), memoryBytes: numField(b, 'memoryBytes') };
}

/** Per-agent RSS growth of a batch, bytes, or undefined when /metrics gave no RSS. */
async function batch(n: number): Promise<number | undefined> {
  const tags = { agents: String(n) };
  const before = await rss();
  const t0 = Date.now();
  const r = await postJson(
    `${baseUrl}/api/agents`,
    { count: n, namePrefix: `scale-${n}` },
    { endpoint: 'agents_spawn', name: '/api/agents', agents: String(n) },
  );
  const ids = arrField(json(r), 'agents')
    .map((a) => strField(a, 'id'))
    .filter((x): x is string => x !== undefined);
  const spawned = check(r, { 'agents spawned': ok }) && ids.length === n;
  m.spawnFailed.add(!spawned, tags);
  if (!spawned) {
    console.error(`spawning ${n} agents failed: HTTP ${r.status}, got ${ids.length} ids`);
    return undefined;
  }
  const pending = new Set(ids);
  const memory = new Map<string, number>();
  const deadline = t0 + HEALTH_TIMEOUT_S * 1000;
  while (pending.size > 0 && Date.now() < deadline) {
    const ask = [...pending];
    const got = await Promise.all(ask.map((id) => status(id, n)));
    got.forEach((s, i) => {
      const id = ask[i];
      if (id === undefined || !s.healthy) return;
      pending.delete(id);
      if (s.memoryBytes !== undefined) memory.set(id, s.memoryBytes);
    });
    if (pending.size > 0) await sleep(POLL_MS / 1000);
  }
  const allHealthyMs = Date.now() - t0;
  // Not all healthy in time: record the timeout itself, so the threshold fails rather than passing on no data.
  m.allHealthy.add(pending.size === 0 ? allHealthyMs : Math.max(allHealthyMs, HEALTH_TIMEOUT_S * 1000), tags);
  check(pending.size, { [`all ${n} agents healthy within ${HEALTH_TIMEOUT_S}s`]: (p) => p === 0 });
  for (const b of memory.values()) m.memory.add(b, { ...tags, source: 'status' });
  const after = await rss();
  const perAgent = before !== undefined && after !== undefined ? Math.max(0, (after - before) / n) : undefined;
  if (perAgent !== undefined) m.memory.add(perAgent, { ...tags, source: 'rss' });
  await Promise.all(
    ids.map((id) => request('POST', `${baseUrl}/agents/${id}/stop`, null, { endpoint: 'agent_stop', name: '/agents/:id/stop' })),
  );
  return perAgent;
}

export async function scale(): Promise<void> {
  const perAgent = new Map<number, number>();
  for (const n of COUNTS) {
    const b = await batch(n);
    if (b !== undefined) perAgent.set(n, b);
  }
  const ns = [...perAgent.keys()].sort((a, b) => a - b);
  const small = ns[0];
  const large = ns[ns.length - 1];
  if (small === undefined || large === undefined || small === large) return;
  const floor = profile.agents.linearityFloorBytes;
  const ratio = Math.max(perAgent.get(large) ?? 0, floor) / Math.max(perAgent.get(small) ?? 0, floor);
  m.linearity.add(ratio, { agents: `${small}-${large}` });
  if (ratio > 1)
    console.log(
      `memory per agent: ${Math.round((perAgent.get(small) ?? 0) / 1024)} KiB at ${small} agents, ${Math.round((perAgent.get(large) ?? 0) / 1024)} KiB at ${large} (x${ratio.toFixed(2)})`,
    );
}
