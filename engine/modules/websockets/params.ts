/** What `new WebSocket(url, protocols, params)` accepts, checked as k6 checks it, and the errors, states and events it gives. */
import { CodedError } from '../../../shared/errors.ts';

/** Errors this module throws into scripts; tests branch on `code`. */
export class WebSocketError extends CodedError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'WebSocketError';
  }
}

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;
export type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

export const EVENT_TYPES = ['open', 'message', 'error', 'close', 'ping', 'pong'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type Listener = (event: WebSocketEvent) => unknown;

export interface WebSocketEvent {
  readonly type: EventType;
  readonly target: unknown;
  readonly timestamp: number;
  readonly data?: unknown;
  readonly origin?: string;
  readonly error?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

export interface WebSocketParams {
  readonly headers?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
  readonly compression?: string;
  /** Accepted for API compatibility; cookie jars are not supported on the embedded engine. */
  readonly jar?: unknown;
}

/** Parses and checks a WebSocket URL the way k6 does; throws `WebSocketError` with code `ws-bad-url`. */
export function parseWebSocketUrl(raw: unknown): URL {
  if (raw === undefined || raw === null) {
    throw new WebSocketError('ws-bad-url', 'WebSocket requires a url: pass one like new WebSocket("ws://host:port/path")');
  }
  const text = typeof raw === 'string' ? raw : raw instanceof URL ? raw.href : JSON.stringify(raw);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebSocketError(
      'ws-bad-url',
      `WebSocket url ${JSON.stringify(text)} is not a valid URL: use a full URL like "ws://127.0.0.1:8080/ws"`,
    );
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new WebSocketError(
      'ws-bad-url',
      `WebSocket url ${JSON.stringify(text)} has scheme "${url.protocol.slice(0, -1)}": use ws:// or wss://`,
    );
  }
  if (url.hash !== '') {
    throw new WebSocketError('ws-bad-url', `WebSocket url ${JSON.stringify(text)} has a fragment "${url.hash}": remove it`);
  }
  return url;
}

function stringRecord(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') {
    throw new WebSocketError('ws-bad-params', `WebSocket params.${what} must be an object of strings, got ${typeof value}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}

export function parseParams(raw: unknown): { headers: Record<string, string>; tags: Record<string, string>; compression: boolean } {
  if (raw === undefined || raw === null) return { headers: {}, tags: {}, compression: false };
  if (typeof raw !== 'object') {
    throw new WebSocketError('ws-bad-params', `WebSocket params must be an object like { headers, tags, compression }, got ${typeof raw}`);
  }
  const p = raw as Record<string, unknown>;
  const compression = p.compression;
  if (compression !== undefined && compression !== null && compression !== '' && compression !== 'deflate') {
    throw new WebSocketError(
      'ws-bad-params',
      `WebSocket params.compression ${JSON.stringify(compression)} is not supported: use "deflate" or leave it unset`,
    );
  }
  return { headers: stringRecord(p.headers, 'headers'), tags: stringRecord(p.tags, 'tags'), compression: compression === 'deflate' };
}

export function parseProtocols(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw)) return raw.map((x) => String(x));
  throw new WebSocketError('ws-bad-protocols', `WebSocket protocols must be a string or an array of strings, got ${typeof raw}`);
}

/** The `WebSocket` constructor type the module exports (one class per VU, bound to its context). */
export type WebSocketClass = new (url: unknown, protocols?: unknown, params?: unknown) => object;
