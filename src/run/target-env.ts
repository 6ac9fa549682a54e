/**
 * The bundled reference platform's environment: only the variables meant for it, never the whole shell.
 * A user's own `DATABASE_URL` (for their system) must not make the bundled platform migrate and seed into
 * that database, so the platform's database URL comes from `TARGET_DATABASE_URL` only.
 * The names follow docs/target.md ("Environment variables" and "Fault knobs").
 */

/** Variables passed to the bundled platform unchanged. */
export const TARGET_ENV_NAMES: readonly string[] = [
  'TARGET_FAULTS',
  'TARGET_LOG',
  'SQLITE_PATH',
  'DB_POOL_MAX',
  'SEED',
  'SEED_AGENTS',
  'SEED_KNOWLEDGE_NODES',
  'AGENT_MEMORY_BYTES',
  'AGENT_START_DELAY_MS',
  'AGENT_START_JITTER_MS',
  'TASK_WORK_MS',
  'COLLABORATIVE_AGENTS',
  'CONTINUOUS_ITERATIONS',
  'ARTIFACT_MAX_BYTES',
  'MONITOR_INTERVAL_MS',
  'LLM_TTFT_MS',
  'LLM_TOKENS_PER_SECOND',
  'SLACK_SIGNING_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_API_URL',
  'CACHE_TTL_S',
  'CACHE_KEY_PREFIX',
  'LLM_RETRY_AFTER_MS',
  'LLM_MODEL_LOAD_MS',
  'LLM_MODEL_KEEP_ALIVE_MS',
  'JOB_CONCURRENCY',
  'JOB_PROVISION_TIMEOUT_MS',
  'JOB_QUEUE_MAX',
  'ARTIFACT_UPLOAD_MAX_BYTES',
  'SCHEDULE_HISTORY',
  'DB_POOL_TIMEOUT_MS',
  'AMQP_NAMESPACE',
  'AMQP_DELIVERY',
  'AMQP_PREFETCH',
  'AMQP_HEARTBEAT_S',
  'AMQP_CONFIRM_TIMEOUT_MS',
  'AMQP_CONNECT_TIMEOUT_MS',
  'BUS_DELIVERY_LOG',
  'TARGET_INSTANCES',
  'TARGET_WORKERS',
  'TARGET_HEALTH_INTERVAL_MS',
  'TARGET_BALANCER_HEALTH',
  'TARGET_RESTART',
];

/** Prefixes of variables passed unchanged (the fault knobs). */
export const TARGET_ENV_PREFIXES: readonly string[] = ['FAULT_'];

/** Renamed on the way in: toolkit variable → the platform's name for it. */
export const TARGET_ENV_RENAMED: Readonly<Record<string, string>> = {
  TARGET_DATABASE_URL: 'DATABASE_URL',
  TARGET_REDIS_URL: 'REDIS_URL',
  TARGET_AMQP_URL: 'AMQP_URL',
};

/**
 * Whether the bundled platform would connect to services the user named (TARGET_DATABASE_URL,
 * TARGET_REDIS_URL, TARGET_AMQP_URL): such a platform starts only once every check has passed, so a run
 * refused by a check touches none of them. Pure.
 */
export function reachesNamedServices(env: Readonly<Record<string, string | undefined>>): boolean {
  return Object.keys(TARGET_ENV_RENAMED).some((name) => (env[name] ?? '') !== '');
}

/**
 * The environment the bundled platform starts with: the allowed names and prefixes from `env`, plus the
 * renamed ones (`TARGET_DATABASE_URL` → `DATABASE_URL`). Empty values are left out. Pure.
 */
export function bundledTargetEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (TARGET_ENV_NAMES.includes(name) || TARGET_ENV_PREFIXES.some((p) => name.startsWith(p))) out[name] = value;
  }
  for (const [from, to] of Object.entries(TARGET_ENV_RENAMED)) {
    const value = env[from];
    if (value !== undefined && value !== '') out[to] = value;
  }
  return out;
}
