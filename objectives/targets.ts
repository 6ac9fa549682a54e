/**
 * Threshold profiles as typed data: the numbers each scenario is judged by.
 *
 * `production` holds the design's targets (docs: shared design, first table). `mvp` is the looser bar for a
 * platform's first releases and the default, so a healthy system on a busy CI machine passes while real faults
 * (added latency, errors, loss) still fail it. Select with `PROFILE=production`.
 */

import type { TaskMode } from '../lib/task-modes.ts';

/** The API endpoints with their own latency objective (the `endpoint` tag on requests). */
export const API_ENDPOINTS = ['health', 'agents_list', 'agent_status', 'agent_logs', 'agent_start'] as const;
export type ApiEndpoint = (typeof API_ENDPOINTS)[number];

/** Task execution modes of the platform (the `mode` tag), defined beside the task factories. */
export { TASK_MODES, type TaskMode } from '../lib/task-modes.ts';

/** Database query classes (the `query_class` tag). */
export const QUERY_CLASSES = ['simple_select', 'join', 'bulk_insert', 'json_query'] as const;
export type QueryClass = (typeof QUERY_CLASSES)[number];

export interface ApiTargets {
  /** P95 latency objective per endpoint, ms. */
  readonly p95Ms: Readonly<Record<ApiEndpoint, number>>;
  /** P99 objective as a multiple of the P95 one; 0 = no P99 threshold (P99 is still reported). */
  readonly p99Factor: number;
  /** Highest accepted share of failed requests (0..1). */
  readonly maxErrorRate: number;
}

export interface WebSocketTargets {
  /** Publish → subscriber latency, P95 ms. */
  readonly messageP95Ms: number;
  /** Connection setup, P95 ms. */
  readonly connectP95Ms: number;
  /** Highest accepted share of expected messages a subscriber missed (0..1). */
  readonly maxMissedRate: number;
  readonly maxDuplicates: number;
}

export interface SlackTargets {
  readonly simpleP95Ms: number;
  readonly complexP95Ms: number;
  /** Highest accepted share of events without a reply before the deadline (0..1). */
  readonly maxMissingRate: number;
}

export interface EventBusTargets {
  readonly deliveryP95Ms: number;
  /** Lost messages accepted (the design says zero). */
  readonly maxLost: number;
  readonly maxDuplicates: number;
  /** Highest queue depth seen on the topic ("no queue build-up"). */
  readonly maxQueueDepth: number;
  /** Oldest waiting message during the run, ms ("no queue build-up"). */
  readonly maxConsumerLagMs: number;
  readonly maxPublishErrorRate: number;
}

/** bus-durability: what survives consumer crashes, partitions, publisher crashes and broker restarts. */
export interface DurabilityTargets {
  /** Messages a publisher was told were accepted that no consumer ever got (the design: zero). */
  readonly maxLost: number;
  /** Share of deliveries that were duplicates: at-least-once may deliver twice, this is how much is tolerated. */
  readonly maxDuplicateRate: number;
  /** Longest time from a fault to the first delivery of a message published after it, ms (design: 60 s). */
  readonly maxRecoveryMs: number;
  /** Publishes still failing after every retry ("no publish error left unretried"). */
  readonly maxAbandonedPublishes: number;
}

/** failover: work spread across instances, one killed, one added. */
export interface FailoverTargets {
  /** Largest relative deviation of an instance's share of requests from an even share (design: ±10 %). */
  readonly maxShareDeviation: number;
  /** Time from adding an instance to it being healthy, ms (design: < 30 s). */
  readonly maxScaleUpMs: number;
  /** Accepted tasks that never finished. */
  readonly maxLostTasks: number;
  /** Error rate in the window right after an instance is killed. */
  readonly maxBurstErrorRate: number;
  /** Error rate after that window: recovered. */
  readonly maxRecoveredErrorRate: number;
  /** Longest recovery after a fault, ms. */
  readonly maxRecoveryMs: number;
}

export interface DbTargets {
  readonly p95Ms: Readonly<Record<QueryClass, number>>;
  readonly maxErrorRate: number;
}

