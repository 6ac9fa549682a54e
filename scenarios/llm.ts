/**
 * llm — an OpenAI-compatible chat-completions back end under concurrent streaming requests.
 *
 * Proves: time to first token (`llm_ttft`), tokens per second per stream (`llm_tokens_per_second`), total
 * time (`llm_total_time`), tokens received (`llm_tokens`) and the failure rate (`llm_failed`, non-2xx or a
 * stream without `[DONE]`), with LLM_CONCURRENCY requests in flight (design: 10 without degradation).
 *
 * How TTFT is measured: k6 receives a response body whole, so TTFT comes either from the time to the first
 * response byte (LLM_TTFT_SOURCE=waiting, default: right for servers that send headers with the first token,
 * like the bundled simulator) or from a separate `max_tokens: 1` request before each stream
 * (LLM_TTFT_SOURCE=probe: right for servers that answer headers before generating). Tokens/s =
 * (chunks − 1) / time from first to last byte.
 *
 * Needs from the system: `POST /v1/chat/completions` with `stream: true` answering Server-Sent Events
 * (`data: {"choices":[{"delta":{"content":"…"}}]}` … `data: [DONE]`).
 *
 * Variables:
 *   LLM_URL          base URL of the API, default BASE_URL
 *   LLM_API_KEY      bearer token if the API needs one (never logged)
 *   LLM_MODEL        default agentload-sim
 *   LLM_MAX_TOKENS   tokens per answer, default 32 (smoke) / 256 (full)
 *   LLM_CONCURRENCY  requests in flight, default 3 (smoke) / 10 (full)
 *   LLM_TTFT_SOURCE  waiting (default) | probe
 *   SIZE, DURATION   smoke (default, 15 s) | full (5 min)
 *   PROFILE          mvp (default) | production
 */
import { check } from 'k6';
import { bySize, duration, httpUrl, int, oneOf, optional, size, str, target } from '../lib/config.ts';
import { chatPrompt, seedFactories } from '../lib/factories.ts';
import { ok, request, type Res } from '../lib/http.ts';
import { llmMetrics } from '../lib/metrics.ts';
import type { ScriptOptions } from '../lib/scenario.ts';
import { parseSse } from '../lib/sse.ts';
import { llmThresholds, selectProfile } from '../thresholds/index.ts';

const env = __ENV;
const sz = size(env);
const BASE = optional(env, 'LLM_URL') !== undefined ? httpUrl(env, 'LLM_URL', '') : target(env).baseUrl;
const MODEL = str(env, 'LLM_MODEL', 'agentload-sim');
const MAX_TOKENS = int(env, 'LLM_MAX_TOKENS', bySize(sz, { smoke: 32, full: 256 }), { min: 2, max: 4096 });
const CONCURRENCY = int(env, 'LLM_CONCURRENCY', bySize(sz, { smoke: 3, full: 10 }), { min: 1 });
const TTFT_SOURCE = oneOf(env, 'LLM_TTFT_SOURCE', ['waiting', 'probe'] as const, 'waiting');
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '15s', full: '5m' }));

export const options: ScriptOptions = {
  scenarios: {
    // A closed model on purpose: the question is how the back end behaves with N requests in flight.
    streams: { executor: 'constant-vus', exec: 'stream', vus: CONCURRENCY, duration: DURATION, gracefulStop: '60s' },
  },
  thresholds: llmThresholds(selectProfile(env)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = llmMetrics();
seedFactories(__VU);

function headers(): Record<string, string> {
  const key = optional(env, 'LLM_API_KEY');
  return key === undefined ? {} : { Authorization: `Bearer ${key}` };
}

async function complete(maxTokens: number, kind: string): Promise<Res> {
  const body = JSON.stringify({ model: MODEL, stream: true, max_tokens: maxTokens, messages: [chatPrompt()] });
  return request('POST', `${BASE}/v1/chat/completions`, body, { endpoint: 'llm_chat', name: '/v1/chat/completions', kind }, { headers: headers(), timeout: '120s' });
}

export async function stream(): Promise<void> {
  let probeTtft: number | undefined;
  if (TTFT_SOURCE === 'probe') {
    const p = await complete(1, 'probe');
    if (ok(p)) probeTtft = p.timings.duration;
  }
  const r = await complete(MAX_TOKENS, 'stream');
  const parsed = typeof r.body === 'string' ? parseSse(r.body) : undefined;
  const good = check(r, {
    'llm answered 2xx': ok,
    'llm stream ended with [DONE]': () => parsed?.done === true,
  });
  m.failed.add(!good);
  if (!good || parsed === undefined) return;
  const ttft = probeTtft ?? r.timings.waiting;
  m.ttft.add(ttft);
  m.total.add(r.timings.duration);
  m.tokens.add(parsed.tokens);
  const streamingMs = TTFT_SOURCE === 'probe' ? r.timings.duration - ttft : r.timings.receiving;
  if (parsed.tokens > 1 && streamingMs > 0) m.tokensPerSecond.add((parsed.tokens - 1) / (streamingMs / 1000));
}
