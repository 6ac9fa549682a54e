/** Shared helpers for the reference-platform tests: a target on port 0, JSON fetch, WebSocket clients, polling. */
import { WebSocket } from 'ws';
import { startTarget, type RunningTarget } from '../../target/index.ts';

/** Fast defaults for tests: few seed rows, quick agent start-up. */
export const TEST_ENV: Readonly<Record<string, string>> = {
  SEED_AGENTS: '3',
  SEED_KNOWLEDGE_NODES: '30',
  AGENT_START_DELAY_MS: '20',
  TASK_WORK_MS: '5',
  LLM_TTFT_MS: '10',
  LLM_TOKENS_PER_SECOND: '2000',
  MONITOR_INTERVAL_MS: '100',
};

export async function start(env: Readonly<Record<string, string | undefined>> = {}): Promise<RunningTarget> {
  return startTarget({ port: 0, env: { ...TEST_ENV, ...env } });
}

export interface JsonResponse {
  status: number;
  body: unknown;
  headers: Headers;
  ms: number;
}

export async function req(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const t0 = performance.now();
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep text */
  }
  return { status: res.status, body: parsed, headers: res.headers, ms };
}

/** Reads `obj.a.b[0]...` from JSON without casts at every call site. */
export function at(v: unknown, ...path: Array<string | number>): unknown {
  let cur = v;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

export function arr(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new Error(`expected an array, got ${JSON.stringify(v)}`);
  return v as unknown[];
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface WsClient {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  /** The next message after the last one returned that matches; messages passed over are consumed. */
  next(pred?: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Any message received so far or later that matches, in whatever order they came; consumes nothing. */
  find(pred: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function wsConnect(url: string): Promise<WsClient> {
  const ws = new WebSocket(url);
  const messages: Array<Record<string, unknown>> = [];
  let cursor = 0;
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    messages.push(
      JSON.parse((Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8')) as Record<
        string,
        unknown
      >,
    );
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      resolve();
    });
    ws.once('error', reject);
  });
  /** Waits for a message until the deadline; `scan` looks at what has arrived and returns a match or undefined. */
  async function waitUntil(scan: () => Record<string, unknown> | undefined, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = scan();
      if (m !== undefined) return m;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching WebSocket message within ${timeoutMs} ms on ${url}; got ${JSON.stringify(messages.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done(): void {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }
  return {
    ws,
    messages,
    next(pred = () => true, timeoutMs = 5000) {
      return waitUntil(() => {
        while (cursor < messages.length) {
          const m = messages[cursor++];
          if (m !== undefined && pred(m)) return m;
        }
        return undefined;
      }, timeoutMs);
    },
    find(pred, timeoutMs = 5000) {
      return waitUntil(() => messages.find(pred), timeoutMs);
    },
    close() {
      return new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) {
          resolve();
          return;
        }
        ws.once('close', () => {
          resolve();
        });
        ws.close();
      });
    },
  };
}

export function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, 'ws') + path;
}

/** Value of one sample line in Prometheus text, e.g. metric('agents{state="healthy"}'). */
export function metric(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