export interface LlmTargets {
  /** TTFT P95 of a hosted (OpenAI-compatible) provider, ms (seed 002 §5: < 1 s). */
  readonly ttftP95Ms: number;
  /** TTFT P95 of a local (Ollama) provider with the model loaded, ms (seed 002 §5: < 500 ms). */
  readonly localTtftP95Ms: number;
  /** Lowest accepted median tokens/s per stream. */
  readonly minTokensPerSecondMedian: number;
  readonly totalP95Ms: number;
  /** Share of requests failed after retries (seed 002 §5: < 0.1 %). */
  readonly maxErrorRate: number;
  /** Longest model load (cold start) of a local provider, ms. */
  readonly maxModelLoadMs: number;
  /** Per-stream slowdown with N streams against one stream (ratio of medians; 1 = none). */
  readonly maxDegradation: number;
  /** Time spent waiting and retrying per request, P95 ms. */
  readonly retryOverheadP95Ms: number;
}

export interface CacheTargets {
  /** Share of agent-state reads served by Redis (seed 002 §2.1: > 90 %, production > 95 %). */
  readonly minHitRate: number;
  /** Redis lookup P95, ms (seed: < 5 ms). */
  readonly redisP95Ms: number;
  /** Database fallback on a miss, P95 ms (seed: < 50 ms). */
  readonly fallbackP95Ms: number;
}

export interface SchedulerTargets {
  /** Start drift (start − scheduled instant, work excluded), P95 ms (seed 002 §6.2: < 1 s). */
  readonly driftP95Ms: number;
  readonly maxMissed: number;
  readonly maxDuplicates: number;
}

export interface StateStoreTargets {
  /** Agent-state save, P95 ms (seed 002 §1.1: < 100 ms). */
  readonly writeP95Ms: number;
  /** Highest `db_pool_connections{state="waiting"}` seen while operations ramp past the pool size. */
  readonly maxPoolWaiting: number;
  /** Pool errors (no connection within the acquire timeout) accepted. */
  readonly maxPoolErrors: number;
  readonly maxErrorRate: number;
}

/** Seed 001: the job platform. Times are real (full size); smoke runs scale them by the scenario's time factor. */
export interface JobTargets {
  /** Spawn → ready (provisioning done, job starting), median ms (seed: 17–27 s). */
  readonly readyMedianMaxMs: number;
  readonly readyMedianMinMs: number;
  readonly readyP95Ms: number;
  readonly readyP99Ms: number;
  /** Lowest jobs per hour per concurrent job slot (the sweep's expected range scales with concurrency). */
  readonly minJobsPerHourPerSlot: number;
  readonly minSuccessRate: number;
  /** Lowest median upload throughput per artifact size, MB/s. */
  readonly minUploadMBps: Readonly<Record<ArtifactSize, number>>;
}

/** Artifact sizes of seed 001's table (the `size` tag). */
export const ARTIFACT_SIZES = ['1MB', '10MB', '100MB', '256MB'] as const;
export type ArtifactSize = (typeof ARTIFACT_SIZES)[number];

export interface AgentTargets {
  /** Time until all N agents are healthy, ms, for each N listed; other counts use the next larger N listed. */
  readonly allHealthyMs: Readonly<Record<number, number>>;
  readonly maxErrorRate: number;
  /** Highest memory per agent (the platform's RSS growth ÷ N, and each agent's own report), bytes (seed: 50 MB, production 30 MB). */
  readonly maxMemoryPerAgentBytes: number;
  /**
   * Memory must grow linearly in N: per-agent growth at the largest N ÷ per-agent growth at the smallest N
   * (each at least `linearityFloorBytes`, so noise on a few hundred KB is not judged) stays below this.
   */
  readonly maxMemoryLinearity: number;
  readonly linearityFloorBytes: number;
}

export interface TaskTargets {
  /** Minimum completed tasks per second per mode at full size (used to size the arrival rate). */
  readonly ratePerSecond: Readonly<Record<TaskMode, number>>;
  /** Submit → completed, P95 ms per mode. */
  readonly latencyP95Ms: Readonly<Record<TaskMode, number>>;
  readonly maxErrorRate: number;
}

