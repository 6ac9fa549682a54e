/**
 * failover — work spread evenly across API instances, and what happens when one goes away and one is added.
 *
 * Proves: each instance's share of the requests is within ±10 % of an even share over the steady window
 * (`failover_share_deviation`, from per-instance request counts); no task the platform accepted is lost
 * when an instance is killed mid-run (`failover_tasks_lost` = 0: every 202'd task reaches completed or
 * failed); the error burst after the kill is bounded (`http_req_failed{phase:burst}`) and over once it is
 * (`http_req_failed{phase:recovered}`); an added instance is healthy within 30 s
 * (`failover_scale_up_time`); `fault_recovery_time{action}` per fault.
 *
 * How: traffic at RATE (health checks and agent lists) plus TASK_SUBMITTERS VUs submitting tasks, tagged
 * `phase` = steady | burst (BURST_WINDOW after the first instance-kill) | recovered; an observer reads the
 * per-instance request counts before and after the steady window; one VU applies the fault plan.
 *
 * Needs from the system: `GET /health`, `GET /api/agents`, `POST /api/tasks {"mode"}` → 202 `{"id"}`,
 * `GET /api/tasks/:id` → `{"status"}`; a fault controller at FAULTS_URL with instance-kill, instance-add
 * and a view of the instances (`GET /cluster`). `npm run k6 -- scenarios/failover.ts` starts the platform
 * as 3 API instances and a consumer worker behind a balancer, with the controller (docs/faults.md).
 *
 * Variables:
 *   SIZE          smoke (default: 20 req/s for 30 s, kill at 14 s, add at 20 s) | full (100 req/s for 5 min)
 *   RATE          traffic requests/s (20 / 100); DURATION (30s / 5m); LEAD (2)
 *   FAULTS        the plan (lib/fault-plan.ts); default instance-kill at 40 % of DURATION, instance-add at 60 %
 *   VUS           VUs submitting tasks (2 / 4; TASK_SUBMITTERS too), TASK_RATE tasks/s each (2), TASK_TIMEOUT seconds (30)
 *   BURST_WINDOW  seconds after a kill that count as the burst (5)
 *   PROFILE       mvp (default: burst <= 25 % errors, then <= 5 %) | production (10 %, then 1 %)
 */
