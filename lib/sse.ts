/** Server-Sent Events of an OpenAI-compatible streaming completion, read from a whole body. Pure. */
import { arrField, field, parseJson, strField } from './json.ts';

export interface SseCompletion {
  /** Chunks that carried content (≈ tokens for one-token chunks). */
  readonly tokens: number;
  readonly text: string;
  /** `data: [DONE]` was seen. */
  readonly done: boolean;
  readonly finishReason: string | undefined;
}

export function parseSse(body: string): SseCompletion {
  let tokens = 0;
  let text = '';
  let done = false;
  let finishReason: string | undefined;
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    const choice = arrField(parseJson(data), 'choices')[0];
    const content = strField(field(choice, 'delta'), 'content');
    if (content !== undefined && content !== '') {
      tokens++;
      text += content;
    }
    finishReason = strField(choice, 'finish_reason') ?? finishReason;
  }
  return { tokens, text, done, finishReason };
}

/** Ollama's streaming `/api/generate` body (NDJSON), read whole. Durations in ns, as Ollama reports them. */
export interface OllamaCompletion {
  readonly tokens: number;
  readonly done: boolean;
  readonly evalCount: number | undefined;
  readonly evalDurationNs: number | undefined;
  readonly loadDurationNs: number | undefined;
}

export function parseNdjson(body: string): OllamaCompletion {
  let tokens = 0;
  let done = false;
  let last: unknown;
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const v = parseJson(line);
    if (v === undefined) continue;
    if (field(v, 'done') === true) {
      done = true;
      last = v;
    } else if ((strField(v, 'response') ?? '') !== '') tokens++;
  }
  const n = (k: string): number | undefined => {
    const x = field(last, k);
    return typeof x === 'number' ? x : undefined;
  };
  return { tokens, done, evalCount: n('eval_count'), evalDurationNs: n('eval_duration'), loadDurationNs: n('load_duration') };
}
