/**
 * Set-but-unread variables: after a run, the names the scenario read through `lib/config.ts` (written by the
 * bundle's handleSummary to `AGENTLOAD_ENV_READ_PATH`, on the embedded engine and on k6 alike) are compared with
 * the variables the user set, and each one the scenario never read gets one warning line, with the close match
 * when it looks like a typo (`DURATON` → `DURATION`).
 *
 * Checked: every name given with `-e`/`--env` (meant for the script); from the environment or `.env`, only the
 * size variables (`SIZE`, `PROFILE`, `DURATION`, `RATE`, … and their older names) and near-misses of a name the
 * scenario reads, so `PATH`, `HOME` and the rest of a shell are never named. Never checked: `AGENTLOAD_*` and
 * `K6_*` (the toolkit's and k6's own), the bundled platform's variables and what the run command itself reads.
 * Pure, apart from reading the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SIZE_ALIASES, SIZE_OVERRIDES } from '../../lib/config.ts';
import type { EnvView } from './env.ts';
import { TARGET_ENV_NAMES, TARGET_ENV_PREFIXES, TARGET_ENV_RENAMED } from './target-env.ts';

/** Variables every scenario (but smoke) reads, plus the size overrides and their older names. */
export const SCENARIO_VARIABLES: readonly string[] = [
  'SIZE',
  'PROFILE',
  'LATENCY_SCALE',
  ...SIZE_OVERRIDES,
  ...Object.values(SIZE_ALIASES).flat(),
];

/** Read by the run command itself (besides AGENTLOAD_* and K6_*), so never unused. */
const RUN_COMMAND_NAMES: readonly string[] = [
  'BASE_URL',
  'FAULTS',
  'FAULTS_URL',
  'SLACK_SINK_URL',
  'DB_DSN',
  'DB_DRIVER',
  'REDIS_URL',
  'NO_COLOR',
  'BROWSER',
];

function consumedElsewhere(name: string): boolean {
  return (
    /^(AGENTLOAD_|K6_)/.test(name) ||
    RUN_COMMAND_NAMES.includes(name) ||
    TARGET_ENV_NAMES.includes(name) ||
    TARGET_ENV_PREFIXES.some((p) => name.startsWith(p)) ||
    name in TARGET_ENV_RENAMED
  );
}

/** Damerau–Levenshtein distance (optimal string alignment): one typo (a letter missing, extra, wrong or swapped) is 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row !== undefined) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest of `names` to `name` if it is a likely typo of it: 1 edit (names up to 6 letters) or 2 (longer), never for names under 4. */
export function closeMatch(name: string, names: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const n of names) {
    if (n === name || Math.min(n.length, name.length) < 4) continue;
    const d = editDistance(name.toUpperCase(), n.toUpperCase());
    const allowed = Math.min(n.length, name.length) <= 6 ? 1 : 2;
    if (d <= allowed && (best === undefined || d < best.d)) best = { name: n, d };
  }
  return best?.name;
}

export interface UnusedVariable {
  readonly name: string;
  readonly source: string;
  /** The likely intended name, when this one looks like a typo. */
  readonly match?: string;
}

/** The variables set for the run that the scenario never read (see the module comment for which are checked). */
export function unusedVariables(input: {
  readonly read: readonly string[];
  readonly view: EnvView;
  readonly setByToolkit: readonly string[];
}): UnusedVariable[] {
  const read = new Set(input.read);
  const out: UnusedVariable[] = [];
  for (const [name, source] of Object.entries(input.view.sources)) {
    if (read.has(name) || input.setByToolkit.includes(name) || consumedElsewhere(name)) continue;
    // A name the scenario reads is the likelier intent; else one of the common variables.
    const match = closeMatch(name, read) ?? closeMatch(name, SCENARIO_VARIABLES);
    if (source !== '-e flag' && match === undefined && !SCENARIO_VARIABLES.includes(name)) continue;
    out.push({ name, source, ...(match !== undefined ? { match } : {}) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** One line per unused variable, naming the scenario, the fix or the size variables the scenario does read. */
export function unusedWarnings(unused: readonly UnusedVariable[], read: readonly string[], scenario: string): string[] {
  const sizes = [...SIZE_OVERRIDES].filter((n) => read.includes(n));
  return unused.map((u) => {
    const why = `${u.name} (${u.source}) is set but ${scenario} never reads it`;
    if (u.match !== undefined) return `warning: ${why}: did you mean ${u.match}?`;
    if ((SIZE_OVERRIDES as readonly string[]).includes(u.name) || SCENARIO_VARIABLES.includes(u.name))
      return `warning: ${why}: its size variables are ${sizes.length > 0 ? sizes.join(', ') : 'none'} (docs/scenarios.md#size-overrides)`;
    return `warning: ${why}: check the name against the scenario's header`;
  });
}

/** The names the bundle's handleSummary wrote, or undefined when it did not run or the scenario read nothing through lib/config. */
export function readVariablesFile(path: string): string[] | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const data: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return Array.isArray(data) && data.every((x): x is string => typeof x === 'string') ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The warning lines for a run, from the names the scenario read: `env-read.json` (readVariablesFile) when its
 * handleSummary ran, else what its init code read (init-reads.ts); none when neither is known.
 */
export function unusedVariableLines(input: {
  readonly read: readonly string[] | undefined;
  /**
   * The init code threw before it finished: a name not among `read` may still be read after the throw, so only
   * likely typos of a name read before it are named (a variable read later is not called unused).
   */
  readonly partial?: boolean;
  readonly view: EnvView;
  readonly setByToolkit: readonly string[];
  readonly scenario: string;
}): string[] {
  const { read } = input;
  if (read === undefined) return [];
  const all = unusedVariables({ read, view: input.view, setByToolkit: input.setByToolkit });
  const unused = input.partial === true ? all.filter((u) => u.match !== undefined && read.includes(u.match)) : all;
  return unusedWarnings(unused, read, input.scenario);
}
