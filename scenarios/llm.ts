/**
 * llm — an LLM back end under concurrent streaming requests, per provider profile: hosted (OpenAI-compatible
 * API) or local (Ollama), with rate limits retried the way clients do (seed 002 §5, seed 000's Ollama table).
 *
 * Proves: time to first token (`llm_ttft`; hosted P95 < 1 s, local P95 < 500 ms with the model loaded), tokens per
 * second per stream (`llm_tokens_per_second`, median floor), total time (`llm_total_time`), the failure rate
 * after retries (`llm_failed`: non-2xx after LLM_MAX_RETRIES retries, or a stream that did not finish; seed:
 * < 0.1 % in production), retries and the time they cost (`llm_retries`, `llm_rate_limited` (429s seen),
 * `llm_retry_overhead` = waiting and failed attempts before the answer, P95 gated), degradation with
 * LLM_CONCURRENCY streams against one (`llm_degradation{measure:tokens_per_second|ttft}` = the one-stream median
 * from setup ÷ (or ×) each concurrent sample; 1 = none; design: 10 streams without degradation), and for a local
 * provider the model load time (`llm_model_load_time`: setup unloads the model, then times one cold request;
 * Ollama's `load_duration`).
 *
 * How TTFT is measured: k6 receives a response body whole, so TTFT comes either from the time to the first
 * response byte (LLM_TTFT_SOURCE=waiting, default: right for servers that send headers with the first token,
 * like the bundled simulator and Ollama) or from a separate one-token request before each stream
 * (LLM_TTFT_SOURCE=probe). Tokens/s = (chunks − 1) / time from first to last byte (hosted), or Ollama's
 * eval_count / eval_duration (local).
 *
 * Needs from the system: hosted: `POST /v1/chat/completions` with `stream: true` answering Server-Sent Events;
 * local: Ollama's `POST /api/generate` (NDJSON stream, final line with eval_count, eval_duration, load_duration;
 * `{"prompt":"","keep_alive":0}` unloads). 429/503 answers may carry `Retry-After` (s) or `retry-after-ms`.
 *
 * Variables:
 *   LLM_URL          base URL of the API, default BASE_URL
 *   LLM_API_KEY      bearer token if the API needs one (never logged)
 *   LLM_PROVIDER     hosted (default) | local
 *   LLM_MODEL        default agentload-sim
 *   LLM_MAX_TOKENS   tokens per answer, default 32 (smoke) / 256 (full)
 *   VUS              requests in flight, default 3 (smoke) / 10 (full) (LLM_CONCURRENCY too)
 *   LLM_BASELINE     one-stream requests in setup for the degradation baseline, default 3 / 10 (0 = no degradation check)
 *   LLM_MAX_RETRIES  retries of a 429/503 answer, default 3
 *   LLM_TTFT_SOURCE  waiting (default) | probe
 *   SIZE, DURATION   smoke (default, 15 s) | full (5 min)
 *   PROFILE          mvp (default) | production
 */
import { check } from 'k6';
import { bySize, duration, httpUrl, int, oneOf, optional, size, sizeVar, str, target } from '../lib/config.ts';
import { chatPrompt, seedFactories } from '../lib/factories.ts';
import { header, request, type Res } from '../lib/http.ts';
import { sleep } from '../lib/k6.ts';
import { llmMetrics } from '../lib/metrics.ts';
import type { ScriptOptions } from '../lib/scenario.ts';
import { parseNdjson, parseSse } from '../lib/sse.ts';
import { LLM_PROVIDERS, llmThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const BASE = optional(env, 'LLM_URL') !== undefined ? httpUrl(env, 'LLM_URL', '') : target(env).baseUrl;
const PROVIDER = oneOf(env, 'LLM_PROVIDER', LLM_PROVIDERS, 'hosted');
const MODEL = str(env, 'LLM_MODEL', 'agentload-sim');
const MAX_TOKENS = int(env, 'LLM_MAX_TOKENS', bySize(sz, { smoke: 32, full: 256 }), { min: 2, max: 4096 });
const CONCURRENCY = int(env, sizeVar(env, 'VUS', 'LLM_CONCURRENCY'), bySize(sz, { smoke: 3, full: 10 }), { min: 1 });
const BASELINE = int(env, 'LLM_BASELINE', bySize(sz, { smoke: 3, full: 10 }), { min: 0 });
const MAX_RETRIES = int(env, 'LLM_MAX_RETRIES', 3, { min: 0, max: 20 });
const TTFT_SOURCE = oneOf(env, 'LLM_TTFT_SOURCE', ['waiting', 'probe'] as const, 'waiting');
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '15s', full: '5m' }));

