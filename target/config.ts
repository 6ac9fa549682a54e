/**
 * Configuration and fault knobs of the reference platform, read from an env-like record.
 * Parsing is pure: `readConfig(env)` returns the config or throws a TargetError naming the variable.
 */
import { TargetError } from './errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface RouteLatency {
  ms: number;
  jitterMs: number;
}

export interface Knobs {
  latencyMs: number;
  latencyJitterMs: number;
  routeLatency: Record<string, RouteLatency>;
  errorRate: number;
  routeErrorRate: Record<string, number>;
  leakBytesPerRequest: number;
  slowConsumerMs: number;
  busDropRate: number;
  busDuplicateRate: number;
  slackReplyDelayMs: number;
  llmTtftMs: number;
  llmTokensPerSecond: number;
  llmSlowdown: number;
  agentStartDelayMs: number;
  agentStartJitterMs: number;
  agentStartFailureRate: number;
  taskFailureRate: number;
  agentMemoryGrowthBytes: number;
  cacheBypassRate: number;
  schedulerDriftMs: number;
  jobProvisionSlowdown: number;
  jobFailureRate: number;
  llmRateLimitRate: number;
  llmRetryAfterMs: number;
  llmModelLoadMs: number;
  llmConcurrencySlowdown: number;
}

export const DEFAULT_KNOBS: Readonly<Knobs> = Object.freeze({
  latencyMs: 0,
  latencyJitterMs: 0,
  routeLatency: {},
  errorRate: 0,
  routeErrorRate: {},
  leakBytesPerRequest: 0,
  slowConsumerMs: 0,
  busDropRate: 0,
  busDuplicateRate: 0,
  slackReplyDelayMs: 0,
  llmTtftMs: 50,
  llmTokensPerSecond: 200,
  llmSlowdown: 1,
  agentStartDelayMs: 250,
  agentStartJitterMs: 0,
  agentStartFailureRate: 0,
  taskFailureRate: 0,
  agentMemoryGrowthBytes: 0,
  cacheBypassRate: 0,
  schedulerDriftMs: 0,
  jobProvisionSlowdown: 1,
  jobFailureRate: 0,
  llmRateLimitRate: 0,
  llmRetryAfterMs: 1000,
  llmModelLoadMs: 0,
  llmConcurrencySlowdown: 0,
});

type NumberKnob = Exclude<keyof Knobs, 'routeLatency' | 'routeErrorRate'>;

interface NumberRule {
  env: string;
  min: number;
  max: number;
  integer: boolean;
}
const MAX_MS = 3_600_000;
/** Every numeric knob: its env variable and allowed range. */
export const NUMBER_KNOBS: Readonly<Record<NumberKnob, NumberRule>> = {
  latencyMs: { env: 'FAULT_LATENCY_MS', min: 0, max: MAX_MS, integer: false },
  latencyJitterMs: { env: 'FAULT_LATENCY_JITTER_MS', min: 0, max: MAX_MS, integer: false },
  errorRate: { env: 'FAULT_ERROR_RATE', min: 0, max: 1, integer: false },
  leakBytesPerRequest: { env: 'FAULT_LEAK_BYTES_PER_REQUEST', min: 0, max: 64 * 1024 * 1024, integer: true },
  slowConsumerMs: { env: 'FAULT_SLOW_CONSUMER_MS', min: 0, max: MAX_MS, integer: false },
  busDropRate: { env: 'FAULT_BUS_DROP_RATE', min: 0, max: 1, integer: false },
  busDuplicateRate: { env: 'FAULT_BUS_DUPLICATE_RATE', min: 0, max: 1, integer: false },
  slackReplyDelayMs: { env: 'FAULT_SLACK_REPLY_DELAY_MS', min: 0, max: MAX_MS, integer: false },
  llmTtftMs: { env: 'LLM_TTFT_MS', min: 0, max: MAX_MS, integer: false },
  llmTokensPerSecond: { env: 'LLM_TOKENS_PER_SECOND', min: 0.001, max: 1_000_000, integer: false },
  llmSlowdown: { env: 'FAULT_LLM_SLOWDOWN', min: 1, max: 1000, integer: false },
  agentStartDelayMs: { env: 'AGENT_START_DELAY_MS', min: 0, max: MAX_MS, integer: false },
  agentStartJitterMs: { env: 'AGENT_START_JITTER_MS', min: 0, max: MAX_MS, integer: false },
  agentStartFailureRate: { env: 'FAULT_AGENT_START_FAILURE_RATE', min: 0, max: 1, integer: false },
  taskFailureRate: { env: 'FAULT_TASK_FAILURE_RATE', min: 0, max: 1, integer: false },
  agentMemoryGrowthBytes: { env: 'FAULT_AGENT_MEMORY_GROWTH_BYTES', min: 0, max: 64 * 1024 * 1024, integer: true },
  cacheBypassRate: { env: 'FAULT_CACHE_BYPASS_RATE', min: 0, max: 1, integer: false },
  schedulerDriftMs: { env: 'FAULT_SCHEDULER_DRIFT_MS', min: 0, max: MAX_MS, integer: false },
  jobProvisionSlowdown: { env: 'FAULT_JOB_PROVISION_SLOWDOWN', min: 1, max: 1000, integer: false },
  jobFailureRate: { env: 'FAULT_JOB_FAILURE_RATE', min: 0, max: 1, integer: false },
  llmRateLimitRate: { env: 'FAULT_LLM_RATE_LIMIT_RATE', min: 0, max: 1, integer: false },
  llmRetryAfterMs: { env: 'LLM_RETRY_AFTER_MS', min: 0, max: MAX_MS, integer: false },
  llmModelLoadMs: { env: 'LLM_MODEL_LOAD_MS', min: 0, max: MAX_MS, integer: false },
  llmConcurrencySlowdown: { env: 'FAULT_LLM_CONCURRENCY_SLOWDOWN', min: 0, max: 100, integer: false },
};

