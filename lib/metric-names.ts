/**
 * Names of the custom metrics the scenarios emit. One place, so thresholds, scenarios, tests and the
 * report pipeline (soak analysis reads the `target_*` gauges) agree. Pure: no k6 imports.
 */
export const M = {
  // WebSocket fan-out
  wsFanoutLatency: 'ws_fanout_latency',
  wsConnectionSetup: 'ws_connection_setup',
  wsFanoutReceived: 'ws_fanout_received',
  wsFanoutMissed: 'ws_fanout_missed',
  wsFanoutMissedRate: 'ws_fanout_missed_rate',
  wsFanoutDuplicates: 'ws_fanout_duplicates',
  wsFanoutOutOfOrder: 'ws_fanout_out_of_order',
  wsConnectFailed: 'ws_connect_failed',
  // Slack
  slackE2eLatency: 'slack_e2e_latency',
  slackEventAccepted: 'slack_event_accepted',
  slackReplyMissing: 'slack_reply_missing',
  slackRepliesMatched: 'slack_replies_matched',
  slackRepliesUnmatched: 'slack_replies_unmatched',
  slackRepliesLate: 'slack_replies_late',
  slackRepliesDuplicate: 'slack_replies_duplicate',
  // Event bus
  busDeliveryLatency: 'bus_delivery_latency',
  busPublished: 'bus_messages_published',
  busReceived: 'bus_messages_received',
  busLost: 'bus_messages_lost',
  busDuplicated: 'bus_messages_duplicated',
  busOutOfOrder: 'bus_messages_out_of_order',
  busQueueDepth: 'bus_queue_depth',
  busConsumerLag: 'bus_consumer_lag_ms',
  busPublishFailed: 'bus_publish_failed',
  busPublishRetries: 'bus_publish_retries',
  busPublishAbandoned: 'bus_publish_abandoned',
  busDuplicateRate: 'bus_duplicate_rate',
  busDelivered: 'bus_messages_delivered',
  // Faults (bus-durability, failover)
  faultRecoveryTime: 'fault_recovery_time',
  faultActions: 'fault_actions',
  faultActionFailed: 'fault_action_failed',
  faultUnrecovered: 'fault_unrecovered',
  failoverShareDeviation: 'failover_share_deviation',
  failoverScaleUpTime: 'failover_scale_up_time',
  failoverTasksAccepted: 'failover_tasks_accepted',
  failoverTasksCompleted: 'failover_tasks_completed',
  failoverTasksLost: 'failover_tasks_lost',
  // Database
  dbQueryDuration: 'db_query_duration',
  dbQueryFailed: 'db_query_failed',
  // LLM
  llmTtft: 'llm_ttft',
  llmTokensPerSecond: 'llm_tokens_per_second',
  llmTotalTime: 'llm_total_time',
  llmTokens: 'llm_tokens',
  llmFailed: 'llm_failed',
  llmModelLoad: 'llm_model_load_time',
  llmDegradation: 'llm_degradation',
  llmRetries: 'llm_retries',
  llmRateLimited: 'llm_rate_limited',
  llmRetryOverhead: 'llm_retry_overhead',
  // Agents
  agentsAllHealthy: 'agents_all_healthy_time',
  agentsSpawnFailed: 'agents_spawn_failed',
  agentMemory: 'agent_memory_bytes',
  agentMemoryLinearity: 'agent_memory_linearity',
  // Tasks
  taskLatency: 'task_latency',
  taskCompleted: 'task_completed',
  taskFailed: 'task_failed',
  // Agent-state cache
  cacheHit: 'cache_hit',
  cacheRedisDuration: 'cache_redis_duration',
  cacheFallbackDuration: 'cache_fallback_duration',
  redisCommandDuration: 'redis_command_duration',
  cacheReadFailed: 'cache_read_failed',
  // Scheduler
  scheduleDrift: 'schedule_start_drift',
  scheduleRuns: 'schedule_runs',
  scheduleMissed: 'schedule_runs_missed',
  scheduleDuplicated: 'schedule_runs_duplicated',
  scheduleFailed: 'schedule_register_failed',
  // State store and pool
  stateWriteDuration: 'state_write_duration',
  stateWriteFailed: 'state_write_failed',
  dbPoolWaiting: 'db_pool_waiting',
  dbPoolErrors: 'db_pool_errors',
  dbPoolExhaustionVus: 'db_pool_exhaustion_vus',
  // Jobs (seed 001)
  jobReady: 'job_ready_time',
  jobPhase: 'job_phase_duration',
  jobTotal: 'job_total_time',
  jobSucceeded: 'job_succeeded',
  jobCompleted: 'job_completed',
  artifactMBps: 'artifact_upload_mbps',
  artifactDuration: 'artifact_upload_duration',
  artifactFailed: 'artifact_upload_failed',
  artifactOversizeRejected: 'artifact_oversize_rejected',
  // Soak monitor (names read by the soak analysis)
  targetRss: 'target_rss_bytes',
  targetHeapUsed: 'target_heap_used_bytes',
  targetEventLoopLag: 'target_event_loop_lag_ms',
  targetQueueDepth: 'target_queue_depth',
  monitorScrapeFailed: 'monitor_scrape_failed',
} as const;

export type MetricName = (typeof M)[keyof typeof M];
