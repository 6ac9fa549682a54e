/**
 * Slack Events API: v0 signature check, event → task, and the `chat.postMessage` reply carrying the
 * correlation id (`event.client_msg_id`, else the envelope's `event_id`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BusAdapter, BusMessage } from './bus.ts';
import type { Knobs } from './config.ts';
import { TargetError } from './errors.ts';
import { sleep } from './sleep.ts';
import type { Task } from './store.ts';
import type { TaskEngine } from './tasks.ts';

export const SLACK_WINDOW_SECONDS = 300;

export function slackSignature(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/** Throws a 401 TargetError unless the headers carry a valid, fresh v0 signature of `rawBody`. */
export function verifySlackRequest(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  rawBody: Buffer,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): void {
  const sig = headers['x-slack-signature'];
  const ts = headers['x-slack-request-timestamp'];
  if (typeof sig !== 'string' || typeof ts !== 'string' || sig === '' || ts === '') {
    throw new TargetError(
      401,
      'SLACK_SIGNATURE_MISSING',
      'Slack request lacks X-Slack-Signature or X-Slack-Request-Timestamp: sign it with the v0 scheme',
    );
  }
  const t = Number(ts);
  if (!/^\d+$/.test(ts) || Math.abs(nowSeconds - t) > SLACK_WINDOW_SECONDS) {
    throw new TargetError(
      401,
      'SLACK_TIMESTAMP_STALE',
      `Slack request timestamp ${JSON.stringify(ts)} is more than ${SLACK_WINDOW_SECONDS}s from the server clock (${nowSeconds}): sign with the current time`,
    );
  }
  const expected = Buffer.from(slackSignature(secret, ts, rawBody));
  const got = Buffer.from(sig);
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new TargetError(
      401,
      'SLACK_SIGNATURE_INVALID',
      'Slack request signature does not match: sign "v0:{timestamp}:{raw body}" with SLACK_SIGNING_SECRET',
    );
  }
}

interface SlackEventContext {
  eventId: string;
  correlationId: string;
  channel: string;
  threadTs: string | null;
  text: string;
  user: string | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const optStr = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function contextOf(input: unknown): SlackEventContext | undefined {
  if (!isRecord(input) || input.source !== 'slack') return undefined;
  const eventId = optStr(input.eventId);
  const correlationId = optStr(input.correlationId);
  if (eventId === null || correlationId === null) return undefined;
  return {
    eventId,
    correlationId,
    channel: optStr(input.channel) ?? 'C0000000000',
    threadTs: optStr(input.threadTs),
    text: typeof input.text === 'string' ? input.text : '',
    user: optStr(input.user),
  };
}

export interface SlackConfig {
  apiUrl: string | undefined;
  botToken: string;
}

export class SlackBridge {
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private readonly pending = new Map<string, SlackEventContext>();
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly cfg: SlackConfig,
    private readonly bus: BusAdapter,
    private readonly tasks: TaskEngine,
    private readonly knobs: () => Knobs,
    private readonly count: (result: 'sent' | 'failed' | 'skipped') => void,
    private readonly onError: (e: unknown) => void,
  ) {
    bus.subscribe('slack_events', (m) => this.consume(m), { group: 'slack' });
    tasks.onFinished((t) => {
      this.finished(t);
    });
  }

  /** Handles a verified Events API body; returns the HTTP response body. */
  async receive(body: unknown): Promise<Record<string, unknown>> {
    if (!isRecord(body)) throw new TargetError(400, 'SLACK_BAD_REQUEST', 'Slack request body must be a JSON object');
    if (body.type === 'url_verification') {
      if (typeof body.challenge !== 'string')
        throw new TargetError(400, 'SLACK_BAD_REQUEST', 'url_verification needs a string "challenge"');
      return { challenge: body.challenge };
    }
    if (body.type !== 'event_callback') return { ok: true, ignored: 'type' };
    const eventId = optStr(body.event_id);
    const ev = body.event;
    if (eventId === null || !isRecord(ev))
      throw new TargetError(400, 'SLACK_BAD_REQUEST', 'event_callback needs "event_id" and an "event" object');
    if (this.seen.has(eventId)) return { ok: true, duplicate: true };
    this.remember(eventId);
    const type = ev.type;
    const isMessage = type === 'message' && ev.bot_id === undefined && ev.subtype === undefined;
    if (type !== 'app_mention' && !isMessage) return { ok: true, ignored: 'event' };
    const ctx: SlackEventContext = {
      eventId,
      correlationId: optStr(ev.client_msg_id) ?? eventId,
      channel: optStr(ev.channel) ?? 'C0000000000',
      threadTs: optStr(ev.thread_ts) ?? optStr(ev.ts),
      text: typeof ev.text === 'string' ? ev.text : '',
      user: optStr(ev.user),
    };
    await this.bus.publish('slack_events', ctx, ctx.correlationId);
    return { ok: true };
  }

  private remember(id: string): void {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > 100_000) {
      const old = this.seenOrder.shift();
      if (old !== undefined) this.seen.delete(old);
    }
  }

  private async consume(m: BusMessage): Promise<void> {
    const p = m.payload;
    if (!isRecord(p) || typeof p.correlationId !== 'string' || typeof p.eventId !== 'string') return;
    const ctx = p as unknown as SlackEventContext;
    const complex = /complex/i.test(ctx.text);
    const t = await this.tasks.submit({
      mode: complex ? 'collaborative' : 'autonomous',
      input: {
        source: 'slack',
        text: ctx.text,
        user: ctx.user,
        channel: ctx.channel,
        correlationId: ctx.correlationId,
        eventId: ctx.eventId,
        threadTs: ctx.threadTs,
      },
    });
    this.pending.set(t.id, ctx);
  }

  private finished(t: Task): void {
    // In a cluster the task may have run in another process than the one that took the event: the
    // context travels in the task's input.
    const ctx = this.pending.get(t.id) ?? contextOf(t.input);
    if (ctx === undefined) return;
    this.pending.delete(t.id);
    const p = this.reply(ctx, t)
      .catch(this.onError)
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private async reply(ctx: SlackEventContext, t: Task): Promise<void> {
    await sleep(this.knobs().slackReplyDelayMs);
    if (this.closed) return;
    if (this.cfg.apiUrl === undefined) {
      this.count('skipped');
      return;
    }
    const answer =
      t.status === 'completed' ? `Done (${t.mode}, ${t.agentIds.length} agent(s)).` : `Sorry, that failed: ${t.error ?? 'unknown error'}.`;
    const body = {
      channel: ctx.channel,
      ...(ctx.threadTs !== null ? { thread_ts: ctx.threadTs } : {}),
      text: `${answer} [correlation_id=${ctx.correlationId}]`,
      metadata: {
        event_type: 'agentload_reply',
        event_payload: { correlation_id: ctx.correlationId, event_id: ctx.eventId, task_id: t.id, status: t.status },
      },
    };
    try {
      const res = await fetch(`${this.cfg.apiUrl}/chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${this.cfg.botToken}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      this.count(res.ok ? 'sent' : 'failed');
    } catch {
      // The error may quote the request; report only that it failed (no token, no body).
      this.count('failed');
    }
  }

  /** Stops replying; waits up to 2 s for replies already being sent (delayed ones are dropped). */
  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => {
        timer = setTimeout(r, 2000);
      }),
    ]);
    clearTimeout(timer);
  }
}
