/**
 * Threshold builders: turn a profile's numbers into k6 `thresholds` keyed by tagged sub-metrics
 * (`http_req_duration{endpoint:health}`), so reports break the verdict down by endpoint, mode and class.
 * `PROFILE` picks the profile (`mvp` by default, `production` for the design's targets).
 */
import { num, oneOf, type Env } from '../lib/config.ts';
import { M } from '../lib/metric-names.ts';
import { PROFILE_NAMES, PROFILES, type ApiEndpoint, type ArtifactSize, type Profile, type QueryClass, type TaskMode } from './targets.ts';

export * from './targets.ts';

/** k6 thresholds: metric (or sub-metric) → expressions. */
export type ThresholdMap = Record<string, string[]>;

/**
 * The profile named by `PROFILE` (default `mvp`), with every latency objective multiplied by
 * `LATENCY_SCALE` (default 1; e.g. 3 on a slow, shared load generator for a trial run, never for sign-off).
 */
export function selectProfile(env: Env): Profile {
  const p = PROFILES[oneOf(env, 'PROFILE', PROFILE_NAMES, 'mvp')];
  const f = num(env, 'LATENCY_SCALE', 1, { min: 0.01, max: 100 });
  return f === 1 ? p : scaleLatency(p, f);
}

function times<K extends string | number>(r: Readonly<Record<K, number>>, f: number): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of Object.keys(r) as K[]) out[k] = r[k] * f;
  return out;
}

/** The profile with every latency objective × f (and the tokens/s and upload MB/s floors ÷ f); rates and counts unchanged. */
export function scaleLatency(p: Profile, f: number): Profile {
  return {
    ...p,
    description: `${p.description} (latency objectives x${f})`,
    api: { ...p.api, p95Ms: times(p.api.p95Ms, f) },
    websocket: { ...p.websocket, messageP95Ms: p.websocket.messageP95Ms * f, connectP95Ms: p.websocket.connectP95Ms * f },
    slack: { ...p.slack, simpleP95Ms: p.slack.simpleP95Ms * f, complexP95Ms: p.slack.complexP95Ms * f },
    eventbus: { ...p.eventbus, deliveryP95Ms: p.eventbus.deliveryP95Ms * f },
    db: { ...p.db, p95Ms: times(p.db.p95Ms, f) },
    llm: {
      ...p.llm,
      ttftP95Ms: p.llm.ttftP95Ms * f,
      localTtftP95Ms: p.llm.localTtftP95Ms * f,
      totalP95Ms: p.llm.totalP95Ms * f,
      minTokensPerSecondMedian: p.llm.minTokensPerSecondMedian / f,
      maxModelLoadMs: p.llm.maxModelLoadMs * f,
      retryOverheadP95Ms: p.llm.retryOverheadP95Ms * f,
    },
    agents: { ...p.agents, allHealthyMs: times(p.agents.allHealthyMs, f) },
    tasks: { ...p.tasks, latencyP95Ms: times(p.tasks.latencyP95Ms, f) },
    soak: { ...p.soak, p95Ms: p.soak.p95Ms * f },
    cache: { ...p.cache, redisP95Ms: p.cache.redisP95Ms * f, fallbackP95Ms: p.cache.fallbackP95Ms * f },
    scheduler: { ...p.scheduler, driftP95Ms: p.scheduler.driftP95Ms * f },
    stateStore: { ...p.stateStore, writeP95Ms: p.stateStore.writeP95Ms * f },
    jobs: { ...p.jobs, minUploadMBps: times(p.jobs.minUploadMBps, 1 / f) },
  };
}

const ms = (n: number): string => String(Math.round(n));

export function apiThresholds(p: Profile, endpoints: readonly ApiEndpoint[]): ThresholdMap {
  const t: ThresholdMap = { http_req_failed: [`rate<${p.api.maxErrorRate}`] };
  for (const e of endpoints) {
    const p95 = p.api.p95Ms[e];
    const exprs = [`p(95)<${ms(p95)}`];
    if (p.api.p99Factor > 0) exprs.push(`p(99)<${ms(p95 * p.api.p99Factor)}`);
    t[`http_req_duration{endpoint:${e}}`] = exprs;
  }
  return t;
}

export function websocketThresholds(p: Profile): ThresholdMap {
  return {
    [M.wsFanoutLatency]: [`p(95)<${ms(p.websocket.messageP95Ms)}`],
    [M.wsConnectionSetup]: [`p(95)<${ms(p.websocket.connectP95Ms)}`],
    [M.wsFanoutMissedRate]: [`rate<=${p.websocket.maxMissedRate}`],
    [M.wsFanoutDuplicates]: [`count<=${p.websocket.maxDuplicates}`],
    [M.wsConnectFailed]: ['rate<0.01'],
  };
}

export function slackThresholds(p: Profile): ThresholdMap {
  return {
    [`${M.slackE2eLatency}{complexity:simple}`]: [`p(95)<${ms(p.slack.simpleP95Ms)}`],
    [`${M.slackE2eLatency}{complexity:complex}`]: [`p(95)<${ms(p.slack.complexP95Ms)}`],
    [M.slackReplyMissing]: [`rate<=${p.slack.maxMissingRate}`],
    [M.slackEventAccepted]: ['rate>0.99'],
  };
}

