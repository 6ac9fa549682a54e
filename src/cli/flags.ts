/**
 * The toolkit's own flags for `npm run k6` / `agentload run`: one typed table that the parser reads and
 * `--help` is generated from. Every other argument is passed to the engine verbatim as a `k6 run` flag.
 */
import { AgentloadError, EXIT_CODES } from './errors.ts';
import { flagTakesSeparateValue } from '../k6/flags.ts';

export const ENGINE_CHOICES = ['auto', 'k6', 'node'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export interface RunOptions {
  engine: EngineChoice;
  cloud: boolean;
  bundleTarget: string | undefined;
  bundleBudgetKb: number | undefined;
  baseline: string | undefined;
  saveBaseline: string | undefined;
  reportsDir: string | undefined;
  report: boolean;
  help: boolean;
}

type FlagKind = 'boolean' | 'string' | 'number' | 'enum';

interface FlagSpec {
  readonly name: `--${string}`;
  readonly short?: `-${string}`;
  readonly key: keyof RunOptions;
  readonly kind: FlagKind;
  readonly values?: readonly string[];
  readonly placeholder?: string;
  /** Environment variable that sets the default. */
  readonly env?: string;
  /** For boolean flags: the value the flag sets (`--no-report` sets `report` to false). */
  readonly sets?: boolean;
  readonly description: string;
}

export const TOOLKIT_FLAGS = [
  {
    name: '--engine',
    key: 'engine',
    kind: 'enum',
    values: ENGINE_CHOICES,
    env: 'AGENTLOAD_ENGINE',
    description: 'which engine runs the bundle: auto = K6_BIN or a k6 on PATH, else the embedded engine',
  },
  {
    name: '--cloud',
    key: 'cloud',
    kind: 'boolean',
    sets: true,
    description: 'run in Grafana Cloud k6 (`k6 cloud run`); needs a k6 binary and a BASE_URL it can reach',
  },
  {
    name: '--bundle-target',
    key: 'bundleTarget',
    kind: 'string',
    placeholder: 'es2017',
    env: 'AGENTLOAD_BUNDLE_TARGET',
    description: 'JavaScript syntax level of the bundle (esbuild target); older k6 releases need es2017',
  },
  {
    name: '--bundle-budget',
    key: 'bundleBudgetKb',
    kind: 'number',
    placeholder: 'KB',
    env: 'AGENTLOAD_BUNDLE_BUDGET_KB',
    description: 'fail (exit 120) when a bundle is larger than this many kilobytes',
  },
  {
    name: '--baseline',
    key: 'baseline',
    kind: 'string',
    placeholder: 'name|path',
    env: 'AGENTLOAD_BASELINE',
    description: 'compare the run with this baseline in the report: a saved name (reports/baselines/NAME.json), a run folder or a baseline file; exit 3 on a regression',
  },
  {
    name: '--save-baseline',
    key: 'saveBaseline',
    kind: 'string',
    placeholder: 'name',
    description: 'add this run to the saved baseline NAME (reports/baselines/NAME.json, the median of its last 5 runs) after the report',
  },
  {
    name: '--reports-dir',
    key: 'reportsDir',
    kind: 'string',
    placeholder: 'dir',
    env: 'AGENTLOAD_REPORTS_DIR',
    description: 'where run folders are written (default: reports)',
  },
  {
    name: '--no-report',
    key: 'report',
    kind: 'boolean',
    sets: false,
    description: 'skip post-processing (the raw outputs and run.json are still written)',
  },
  { name: '--help', short: '-h', key: 'help', kind: 'boolean', sets: true, description: 'show this help' },
] as const satisfies readonly FlagSpec[];

export interface ParsedRun {
  readonly options: RunOptions;
  /** The scenario path as given (undefined when none was given). */
  readonly scenario: string | undefined;
  /** Flags for the engine, in the order given, without the toolkit's own flags and without the scenario. */
  readonly k6Args: readonly string[];
}

function defaults(env: Readonly<Record<string, string | undefined>>): RunOptions {
  const opts: RunOptions = {
    engine: 'auto',
    cloud: false,
    bundleTarget: undefined,
    bundleBudgetKb: undefined,
    baseline: undefined,
    saveBaseline: undefined,
    reportsDir: undefined,
    report: true,
    help: false,
  };
  for (const spec of TOOLKIT_FLAGS as readonly FlagSpec[]) {
    if (spec.env === undefined) continue;
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    assign(opts, spec, raw, `${spec.env}=${raw}`);
  }
  return opts;
}

function assign(opts: RunOptions, spec: FlagSpec, raw: string, shown: string): void {
  switch (spec.kind) {
    case 'enum': {
      if (!(spec.values ?? []).includes(raw)) {
        throw new AgentloadError(
          'invalid-flag-value',
          EXIT_CODES.usage,
          `${shown}: ${spec.name} must be one of ${(spec.values ?? []).join(', ')}, got "${raw}"`,
        );
      }
      (opts as unknown as Record<string, unknown>)[spec.key] = raw;
      return;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) {
        throw new AgentloadError(
          'invalid-flag-value',
          EXIT_CODES.usage,
          `${shown}: ${spec.name} must be a positive number, got "${raw}"`,
        );
      }
      (opts as unknown as Record<string, unknown>)[spec.key] = n;
      return;
    }
    case 'string':
      (opts as unknown as Record<string, unknown>)[spec.key] = raw;
      return;
    case 'boolean':
      (opts as unknown as Record<string, unknown>)[spec.key] = spec.sets ?? true;
      return;
  }
}

