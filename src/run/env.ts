/**
 * The environment a run sees: the process environment over `.env` (dotenv; the process wins), plus what the
 * toolkit sets (BASE_URL of the started target, the handleSummary path). Also: which variable NAMES a run
 * records in run.json (never values), and a redactor that keeps secret values out of anything written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

export interface LoadedEnv {
  /** Merged environment for the engine (strings only). */
  readonly env: Record<string, string>;
  /** Names that came from `.env`. */
  readonly dotenvNames: readonly string[];
  /** Path of the `.env` file read, if any. */
  readonly dotenvPath: string | undefined;
}

export function loadEnv(cwd: string, processEnv: Readonly<Record<string, string | undefined>>): LoadedEnv {
  const path = join(cwd, '.env');
  const fromFile = existsSync(path) ? parse(readFileSync(path)) : {};
  const env: Record<string, string> = { ...fromFile };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env[k] = v;
  return { env, dotenvNames: Object.keys(fromFile), dotenvPath: existsSync(path) ? path : undefined };
}

/** Where a variable's value came from, as the script sees it: `-e`/`--env` flags win over the environment, which wins over `.env`. */
export type EnvSource = 'environment' | '.env' | '-e flag';

/** Variables as the script will see them in `__ENV`, each with its source. */
export interface EnvView {
  readonly values: Readonly<Record<string, string>>;
  readonly sources: Readonly<Record<string, EnvSource>>;
}

/**
 * The run's variables as the script sees them: the loaded environment (process over `.env`) with every
 * `-e NAME=value` / `-eNAME=value` / `--env NAME=value` / `--env=NAME=value` flag of the k6 arguments on top
 * (the last one wins, as in k6).
 */
export function envView(loaded: LoadedEnv, processEnv: Readonly<Record<string, string | undefined>>, k6Args: readonly string[]): EnvView {
  const values: Record<string, string> = { ...loaded.env };
  const sources: Record<string, EnvSource> = {};
  for (const name of Object.keys(values)) sources[name] = processEnv[name] !== undefined ? 'environment' : '.env';
  for (let i = 0; i < k6Args.length; i++) {
    const flag = envFlagValue(k6Args, i);
    if (flag === undefined) continue;
    const eq = flag.value.indexOf('=');
    const name = eq < 0 ? flag.value : flag.value.slice(0, eq);
    if (name !== '') {
      values[name] = eq < 0 ? '' : flag.value.slice(eq + 1);
      sources[name] = '-e flag';
    }
    if (flag.separate) i++;
  }
  return { values, sources };
}

/** Variable names documented in `.env.example` (lines like `NAME=` or `# NAME=`). */
export function documentedNames(root: string): string[] {
  const path = join(root, '.env.example');
  if (!existsSync(path)) return [];
  const names = new Set<string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (m?.[1] !== undefined) names.add(m[1]);
  }
  return [...names];
}

/** Names given with `-e NAME=value` / `--env NAME=value` / `--env=NAME=value` / `-eNAME=value`. */
export function envFlagNames(args: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = envFlagValue(args, i);
    if (value === undefined) continue;
    const name = value.value.split('=')[0];
    if (name !== undefined && name !== '') names.push(name);
    if (value.separate) i++;
  }
  return names;
}

function envFlagValue(args: readonly string[], i: number): { value: string; separate: boolean } | undefined {
  const a = args[i] ?? '';
  if (a === '-e' || a === '--env') {
    const next = args[i + 1];
    return next === undefined ? undefined : { value: next, separate: true };
  }
  if (a.startsWith('--env=')) return { value: a.slice('--env='.length), separate: false };
  if (a.startsWith('-e') && !a.startsWith('--') && a.length > 2) return { value: a.slice(2), separate: false };
  return undefined;
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|PASS$|API_?KEY|PRIVATE|CREDENTIAL|AUTH|SIGNING|COOKIE|SESSION/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A function that replaces secret values (values of variables whose names look secret, `-e` flag values,
 * URL credentials) with `***` in any string. Used on everything the toolkit writes or prints.
 */
export function makeRedactor(env: Readonly<Record<string, string>>): (text: string) => string {
  const secrets = Object.entries(env)
    .filter(([k, v]) => looksSecret(k) && v.length >= 4)
    .map(([, v]) => v)
    .sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text.replace(/(\w+:\/\/)([^@/\s]+)@/g, '$1***@');
    for (const s of secrets) out = out.split(s).join('***');
    return out;
  };
}

/** User args for run.json: `-e NAME=value` values replaced by `***`, URL credentials removed, secrets redacted. */
export function redactArgs(args: readonly string[], redact: (t: string) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const v = envFlagValue(args, i);
    if (v === undefined) {
      out.push(redact(a));
      continue;
    }
    const name = v.value.split('=')[0] ?? '';
    const masked = `${name}=***`;
    if (v.separate) {
      out.push(a, masked);
      i++;
    } else out.push(a.startsWith('--env=') ? `--env=${masked}` : `-e${masked}`);
  }
  return out;
}

/** The env names run.json records: from .env, -e flags, documented variables that are set, K6_* and AGENTLOAD_*. */
export function recordedEnvNames(input: {
  readonly env: Readonly<Record<string, string>>;
  readonly dotenvNames: readonly string[];
  readonly flagNames: readonly string[];
  readonly documented: readonly string[];
  readonly setByToolkit: readonly string[];
}): string[] {
  const names = new Set<string>([...input.dotenvNames, ...input.flagNames, ...input.setByToolkit]);
  for (const name of input.documented) if (input.env[name] !== undefined) names.add(name);
  for (const name of Object.keys(input.env)) if (/^(K6_|AGENTLOAD_)/.test(name)) names.add(name);
  return [...names].sort();
}
