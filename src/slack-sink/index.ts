/**
 * Slack reply sink: a stand-in for the Slack Web API that a bot under test posts its replies to
 * (`chat.postMessage`). It matches each reply to the event the load script sent, by correlation id, and
 * lets the script read the match (long-poll `GET /matches/:id`), so the end-to-end latency
 * (event sent → reply received) is measured on one clock, the sink's.
 *
 * Routes (JSON unless said otherwise):
 * - `POST /api/chat.postMessage` (also `/chat.postMessage`): JSON or form-encoded, as Slack accepts.
 *   Answers like Slack: `200 {"ok":true,"channel","ts","message"}`; `{"ok":false,"error":"channel_not_found"}`
 *   without a channel; `{"ok":false,"error":"invalid_auth"}` when a token is required and missing/wrong.
 * - `POST /expect` `{"correlationId", "keys"?: [alias…], "lateAfterMs"?}`: registers an event just before it is
 *   sent; `registeredAt` starts its clock. Aliases (e.g. the event `ts` a real bot replies in) also match.
 * - `GET /matches/:correlationId?timeoutMs=N`: waits up to N ms (default 10 s, max 120 s) for the reply.
 *   `200 {"matched":true,"latencyMs","late",…}` or `200 {"matched":false}` at the timeout (the event then counts as
 *   given up: a reply arriving later is `late`); `404 {"code":"SINK_UNKNOWN_CORRELATION"}` if never registered.
 * - `GET /stats`: `{received, matched, unmatched, late, duplicates, pending, expected, givenUp}`.
 * - `POST /reset`: forgets everything. `GET /health`: `{"status":"ok"}`.
 *
 * A reply is matched by, in order: `metadata.event_payload.correlation_id`, a `correlation_id=<id>` token in
 * the text, then `thread_ts` against registered aliases. A reply matching nothing counts as `unmatched`;
 * a second reply to the same event as `duplicates`; a reply after `lateAfterMs` or after the script gave up
 * as `late`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodedError } from '../../shared/errors.ts';

export interface SlackSinkOptions {
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** 0 (default) = a free port. */
  readonly port?: number;
  /** A reply this long after registration counts as late (default 30 s). */
  readonly lateAfterMs?: number;
  /** When set, `chat.postMessage` must carry `Authorization: Bearer <token>` (or a `token` field). */
  readonly token?: string;
  /** Most registered events kept; the oldest are forgotten beyond it (default 100,000). */
  readonly maxTracked?: number;
  /** Milliseconds clock (default Date.now); tests may inject one. */
  readonly now?: () => number;
}

export interface SlackSinkStats {
  /** `chat.postMessage` calls accepted. */
  readonly received: number;
  /** Replies matched to a registered event (first reply per event). */
  readonly matched: number;
  /** Replies that matched no registered event. */
  readonly unmatched: number;
  /** Matched replies that came after `lateAfterMs` or after the script stopped waiting. */
  readonly late: number;
  /** Further replies to an already answered event. */
  readonly duplicates: number;
  /** Registered events still without a reply. */
  readonly pending: number;
  /** Events registered in all. */
  readonly expected: number;
  /** Events whose waiter timed out before a reply came. */
  readonly givenUp: number;
}

export interface SlackReply {
  readonly channel: string;
  readonly text: string;
  readonly threadTs: string | null;
  readonly correlationId: string | null;
}

export interface SlackSink {
  /** Base URL, e.g. http://127.0.0.1:PORT. */
  readonly url: string;
  /** What to give a bot as its Slack API base (`SLACK_API_URL`): `${url}/api`. */
  readonly apiUrl: string;
  readonly port: number;
  stats(): SlackSinkStats;
  close(): Promise<void>;
}

interface Expectation {
  readonly correlationId: string;
  readonly keys: readonly string[];
  readonly registeredAt: number;
  readonly lateAfterMs: number;
  givenUp: boolean;
  match?: { readonly receivedAt: number; readonly late: boolean; readonly reply: SlackReply };
  waiters: ((e: Expectation) => void)[];
}

const MAX_BODY = 1024 * 1024;
const MAX_WAIT_MS = 120_000;

