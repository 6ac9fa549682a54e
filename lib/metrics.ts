/**
 * Shared custom metrics. Call a factory in a scenario's init code (top level): k6 declares metrics
 * there only. Names come from lib/metric-names.ts.
 */
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
import { M } from './metric-names.ts';

export { M } from './metric-names.ts';

export function wsFanoutMetrics() {
  return {
    latency: new Trend(M.wsFanoutLatency, true),
    setup: new Trend(M.wsConnectionSetup, true),
    received: new Counter(M.wsFanoutReceived),
    missed: new Counter(M.wsFanoutMissed),
    missedRate: new Rate(M.wsFanoutMissedRate),
    duplicates: new Counter(M.wsFanoutDuplicates),
    outOfOrder: new Counter(M.wsFanoutOutOfOrder),
    connectFailed: new Rate(M.wsConnectFailed),
  };
}

export function slackMetrics() {
  return {
    latency: new Trend(M.slackE2eLatency, true),
    accepted: new Rate(M.slackEventAccepted),
    missing: new Rate(M.slackReplyMissing),
    matched: new Counter(M.slackRepliesMatched),
    unmatched: new Counter(M.slackRepliesUnmatched),
    late: new Counter(M.slackRepliesLate),
    duplicate: new Counter(M.slackRepliesDuplicate),
  };
}

export function busMetrics() {
  return {
    latency: new Trend(M.busDeliveryLatency, true),
    published: new Counter(M.busPublished),
    received: new Counter(M.busReceived),
    lost: new Counter(M.busLost),
    duplicated: new Counter(M.busDuplicated),
    outOfOrder: new Counter(M.busOutOfOrder),
    // Trends, not Gauges: a Gauge threshold reads only the last value; the maximum during the burst is what counts.
    queueDepth: new Trend(M.busQueueDepth),
    consumerLag: new Trend(M.busConsumerLag, true),
    publishFailed: new Rate(M.busPublishFailed),
  };
}

/** bus-durability: what publishers were told was accepted against what the consumers recorded. */
export function durabilityMetrics() {
  return {
    latency: new Trend(M.busDeliveryLatency, true),
    published: new Counter(M.busPublished),
    delivered: new Counter(M.busDelivered),
    lost: new Counter(M.busLost),
    duplicated: new Counter(M.busDuplicated),
    duplicateRate: new Rate(M.busDuplicateRate),
    outOfOrder: new Counter(M.busOutOfOrder),
    retries: new Counter(M.busPublishRetries),
    abandoned: new Counter(M.busPublishAbandoned),
  };
}

/** Fault scenarios: every fault applied, failed, and how long the platform took to recover. */
export function faultMetrics() {
  return {
    recovery: new Trend(M.faultRecoveryTime, true),
    unrecovered: new Counter(M.faultUnrecovered),
    actions: new Counter(M.faultActions),
    failed: new Rate(M.faultActionFailed),
  };
}

export function failoverMetrics() {
  return {
    shareDeviation: new Trend(M.failoverShareDeviation),
    scaleUp: new Trend(M.failoverScaleUpTime, true),
    accepted: new Counter(M.failoverTasksAccepted),
    completed: new Counter(M.failoverTasksCompleted),
    lost: new Counter(M.failoverTasksLost),
  };
}

export function dbMetrics() {
  return { duration: new Trend(M.dbQueryDuration, true), failed: new Rate(M.dbQueryFailed) };
}

export function llmMetrics() {
  return {
    ttft: new Trend(M.llmTtft, true),
    tokensPerSecond: new Trend(M.llmTokensPerSecond),
    total: new Trend(M.llmTotalTime, true),
    tokens: new Counter(M.llmTokens),
    failed: new Rate(M.llmFailed),
    modelLoad: new Trend(M.llmModelLoad, true),
    degradation: new Trend(M.llmDegradation),
    retries: new Counter(M.llmRetries),
    rateLimited: new Counter(M.llmRateLimited),
    retryOverhead: new Trend(M.llmRetryOverhead, true),
  };
}

export function agentMetrics() {
  return {
    allHealthy: new Trend(M.agentsAllHealthy, true),
    spawnFailed: new Rate(M.agentsSpawnFailed),
    memory: new Trend(M.agentMemory),
    linearity: new Trend(M.agentMemoryLinearity),
  };
}

export function taskMetrics() {
  return { latency: new Trend(M.taskLatency, true), completed: new Counter(M.taskCompleted), failed: new Rate(M.taskFailed) };
}

export function monitorMetrics() {
  return {
    rss: new Gauge(M.targetRss),
    heapUsed: new Gauge(M.targetHeapUsed),
    eventLoopLag: new Gauge(M.targetEventLoopLag, true),
    queueDepth: new Gauge(M.targetQueueDepth),
    scrapeFailed: new Rate(M.monitorScrapeFailed),
  };
}

export function cacheMetrics() {
  return {
    hit: new Rate(M.cacheHit),
    redis: new Trend(M.cacheRedisDuration, true),
    fallback: new Trend(M.cacheFallbackDuration, true),
    redisDirect: new Trend(M.redisCommandDuration, true),
    failed: new Rate(M.cacheReadFailed),
  };
}

export function schedulerMetrics() {
  return {
    drift: new Trend(M.scheduleDrift, true),
    runs: new Counter(M.scheduleRuns),
    missed: new Counter(M.scheduleMissed),
    duplicated: new Counter(M.scheduleDuplicated),
    failed: new Rate(M.scheduleFailed),
  };
}

export function stateStoreMetrics() {
  return {
    write: new Trend(M.stateWriteDuration, true),
    failed: new Rate(M.stateWriteFailed),
    poolWaiting: new Trend(M.dbPoolWaiting),
    poolErrors: new Counter(M.dbPoolErrors),
    exhaustionVus: new Gauge(M.dbPoolExhaustionVus),
  };
}

export function jobMetrics() {
  return {
    ready: new Trend(M.jobReady, true),
    phase: new Trend(M.jobPhase, true),
    total: new Trend(M.jobTotal, true),
    succeeded: new Rate(M.jobSucceeded),
    completed: new Counter(M.jobCompleted),
  };
}

export function artifactMetrics() {
  return {
    mbps: new Trend(M.artifactMBps),
    duration: new Trend(M.artifactDuration, true),
    failed: new Rate(M.artifactFailed),
    oversizeRejected: new Rate(M.artifactOversizeRejected),
  };
}
