/**
 * What a feature of the platform (agent-state cache, scheduler, jobs) gets from `buildPlatform`: it registers
 * its own routes and metrics, reads its own variables, and closes what it opened in an `onClose` hook.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Env, Knobs } from './config.ts';
import type { Db } from './db/db.ts';
import { TargetError } from './errors.ts';

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

/** An integer variable of the platform in min..max, or the default; one line naming it when bad. */
export function intEnv(env: Env, name: string, def: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TargetError(400, 'CONFIG_INVALID', `${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** `Server-Timing` header value: `cache;dur=0.412, db;dur=3.100` (milliseconds, as the spec says). */
export function serverTiming(parts: Readonly<Record<string, number | undefined>>): string {
  return Object.entries(parts)
    .filter((e): e is [string, number] => e[1] !== undefined)
    .map(([k, v]) => `${k};dur=${v.toFixed(3)}`)
    .join(', ');
}
