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
    queueDepth: new Gauge(M.busQueueDepth),
    consumerLag: new Gauge(M.busConsumerLag, true),
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
  };
}

export function agentMetrics() {
  return {
    allHealthy: new Trend(M.agentsAllHealthy, true),
    spawnFailed: new Rate(M.agentsSpawnFailed),
    memory: new Trend(M.agentMemory),
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
