/**
 * WebSocket helpers over `k6/websockets` (aliased to `k6/experimental/websockets` for older k6 by the
 * bundler): connect as a promise with the setup time measured, JSON frames, and a deadline timer.
 */
import { WebSocket } from 'k6/websockets';
import type { MessageEvent } from 'k6/websockets';
import { clearTimeout, setTimeout } from 'k6/timers';
import { parseJson } from './json.ts';

export interface SocketOptions {
  readonly tags: Readonly<Record<string, string>>;
  /** Called for every JSON text frame, from the first frame on (registered before `open`). */
  readonly onJson?: (msg: unknown, receivedAt: number) => void;
  /** Give up connecting after this many ms (default 10 s). */
  readonly connectTimeoutMs?: number;
}

export interface OpenSocket {
  readonly ws: WebSocket;
  /** Time from constructing the socket to `open`, ms. */
  readonly connectMs: number;
  /** Resolves when the socket has closed (for any reason). */
  readonly closed: Promise<void>;
}

/** Opens a socket; resolves on `open`, rejects on error, close or timeout before it. */
export function connect(url: string, o: SocketOptions): Promise<OpenSocket> {
  const started = Date.now();
  const ws = new WebSocket(url, null, { tags: { ...o.tags } });
  let closedResolve: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });
  return new Promise<OpenSocket>((resolve, reject) => {
    let opened = false;
    const timer = setTimeout(() => {
      if (opened) return;
      reject(new Error(`WebSocket ${url}: no connection after ${o.connectTimeoutMs ?? 10_000} ms`));
      ws.close();
    }, o.connectTimeoutMs ?? 10_000);
    if (o.onJson !== undefined) {
      const onJson = o.onJson;
      ws.onmessage = (e?: MessageEvent) => {
        if (e === undefined || typeof e.data !== 'string') return;
        const at = Date.now();
        const msg = parseJson(e.data);
        if (msg !== undefined) onJson(msg, at);
      };
    }
    ws.onopen = () => {
      opened = true;
      clearTimeout(timer);
      resolve({ ws, connectMs: Date.now() - started, closed });
    };
    ws.onerror = (e?: unknown) => {
      if (opened) return;
      clearTimeout(timer);
      const detail = typeof e === 'object' && e !== null && 'error' in e ? String(e.error) : 'error';
      reject(new Error(`WebSocket ${url}: ${detail}`));
    };
    ws.onclose = () => {
      closedResolve();
      if (!opened) {
        clearTimeout(timer);
        reject(new Error(`WebSocket ${url}: closed before open`));
      }
    };
  });
}

/** Resolves after `ms` on the VU's event loop (k6/timers). */
export function delay(ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });
}

/** A wait that ends early when `finish()` is called (`done` → true) or after `ms` (`done` → false). */
export function waitUntil(ms: number): { readonly done: Promise<boolean>; readonly finish: () => void } {
  let finish: () => void = () => undefined;
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, ms);
    finish = () => {
      clearTimeout(timer);
      resolve(true);
    };
  });
  return { done, finish };
}

export function sendJson(ws: WebSocket, msg: unknown): void {
  ws.send(JSON.stringify(msg));
}
