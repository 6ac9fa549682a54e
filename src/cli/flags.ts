/**
 * The toolkit's own flags for `npm run k6` / `agentload run`: one typed table that the parser reads and
 * `--help` is generated from. Every other argument is passed to the engine verbatim as a `k6 run` flag.
 */
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import { COMPARE_DEFAULTS } from '../reporting/compare.ts';
import { MIN_BASELINE_RUNS } from '../reporting/stats.ts';
import { flagHelpRows, parseFlagTable, type FlagSpec } from './flag-table.ts';

export const ENGINE_CHOICES = ['auto', 'k6', 'node'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export const SUMMARY_MODE_CHOICES = ['compact', 'full', 'legacy'] as const;
export type SummaryModeChoice = (typeof SUMMARY_MODE_CHOICES)[number];

export interface RunOptions {
  engine: EngineChoice;
  summaryMode: SummaryModeChoice;
  cloud: boolean;
  bundleTarget: string | undefined;
  bundleBudgetKb: number | undefined;
  baseline: string | undefined;
  saveBaseline: string | undefined;
  reportsDir: string | undefined;
  report: boolean;
  typecheck: boolean;
  verbose: boolean;
  open: boolean;
  help: boolean;
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
    name: '--summary-mode',
    key: 'summaryMode',
    kind: 'enum',
    values: SUMMARY_MODE_CHOICES,
    env: 'K6_SUMMARY_MODE',
    description:
      'the end-of-test summary as k6 v1 prints it: compact (thresholds with their values, checks, metrics by category), full (every metric, checks per group) or legacy (k6 before v1); works with every engine and k6 version',
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
    description:
      'compare the run with this baseline in the report: a saved name (reports/baselines/NAME.json), a run folder or a baseline file; exit 3 on a regression (see "Baseline gate" below)',
  },
  {
    name: '--save-baseline',
    key: 'saveBaseline',
    kind: 'string',
    placeholder: 'name',
    description: `add this run to the saved baseline NAME (reports/baselines/NAME.json, the median of its last 5 runs) after the report; save ${MIN_BASELINE_RUNS} or more runs so the gate judges the run-to-run spread`,
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
    name: '--typecheck',
    key: 'typecheck',
    kind: 'boolean',
    sets: true,
    description: 'type-check a JavaScript script too (its JSDoc types); TypeScript scenarios are always checked',
  },
  {
    name: '--open',
    key: 'open',
    kind: 'boolean',
    sets: true,
    description: 'open report.html when the run is done (with $BROWSER, else xdg-open / open / start)',
  },
  {
    name: '--no-report',
    key: 'report',
    kind: 'boolean',
    sets: false,
    description: 'skip post-processing (the raw outputs and run.json are still written)',
  },
  {
    name: '--verbose',
    key: 'verbose',
    kind: 'boolean',
    sets: true,
    description: "print each start-up phase's time on stderr (a k6 binary also gets its own --verbose)",
  },
  { name: '--help', short: '-h', key: 'help', kind: 'boolean', sets: true, description: 'show this help' },
] as const satisfies readonly FlagSpec<keyof RunOptions>[];

export interface ParsedRun {
  readonly options: RunOptions;
  /** The scenario path as given (undefined when none was given). */
  readonly scenario: string | undefined;
  /** Flags for the engine, in the order given, without the toolkit's own flags and without the scenario. */
  readonly k6Args: readonly string[];
}

const DEFAULTS: RunOptions = {
  engine: 'auto',
  summaryMode: 'compact',
  cloud: false,
  bundleTarget: undefined,
  bundleBudgetKb: undefined,
  baseline: undefined,
  saveBaseline: undefined,
  reportsDir: undefined,
  report: true,
  typecheck: false,
  verbose: false,
  open: false,
  help: false,
};

/**
 * Splits `[scenario] [flags...]` (in any order) into toolkit options, the scenario and the k6 flags.
 * Pure: reads nothing but its arguments. Throws AgentloadError for a bad toolkit flag.
 */
export function parseRunArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParsedRun {
  const { options, positionals, passThrough } = parseFlagTable<RunOptions>(argv, TOOLKIT_FLAGS, DEFAULTS, env);
  if (positionals.length > 1) {
    throw new AgentloadError(
      'usage',
      EXIT_CODES.usage,
      `one scenario per run, got ${positionals.length}: ${positionals.join(' ')} (run them one after another, or use npm run build to bundle all)`,
    );
  }
  return { options, scenario: positionals[0], k6Args: passThrough };
}

/** `--help` text, generated from TOOLKIT_FLAGS. */
export function helpText(invocation = 'npm run k6 --'): string {
  return [
    `Usage: ${invocation} <name>|scenarios/<name>.ts|script.js [toolkit flags] [k6 run flags]`,
    '',
    'Type-checks (TypeScript always, JavaScript with --typecheck) and bundles the scenario, picks an engine,',
    'starts the bundled target platform when no BASE_URL is set, runs the test, writes',
    "reports/<scenario>-<timestamp>/ and exits with the engine's code.",
    '',
    'The scenario is a path, or a name of scenarios/ (npm run k6 -- api-latency runs scenarios/api-latency.ts).',
    '',
    'Toolkit flags:',
    ...flagHelpRows(TOOLKIT_FLAGS),
    '',
    'Baseline gate (--baseline, exit 3): a judged figure (p50/p95/p99 latency overall and per endpoint, error rates,',
    `throughput, metrics with thresholds) fails when it is all of: more than ${COMPARE_DEFAULTS.failPct} % worse, over an absolute floor`,
    `(${COMPARE_DEFAULTS.floorMs} ms, ${COMPARE_DEFAULTS.floorRatio * 100} pp), significant in the run's own per-second windows (p < ${COMPARE_DEFAULTS.alpha}), and, once the baseline`,
    `holds ${MIN_BASELINE_RUNS} or more saved runs, worse than every one of them and beyond their ${Math.round((1 - COMPARE_DEFAULTS.alpha) * 100)} % prediction bound`,
    'for one more run (the run-to-run spread). With fewer saved runs that spread is not judged and the verdict',
    'says so. Sub-timings and setup/teardown requests are shown for information only. A latency tail (p95/p99)',
    'that would fail while the machine was busier than during every baseline run (load per core, a scheduling-lag',
    'probe or http_req_sending p99 recorded in each run) is inconclusive instead: exit 6. See docs/reports.md.',
    '',
    'Every other flag goes to `k6 run` verbatim (e.g. --vus 10 --duration 30s -e KEY=value --tag team=x).',
    'Environment: BASE_URL, WS_URL, AGENTLOAD_ALLOWED_HOSTS, K6_BIN, ... (see .env.example).',
  ].join('\n');
}
