/**
 * load-profiles — light / medium / heavy / stress tiers as the seed defines them: agents running and users
 * active, to find the breaking point and show whether the platform degrades gracefully.
 *
 * A tier is a number of agents (spawned in setup, stopped in teardown) and of users; each user sends one
 * request per THINK_S seconds (the read-heavy API mix) and has at most one request in flight, so when the
 * platform slows down users fall behind: that shows as `dropped_iterations` (gated), not as hidden latency.
 * Tiers run in steps (`step` tag): light, medium and heavy ramp up in two steps and hold; stress climbs from the
 * heavy tier to 4× its users in four steps.
 *
 * Proves: for light, medium and heavy, the per-endpoint objectives (`http_req_duration{endpoint:…}`,
 * `http_req_failed`) and `dropped_iterations` ≤ 1 % of the planned requests; for stress, graceful degradation
 * at every step (`http_req_failed{step:N}` < 10 %, `http_req_duration{step:N}` P95 < 5× the objective,
 * `dropped_iterations` ≤ 10 %), and the breaking point: the summary names the first step (users, agents, req/s)
 * where errors or P95 crossed the normal objectives (the knee).
 *
 * Needs from the system: `GET /health`, `GET /api/agents`, `GET /api/agents/:id/status`, `POST /api/agents {count}`,
 * `POST /agents/:id/stop`.
 *
 * Variables:
 *   BASE_URL
 *   LOAD          light (default) | medium | heavy | stress
 *   SIZE          smoke (default: users ÷ 10, agents ÷ 5, steps of 5 s) | full (steps of minutes)
 *   THINK_S       seconds between a user's requests, default 1
 *   RATE_SCALE    multiplies every step's users (e.g. 2 for a bigger system)
 *   LEVELS        users of each step, a comma list replacing the tier's steps (e.g. 10,20,40; not divided at smoke size)
 *   STEP_DURATION length of every step (overrides the size's default; STAGE_DURATION, its older name, too)
 *   PROFILE       mvp (default) | production — the thresholds
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { bySize, ConfigError, duration, durationMs, list, num, oneOf, optional, size, sizeVar, target } from '../lib/config.ts';
import { get, json, ok, postJson, request, type Res } from '../lib/http.ts';
import { sleep } from '../lib/k6.ts';
import { arrField, strField } from '../lib/json.ts';
import { arrival, secs, type ScriptOptions } from '../lib/scenario.ts';
import { apiThresholds, selectProfile, type ApiEndpoint, type ThresholdMap } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const LOADS = ['light', 'medium', 'heavy', 'stress'] as const;
type Load = (typeof LOADS)[number];
const LOAD: Load = oneOf(env, 'LOAD', LOADS, 'light');
const SCALE = num(env, 'RATE_SCALE', 1, { min: 0.01 });
const THINK_S = num(env, 'THINK_S', 1, { min: 0.05 });
const profile = selectProfile(env);
const STEP_VAR = sizeVar(env, 'STEP_DURATION', 'STAGE_DURATION');
const STAGE = optional(env, STEP_VAR) !== undefined ? duration(env, STEP_VAR, '5s') : undefined;
/** LEVELS: the users of each step, replacing the tier's steps (the size does not divide them; RATE_SCALE does multiply). */
const LEVELS =
  optional(env, 'LEVELS') === undefined
    ? undefined
    : list(env, 'LEVELS', []).map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1 || n > 100_000)
          throw new ConfigError(
            'config-invalid',
            'LEVELS',
            `LEVELS must list users per step (integers 1..100000), got "${s}": e.g. LEVELS=10,20,40`,
          );
        return n;
      });

/** The seed's tiers at full size: agents running and users active; steps are [users, length]. */
export const TIERS: Readonly<Record<Load, { readonly agents: number; readonly steps: readonly (readonly [number, string])[] }>> = {
  light: {
    agents: 5,
    steps: [
      [5, '1m'],
      [10, '3m'],
    ],
  },
  medium: {
    agents: 20,
    steps: [
      [25, '2m'],
      [50, '5m'],
    ],
  },
  heavy: {
    agents: 50,
    steps: [
      [50, '2m'],
      [100, '10m'],
    ],
  },
  stress: {
    agents: 50,
    steps: [
      [100, '2m'],
      [200, '2m'],
      [300, '2m'],
      [400, '2m'],
    ],
  },
};

const tier = TIERS[LOAD];
const AGENTS = Math.max(1, Math.round(bySize(sz, { smoke: tier.agents / 5, full: tier.agents })));
interface Step {
  readonly users: number;
  readonly rate: number;
  readonly seconds: number;
}
const tierSteps: readonly (readonly [number, string])[] =
  LEVELS === undefined
    ? tier.steps.map(([users, dur]) => [bySize(sz, { smoke: users / 10, full: users }), dur] as const)
    : LEVELS.map((users, i) => [users, (tier.steps[Math.min(i, tier.steps.length - 1)] ?? [0, '2m'])[1]] as const);
const STEPS: Step[] = tierSteps.map(([users, dur]) => {
  const u = Math.max(1, Math.round(users * SCALE));
  return { users: u, rate: u / THINK_S, seconds: durationMs(STAGE ?? bySize(sz, { smoke: '5s', full: dur })) / 1000 };
});
const ENDPOINTS: readonly ApiEndpoint[] = ['health', 'agents_list', 'agent_status'];
const planned = STEPS.reduce((a, s) => a + s.rate * s.seconds, 0);

