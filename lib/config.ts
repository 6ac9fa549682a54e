/**
 * Typed configuration from environment variables (k6 `__ENV`), with defaults and one-line errors.
 *
 * Pure: every reader takes the env record, so Node tests call them directly and scenarios pass `__ENV`.
 * An invalid value throws a ConfigError in the init context, which k6 reports as a script error (exit 107)
 * before any traffic is sent.
 */

import { CodedError } from '../shared/errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export type ConfigErrorCode = 'config-missing' | 'config-invalid';

export class ConfigError extends CodedError<ConfigErrorCode> {
  override readonly name = 'ConfigError';
  constructor(
    code: ConfigErrorCode,
    readonly variable: string,
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * Every variable name the readers below looked at in this VU (set or not), shared through the global object so
 * the bundle's handleSummary can write it for the run command's unused-variable warning (docs/scenarios.md).
 */
const READ_REGISTRY = '__agentloadEnvRead';

function registry(): Set<string> {
  const g = globalThis as { [READ_REGISTRY]?: Set<string> };
  let set = g[READ_REGISTRY];
  if (set === undefined) {
    set = new Set<string>();
    g[READ_REGISTRY] = set;
  }
  return set;
}

/** The names read so far through this module, sorted. */
export function variablesRead(): string[] {
  return [...registry()].sort();
}

function raw(env: Env, name: string): string | undefined {
  registry().add(name);
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function invalid(name: string, value: string, expected: string): ConfigError {
  return new ConfigError('config-invalid', name, `${name} must be ${expected}, got ${JSON.stringify(value)}: fix or unset ${name}`);
}

/** A string variable, or the default. */
export function str(env: Env, name: string, def: string): string {
  return raw(env, name) ?? def;
}

/** A string variable that may be absent. */
export function optional(env: Env, name: string): string | undefined {
  return raw(env, name);
}

/** A variable that must be set; `hint` says how to set it. */
export function required(env: Env, name: string, hint: string): string {
  const v = raw(env, name);
  if (v === undefined) throw new ConfigError('config-missing', name, `${name} is not set: ${hint}`);
  return v;
}

export interface NumberBounds {
  readonly min?: number;
  readonly max?: number;
}

function bounded(name: string, s: string, n: number, b: NumberBounds, what: string): number {
  if (b.min !== undefined && n < b.min) throw invalid(name, s, `${what} >= ${b.min}`);
  if (b.max !== undefined && n > b.max) throw invalid(name, s, `${what} <= ${b.max}`);
  return n;
}

/** An integer variable (decimal digits, optional sign). */
export function int(env: Env, name: string, def: number, bounds: NumberBounds = {}): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^[+-]?\d+$/.test(v)) throw invalid(name, v, 'an integer');
  return bounded(name, v, Number.parseInt(v, 10), bounds, 'an integer');
}

/** A finite number variable. */
export function num(env: Env, name: string, def: number, bounds: NumberBounds = {}): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v)) throw invalid(name, v, 'a number');
  return bounded(name, v, n, bounds, 'a number');
}

/** A boolean variable: true/false, 1/0, yes/no, on/off. */
export function bool(env: Env, name: string, def: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return def;
  const l = v.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(l)) return true;
  if (['0', 'false', 'no', 'off'].includes(l)) return false;
  throw invalid(name, v, 'true or false');
}

/** One of a fixed set of values (case-insensitive). */
export function oneOf<const T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const v = raw(env, name);
  if (v === undefined) return def;
  const found = values.find((x) => x.toLowerCase() === v.toLowerCase());
  if (found === undefined) throw invalid(name, v, `one of ${values.join(', ')}`);
  return found;
}

/** A comma-separated list of non-empty items. */
export function list(env: Env, name: string, def: readonly string[]): string[] {
  const v = raw(env, name);
  if (v === undefined) return [...def];
  return v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a k6 duration ("500ms", "30s", "1m30s", "8h") into milliseconds; undefined if it is not one.
 * A bare number is seconds, as in k6.
 */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const unit = UNIT_MS[m[2] ?? ''];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
  }
  return total;
}