export const options: ScriptOptions = {
  scenarios: {
    // A closed model on purpose: the question is how the back end behaves with N requests in flight.
    streams: { executor: 'constant-vus', exec: 'stream', vus: CONCURRENCY, duration: DURATION, gracefulStop: '60s' },
  },
  thresholds: llmThresholds(selectProfile(env), PROVIDER, { degradation: BASELINE > 0 && CONCURRENCY > 1, retries: true }),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '300s',
};

const m = llmMetrics();
seedFactories(__VU);

// Read in init code (as every variable is), from __ENV at run time: never inlined into the bundle.
const API_KEY = optional(env, 'LLM_API_KEY');

function headers(): Record<string, string> {
  return API_KEY === undefined ? {} : { Authorization: `Bearer ${API_KEY}` };
}

async function send(maxTokens: number, kind: string): Promise<Res> {
  const tags = { endpoint: 'llm_chat', kind, provider: PROVIDER };
  if (PROVIDER === 'local') {
    const body = JSON.stringify({ model: MODEL, prompt: chatPrompt().content, stream: true, options: { num_predict: maxTokens } });
    return request(
      'POST',
      `${BASE}/api/generate`,
      body,
      { ...tags, endpoint: 'llm_generate', name: '/api/generate' },
      { headers: headers(), timeout: '120s' },
    );
  }
  const body = JSON.stringify({ model: MODEL, stream: true, max_tokens: maxTokens, messages: [chatPrompt()] });
  return request(
    'POST',
    `${BASE}/v1/chat/completions`,
    body,
    { ...tags, name: '/v1/chat/completions' },
    { headers: headers(), timeout: '120s' },
  );
}

