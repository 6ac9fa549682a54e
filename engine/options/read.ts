/** Reading an option's value from its tiers (script `options`, K6_* variables, CLI flags) as k6 reads it. */
import type { Issue } from '../contracts.ts';
import { issue } from '../executors/common.ts';
import { parseDuration } from '../units/duration.ts';

/** The process environment's K6_* variables. */
export type EnvVars = Readonly<Record<string, string | undefined>>;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const present = (v: unknown): boolean => v !== undefined && v !== null;

/** A K6_* boolean: "true" or "1" is true, anything else set is false; unset or empty is undefined. */
export function boolEnv(vars: EnvVars, name: string): boolean | undefined {
  const v = vars[name];
  if (v === undefined || v === '') return undefined;
  return v === 'true' || v === '1';
}

/** A time limit in ms: the K6_* variable (when named and set) over the script's value, else the default. */
export function timeoutOption(v: unknown, path: string, def: number, issues: Issue[], envName?: string, envValue?: string): number {
  // k6's tiers: the K6_* variable (envconfig) overrides the script's value.
  if (envName !== undefined && envValue !== undefined && envValue !== '') {
    const r = parseDuration(envValue);
    if (r.ok) return r.ms;
    issues.push(issue('invalid-duration', envName, `${envName} must be a duration like "60s", got ${JSON.stringify(envValue)}`));
    return def;
  }
  return readDuration(v, path, '60s', issues) ?? def;
}

/** An option's duration in ms; undefined when unset, or (with an issue showing `example`) when it is not a duration. */
export function readDuration(v: unknown, path: string, example: string, issues: Issue[]): number | undefined {
  if (!present(v)) return undefined;
  const r = parseDuration(v);
  if (!r.ok) {
    issues.push(issue('invalid-duration', path, `\`${path}\` must be a duration like "${example}", got ${JSON.stringify(v)}`));
    return undefined;
  }
  return r.ms;
}