function thresholds(): ThresholdMap {
  if (LOAD !== 'stress')
    return { ...apiThresholds(profile, ENDPOINTS), dropped_iterations: [`count<=${Math.max(2, Math.floor(planned * 0.01))}`] };
  const t: ThresholdMap = { http_req_failed: ['rate<0.1'], dropped_iterations: [`count<=${Math.max(2, Math.floor(planned * 0.1))}`] };
  for (const e of ENDPOINTS) t[`http_req_duration{endpoint:${e}}`] = [`p(95)<${Math.round(profile.api.p95Ms[e] * 5)}`];
  // Per step, so the summary can tell where the knee is (and each step must still degrade gracefully).
  STEPS.forEach((_, i) => {
    t[`http_req_failed{step:${i + 1}}`] = ['rate<0.1'];
    t[`http_req_duration{step:${i + 1}}`] = [`p(95)<${Math.round(Math.max(...ENDPOINTS.map((e) => profile.api.p95Ms[e])) * 5)}`];
  });
  return t;
}

const scenarios: ScriptOptions['scenarios'] = {};
let at = 0;
STEPS.forEach((s, i) => {
  scenarios[`${LOAD}_${i + 1}`] = arrival({
    exec: 'user',
    rate: s.rate,
    duration: secs(s.seconds),
    startTime: secs(at),
    preAllocatedVUs: Math.max(1, Math.ceil(s.users / 4)),
    maxVUs: s.users,
    tags: { load: LOAD, step: String(i + 1), users: String(s.users) },
  });
  at += s.seconds;
});

export const options: ScriptOptions = {
  scenarios,
  thresholds: thresholds(),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '120s',
};

interface Data {
  readonly agentIds: string[];
  readonly spawned: string[];
}

export async function setup(): Promise<Data> {
  const r = await get(`${baseUrl}/api/agents?limit=500&status=healthy`, { endpoint: 'setup', name: '/api/agents' });
  const have = arrField(json(r), 'items')
    .map((a) => strField(a, 'id'))
    .filter((x): x is string => x !== undefined);
  const spawned: string[] = [];
  const need = AGENTS - have.length;
  if (need > 0) {
    const s = await postJson(
      `${baseUrl}/api/agents`,
      { count: need, namePrefix: `load-${LOAD}` },
      { endpoint: 'setup', name: '/api/agents' },
    );
    spawned.push(
      ...arrField(json(s), 'agents')
        .map((a) => strField(a, 'id'))
        .filter((x): x is string => x !== undefined),
    );
    // Wait (bounded) for the tier's agents to be healthy before users arrive.
    const deadline = Date.now() + 30_000;
    for (const id of spawned) {
      while (Date.now() < deadline) {
        const st = await get(`${baseUrl}/api/agents/${id}/status`, { endpoint: 'setup', name: '/api/agents/:id/status' });
        if (strField(json(st), 'status') === 'healthy') break;
        await sleep(0.1);
      }
    }
  }
  return { agentIds: [...have, ...spawned].slice(0, Math.max(AGENTS, 1)), spawned };
}

export async function user(d: Data): Promise<void> {
  const i = exec.scenario.iterationInTest;
  let r: Res;
  switch (i % 3) {
    case 0:
      r = await get(`${baseUrl}/health`, { endpoint: 'health', name: '/health' });
      break;
    case 1:
      r = await get(`${baseUrl}/api/agents?limit=50`, { endpoint: 'agents_list', name: '/api/agents' });
      break;
    default: {
      const id = d.agentIds[i % Math.max(1, d.agentIds.length)] ?? 'none';
      r = await get(`${baseUrl}/api/agents/${id}/status`, { endpoint: 'agent_status', name: '/api/agents/:id/status' });
    }
  }
  check(r, { 'request ok': ok });
}

export async function teardown(d: Data): Promise<void> {
  await Promise.all(
    d.spawned.map((id) => request('POST', `${baseUrl}/agents/${id}/stop`, null, { endpoint: 'teardown', name: '/agents/:id/stop' })),
  );
}

type SummaryMetrics = Record<string, { values?: Record<string, number> } | undefined>;

/** The first step whose P95 or error rate crossed the normal objectives, from the per-step sub-metrics. */
export function knee(metrics: SummaryMetrics): { step: number; why: string } | undefined {
  const p95Objective = Math.max(...ENDPOINTS.map((e) => profile.api.p95Ms[e]));
  for (let i = 1; i <= STEPS.length; i++) {
    const p95 = metrics[`http_req_duration{step:${i}}`]?.values?.['p(95)'];
    const err = metrics[`http_req_failed{step:${i}}`]?.values?.rate;
    if (err !== undefined && err > profile.api.maxErrorRate)
      return { step: i, why: `errors ${(err * 100).toFixed(1)} % > ${profile.api.maxErrorRate * 100} %` };
    if (p95 !== undefined && p95 > p95Objective) return { step: i, why: `P95 ${p95.toFixed(0)} ms > ${p95Objective} ms` };
  }
  return undefined;
}

export function summaryExtras(data: { metrics: SummaryMetrics }): Record<string, string> {
  if (LOAD !== 'stress') return {};
  const k = knee(data.metrics);
  const line =
    k === undefined
      ? `no breaking point up to ${STEPS[STEPS.length - 1]?.users ?? 0} users (${AGENTS} agents): every step met the normal objectives`
      : `breaking point: step ${k.step}, ${STEPS[k.step - 1]?.users ?? 0} users (${AGENTS} agents, ${(STEPS[k.step - 1]?.rate ?? 0).toFixed(0)} req/s): ${k.why}`;
  return { stdout: `     ${line}\n\n` };
}