/**
 * Splits `[scenario] [flags...]` (in any order) into toolkit options, the scenario and the k6 flags.
 * Pure: reads nothing but its arguments. Throws AgentloadError for a bad toolkit flag.
 */
export function parseRunArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParsedRun {
  const options = defaults(env);
  const k6Args: string[] = [];
  const positionals: string[] = [];
  const specs = TOOLKIT_FLAGS as readonly FlagSpec[];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = specs.find((s) => s.name === name || s.short === name);
    if (spec !== undefined) {
      if (spec.kind === 'boolean') {
        if (name !== arg) {
          throw new AgentloadError('invalid-flag-value', EXIT_CODES.usage, `${spec.name} takes no value, got "${arg}"`);
        }
        assign(options, spec, '', arg);
        continue;
      }
      let value: string | undefined;
      if (name !== arg) value = arg.slice(eq + 1);
      else {
        value = argv[i + 1];
        i++;
      }
      if (value === undefined || value === '') {
        const hint = spec.placeholder ?? (spec.values ?? []).join('|');
        throw new AgentloadError('missing-flag-value', EXIT_CODES.usage, `${spec.name} needs a value: ${spec.name} ${hint}`);
      }
      assign(options, spec, value, spec.name);
      continue;
    }
    if (arg === '--') continue;
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    k6Args.push(arg);
    if (flagTakesSeparateValue(arg) && i + 1 < argv.length) {
      k6Args.push(argv[i + 1] ?? '');
      i++;
    }
  }
  if (positionals.length > 1) {
    throw new AgentloadError(
      'usage',
      EXIT_CODES.usage,
      `one scenario per run, got ${positionals.length}: ${positionals.join(' ')} (run them one after another, or use npm run build to bundle all)`,
    );
  }
  return { options, scenario: positionals[0], k6Args };
}

/** `--help` text, generated from TOOLKIT_FLAGS. */
export function helpText(invocation = 'npm run k6 --'): string {
  const rows = (TOOLKIT_FLAGS as readonly FlagSpec[]).map((s) => {
    const value = s.kind === 'boolean' ? '' : ` <${s.placeholder ?? (s.values ?? []).join('|')}>`;
    const left = `${s.short !== undefined ? `${s.short}, ` : ''}${s.name}${value}`;
    const env = s.env !== undefined ? ` [env ${s.env}]` : '';
    return { left, right: `${s.description}${env}` };
  });
  const width = Math.max(...rows.map((r) => r.left.length)) + 2;
  return [
    `Usage: ${invocation} scenarios/<name>.ts [toolkit flags] [k6 run flags]`,
    '',
    'Type-checks and bundles the scenario, picks an engine, starts the bundled target platform when no',
    'BASE_URL is set, runs the test, writes reports/<scenario>-<timestamp>/ and exits with the engine\'s code.',
    '',
    'Toolkit flags:',
    ...rows.map((r) => `  ${r.left.padEnd(width)}${r.right}`),
    '',
    'Every other flag goes to `k6 run` verbatim (e.g. --vus 10 --duration 30s -e KEY=value --tag team=x).',
    'Environment: BASE_URL, WS_URL, AGENTLOAD_ALLOWED_HOSTS, K6_BIN, ... (see .env.example).',
  ].join('\n');
}
