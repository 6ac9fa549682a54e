/**
 * LLM simulator: tokens paced by the knobs (time to first token, tokens/s, slowdown factor).
 * Token i (0-based) is due at start + TTFT + i / rate, whatever the consumer's speed.
 */
import { randomUUID } from 'node:crypto';
import type { Knobs } from './config.ts';
import { TargetError } from './errors.ts';
import { sleep } from './sleep.ts';

const WORDS = [
  'agent',
  'plan',
  'task',
  'result',
  'search',
  'memory',
  'tool',
  'answer',
  'context',
  'step',
  'graph',
  'event',
  'queue',
  'reply',
  'model',
  'token',
  'check',
  'review',
  'draft',
  'summary',
];

export const MODEL_ID = 'agentload-sim';

export interface Pace {
  ttftMs: number;
  intervalMs: number;
}

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

export interface ChatRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  promptTokens: number;
}

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

export interface GenerateRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  promptTokens: number;
  /** Ollama's unload request: `keep_alive: 0` with an empty prompt. */
  unload: boolean;
}

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
    unload: body.prompt === '' && (body.keep_alive === 0 || body.keep_alive === '0' || body.keep_alive === '0s'),
  };
}

export function completionId(): string {
  return `chatcmpl-${randomUUID().replaceAll('-', '')}`;
}

/**
 * What a model server does besides pacing tokens: refuses some requests with 429 and a Retry-After (knob
 * `llmRateLimitRate`, wait `llmRetryAfterMs`), loads a model on its first use and after it was unloaded or idle
 * for LLM_MODEL_KEEP_ALIVE_MS (knob `llmModelLoadMs`; concurrent first requests share one load), and slows every
 * stream down as more run at once (knob `llmConcurrencySlowdown`: pace × (1 + factor × (streams − 1))).
 */
export class ModelServer {
  private inFlight = 0;
  private readonly loadedAt = new Map<string, number>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(private readonly keepAliveMs: number) {}

  /** A 429 answer's wait, or undefined when the request may go on. */
  rateLimited(k: Pick<Knobs, 'llmRateLimitRate' | 'llmRetryAfterMs'>): number | undefined {
    return k.llmRateLimitRate > 0 && Math.random() < k.llmRateLimitRate ? k.llmRetryAfterMs : undefined;
  }

  unload(model: string): void {
    this.loadedAt.delete(model);
  }

  /** Loads `model` if needed (ms spent), counts the stream in, and returns its pace and a release. */
  async begin(k: Knobs, model: string): Promise<{ loadMs: number; pace: Pace; release: () => void }> {
    const t0 = performance.now();
    const last = this.loadedAt.get(model);
    if (k.llmModelLoadMs > 0 && (last === undefined || Date.now() - last > this.keepAliveMs)) {
      let p = this.loading.get(model);
      if (p === undefined) {
        p = sleep(k.llmModelLoadMs).then(() => {
          this.loadedAt.set(model, Date.now());
          this.loading.delete(model);
        });
        this.loading.set(model, p);
      }
      await p;
    }
    this.loadedAt.set(model, Date.now());
    const loadMs = performance.now() - t0;
    this.inFlight += 1;
    const base = pace(k);
    const f = 1 + k.llmConcurrencySlowdown * (this.inFlight - 1);
    let released = false;
    return {
      loadMs,
      pace: { ttftMs: base.ttftMs * f, intervalMs: base.intervalMs * f },
      release: () => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        this.loadedAt.set(model, Date.now());
      },
    };
  }
}

/** OpenAI's 429 body. */
export function rateLimitBody(waitMs: number): Record<string, unknown> {
  return {
    error: {
      message: `Rate limit reached: retry after ${Math.ceil(waitMs)} ms (knob llmRateLimitRate)`,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
    },
  };
}
