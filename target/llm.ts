/**
 * LLM simulator: tokens paced by the knobs (time to first token, tokens/s, slowdown factor).
 * Token i (0-based) is due at start + TTFT + i / rate, whatever the consumer's speed.
 */
import { randomUUID } from 'node:crypto';
import type { Knobs } from './config.ts';
import { TargetError, sleep } from './errors.ts';

const WORDS = ['agent', 'plan', 'task', 'result', 'search', 'memory', 'tool', 'answer', 'context', 'step', 'graph', 'event',
  'queue', 'reply', 'model', 'token', 'check', 'review', 'draft', 'summary'];

export const MODEL_ID = 'agentload-sim';

export interface Pace { ttftMs: number; intervalMs: number }

export function pace(k: Pick<Knobs, 'llmTtftMs' | 'llmTokensPerSecond' | 'llmSlowdown'>): Pace {
  return { ttftMs: k.llmTtftMs * k.llmSlowdown, intervalMs: (1000 / k.llmTokensPerSecond) * k.llmSlowdown };
}

export function token(i: number): string {
  return `${WORDS[i % WORDS.length] ?? 'token'} `;
}

/** Yields `n` tokens on schedule; stops early when `signal` aborts. */
export async function* tokens(n: number, p: Pace, signal: AbortSignal): AsyncGenerator<string> {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const due = start + p.ttftMs + i * p.intervalMs;
    await sleep(due - performance.now());
    if (signal.aborted) return;
    yield token(i);
  }
}

export function countTokens(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function maxTokens(v: unknown, field: string): number {
  if (v === undefined || v === null) return 64;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4096) {
    throw new TargetError(400, 'LLM_INVALID', `${field} must be an integer in 1..4096, got ${JSON.stringify(v)}`);
  }
  return v;
}

export interface ChatRequest { model: string; stream: boolean; maxTokens: number; promptTokens: number }

export function parseChat(body: unknown): ChatRequest {
  if (!isRecord(body) || !Array.isArray(body.messages)) {
    throw new TargetError(400, 'LLM_INVALID', 'chat completion body must be a JSON object with a "messages" array');
  }
  const prompt = body.messages.map((m) => (isRecord(m) && typeof m.content === 'string' ? m.content : '')).join(' ');
  return {
    model: typeof body.model === 'string' ? body.model : MODEL_ID,
    stream: body.stream === true,
    maxTokens: maxTokens(body.max_tokens ?? body.max_completion_tokens, 'max_tokens'),
    promptTokens: countTokens(prompt),
  };
}

export interface GenerateRequest { model: string; stream: boolean; maxTokens: number; promptTokens: number }

export function parseGenerate(body: unknown): GenerateRequest {
  if (!isRecord(body) || typeof body.prompt !== 'string') {
    throw new TargetError(400, 'LLM_INVALID', 'generate body must be a JSON object with a string "prompt"');
  }
  const opts = isRecord(body.options) ? body.options : {};
  return {
    model: typeof body.model === 'string' ? body.model : MODEL_ID,
    stream: body.stream !== false,
    maxTokens: maxTokens(opts.num_predict, 'options.num_predict'),
    promptTokens: countTokens(body.prompt),
  };
}

export function completionId(): string {
  return `chatcmpl-${randomUUID().replaceAll('-', '')}`;
}
