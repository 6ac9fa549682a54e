/** The LLM simulator: OpenAI's `/v1/models` and `/v1/chat/completions` (SSE), Ollama's `/api/generate` (NDJSON). */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Knobs } from '../config.ts';
import { MODEL_ID, ModelServer, completionId, parseChat, parseGenerate, rateLimitBody, tokens } from '../llm.ts';
import type { PlatformDeps } from './deps.ts';

function limited(reply: FastifyReply, waitMs: number): FastifyReply {
  return reply
    .code(429)
    .header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
    .header('retry-after-ms', String(Math.round(waitMs)))
    .send(rateLimitBody(waitMs));
}

export async function llmRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  app.get('/v1/models', () => ({ object: 'list', data: [{ id: MODEL_ID, object: 'model', owned_by: 'agentload' }] }));
  const models = new ModelServer(Number(d.env.LLM_MODEL_KEEP_ALIVE_MS ?? 300_000) || 300_000);
  const knobs = (): Knobs => d.knobs.get();
  app.post('/v1/chat/completions', async (req, reply) => {
    const r = parseChat(req.body);
    const wait = models.rateLimited(knobs());
    if (wait !== undefined) return limited(reply, wait);
    const { pace: p, release } = await models.begin(knobs(), r.model);
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);
    const ac = new AbortController();
    reply.raw.on('close', () => {
      ac.abort();
      release();
    });
    if (!r.stream) {
      let content = '';
      for await (const t of tokens(r.maxTokens, p, ac.signal)) content += t;
      release();
      return {
        id,
        object: 'chat.completion',
        created,
        model: r.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'length' }],
        usage: { prompt_tokens: r.promptTokens, completion_tokens: r.maxTokens, total_tokens: r.promptTokens + r.maxTokens },
      };
    }
    const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: r.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    async function* sse(): AsyncGenerator<string> {
      let first = true;
      for await (const t of tokens(r.maxTokens, p, ac.signal)) {
        yield chunk(first ? { role: 'assistant', content: t } : { content: t }, null);
        first = false;
      }
      yield chunk({}, 'length');
      yield 'data: [DONE]\n\n';
    }
    return reply.header('cache-control', 'no-cache').type('text/event-stream; charset=utf-8').send(Readable.from(sse()));
  });
  app.post('/api/generate', async (req, reply) => {
    const r = parseGenerate(req.body);
    if (r.unload) {
      models.unload(r.model);
      return { model: r.model, created_at: new Date().toISOString(), response: '', done: true, done_reason: 'unload' };
    }
    const wait = models.rateLimited(knobs());
    if (wait !== undefined) return limited(reply, wait);
    const t0 = process.hrtime.bigint();
    const { pace: p, release, loadMs } = await models.begin(knobs(), r.model);
    const ac = new AbortController();
    reply.raw.on('close', () => {
      ac.abort();
      release();
    });
    let firstAt = 0n;
    const final = (): Record<string, unknown> => {
      const total = Number(process.hrtime.bigint() - t0);
      return {
        model: r.model,
        created_at: new Date().toISOString(),
        done: true,
        done_reason: 'length',
        total_duration: total,
        load_duration: Math.round(loadMs * 1e6),
        prompt_eval_count: r.promptTokens,
        eval_count: r.maxTokens,
        eval_duration: firstAt === 0n ? 0 : Number(process.hrtime.bigint() - firstAt),
      };
    };
    if (!r.stream) {
      let response = '';
      for await (const t of tokens(r.maxTokens, p, ac.signal)) {
        if (firstAt === 0n) firstAt = process.hrtime.bigint();
        response += t;
      }
      return { ...final(), response };
    }
    async function* ndjson(): AsyncGenerator<string> {
      for await (const t of tokens(r.maxTokens, p, ac.signal)) {
        if (firstAt === 0n) firstAt = process.hrtime.bigint();
        yield `${JSON.stringify({ model: r.model, created_at: new Date().toISOString(), response: t, done: false })}\n`;
      }
      yield `${JSON.stringify({ ...final(), response: '' })}\n`;
    }
    return reply.type('application/x-ndjson').send(Readable.from(ndjson()));
  });
  await Promise.resolve();
}
