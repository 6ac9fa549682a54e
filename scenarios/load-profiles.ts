/**
 * load-profiles — light / medium / heavy / stress load shapes over the read-heavy API mix, to find the
 * breaking point and show whether the platform degrades gracefully.
 *
 * Proves: for light, medium and heavy, the per-endpoint objectives hold
 * (`http_req_duration{endpoint:…}`, `http_req_failed`); for stress (a ramp to 4× heavy), that the platform
 * degrades gracefully: errors stay under 10 % and P95 under 5× the objectives while the rate climbs. The
 * `load` tag on every request tells the stages apart in reports; `dropped_iterations` shows where the load
 * generator could not start requests on time.
 *
 * Needs from the system: `GET /health`, `GET /api/agents`, `GET /api/agents/:id/status` and at least one agent.
 *
 * Variables:
 *   BASE_URL
 *   LOAD          light (default) | medium | heavy | stress
 *   SIZE          smoke (default: rates ÷ 10, stages of 5 s) | full (stages of minutes)
 *   RATE_SCALE    multiplies every rate (e.g. 2 for a bigger system)
 *   STAGE_DURATION  length of every stage (overrides the size's default)
 *   PROFILE       mvp (default) | production — the thresholds
 */
import { check } from 'k6';
import exec from 'k6/execution';
import type { Stage } from 'k6/options';
import { bySize, duration, num, oneOf, optional, size, target } from '../lib/config.ts';
import { get, json, ok, type Res } from '../lib/http.ts';
import { arrField, strField } from '../lib/json.ts';
import { rampingArrival, type ScriptOptions } from '../lib/scenario.ts';
import { apiThresholds, selectProfile, type ApiEndpoint, type ThresholdMap } from '../thresholds/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const LOADS = ['light', 'medium', 'heavy', 'stress'] as const;
type Load = (typeof LOADS)[number];
const LOAD: Load = oneOf(env, 'LOAD', LOADS, 'light');
const SCALE = num(env, 'RATE_SCALE', 1, { min: 0.01 });
const profile = selectProfile(env);
const STAGE = optional(env, 'STAGE_DURATION') !== undefined ? duration(env, 'STAGE_DURATION', '5s') : undefined;

/** Full-size shapes: [target rate per second, stage length]. Smoke divides rates by 10 and uses 5 s stages. */
const SHAPES: Readonly<Record<Load, readonly (readonly [number, string])[]>> = {
  light: [
    [10, '1m'],
    [10, '3m'],
    [0, '30s'],
  ],
  medium: [
    [50, '2m'],
    [50, '5m'],
    [0, '1m'],
  ],
  heavy: [
    [100, '2m'],
    [100, '10m'],
    [0, '1m'],
  ],
  stress: [
    [100, '2m'],
    [200, '2m'],
    [300, '2m'],
    [400, '2m'],
    [0, '1m'],
  ],
};

const stages: Stage[] = SHAPES[LOAD].map(([rate, dur]) => ({
  target: Math.max(0, Math.round(bySize(sz, { smoke: Math.max(rate > 0 ? 2 : 0, rate / 10), full: rate }) * SCALE)),
  duration: STAGE ?? bySize(sz, { smoke: '5s', full: dur }),
}));
const peak = Math.max(...stages.map((s) => s.target));
const ENDPOINTS: readonly ApiEndpoint[] = ['health', 'agents_list', 'agent_status'];

function thresholds(): ThresholdMap {
  if (LOAD !== 'stress') return apiThresholds(profile, ENDPOINTS);
  const t: ThresholdMap = { http_req_failed: ['rate<0.1'] };
  for (const e of ENDPOINTS) t[`http_req_duration{endpoint:${e}}`] = [`p(95)<${Math.round(profile.api.p95Ms[e] * 5)}`];
  return t;
}

export const options: ScriptOptions = {
  scenarios: {
    [LOAD]: rampingArrival({ exec: 'mix', startRate: 1, stages, preAllocatedVUs: Math.max(2, Math.ceil(peak / 5)), maxVUs: Math.max(10, peak * 2), tags: { load: LOAD } }),
  },
  thresholds: thresholds(),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

interface Data {
  readonly agentIds: string[];
}

export async function setup(): Promise<Data> {
  const r = await get(`${baseUrl}/api/agents?limit=20`, { endpoint: 'setup', name: '/api/agents' });
  return { agentIds: arrField(json(r), 'items').map((a) => strField(a, 'id')).filter((x): x is string => x !== undefined) };
}

export async function mix(d: Data): Promise<void> {
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