/** How long a 429/503 asks us to wait, ms: `retry-after-ms`, else `Retry-After` seconds, else a back-off. */
export function retryWaitMs(r: Res, attempt: number): number {
  const ms = Number(header(r, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const s = Number(header(r, 'retry-after'));
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  return Math.min(8000, 250 * 2 ** attempt);
}

interface Attempted {
  readonly res: Res;
  /** Time spent before the attempt that answered: failed attempts and waits, ms. */
  readonly overheadMs: number;
  readonly retries: number;
}

/** Sends, retrying 429 and 503 answers as clients do (honouring Retry-After), up to LLM_MAX_RETRIES times. */
async function complete(maxTokens: number, kind: string): Promise<Attempted> {
  const t0 = Date.now();
  let retries = 0;
  for (;;) {
    const started = Date.now();
    const res = await send(maxTokens, kind);
    if ((res.status !== 429 && res.status !== 503) || retries >= MAX_RETRIES) return { res, overheadMs: started - t0, retries };
    if (res.status === 429) m.rateLimited.add(1, { provider: PROVIDER });
    retries += 1;
    m.retries.add(1, { provider: PROVIDER });
    await sleep(retryWaitMs(res, retries) / 1000);
  }
}

interface Measured {
  readonly ok: boolean;
  readonly ttft: number;
  readonly tokensPerSecond: number | undefined;
  readonly total: number;
  readonly tokens: number;
  readonly loadMs: number | undefined;
}

function measure(res: Res, probeTtft: number | undefined): Measured {
  const body = typeof res.body === 'string' ? res.body : '';
  const good2xx = res.status >= 200 && res.status < 300;
  if (PROVIDER === 'local') {
    const p = parseNdjson(body);
    const tps =
      p.evalCount !== undefined && p.evalDurationNs !== undefined && p.evalDurationNs > 0
        ? p.evalCount / (p.evalDurationNs / 1e9)
        : undefined;
    return {
      ok: good2xx && p.done,
      ttft: probeTtft ?? res.timings.waiting,
      tokensPerSecond: tps,
      total: res.timings.duration,
      tokens: p.tokens,
      loadMs: p.loadDurationNs !== undefined ? p.loadDurationNs / 1e6 : undefined,
    };
  }
  const p = parseSse(body);
  const ttft = probeTtft ?? res.timings.waiting;
  const streamingMs = TTFT_SOURCE === 'probe' ? res.timings.duration - ttft : res.timings.receiving;
  const tps = p.tokens > 1 && streamingMs > 0 ? (p.tokens - 1) / (streamingMs / 1000) : undefined;
  return { ok: good2xx && p.done, ttft, tokensPerSecond: tps, total: res.timings.duration, tokens: p.tokens, loadMs: undefined };
}

async function one(kind: string): Promise<{ m: Measured; a: Attempted }> {
  let probeTtft: number | undefined;
  if (TTFT_SOURCE === 'probe') {
    const p = await complete(1, 'probe');
    if (p.res.status >= 200 && p.res.status < 300) probeTtft = p.res.timings.duration;
  }
  const a = await complete(MAX_TOKENS, kind);
  return { m: measure(a.res, probeTtft), a };
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

interface Baseline {
  readonly ttft: number | undefined;
  readonly tokensPerSecond: number | undefined;
}

export async function setup(): Promise<Baseline> {
  if (PROVIDER === 'local') {
    // Cold start: unload the model, then one request pays the load (Ollama's load_duration).
    await request(
      'POST',
      `${BASE}/api/generate`,
      JSON.stringify({ model: MODEL, prompt: '', keep_alive: 0 }),
      { endpoint: 'llm_unload', name: '/api/generate', provider: PROVIDER },
      { headers: headers(), timeout: '60s' },
    );
    const cold = await one('cold');
    if (cold.m.loadMs !== undefined) m.modelLoad.add(cold.m.loadMs, { provider: PROVIDER });
    else m.modelLoad.add(cold.m.ttft, { provider: PROVIDER, source: 'ttft' });
  }
  const ttfts: number[] = [];
  const tps: number[] = [];
  for (let i = 0; i < BASELINE; i++) {
    const { m: x } = await one('baseline');
    if (!x.ok) continue;
    ttfts.push(x.ttft);
    if (x.tokensPerSecond !== undefined) tps.push(x.tokensPerSecond);
  }
  return { ttft: median(ttfts), tokensPerSecond: median(tps) };
}

export async function stream(base: Baseline): Promise<void> {
  const { m: x, a } = await one('stream');
  const good = check(a.res, {
    'llm answered 2xx': () => a.res.status >= 200 && a.res.status < 300,
    'llm stream finished': () => x.ok,
  });
  m.failed.add(!good);
  m.retryOverhead.add(a.overheadMs, { provider: PROVIDER });
  if (!good) return;
  m.ttft.add(x.ttft);
  m.total.add(x.total);
  m.tokens.add(x.tokens);
  if (x.tokensPerSecond !== undefined) m.tokensPerSecond.add(x.tokensPerSecond);
  if (CONCURRENCY > 1 && base.tokensPerSecond !== undefined && x.tokensPerSecond !== undefined && x.tokensPerSecond > 0) {
    m.degradation.add(base.tokensPerSecond / x.tokensPerSecond, { measure: 'tokens_per_second' });
  }
  if (CONCURRENCY > 1 && base.ttft !== undefined && base.ttft > 0) m.degradation.add(x.ttft / base.ttft, { measure: 'ttft' });
}