const ROUTE_KEY = /^(?:(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) )?\/\S*$/;

function invalid(message: string): TargetError {
  return new TargetError(400, 'FAULT_INVALID', message);
}

function checkNumber(name: string, value: unknown, rule: NumberRule): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < rule.min || n > rule.max || (rule.integer && !Number.isInteger(n))) {
    throw invalid(
      `knob ${name} must be a${rule.integer ? 'n integer' : ' number'} in ${rule.min}..${rule.max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function checkRouteKey(name: string, key: string): string {
  if (!ROUTE_KEY.test(key))
    throw invalid(`knob ${name} has route key ${JSON.stringify(key)}: use "METHOD /path" or "/path", e.g. "GET /api/agents"`);
  return key;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a partial knob object (from JSON) and returns `base` with it applied.
 * Every problem is reported in one error; nothing is applied when any key is bad.
 */
export function mergeKnobs(base: Readonly<Knobs>, patch: unknown): Knobs {
  if (!isRecord(patch)) throw invalid(`fault knobs must be a JSON object, got ${JSON.stringify(patch)}`);
  const out: Knobs = { ...base, routeLatency: { ...base.routeLatency }, routeErrorRate: { ...base.routeErrorRate } };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    try {
      if (key === 'routeLatency') {
        if (!isRecord(value))
          throw invalid(
            `knob routeLatency must be an object like {"GET /api/agents":{"ms":200,"jitterMs":50}}, got ${JSON.stringify(value)}`,
          );
        const next: Record<string, RouteLatency> = {};
        for (const [route, v] of Object.entries(value)) {
          checkRouteKey('routeLatency', route);
          const r = typeof v === 'number' ? { ms: v } : v;
          if (!isRecord(r)) throw invalid(`knob routeLatency["${route}"] must be {"ms":n,"jitterMs":n}, got ${JSON.stringify(v)}`);
          const unknown = Object.keys(r).filter((k) => k !== 'ms' && k !== 'jitterMs');
          if (unknown.length > 0) throw invalid(`knob routeLatency["${route}"] has unknown key "${unknown[0] ?? ''}": use ms and jitterMs`);
          next[route] = {
            ms: checkNumber(`routeLatency["${route}"].ms`, r.ms ?? 0, NUMBER_KNOBS.latencyMs),
            jitterMs: checkNumber(`routeLatency["${route}"].jitterMs`, r.jitterMs ?? 0, NUMBER_KNOBS.latencyJitterMs),
          };
        }
        out.routeLatency = next;
      } else if (key === 'routeErrorRate') {
        if (!isRecord(value))
          throw invalid(`knob routeErrorRate must be an object like {"POST /api/tasks":0.5}, got ${JSON.stringify(value)}`);
        const next: Record<string, number> = {};
        for (const [route, v] of Object.entries(value)) {
          next[checkRouteKey('routeErrorRate', route)] = checkNumber(`routeErrorRate["${route}"]`, v, NUMBER_KNOBS.errorRate);
        }
        out.routeErrorRate = next;
      } else if (Object.hasOwn(NUMBER_KNOBS, key)) {
        const k = key as NumberKnob;
        out[k] = checkNumber(k, value, NUMBER_KNOBS[k]);
      } else {
        throw invalid(`unknown fault knob "${key}": known knobs are ${Object.keys(DEFAULT_KNOBS).join(', ')}`);
      }
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (problems.length > 0) throw invalid(problems.join('; '));
  return out;
}

/** `GET /api/agents=200:50,/health=10` → routeLatency; `POST /api/tasks=0.5` → routeErrorRate. */
function parseRouteList(name: string, text: string): Array<[string, string]> {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const eq = entry.lastIndexOf('=');
      if (eq <= 0) throw invalid(`${name} entry ${JSON.stringify(entry)} must look like "GET /api/agents=200:50"`);
      return [entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()];
    });
}

export function knobsFromEnv(env: Env): Knobs {
  let knobs: Knobs = { ...DEFAULT_KNOBS, routeLatency: {}, routeErrorRate: {} };
  const json = env.TARGET_FAULTS;
  if (json !== undefined && json.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw invalid(`TARGET_FAULTS must be a JSON object of knobs, got ${JSON.stringify(json)}`);
    }
    knobs = mergeKnobs(knobs, parsed);
  }
  const patch: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(NUMBER_KNOBS)) {
    const v = env[rule.env];
    if (v !== undefined && v.trim() !== '') patch[key] = v;
  }
  const rl = env.FAULT_ROUTE_LATENCY;
  if (rl !== undefined && rl.trim() !== '') {
    patch.routeLatency = Object.fromEntries(
      parseRouteList('FAULT_ROUTE_LATENCY', rl).map(([route, v]) => {
        const [ms, jitter] = v.split(':');
        return [route, { ms: ms ?? '', jitterMs: jitter ?? 0 }];
      }),
    );
  }
  const re = env.FAULT_ROUTE_ERROR_RATE;
  if (re !== undefined && re.trim() !== '') {
    patch.routeErrorRate = Object.fromEntries(parseRouteList('FAULT_ROUTE_ERROR_RATE', re));
  }
  try {
    return mergeKnobs(knobs, patch);
  } catch (e) {
    // Name the env variables rather than the knob keys.
    let msg = e instanceof Error ? e.message : String(e);
    for (const [key, rule] of Object.entries(NUMBER_KNOBS)) msg = msg.replaceAll(`knob ${key} `, `${rule.env} (knob ${key}) `);
    throw new TargetError(400, 'CONFIG_INVALID', msg);
  }
}

export interface TargetConfig {
  databaseUrl: string | undefined;
  dbPoolMax: number;
  dbPoolTimeoutMs: number;
  sqlitePath: string;
  seed: number;
  seedAgents: number;
  seedKnowledgeNodes: number;
  agentMemoryBytes: number;
  taskWorkMs: number;
  collaborativeAgents: number;
  continuousIterations: number;
  artifactMaxBytes: number;
  monitorIntervalMs: number;
  slackSigningSecret: string;
  slackBotToken: string;
  slackApiUrl: string | undefined;
  knobs: Knobs;
}

export function intVar(env: Env, name: string, def: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TargetError(400, 'CONFIG_INVALID', `${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

export function readConfig(env: Env): TargetConfig {
  const slackApiUrl = nonEmpty(env.SLACK_API_URL)?.replace(/\/+$/, '');
  if (slackApiUrl !== undefined && !/^https?:\/\//.test(slackApiUrl)) {
    throw new TargetError(
      400,
      'CONFIG_INVALID',
      `SLACK_API_URL must be an http(s) URL like http://127.0.0.1:9999/api, got ${JSON.stringify(slackApiUrl)}`,
    );
  }
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(?:ql)?:\/\//.test(databaseUrl)) {
    throw new TargetError(400, 'CONFIG_INVALID', 'DATABASE_URL must be a postgres:// URL (value not shown: it may hold a password)');
  }
  return {
    databaseUrl,
    dbPoolMax: intVar(env, 'DB_POOL_MAX', 10, 1, 1000),
    dbPoolTimeoutMs: intVar(env, 'DB_POOL_TIMEOUT_MS', 10_000, 1, MAX_MS),
    sqlitePath: nonEmpty(env.SQLITE_PATH) ?? ':memory:',
    seed: intVar(env, 'SEED', 42, 0, 2 ** 31 - 1),
    seedAgents: intVar(env, 'SEED_AGENTS', 5, 0, 10_000),
    seedKnowledgeNodes: intVar(env, 'SEED_KNOWLEDGE_NODES', 200, 0, 1_000_000),
    agentMemoryBytes: intVar(env, 'AGENT_MEMORY_BYTES', 256 * 1024, 0, 256 * 1024 * 1024),
    taskWorkMs: intVar(env, 'TASK_WORK_MS', 20, 0, MAX_MS),
    collaborativeAgents: intVar(env, 'COLLABORATIVE_AGENTS', 3, 1, 100),
    continuousIterations: intVar(env, 'CONTINUOUS_ITERATIONS', 3, 1, 100),
    artifactMaxBytes: intVar(env, 'ARTIFACT_MAX_BYTES', 10 * 1024 * 1024, 0, 2 ** 40),
    monitorIntervalMs: intVar(env, 'MONITOR_INTERVAL_MS', 1000, 10, MAX_MS),
    slackSigningSecret: nonEmpty(env.SLACK_SIGNING_SECRET) ?? 'agentload-dev-signing-secret',
    slackBotToken: nonEmpty(env.SLACK_BOT_TOKEN) ?? 'xoxb-agentload-dev',
    slackApiUrl,
    knobs: knobsFromEnv(env),
  };
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
