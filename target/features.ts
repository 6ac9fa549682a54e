/**
 * What a feature of the platform (agent-state cache, scheduler, jobs) gets from `buildPlatform`: it registers
 * its own routes and metrics, reads its own variables, and closes what it opened in an `onClose` hook.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Env, Knobs } from './config.ts';
import type { Db } from './db/db.ts';

export interface FeatureDeps {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly env: Env;
  readonly knobs: () => Knobs;
  /** The platform's Prometheus registry (`/metrics`). */
  readonly registry: Registry;
  readonly logError: (e: unknown) => void;
}

export type Params = Record<string, string>;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `Server-Timing` header value: `cache;dur=0.412, db;dur=3.100` (milliseconds, as the spec says). */
export function serverTiming(parts: Readonly<Record<string, number | undefined>>): string {
  return Object.entries(parts)
    .filter((e): e is [string, number] => e[1] !== undefined)
    .map(([k, v]) => `${k};dur=${v.toFixed(3)}`)
    .join(', ');
}