export function eventbusThresholds(p: Profile): ThresholdMap {
  return {
    [M.busDeliveryLatency]: [`p(95)<${ms(p.eventbus.deliveryP95Ms)}`],
    [M.busLost]: [`count<=${p.eventbus.maxLost}`],
    [M.busDuplicated]: [`count<=${p.eventbus.maxDuplicates}`],
    [M.busQueueDepth]: [`max<=${p.eventbus.maxQueueDepth}`],
    [M.busConsumerLag]: [`max<=${ms(p.eventbus.maxConsumerLagMs)}`],
    [M.busPublishFailed]: [`rate<=${p.eventbus.maxPublishErrorRate}`],
  };
}

/** bus-durability: zero loss, tolerated duplicates, recovery after every fault, no publish left failing. */
export function durabilityThresholds(p: Profile): ThresholdMap {
  return {
    [M.busLost]: [`count<=${p.durability.maxLost}`],
    [M.busDuplicateRate]: [`rate<=${p.durability.maxDuplicateRate}`],
    [M.busPublishAbandoned]: [`count<=${p.durability.maxAbandonedPublishes}`],
    [M.faultRecoveryTime]: [`max<${ms(p.durability.maxRecoveryMs)}`],
    [M.faultUnrecovered]: ['count==0'],
    [M.faultActionFailed]: ['rate==0'],
  };
}

/** failover: even share, no task lost, bounded error burst after a kill, recovered after it, fast scale-up. */
export function failoverThresholds(p: Profile): ThresholdMap {
  const f = p.failover;
  return {
    [M.failoverShareDeviation]: [`max<=${f.maxShareDeviation}`],
    [M.failoverScaleUpTime]: [`max<${ms(f.maxScaleUpMs)}`],
    [M.failoverTasksLost]: [`count<=${f.maxLostTasks}`],
    'http_req_failed{phase:burst}': [`rate<=${f.maxBurstErrorRate}`],
    'http_req_failed{phase:recovered}': [`rate<=${f.maxRecoveredErrorRate}`],
    [M.faultRecoveryTime]: [`max<${ms(f.maxRecoveryMs)}`],
    [M.faultUnrecovered]: ['count==0'],
    [M.faultActionFailed]: ['rate==0'],
  };
}

export function dbThresholds(p: Profile, classes: readonly QueryClass[]): ThresholdMap {
  const t: ThresholdMap = { [M.dbQueryFailed]: [`rate<${p.db.maxErrorRate}`] };
  for (const c of classes) t[`${M.dbQueryDuration}{query_class:${c}}`] = [`p(95)<${ms(p.db.p95Ms[c])}`];
  return t;
}