class SinkError extends CodedError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
    this.name = 'Error';
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new SinkError(413, 'SINK_BODY_TOO_LARGE', `request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a JSON or form-encoded body into a flat-ish object (form `metadata` may itself be JSON). */
export function parseSlackBody(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  if (contentType?.includes('application/x-www-form-urlencoded') === true) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      if (k === 'metadata') {
        try {
          out[k] = JSON.parse(v) as unknown;
        } catch {
          out[k] = v;
        }
      } else out[k] = v;
    }
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    throw new SinkError(400, 'SINK_BAD_JSON', `body is not JSON: ${raw.slice(0, 60)}`);
  }
  if (!isRecord(parsed)) throw new SinkError(400, 'SINK_BAD_JSON', 'body must be a JSON object');
  return parsed;
}

/** The correlation id a reply carries: message metadata first, then a `correlation_id=<id>` token in the text. */
export function replyCorrelationId(body: Record<string, unknown>): string | null {
  const meta = body.metadata;
  if (isRecord(meta) && isRecord(meta.event_payload)) {
    const id = meta.event_payload.correlation_id;
    if (typeof id === 'string' && id !== '') return id;
  }
  const text = typeof body.text === 'string' ? body.text : '';
  const m = /correlation_id=([A-Za-z0-9_.:-]+)/.exec(text);
  return m?.[1] ?? null;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The expectations and the replies matched to them: registered by correlation id (and alias keys),
 * matched by a reply's correlation id or thread, counted for `/stats`.
 */
class ExpectationBook {
  readonly #now: () => number;
  readonly #lateDefault: number;
  readonly #maxTracked: number;
  readonly #byId = new Map<string, Expectation>();
  readonly #byKey = new Map<string, Expectation>();
  #received = 0;
  #matched = 0;
  #unmatched = 0;
  #late = 0;
  #duplicates = 0;
  #expected = 0;
  #givenUp = 0;
  #tsCounter = 0;

  constructor(o: SlackSinkOptions) {
    this.#now = o.now ?? Date.now;
    this.#lateDefault = o.lateAfterMs ?? 30_000;
    this.#maxTracked = o.maxTracked ?? 100_000;
  }

  get(id: string): Expectation | undefined {
    return this.#byId.get(id);
  }

  #forget(e: Expectation): void {
    this.#byId.delete(e.correlationId);
    for (const k of e.keys) if (this.#byKey.get(k) === e) this.#byKey.delete(k);
  }

  /** `POST /expect`: a new expectation; the oldest are forgotten past maxTracked. */
  register(body: Record<string, unknown>): Expectation {
    const id = body.correlationId;
    if (typeof id !== 'string' || id === '') {
      throw new SinkError(400, 'SINK_BAD_EXPECT', 'POST /expect needs {"correlationId": "<non-empty string>"}');
    }
    if (this.#byId.has(id)) throw new SinkError(409, 'SINK_DUPLICATE_CORRELATION', `correlation id ${id} is already registered`);
    const aliases = Array.isArray(body.keys) ? body.keys.filter((k): k is string => typeof k === 'string' && k !== '') : [];
    const lateAfter = typeof body.lateAfterMs === 'number' && body.lateAfterMs > 0 ? body.lateAfterMs : this.#lateDefault;
    const e: Expectation = {
      correlationId: id,
      keys: aliases,
      registeredAt: this.#now(),
      lateAfterMs: lateAfter,
      givenUp: false,
      waiters: [],
    };
    this.#byId.set(id, e);
    for (const k of aliases) this.#byKey.set(k, e);
    this.#expected++;
    while (this.#byId.size > this.#maxTracked) {
      const oldest = this.#byId.values().next().value;
      if (oldest === undefined) break;
      this.#forget(oldest);
    }
    return e;
  }

  /** The expectation a reply answers: by its correlation id (or alias), else by its thread. */
  #expectationOf(correlationId: string | null, threadTs: string | null): Expectation | undefined {
    return (
      (correlationId !== null ? (this.#byId.get(correlationId) ?? this.#byKey.get(correlationId)) : undefined) ??
      (threadTs !== null ? (this.#byKey.get(threadTs) ?? this.#byId.get(threadTs)) : undefined)
    );
  }

  /** `chat.postMessage`: the reply matched (first match only, late or not) and Slack's answer. */
  receive(body: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof body.channel === 'string' ? body.channel : '';
    if (channel === '') return { ok: false, error: 'channel_not_found' };
    this.#received++;
    const text = typeof body.text === 'string' ? body.text : '';
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : null;
    const correlationId = replyCorrelationId(body);
    const reply: SlackReply = { channel, text, threadTs, correlationId };
    const e = this.#expectationOf(correlationId, threadTs);
    const at = this.#now();
    if (e === undefined) this.#unmatched++;
    else if (e.match !== undefined) this.#duplicates++;
    else this.#match(e, at, reply);
    this.#tsCounter++;
    const ts = `${Math.floor(at / 1000)}.${String(this.#tsCounter % 1_000_000).padStart(6, '0')}`;
    return { ok: true, channel, ts, message: { type: 'message', text, ts, ...(threadTs !== null ? { thread_ts: threadTs } : {}) } };
  }

  #match(e: Expectation, at: number, reply: SlackReply): void {
    const isLate = e.givenUp || at - e.registeredAt > e.lateAfterMs;
    e.match = { receivedAt: at, late: isLate, reply };
    this.#matched++;
    if (isLate) this.#late++;
    const ws = e.waiters;
    e.waiters = [];
    for (const w of ws) w(e);
  }

  /** A waiter timed out before the reply: the expectation counts as given up (once). */
  giveUp(e: Expectation): void {
    if (e.match === undefined && !e.givenUp) {
      e.givenUp = true;
      this.#givenUp++;
    }
  }

  stats(): SlackSinkStats {
    let pending = 0;
    for (const e of this.#byId.values()) if (e.match === undefined) pending++;
    return {
      received: this.#received,
      matched: this.#matched,
      unmatched: this.#unmatched,
      late: this.#late,
      duplicates: this.#duplicates,
      pending,
      expected: this.#expected,
      givenUp: this.#givenUp,
    };
  }

  /** Answers every waiting request with its expectation as it stands. */
  wakeAll(): void {
    for (const e of this.#byId.values()) for (const w of e.waiters) w(e);
  }

  /** `POST /reset`: waiters answered, everything forgotten, counters zeroed. */
  reset(): void {
    this.wakeAll();
    this.#byId.clear();
    this.#byKey.clear();
    this.#received = this.#matched = this.#unmatched = this.#late = this.#duplicates = this.#expected = this.#givenUp = 0;
  }
}

function matchBody(e: Expectation): Record<string, unknown> {
  if (e.match === undefined) return { matched: false, correlationId: e.correlationId, registeredAt: e.registeredAt };
  return {
    matched: true,
    correlationId: e.correlationId,
    registeredAt: e.registeredAt,
    receivedAt: e.match.receivedAt,
    latencyMs: e.match.receivedAt - e.registeredAt,
    late: e.match.late,
    reply: e.match.reply,
  };
}

/** `chat.postMessage` (with or without `/api`): the token checked when the sink has one, then the reply received. */
async function postMessage(book: ExpectationBook, token: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseSlackBody(req.headers['content-type'], await readBody(req));
  if (token !== undefined) {
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : typeof body.token === 'string' ? body.token : '';
    if (given !== token) {
      send(res, 200, { ok: false, error: 'invalid_auth' });
      return;
    }
  }
  send(res, 200, book.receive(body));
}

/** `GET /matches/:id?timeoutMs=`: the match, waiting for it up to the timeout (then given up). */
async function waitForMatch(book: ExpectationBook, id: string, url: URL, res: ServerResponse): Promise<void> {
  const e = book.get(id);
  if (e === undefined)
    throw new SinkError(404, 'SINK_UNKNOWN_CORRELATION', `correlation id ${id} was never registered: POST /expect first`);
  if (e.match !== undefined) {
    send(res, 200, matchBody(e));
    return;
  }
  const t = Number(url.searchParams.get('timeoutMs') ?? '10000');
  const timeoutMs = Number.isFinite(t) ? Math.min(Math.max(t, 0), MAX_WAIT_MS) : 10_000;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      e.waiters = e.waiters.filter((w) => w !== waiter);
      book.giveUp(e);
      send(res, 200, matchBody(e));
      resolve();
    }, timeoutMs);
    const waiter = (x: Expectation): void => {
      clearTimeout(timer);
      send(res, 200, matchBody(x));
      resolve();
    };
    e.waiters.push(waiter);
    res.on('close', () => {
      clearTimeout(timer);
      e.waiters = e.waiters.filter((w) => w !== waiter);
      resolve();
    });
  });
}

