/**
 * The `k6 run` flags the embedded engine understands: one table drives parsing, `--help` and the
 * refusal (exit 104) of flags we do not support. Parsing is a pure function of argv.
 */

export type FlagKind = 'boolean' | 'string' | 'list';

export interface FlagSpec {
  /** Long name without dashes, e.g. `vus`. */
  readonly name: string;
  /** One-letter alias without the dash, e.g. `u`. */
  readonly short?: string;
  /** boolean: no value; string: one value (last wins); list: repeatable, values collected in order. */
  readonly kind: FlagKind;
  /** Placeholder shown in --help, e.g. `N`, `KEY=VALUE`. */
  readonly value?: string;
  readonly description: string;
}

export const SUPPORTED_RUN_FLAGS: readonly FlagSpec[] = [
  {
    name: 'vus',
    short: 'u',
    kind: 'string',
    value: 'N',
    description: 'number of virtual users (shortcut for a constant-vus / shared-iterations scenario)',
  },
  { name: 'duration', short: 'd', kind: 'string', value: 'DURATION', description: 'test duration, e.g. 30s, 5m' },
  { name: 'iterations', short: 'i', kind: 'string', value: 'N', description: 'total iterations shared among the VUs' },
  {
    name: 'stage',
    short: 's',
    kind: 'list',
    value: 'DURATION:TARGET',
    description: 'ramping stage, repeatable or comma-separated, e.g. 30s:10',
  },
  { name: 'env', short: 'e', kind: 'list', value: 'KEY=VALUE', description: 'add an environment variable to __ENV (repeatable)' },
  { name: 'include-system-env-vars', kind: 'boolean', description: 'pass the system environment to __ENV (default true)' },
  { name: 'no-include-system-env-vars', kind: 'boolean', description: 'do not pass the system environment to __ENV' },
  { name: 'tag', kind: 'list', value: 'KEY=VALUE', description: 'add a tag to every sample (repeatable)' },
  {
    name: 'out',
    short: 'o',
    kind: 'list',
    value: 'NAME=ARG',
    description:
      'send every sample to an output (repeatable): json=FILE (JSON lines, .gz gzipped), csv=FILE, experimental-prometheus-rw (K6_PROMETHEUS_RW_* variables)',
  },
  { name: 'summary-export', kind: 'string', value: 'FILE', description: 'write the end-of-test summary as JSON to FILE' },
  {
    name: 'summary-trend-stats',
    kind: 'string',
    value: 'STATS',
    description: 'trend stats in the summary, e.g. avg,min,med,max,p(90),p(95)',
  },
  { name: 'summary-time-unit', kind: 'string', value: 'UNIT', description: 'fixed time unit in the summary: s, ms or us' },
  {
    name: 'summary-mode',
    kind: 'string',
    value: 'MODE',
    description: 'end-of-test summary as k6 v1: compact, full (per group and scenario) or legacy (default here: the pre-v1 layout)',
  },
  { name: 'no-thresholds', kind: 'boolean', description: 'do not evaluate thresholds' },
  { name: 'no-summary', kind: 'boolean', description: 'no end-of-test summary (also skips handleSummary, as k6)' },
  { name: 'quiet', short: 'q', kind: 'boolean', description: 'no progress line' },
  { name: 'execution-segment', kind: 'string', value: 'SEGMENT', description: 'run only this segment of the test, e.g. 0:1/2' },
  { name: 'execution-segment-sequence', kind: 'string', value: 'SEQUENCE', description: 'the full segment sequence, e.g. 0,1/3,2/3,1' },
  { name: 'discard-response-bodies', kind: 'boolean', description: 'do not keep response bodies (responseType none)' },
  { name: 'insecure-skip-tls-verify', kind: 'boolean', description: 'do not verify TLS certificates (option insecureSkipTLSVerify)' },
  { name: 'no-connection-reuse', kind: 'boolean', description: 'a new connection for every request (option noConnectionReuse)' },
  {
    name: 'no-vu-connection-reuse',
    kind: 'boolean',
    description: 'no connection kept from one iteration to the next (option noVUConnectionReuse)',
  },
  { name: 'no-color', kind: 'boolean', description: 'accepted for compatibility; output is never colored' },
  {
    name: 'workers',
    kind: 'string',
    value: 'N',
    description: 'worker threads (agentload extension; also AGENTLOAD_WORKERS); default auto',
  },
  {
    name: 'vu-mode',
    kind: 'string',
    value: 'MODE',
    description: 'auto, sync or async: how VUs run blocking calls (agentload extension; also AGENTLOAD_VU_MODE); default auto',
  },
  { name: 'help', short: 'h', kind: 'boolean', description: 'show this help' },
];