/** LLM provider profiles: hosted (OpenAI-compatible API) or local (Ollama, with model load times). */
export const LLM_PROVIDERS = ['hosted', 'local'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

export function llmThresholds(
  p: Profile,
  provider: LlmProvider = 'hosted',
  o: { degradation?: boolean; retries?: boolean } = {},
): ThresholdMap {
  const t: ThresholdMap = {
    [M.llmTtft]: [`p(95)<${ms(provider === 'local' ? p.llm.localTtftP95Ms : p.llm.ttftP95Ms)}`],
    [M.llmTokensPerSecond]: [`med>${p.llm.minTokensPerSecondMedian}`],
    [M.llmTotalTime]: [`p(95)<${ms(p.llm.totalP95Ms)}`],
    [M.llmFailed]: [`rate<${p.llm.maxErrorRate}`],
  };
  if (provider === 'local') t[M.llmModelLoad] = [`max<${ms(p.llm.maxModelLoadMs)}`];
  if (o.degradation === true) t[M.llmDegradation] = [`med<${p.llm.maxDegradation}`];
  if (o.retries === true) t[M.llmRetryOverhead] = [`p(95)<${ms(p.llm.retryOverheadP95Ms)}`];
  return t;
}

export function cacheThresholds(p: Profile, o: { direct: boolean }): ThresholdMap {
  const t: ThresholdMap = {
    [M.cacheHit]: [`rate>${p.cache.minHitRate}`],
    [M.cacheRedisDuration]: [`p(95)<${p.cache.redisP95Ms}`],
    [M.cacheFallbackDuration]: [`p(95)<${p.cache.fallbackP95Ms}`],
    [M.cacheReadFailed]: ['rate<0.01'],
  };
  if (o.direct) t[M.redisCommandDuration] = [`p(95)<${p.cache.redisP95Ms}`];
  return t;
}

export function schedulerThresholds(p: Profile): ThresholdMap {
  return {
    [M.scheduleDrift]: [`p(95)<${ms(p.scheduler.driftP95Ms)}`],
    [M.scheduleMissed]: [`count<=${p.scheduler.maxMissed}`],
    [M.scheduleDuplicated]: [`count<=${p.scheduler.maxDuplicates}`],
    [M.scheduleFailed]: ['rate<0.01'],
    // Some runs must have been seen at all: a scheduler that never fires is not "zero missed".
    [M.scheduleRuns]: ['count>0'],
  };
}

export function stateStoreThresholds(p: Profile): ThresholdMap {
  return {
    [M.stateWriteDuration]: [`p(95)<${ms(p.stateStore.writeP95Ms)}`],
    [M.stateWriteFailed]: [`rate<${p.stateStore.maxErrorRate}`],
    [M.dbPoolWaiting]: [`max<=${p.stateStore.maxPoolWaiting}`],
    [M.dbPoolErrors]: [`count<=${p.stateStore.maxPoolErrors}`],
  };
}

/** Provisioning gates (seed 001), with every time × `timeScale` (the smoke size's documented factor). */
export function provisioningThresholds(p: Profile, timeScale: number): ThresholdMap {
  const j = p.jobs;
  return {
    [M.jobReady]: [
      `med<=${ms(j.readyMedianMaxMs * timeScale)}`,
      `p(95)<${ms(j.readyP95Ms * timeScale)}`,
      `p(99)<${ms(j.readyP99Ms * timeScale)}`,
    ],
    [M.jobSucceeded]: [`rate>=${j.minSuccessRate}`],
  };
}

/**
 * The concurrency sweep: per level, jobs completed ≥ the expected range's floor (jobs/h per slot × slots ×
 * level length, the level length in real hours = measured seconds ÷ timeScale / 3600) and the success rate.
 */
export function jobSweepThresholds(p: Profile, levels: readonly number[], levelSeconds: number, timeScale: number): ThresholdMap {
  const t: ThresholdMap = {};
  for (const c of levels) {
    const expected = Math.floor(p.jobs.minJobsPerHourPerSlot * c * (levelSeconds / timeScale / 3600));
    t[`${M.jobCompleted}{concurrency:${c}}`] = [`count>=${Math.max(1, expected)}`];
    t[`${M.jobSucceeded}{concurrency:${c}}`] = [`rate>=${p.jobs.minSuccessRate}`];
  }
  return t;
}

export function artifactThresholds(p: Profile, sizes: readonly ArtifactSize[], oversize: boolean): ThresholdMap {
  const t: ThresholdMap = { [M.artifactFailed]: ['rate<0.01'] };
  for (const s of sizes) t[`${M.artifactMBps}{size:${s}}`] = [`med>${p.jobs.minUploadMBps[s]}`];
  if (oversize) t[M.artifactOversizeRejected] = ['rate>0.99'];
  return t;
}

/** Objective for N agents: the entry for N, else the next larger listed count, else the largest. */
export function allHealthyObjectiveMs(p: Profile, n: number): number {
  const entries = Object.entries(p.agents.allHealthyMs)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  const hit = entries.find(([k]) => k >= n) ?? entries[entries.length - 1];
  if (hit === undefined) throw new Error(`profile ${p.name} lists no agents.allHealthyMs objectives`);
  return hit[1];
}

export function agentThresholds(p: Profile, counts: readonly number[]): ThresholdMap {
  const t: ThresholdMap = {
    [M.agentsSpawnFailed]: [`rate<${p.agents.maxErrorRate}`],
    [M.agentMemory]: [`max<${p.agents.maxMemoryPerAgentBytes}`],
  };
  if (new Set(counts).size > 1) t[M.agentMemoryLinearity] = [`max<${p.agents.maxMemoryLinearity}`];
  for (const n of counts) t[`${M.agentsAllHealthy}{agents:${n}}`] = [`max<${ms(allHealthyObjectiveMs(p, n))}`];
  return t;
}

/** `expected`: tasks each mode must complete in the run (0 = no throughput threshold). */
export function taskThresholds(p: Profile, modes: readonly TaskMode[], expected: Partial<Record<TaskMode, number>> = {}): ThresholdMap {
  const t: ThresholdMap = { [M.taskFailed]: [`rate<${p.tasks.maxErrorRate}`], http_req_failed: [`rate<${p.tasks.maxErrorRate}`] };
  for (const m of modes) {
    t[`${M.taskLatency}{mode:${m}}`] = [`p(95)<${ms(p.tasks.latencyP95Ms[m])}`];
    const n = expected[m] ?? 0;
    if (n > 0) t[`${M.taskCompleted}{mode:${m}}`] = [`count>=${Math.floor(n)}`];
  }
  return t;
}

export function soakThresholds(p: Profile): ThresholdMap {
  return {
    'http_req_duration{scenario:traffic}': [`p(95)<${ms(p.soak.p95Ms)}`],
    'http_req_failed{scenario:traffic}': [`rate<${p.soak.maxErrorRate}`],
    [M.monitorScrapeFailed]: ['rate<0.1'],
  };
}

/** Merges threshold maps; expressions for the same metric are concatenated. */
export function mergeThresholds(...maps: readonly ThresholdMap[]): ThresholdMap {
  const out: ThresholdMap = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = [...(out[k] ?? []), ...v];
  return out;
}