/**
 * Soak budget: read by the soak analysis of the report, not a k6 threshold. Field names match the report's
 * `SoakBudget` (src/reporting/types.ts), so `selectProfile(env).soak` can be passed to it as is.
 */
export interface SoakBudget {
  readonly memoryGrowthMBPerHour: number;
  readonly latencyDriftMsPerHour: number;
  /** Growth of the error rate per hour (absolute, 0..1). */
  readonly errorRateDriftPerHour: number;
  readonly maxErrorRate: number;
  readonly p95Ms: number;
}

export interface Profile {
  readonly name: ProfileName;
  readonly description: string;
  readonly api: ApiTargets;
  readonly websocket: WebSocketTargets;
  readonly slack: SlackTargets;
  readonly eventbus: EventBusTargets;
  readonly durability: DurabilityTargets;
  readonly failover: FailoverTargets;
  readonly db: DbTargets;
  readonly llm: LlmTargets;
  readonly agents: AgentTargets;
  readonly tasks: TaskTargets;
  readonly soak: SoakBudget;
  readonly cache: CacheTargets;
  readonly scheduler: SchedulerTargets;
  readonly stateStore: StateStoreTargets;
  readonly jobs: JobTargets;
}

export const PROFILE_NAMES = ['mvp', 'production'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** The per-endpoint API profile of the design: health 50, agents list 100, status 50, logs 200, start 500 ms (P95). */
export const API_ENDPOINT_P95_MS: Readonly<Record<ApiEndpoint, number>> = {
  health: 50,
  agents_list: 100,
  agent_status: 50,
  agent_logs: 200,
  agent_start: 500,
};

/** WebSocket message latency objective of the design, P95 ms. */
export const WS_MESSAGE_P95_MS = 100;

export const production: Profile = {
  name: 'production',
  description: 'the design targets: what a platform must meet before real traffic',
  api: { p95Ms: API_ENDPOINT_P95_MS, p99Factor: 2, maxErrorRate: 0.01 },
  websocket: { messageP95Ms: WS_MESSAGE_P95_MS, connectP95Ms: 100, maxMissedRate: 0, maxDuplicates: 0 },
  slack: { simpleP95Ms: 3000, complexP95Ms: 10_000, maxMissingRate: 0.01 },
  eventbus: { deliveryP95Ms: 100, maxLost: 0, maxDuplicates: 0, maxQueueDepth: 1000, maxConsumerLagMs: 1000, maxPublishErrorRate: 0.001 },
  durability: { maxLost: 0, maxDuplicateRate: 0.01, maxRecoveryMs: 60_000, maxAbandonedPublishes: 0 },
  failover: {
    maxShareDeviation: 0.1,
    maxScaleUpMs: 30_000,
    maxLostTasks: 0,
    maxBurstErrorRate: 0.1,
    maxRecoveredErrorRate: 0.01,
    maxRecoveryMs: 60_000,
  },
  db: { p95Ms: { simple_select: 20, join: 50, bulk_insert: 200, json_query: 100 }, maxErrorRate: 0.01 },
  llm: {
    ttftP95Ms: 1000,
    localTtftP95Ms: 500,
    minTokensPerSecondMedian: 20,
    totalP95Ms: 10_000,
    maxErrorRate: 0.001,
    maxModelLoadMs: 10_000,
    maxDegradation: 1.5,
    retryOverheadP95Ms: 2000,
  },
  agents: {
    allHealthyMs: { 5: 3000, 20: 5000, 30: 7000 },
    maxErrorRate: 0.01,
    maxMemoryPerAgentBytes: 30 * 1024 * 1024,
    maxMemoryLinearity: 1.5,
    linearityFloorBytes: 1024 * 1024,
  },
  tasks: {
    ratePerSecond: { collaborative: 5, autonomous: 20, continuous: 5, scheduled: 5 },
    latencyP95Ms: { collaborative: 5000, autonomous: 2000, continuous: 5000, scheduled: 5000 },
    maxErrorRate: 0.01,
  },
  soak: { memoryGrowthMBPerHour: 10, latencyDriftMsPerHour: 5, errorRateDriftPerHour: 0.001, maxErrorRate: 0.01, p95Ms: 200 },
  cache: { minHitRate: 0.95, redisP95Ms: 5, fallbackP95Ms: 50 },
  scheduler: { driftP95Ms: 1000, maxMissed: 0, maxDuplicates: 0 },
  stateStore: { writeP95Ms: 100, maxPoolWaiting: 10, maxPoolErrors: 0, maxErrorRate: 0.001 },
  jobs: {
    readyMedianMinMs: 17_000,
    readyMedianMaxMs: 27_000,
    readyP95Ms: 37_000,
    readyP99Ms: 63_000,
    minJobsPerHourPerSlot: 45,
    minSuccessRate: 0.99,
    minUploadMBps: { '1MB': 5, '10MB': 20, '100MB': 50, '256MB': 50 },
  },
};

function scale(r: Readonly<Record<string, number>>, f: number): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v * f]));
}