/** A k6 duration variable, returned as given (k6 syntax) after validation. */
export function duration(env: Env, name: string, def: string): string {
  const v = raw(env, name);
  if (v === undefined) return def;
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw invalid(name, v, 'a positive duration like "30s", "5m" or "8h"');
  return v;
}

/** Milliseconds of a k6 duration string; throws if it is not one (for values from `duration`). */
export function durationMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new ConfigError('config-invalid', 'duration', `${JSON.stringify(value)} is not a duration like "30s"`);
  return ms;
}

/** A http(s) URL without a trailing slash. */
export function httpUrl(env: Env, name: string, def: string): string {
  const v = raw(env, name) ?? def;
  if (!/^https?:\/\/[^\s/]+/.test(v)) throw invalid(name, v, 'an http:// or https:// URL');
  return v.replace(/\/+$/, '');
}

/**
 * The size overrides, read the same way by every scenario (the table in docs/scenarios.md says which ones each
 * scenario reads): `DURATION` (the constant-load phase), `RATE` (arrivals per second), `VUS` (concurrent users,
 * streams, clients or workers), `ITERATIONS` (units of work in all), `LEVELS` (the steps of a stepped scenario, a
 * comma list) and `STEP_DURATION` (the length of each step, or of the ramp). Older scenario-specific names stay
 * as aliases.
 */
export const SIZE_OVERRIDES = ['DURATION', 'RATE', 'VUS', 'ITERATIONS', 'LEVELS', 'STEP_DURATION'] as const;
export type SizeOverride = (typeof SIZE_OVERRIDES)[number];

/** The older, scenario-specific names of the size overrides, still read by the scenarios that had them. */
export const SIZE_ALIASES: Readonly<Record<SizeOverride, readonly string[]>> = {
  DURATION: ['SOAK_DURATION', 'WRITE_DURATION'],
  RATE: ['SOAK_RATE', 'PUBLISH_RATE'],
  VUS: ['LLM_CONCURRENCY', 'PUBLISHERS', 'TASK_SUBMITTERS', 'RAMP_TO', 'WS_CLIENTS', 'PARALLEL'],
  ITERATIONS: ['WS_MESSAGES', 'JOBS', 'REPEAT'],
  LEVELS: ['AGENT_COUNTS'],
  STEP_DURATION: ['RAMP_DURATION', 'LEVEL_DURATION', 'STAGE_DURATION'],
};

/**
 * The variable to read for a size override: `name` when it is set, else the first of its older `aliases` that is
 * set, else `name` (so errors and defaults name the common variable).
 */
export function sizeVar(env: Env, name: SizeOverride, ...aliases: readonly string[]): string {
  if (raw(env, name) !== undefined) return name;
  return aliases.find((a) => raw(env, a) !== undefined) ?? name;
}

/** The run size: `smoke` (default: short, for the bundled platform and CI) or `full` (the design's targets). */
export type Size = 'smoke' | 'full';

export function size(env: Env): Size {
  return oneOf(env, 'SIZE', ['smoke', 'full'] as const, 'smoke');
}

/** Chooses the value for the run size. */
export function bySize<T>(s: Size, values: { readonly smoke: T; readonly full: T }): T {
  return s === 'full' ? values.full : values.smoke;
}

/** The system under test. BASE_URL is required: the run command sets it when it starts the bundled platform. */
export interface Target {
  readonly baseUrl: string;
  readonly wsUrl: string;
}

export function target(env: Env): Target {
  const base = required(
    env,
    'BASE_URL',
    'run through `npm run k6 -- scenarios/<name>.ts` (it starts the bundled platform) or set BASE_URL=http://host:port of your system',
  );
  const baseUrl = httpUrl({ BASE_URL: base }, 'BASE_URL', base);
  const wsDefault = baseUrl.replace(/^http/, 'ws');
  const wsUrl = raw(env, 'WS_URL') ?? wsDefault;
  if (!/^wss?:\/\/[^\s/]+/.test(wsUrl)) throw invalid('WS_URL', wsUrl, 'a ws:// or wss:// URL');
  return { baseUrl, wsUrl: wsUrl.replace(/\/+$/, '') };
}