/** A problem with the command line (unknown flag, missing value, malformed KEY=VALUE). */
export interface FlagIssue {
  readonly code: 'unsupported-flag' | 'missing-flag-value' | 'invalid-flag-value' | 'unexpected-argument';
  readonly path: string;
  readonly message: string;
}

export interface ParsedRunFlags {
  /** Last value per `string` flag, in long-name form. */
  readonly values: Readonly<Record<string, string>>;
  /** Every value per `list` flag, in order. */
  readonly lists: Readonly<Record<string, readonly string[]>>;
  /** `boolean` flags that were given. */
  readonly booleans: ReadonlySet<string>;
  /** Positional arguments (the script path when the caller passes it). */
  readonly positionals: readonly string[];
  readonly issues: readonly FlagIssue[];
}

const byLong = new Map(SUPPORTED_RUN_FLAGS.map((f) => [f.name, f]));
const byShort = new Map(SUPPORTED_RUN_FLAGS.flatMap((f) => (f.short === undefined ? [] : [[f.short, f] as const])));

function supportedList(): string {
  return SUPPORTED_RUN_FLAGS.map((f) => `--${f.name}`).join(', ');
}

/** Parses `k6 run` flags. Never throws: every problem is an issue. */
export function parseRunFlags(argv: readonly string[]): ParsedRunFlags {
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const booleans = new Set<string>();
  const positionals: string[] = [];
  const issues: FlagIssue[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      spec = byLong.get(name);
      shown = `--${name}`;
    } else {
      const letter = arg.slice(1, 2);
      inline = arg.length > 2 ? arg.slice(2).replace(/^=/, '') : undefined;
      spec = byShort.get(letter);
      shown = `-${letter}`;
    }
    if (spec === undefined) {
      issues.push({
        code: 'unsupported-flag',
        path: shown,
        message: `flag ${shown} is not supported by the embedded engine; use one of: ${supportedList()} (or run with the k6 binary)`,
      });
      // Skip a separate value that obviously belongs to the unknown flag.
      const next = argv[i + 1];
      if (inline === undefined && next !== undefined && !next.startsWith('-') && i + 2 < argv.length) i++;
      continue;
    }
    if (spec.kind === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') {
        issues.push({
          code: 'invalid-flag-value',
          path: `--${spec.name}`,
          message: `flag --${spec.name} takes no value, got "${inline}"; write --${spec.name} alone`,
        });
      } else if (inline !== 'false') {
        booleans.add(spec.name);
      }
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined) {
        issues.push({
          code: 'missing-flag-value',
          path: `--${spec.name}`,
          message: `flag --${spec.name} needs a value (${spec.value ?? 'VALUE'}), e.g. --${spec.name} ${example(spec)}`,
        });
        continue;
      }
      value = next;
      i++;
    }
    if (spec.kind === 'string') values[spec.name] = value;
    else (lists[spec.name] ??= []).push(value);
  }
  return { values, lists, booleans, positionals, issues };
}

function example(spec: FlagSpec): string {
  switch (spec.name) {
    case 'vus':
    case 'iterations':
    case 'workers':
      return '10';
    case 'duration':
      return '30s';
    case 'stage':
      return '30s:10';
    case 'env':
    case 'tag':
      return 'KEY=VALUE';
    case 'out':
      return 'json=results.json.gz';
    default:
      return spec.value ?? 'VALUE';
  }
}

/** Splits `KEY=VALUE` pairs; malformed entries become issues. */
export function parseKeyValues(flag: string, entries: readonly string[], issues: FlagIssue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq <= 0) {
      issues.push({
        code: 'invalid-flag-value',
        path: `--${flag}`,
        message: `flag --${flag} needs KEY=VALUE, got "${e}"; write e.g. --${flag} NAME=value`,
      });
      continue;
    }
    out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

/** `--help` text generated from the table; `program` is how the CLI was invoked (`agentload k6` for the drop-in). */
export function runHelp(program = 'agentload-engine'): string {
  const rows = SUPPORTED_RUN_FLAGS.map((f) => {
    const left = `${f.short === undefined ? '    ' : `-${f.short}, `}--${f.name}${f.value === undefined ? '' : ` ${f.value}`}`;
    return `  ${left.padEnd(44)} ${f.description}`;
  });
  return `Usage: ${program} run [flags] SCRIPT\n\nRuns a k6 script on the embedded engine.\n\nFlags:\n${rows.join('\n')}\n`;
}
