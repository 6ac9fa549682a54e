/**
 * What the platform's route plugins share: its parts (store, bus, agents, tasks, ...), the fault knobs,
 * the memory-leak fault's buffers, the loopback guard for `/admin/*`, and the small request readers.
 */
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { AgentManager } from '../agents.ts';
import type { BusAdapter } from '../bus.ts';
import type { DeliveryLog } from '../bus/delivery-log.ts';
import type { NodeConfig } from '../cluster/node.ts';
import type { Env, Knobs, TargetConfig } from '../config.ts';
import type { Db } from '../db/db.ts';
import { TargetError } from '../errors.ts';
import type { TargetMetrics } from '../metrics.ts';
import type { SlackBridge } from '../slack.ts';
import type { Store } from '../store.ts';
import type { TaskEngine } from '../tasks.ts';
import type { WsHub } from '../ws.ts';

/** The fault knobs: read by every request, changed by `/admin/faults`. */
export interface KnobsCell {
  readonly get: () => Knobs;
  readonly set: (k: Knobs) => void;
  /** Back to the knobs the platform started with. */
  readonly reset: () => Knobs;
}

/** The memory-leak fault: buffers kept per request until `/admin/leak/release`. */
export class Leak {
  readonly #buffers: Buffer[] = [];
  #bytes = 0;
  get bytes(): number {
    return this.#bytes;
  }
  add(bytes: number): void {
    this.#buffers.push(Buffer.alloc(bytes, 0xa5));
    this.#bytes += bytes;
  }
  /** Drops every buffer; the bytes released. */
  release(): number {
    const released = this.#bytes;
    this.#buffers.length = 0;
    this.#bytes = 0;
    return released;
  }
}

export interface PlatformDeps {
  readonly env: Env;
  readonly config: TargetConfig;
  readonly db: Db;
  readonly store: Store;
  readonly bus: BusAdapter;
  readonly deliveryLog: DeliveryLog;
  readonly node: NodeConfig;
  readonly busKind: 'in-process' | 'rabbitmq';
  readonly agents: AgentManager;
  readonly tasks: TaskEngine;
  readonly metrics: TargetMetrics;
  readonly slack: SlackBridge;
  readonly knobs: KnobsCell;
  readonly leak: Leak;
  /** The WebSocket hub, once the server listens. */
  readonly hub: () => WsHub | undefined;
  readonly startedAt: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (LOOPBACK.has(address) || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

/** A Host header naming loopback: localhost, 127.x.x.x or [::1], with or without a port. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  const h = name.toLowerCase();
  return h === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '[::1]';
}

/** The guard of `/admin/*`: loopback clients addressing a loopback name only. */
export async function adminOnly(req: FastifyRequest): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) {
    throw new TargetError(
      403,
      'ADMIN_LOOPBACK_ONLY',
      `admin routes answer loopback clients only, not ${req.socket.remoteAddress ?? 'unknown'}`,
    );
  }
  // A page on another site whose name resolves to 127.0.0.1 (DNS rebinding) reaches a loopback socket
  // too, but its requests carry that site's name in Host: only loopback names are taken.
  if (!isLoopbackHostHeader(req.headers.host)) {
    throw new TargetError(
      403,
      'ADMIN_HOST_NOT_LOOPBACK',
      'admin routes answer requests addressed to localhost, 127.0.0.1 or [::1] only: use http://127.0.0.1:PORT/admin/...',
    );
  }
  await Promise.resolve();
}

export type Query = Record<string, string | undefined>;
export type Params = Record<string, string>;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function queryInt(q: Query, key: string, def: number, min: number, max: number): number {
  const v = q[key];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new TargetError(400, 'BAD_QUERY', `query parameter ${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export async function drain(stream: Readable): Promise<void> {
  for await (const chunk of stream) if (chunk === undefined) break;
}