export const mvp: Profile = {
  name: 'mvp',
  description: 'first-release bar (default): latency objectives 2x the design targets, errors up to 5 %, still zero loss',
  api: { p95Ms: scale(API_ENDPOINT_P95_MS, 2) as Record<ApiEndpoint, number>, p99Factor: 0, maxErrorRate: 0.05 },
  websocket: { messageP95Ms: 2 * WS_MESSAGE_P95_MS, connectP95Ms: 300, maxMissedRate: 0, maxDuplicates: 0 },
  slack: { simpleP95Ms: 3000, complexP95Ms: 10_000, maxMissingRate: 0.05 },
  eventbus: { deliveryP95Ms: 200, maxLost: 0, maxDuplicates: 0, maxQueueDepth: 5000, maxConsumerLagMs: 5000, maxPublishErrorRate: 0.01 },
  durability: { maxLost: 0, maxDuplicateRate: 0.05, maxRecoveryMs: 60_000, maxAbandonedPublishes: 0 },
  failover: {
    maxShareDeviation: 0.1,
    maxScaleUpMs: 30_000,
    maxLostTasks: 0,
    maxBurstErrorRate: 0.25,
    maxRecoveredErrorRate: 0.05,
    maxRecoveryMs: 60_000,
  },
  db: { p95Ms: { simple_select: 50, join: 100, bulk_insert: 500, json_query: 200 }, maxErrorRate: 0.05 },
  llm: {
    ttftP95Ms: 2000,
    localTtftP95Ms: 1000,
    minTokensPerSecondMedian: 10,
    totalP95Ms: 20_000,
    maxErrorRate: 0.01,
    maxModelLoadMs: 30_000,
    maxDegradation: 2,
    retryOverheadP95Ms: 5000,
  },
  agents: {
    allHealthyMs: { 5: 5000, 20: 8000, 30: 10_000 },
    maxErrorRate: 0.05,
    maxMemoryPerAgentBytes: 50 * 1024 * 1024,
    maxMemoryLinearity: 2,
    linearityFloorBytes: 1024 * 1024,
  },
  tasks: {
    ratePerSecond: { collaborative: 2, autonomous: 10, continuous: 2, scheduled: 2 },
    latencyP95Ms: { collaborative: 10_000, autonomous: 5000, continuous: 10_000, scheduled: 10_000 },
    maxErrorRate: 0.05,
  },
  soak: { memoryGrowthMBPerHour: 50, latencyDriftMsPerHour: 20, errorRateDriftPerHour: 0.005, maxErrorRate: 0.05, p95Ms: 500 },
  cache: { minHitRate: 0.9, redisP95Ms: 5, fallbackP95Ms: 50 },
  scheduler: { driftP95Ms: 1000, maxMissed: 0, maxDuplicates: 0 },
  stateStore: { writeP95Ms: 200, maxPoolWaiting: 50, maxPoolErrors: 0, maxErrorRate: 0.01 },
  jobs: {
    readyMedianMinMs: 17_000,
    readyMedianMaxMs: 27_000,
    readyP95Ms: 37_000,
    readyP99Ms: 63_000,
    minJobsPerHourPerSlot: 30,
    minSuccessRate: 0.95,
    minUploadMBps: { '1MB': 2, '10MB': 10, '100MB': 25, '256MB': 25 },
  },
};

export const PROFILES: Readonly<Record<ProfileName, Profile>> = { mvp, production };