/** One request to the sink, by route. */
async function handle(book: ExpectationBook, token: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sink');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (method === 'POST' && (path === '/api/chat.postMessage' || path === '/chat.postMessage')) {
    await postMessage(book, token, req, res);
    return;
  }
  if (method === 'POST' && path === '/expect') {
    const e = book.register(parseSlackBody('application/json', await readBody(req)));
    send(res, 200, { ok: true, correlationId: e.correlationId, registeredAt: e.registeredAt });
    return;
  }
  const m = /^\/matches\/([^/]+)$/.exec(path);
  if (method === 'GET' && m?.[1] !== undefined) {
    await waitForMatch(book, decodeURIComponent(m[1]), url, res);
    return;
  }
  if (method === 'GET' && path === '/stats') {
    send(res, 200, book.stats());
    return;
  }
  if (method === 'POST' && path === '/reset') {
    book.reset();
    send(res, 200, { ok: true });
    return;
  }
  if (method === 'GET' && path === '/health') {
    send(res, 200, { status: 'ok' });
    return;
  }
  throw new SinkError(404, 'SINK_NOT_FOUND', `no route ${method} ${path}: see src/slack-sink/index.ts for the routes`);
}

export async function startSlackSink(o: SlackSinkOptions = {}): Promise<SlackSink> {
  const book = new ExpectationBook(o);
  const server = createServer((req, res) => {
    handle(book, o.token, req, res).catch((err: unknown) => {
      if (res.headersSent) return;
      if (err instanceof SinkError) send(res, err.status, { ok: false, error: err.message, code: err.code });
      else send(res, 500, { ok: false, error: err instanceof Error ? err.message : String(err), code: 'SINK_INTERNAL' });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  return {
    url,
    apiUrl: `${url}/api`,
    port: addr.port,
    stats: () => book.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        book.wakeAll();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