import { check } from 'k6';
import { bySize, int, num, optional, size, sizeVar, target } from '../lib/config.ts';
import { failoverTimeline, shareDeviation } from '../lib/fault-plan.ts';
import { checkFaultController, clusterView, runFaultPlan, until, type AppliedFault, type Recovery } from '../lib/faults.ts';
import { get, json, ok, postJson } from '../lib/http.ts';
import { field, numField, strField } from '../lib/json.ts';
import { sleep } from '../lib/k6.ts';
import { failoverMetrics, faultMetrics } from '../lib/metrics.ts';
import { arrival, once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { failoverThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const timeline = failoverTimeline(env);
const FAULTS_URL = optional(env, 'FAULTS_URL');
const RATE = int(env, 'RATE', bySize(sz, { smoke: 20, full: 100 }), { min: 1 });
const SUBMITTERS = int(env, sizeVar(env, 'VUS', 'TASK_SUBMITTERS'), bySize(sz, { smoke: 2, full: 4 }), { min: 1, max: 100 });
const TASK_RATE = num(env, 'TASK_RATE', 2, { min: 0.01, max: 100 });
const TASK_TIMEOUT_S = int(env, 'TASK_TIMEOUT', 30, { min: 1 });
const BURST_S = int(env, 'BURST_WINDOW', 5, { min: 1 });
const loadEndS = timeline.leadS + timeline.loadS;
const killAtS = timeline.plan.find((f) => f.action === 'instance-kill')?.atS;
/** The steady window the share is measured over: from a second after the start to a second before the first fault. */
const shareFromS = timeline.leadS + 1;
const shareToS = Math.min(loadEndS, timeline.plan[0]?.atS ?? loadEndS) - 1;

if (FAULTS_URL === undefined) {
  throw new Error(
    'FAULTS_URL is not set: run through `npm run k6 -- scenarios/failover.ts` (it starts the instances and the fault controller)',
  );
}
const faultsUrl = FAULTS_URL;

export const options: ScriptOptions = {
  scenarios: {
    traffic: arrival({ exec: 'traffic', rate: RATE, duration: secs(timeline.loadS), startTime: secs(timeline.leadS) }),
    submitters: once('submit', SUBMITTERS, secs(loadEndS + TASK_TIMEOUT_S + 60)),
    observer: once('observe', 1, secs(loadEndS + 30)),
    faults: once('faults', 1, secs(loadEndS + 120)),
  },
  thresholds: failoverThresholds(selectProfile(env)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = failoverMetrics();
const fm = faultMetrics();

interface Data {
  readonly startedAt: number;
}

export async function setup(): Promise<Data> {
  await checkFaultController(faultsUrl, timeline.plan);
  if ((await clusterView(faultsUrl)) === undefined)
    throw new Error(`the fault controller at ${faultsUrl} has no view of the platform's instances (GET /cluster): see docs/faults.md`);
  return { startedAt: Date.now() };
}

/** steady before the first kill, burst for BURST_WINDOW after it, recovered after that. */
function phase(d: Data): string {
  if (killAtS === undefined) return 'steady';
  const t = (Date.now() - d.startedAt) / 1000;
  return t < killAtS ? 'steady' : t < killAtS + BURST_S ? 'burst' : 'recovered';
}

export async function traffic(d: Data): Promise<void> {
  const tags = { phase: phase(d) };
  const r =
    __ITER % 2 === 0
      ? await get(`${baseUrl}/health`, { endpoint: 'health', name: '/health', ...tags })
      : await get(`${baseUrl}/api/agents?limit=5`, { endpoint: 'agents_list', name: '/api/agents', ...tags });
  check(r, { 'request served': ok });
}

export async function submit(d: Data): Promise<void> {
  const start = d.startedAt + timeline.leadS * 1000;
  const count = Math.max(1, Math.floor(TASK_RATE * timeline.loadS));
  const accepted: string[] = [];
  for (let i = 0; i < count; i++) {
    await until(start + (i * 1000) / TASK_RATE);
    const r = await postJson(
      `${baseUrl}/api/tasks`,
      { mode: 'autonomous', input: { vu: __VU, i } },
      { endpoint: 'task_submit', name: '/api/tasks', phase: phase(d) },
    );
    const id = r.status === 202 ? strField(json(r), 'id') : undefined;
    if (id !== undefined) accepted.push(id);
  }
  m.accepted.add(accepted.length);
  // Every accepted task must finish (completed or failed); poll until all have or the timeout.
  const pending = new Set(accepted);
  const deadline = Date.now() + TASK_TIMEOUT_S * 1000;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const r = await get(`${baseUrl}/api/tasks/${id}`, { endpoint: 'task_status', name: '/api/tasks/:id' });
      const status = strField(json(r), 'status');
      if (status === 'completed' || status === 'failed') {
        pending.delete(id);
        if (status === 'completed') m.completed.add(1);
      }
    }
    if (pending.size > 0) await sleep(0.5);
  }
  m.lost.add(pending.size);
  check(pending, { 'every accepted task finished': (p) => p.size === 0 });
  if (pending.size > 0)
    console.warn(
      `submitter ${__VU}: ${pending.size} of ${accepted.length} accepted tasks never finished (e.g. ${[...pending].slice(0, 3).join(', ')})`,
    );
}

function apiCounts(view: readonly { id: string; role: string; requests: number }[]): Map<string, number> {
  return new Map(view.filter((x) => x.role === 'api').map((x) => [x.id, x.requests]));
}

export async function observe(d: Data): Promise<void> {
  if (shareToS - shareFromS < 2) {
    console.warn(
      `failover: the steady window (${shareFromS}s..${shareToS}s) is too short to measure the share; move the first fault later`,
    );
    return;
  }
  await until(d.startedAt + shareFromS * 1000);
  const before = await clusterView(faultsUrl);
  await until(d.startedAt + shareToS * 1000);
  const after = await clusterView(faultsUrl);
  if (before === undefined || after === undefined) return;
  const b = apiCounts(before);
  const counts: number[] = [];
  const shown: string[] = [];
  for (const x of after) {
    if (x.role !== 'api' || x.state !== 'healthy' || !b.has(x.id)) continue;
    const n = x.requests - (b.get(x.id) ?? 0);
    counts.push(n);
    shown.push(`${x.id}=${n}`);
  }
  const dev = shareDeviation(counts);
  m.shareDeviation.add(dev);
  console.log(
    `failover: requests per instance over ${shareToS - shareFromS}s: ${shown.join(', ')} (largest deviation from an even share ${(dev * 100).toFixed(1)} %)`,
  );
}

/** Probes in a row that must succeed for the platform to count as recovered. */
const RECOVERED_STREAK = 20;

/**
 * instance-add: time to healthy (and it must take traffic). instance-kill (and others): probes through the
 * balancer every 100 ms until RECOVERED_STREAK succeed in a row; recovered at the first of them. Not
 * recovered when the traffic phase ends first.
 */
async function measure(d: Data, f: AppliedFault): Promise<Recovery> {
  if (f.action === 'instance-add') {
    const healthyAt = numField(f.detail, 'healthyAt') ?? Date.now();
    const ms = Math.max(0, healthyAt - f.at);
    m.scaleUp.add(ms);
    const id = strField(f.detail, 'instance') ?? '?';
    // It must also take traffic, not only pass health checks.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const served = (await clusterView(faultsUrl))?.find((x) => x.id === id)?.requests ?? 0;
      if (served > 0 || Date.now() > deadline) {
        check(served, { 'added instance takes traffic': (n) => n > 0 });
        break;
      }
      await sleep(0.2);
    }
    return { recovered: true, ms };
  }
  if (field(f.detail, 'instance') !== undefined) console.log(`failover: ${String(field(f.detail, 'instance'))} killed`);
  const end = d.startedAt + loadEndS * 1000;
  let streak = 0;
  let streakFrom = 0;
  while (Date.now() < end) {
    const t = Date.now();
    const r = await get(`${baseUrl}/health`, { endpoint: 'probe', name: '/health', phase: phase(d) });
    if (ok(r)) {
      if (streak === 0) streakFrom = t;
      streak += 1;
      if (streak >= RECOVERED_STREAK) return { recovered: true, ms: Math.max(0, streakFrom - f.at) };
    } else {
      streak = 0;
    }
    await sleep(0.1);
  }
  return { recovered: false, ms: Date.now() - f.at };
}

export async function faults(d: Data): Promise<void> {
  await runFaultPlan(faultsUrl, timeline.plan, d.startedAt, (f) => measure(d, f), fm);
}
