/**
 * k6 options for the embedded engine: consolidation of the script's `export const options`,
 * K6_* environment variables and CLI flags (in that priority order), k6's shortcut → scenario
 * rules (lib/executor/execution_config_shortcuts.go), defaults, and validation that returns
 * every problem at once. The runtime exits 104 when `issues` is not empty.
 */

import type { Options, Stage } from 'k6/options';
import type { Issue } from '../contracts.ts';
import { ExecutionSegment, ExecutionTuple, parseSegmentSequence, type ExecutionSegmentSequence } from '../units/segments.ts';
import { isExecutorName, parseScenario, validateScenario, EXECUTOR_NAMES } from '../executors/index.ts';
import type { ScenarioConfig } from '../executors/types.ts';
import { issue } from '../executors/common.ts';
import { formatDuration, parseDuration } from '../units/duration.ts';

export { formatDuration, parseDuration } from '../units/duration.ts';
export type { DurationResult } from '../units/duration.ts';

/** The CLI flags that change options (the runtime parses argv into this: engine/runtime/flags.ts; values already typed). */
export interface OptionOverrides {
  readonly vus?: number;
  readonly duration?: string;
  readonly iterations?: number;
  readonly stages?: readonly Stage[];
  /** `--tag k=v`: replaces the script's `tags` when given (k6's Apply). */
  readonly tags?: Readonly<Record<string, string>>;
  /** `-e K=V`: merged into __ENV by the runtime; kept here for completeness. */
  readonly env?: Readonly<Record<string, string>>;
  readonly executionSegment?: string;
  readonly executionSegmentSequence?: string;
  readonly noThresholds?: boolean;
  readonly noSummary?: boolean;
  readonly summaryTrendStats?: readonly string[];
  readonly summaryTimeUnit?: string;
  /** k6 v1's `--summary-mode`: compact, full or legacy. */
  readonly summaryMode?: string;
  readonly discardResponseBodies?: boolean;
  readonly insecureSkipTLSVerify?: boolean;
  readonly noConnectionReuse?: boolean;
  readonly noVUConnectionReuse?: boolean;
  readonly quiet?: boolean;
  readonly summaryExport?: string;
  readonly out?: readonly string[];
}

/** Where values like the exec function names come from, and K6_* variables. */
export interface ResolveEnv {
  /** Process environment (K6_VUS, K6_DURATION, K6_ITERATIONS, K6_STAGES, K6_EXECUTION_SEGMENT, ...). */
  readonly vars?: Readonly<Record<string, string | undefined>>;
  /** Exported function names of the script; when given, every scenario's exec is checked. */
  readonly exports?: ReadonlySet<string>;
}

export type SummaryTimeUnit = 's' | 'ms' | 'us';

/** k6 v1's end-of-test summary layouts. */
export const SUMMARY_MODES = ['compact', 'full', 'legacy'] as const;
export type SummaryMode = (typeof SUMMARY_MODES)[number];

export interface ResolvedOptions {
  /** Consolidated k6 options (scenarios in k6's JSON form, shortcuts removed), for `exec.test.options`. */
  readonly k6: Options;
  /** Normalised scenarios, sorted like k6 (startTime, then name). */
  readonly scenarios: readonly ScenarioConfig[];
  readonly tags: Readonly<Record<string, string>>;
  readonly thresholds: NonNullable<Options['thresholds']>;
  readonly noThresholds: boolean;
  readonly noSummary: boolean;
  readonly quiet: boolean;
  readonly discardResponseBodies: boolean;
  readonly summaryTrendStats: readonly string[];
  readonly summaryTimeUnit: SummaryTimeUnit | undefined;
  /** The default end-of-test summary's layout (`--summary-mode`, K6_SUMMARY_MODE); undefined: the pre-v1 (legacy) layout. */
  readonly summaryMode: SummaryMode | undefined;
  readonly summaryExport: string | undefined;
  readonly out: readonly string[];
  readonly executionSegment: ExecutionSegment;
  readonly executionSegmentSequence: ExecutionSegmentSequence;
  /** This instance's segment in its filled sequence: what every scaling uses. */
  readonly tuple: ExecutionTuple;
  /** ms; `setupTimeout` option or K6_SETUP_TIMEOUT, 60 s by default (exit 100 when exceeded). */
  readonly setupTimeout: number;
  /** ms; `teardownTimeout` option or K6_TEARDOWN_TIMEOUT, 60 s by default (exit 101 when exceeded). */
  readonly teardownTimeout: number;
  /** k6's `noSetup` / K6_NO_SETUP: setup() is not called, iterations get `undefined`. */
  readonly noSetup: boolean;
  /** k6's `noTeardown` / K6_NO_TEARDOWN: teardown() is not called. */
  readonly noTeardown: boolean;
  readonly handleSummaryTimeout: number;
  /** Non-fatal notes k6 logs as warnings (e.g. an ignored `vus`). */
  readonly warnings: readonly string[];
}

export const DEFAULT_SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'] as const;
export const DEFAULT_SCENARIO_NAME = 'default';

/** The execution-related options of one config tier. */
interface ExecTier {
  vus?: unknown;
  duration?: unknown;
  iterations?: unknown;
  stages?: unknown;
  scenarios?: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

/** k6's Options.Apply for execution options: any shortcut or scenarios in a higher tier wipes the lower tier's. */
function applyTier(lower: ExecTier, higher: ExecTier): ExecTier {
  const out: ExecTier = { ...lower };
  if (present(higher.duration) || present(higher.iterations) || present(higher.stages) || present(higher.scenarios)) {
    delete out.duration;
    delete out.iterations;
    delete out.stages;
    delete out.scenarios;
  }
  for (const key of ['duration', 'iterations', 'stages', 'scenarios', 'vus'] as const) {
    if (present(higher[key])) out[key] = higher[key];
  }
  return out;
}

/**
 * A shortcut from a higher tier (--vus, --duration, --iterations, --stages or their K6_* variables) replaces
 * the script's named scenarios with one `default` scenario running the `default` export (k6 does the same).
 * When the script has no default export, its exec-not-found issue says so and what to do instead.
 */
function explainReplacedScenarios(issues: Issue[], scriptScenarios: unknown, used: unknown): void {
  if (!isRecord(scriptScenarios) || present(used)) return;
  const names = Object.keys(scriptScenarios);
  const at = issues.findIndex((i) => i.code === 'exec-not-found' && i.path === 'scenarios.default.exec');
  if (names.length === 0 || at < 0) return;
  issues[at] = issue(
    'exec-not-found',
    'scenarios.default.exec',
    `function 'default' not found in exports: --vus, --duration, --iterations or --stages (or K6_VUS, K6_DURATION, K6_ITERATIONS, K6_STAGES) replace the script's own scenarios (${names.join(', ')}) with one scenario that runs the default export, and this script has none (k6 does the same); size its scenarios through the script's variables instead (the toolkit's scenarios read -e VUS=, -e ITERATIONS=, -e DURATION=, -e RATE=: docs/scenarios.md "Size overrides"), or export a default function`,
  );
}

/** Parses `30s:10,1m:0` (K6_STAGES / --stage) into stages; issues for bad parts. */
export function parseStagesFlag(text: string, path = 'stages'): { stages: Stage[]; issues: Issue[] } {
  const stages: Stage[] = [];
  const issues: Issue[] = [];
  text.split(',').forEach((part, i) => {
    const [d = '', t = ''] = part.split(':');
    const dur = parseDuration(d);
    const target = t === '' ? 0 : Number(t);
    if (!dur.ok || !Number.isInteger(target) || part.split(':').length > 2) {
      issues.push(issue('invalid-stage', `${path}[${i}]`, `stage ${JSON.stringify(part)} must look like DURATION:TARGET, e.g. 30s:10`));
      return;
    }
    stages.push({ duration: d, target });
  });
  return { stages, issues };
}

function envTier(vars: Readonly<Record<string, string | undefined>>, issues: Issue[]): ExecTier {
  const t: ExecTier = {};
  const num = (name: string): number | undefined => {
    const v = vars[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) {
      issues.push(issue('invalid-type', name, `${name} must be a whole number, got ${JSON.stringify(v)}`));
      return undefined;
    }
    return n;
  };
  t.vus = num('K6_VUS');
  t.iterations = num('K6_ITERATIONS');
  if (vars.K6_DURATION !== undefined && vars.K6_DURATION !== '') t.duration = vars.K6_DURATION;
  if (vars.K6_STAGES !== undefined && vars.K6_STAGES !== '') {
    const s = parseStagesFlag(vars.K6_STAGES, 'K6_STAGES');
    issues.push(...s.issues);
    t.stages = s.stages;
  }
  return t;
}

function boolEnv(vars: Readonly<Record<string, string | undefined>>, name: string): boolean | undefined {
  const v = vars[name];
  if (v === undefined || v === '') return undefined;
  return v === 'true' || v === '1';
}

const TREND_STAT = /^(avg|min|med|max|count|p\((\d+(\.\d+)?)\))$/;

/** k6's ui.ValidateSummary. */
export function validateTrendStats(stats: readonly string[], path = 'summaryTrendStats'): Issue[] {
  const out: Issue[] = [];
  for (const s of stats) {
    const m = TREND_STAT.exec(s);
    const pct = m?.[2] === undefined ? undefined : Number(m[2]);
    if (m === null || (pct !== undefined && pct > 100)) {
      out.push(
        issue(
          'invalid-trend-stat',
          path,
          `summary trend stat ${JSON.stringify(s)} is unknown; use avg, min, med, max, count or p(N) with 0 <= N <= 100`,
        ),
      );
    }
  }
  return out;
}

function readShortcutDuration(v: unknown, path: string, issues: Issue[]): number | undefined {
  if (!present(v)) return undefined;
  const r = parseDuration(v);
  if (!r.ok) {
    issues.push(issue('invalid-duration', path, `\`${path}\` must be a duration like "30s", got ${JSON.stringify(v)}`));
    return undefined;
  }
  return r.ms;
}

function readShortcutInt(v: unknown, path: string, issues: Issue[]): number | undefined {
  if (!present(v)) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    issues.push(issue('invalid-type', path, `\`${path}\` must be a whole number, got ${JSON.stringify(v)}`));
    return undefined;
  }
  return v;
}

/** Raw scenario objects from the shortcuts, exactly as k6 derives them. */
function deriveScenarios(t: ExecTier, issues: Issue[], warnings: string[]): Record<string, unknown> | undefined {
  const vus = readShortcutInt(t.vus, 'vus', issues);
  const iterations = readShortcutInt(t.iterations, 'iterations', issues);
  const duration = readShortcutDuration(t.duration, 'duration', issues);
  let stages: unknown[] | undefined;
  if (present(t.stages)) {
    if (Array.isArray(t.stages)) stages = t.stages as unknown[];
    else
      issues.push(issue('invalid-type', 'stages', `\`stages\` must be an array of { duration, target }, got ${JSON.stringify(t.stages)}`));
  }
  const scenariosSet = present(t.scenarios);
  const vusField = vus === undefined ? {} : { vus };
  const conflict = (msg: string): undefined => {
    issues.push(issue('conflicting-options', 'scenarios', msg));
    return undefined;
  };
  if (present(t.iterations)) {
    if (stages !== undefined && stages.length > 0)
      return conflict('using multiple execution config shortcuts (`iterations` and `stages`) simultaneously is not allowed');
    if (scenariosSet)
      return conflict('using an execution configuration shortcut (`iterations`) and `scenarios` simultaneously is not allowed');
    return {
      [DEFAULT_SCENARIO_NAME]: {
        executor: 'shared-iterations',
        ...vusField,
        ...(iterations === undefined ? {} : { iterations }),
        ...(duration === undefined ? {} : { maxDuration: duration }),
      },
    };
  }
  if (present(t.duration)) {
    if (stages !== undefined && stages.length > 0)
      return conflict('using multiple execution config shortcuts (`duration` and `stages`) simultaneously is not allowed');
    if (scenariosSet)
      return conflict('using an execution configuration shortcut (`duration`) and `scenarios` simultaneously is not allowed');
    if (duration !== undefined && duration <= 0) {
      issues.push(
        issue(
          'out-of-range',
          'duration',
          `\`duration\` should be more than 0, got ${formatDuration(duration)}; for a fixed number of iterations use \`iterations\``,
        ),
      );
      return undefined;
    }
    return { [DEFAULT_SCENARIO_NAME]: { executor: 'constant-vus', ...vusField, ...(duration === undefined ? {} : { duration }) } };
  }
  if (stages !== undefined && stages.length > 0) {
    if (scenariosSet) return conflict('using an execution configuration shortcut (`stages`) and `scenarios` simultaneously is not allowed');
    const kept = stages.filter((s) => !isRecord(s) || present(s.duration));
    return { [DEFAULT_SCENARIO_NAME]: { executor: 'ramping-vus', startVUs: vus ?? 1, stages: kept } };
  }
  if (scenariosSet) {
    if (!isRecord(t.scenarios)) {
      issues.push(
        issue('invalid-type', 'scenarios', `\`scenarios\` must be an object of named scenarios, got ${JSON.stringify(t.scenarios)}`),
      );
      return undefined;
    }
    if (Object.keys(t.scenarios).length > 0) return t.scenarios;
    warnings.push('`scenarios` was explicitly set to an empty value, running the script with 1 iteration in 1 VU');
  }
  if (vus !== undefined && vus !== 1) {
    warnings.push(
      `the \`vus=${vus}\` option will be ignored, it only works in conjunction with \`iterations\`, \`duration\`, or \`stages\``,
    );
  }
  if (stages?.length === 0) warnings.push('`stages` was explicitly set to an empty value, running the script with 1 iteration in 1 VU');
  return { [DEFAULT_SCENARIO_NAME]: { executor: 'per-vu-iterations' } };
}

function parseScenarios(raw: Record<string, unknown>, issues: Issue[], exports: ReadonlySet<string> | undefined): ScenarioConfig[] {
  const out: ScenarioConfig[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const path = `scenarios.${name}`;
    if (!isRecord(value)) {
      issues.push(issue('invalid-type', path, `\`${path}\` must be an object with an executor, got ${JSON.stringify(value)}`));
      continue;
    }
    const executor = value.executor;
    if (!present(executor) || executor === '') {
      issues.push(
        issue('missing-field', `${path}.executor`, `scenario ${name} doesn't have an executor; set one of ${EXECUTOR_NAMES.join(', ')}`),
      );
      continue;
    }
    if (!isExecutorName(executor)) {
      issues.push(
        issue(
          'unknown-executor',
          `${path}.executor`,
          `unknown executor ${JSON.stringify(executor)} in scenario ${name}; use one of ${EXECUTOR_NAMES.join(', ')}`,
        ),
      );
      continue;
    }
    const parsed = parseScenario(name, executor, value, path);
    // A field that failed to parse is reported once: drop validation issues on the same path.
    const parsedPaths = new Set(parsed.issues.map((i) => i.path));
    issues.push(...parsed.issues, ...validateScenario(parsed.config, path).filter((i) => !parsedPaths.has(i.path)));
    if (exports !== undefined && !exports.has(parsed.config.exec)) {
      issues.push(
        issue(
          'exec-not-found',
          `${path}.exec`,
          `executor ${name}: function '${parsed.config.exec}' not found in exports; export it from the script or fix \`exec\``,
        ),
      );
    }
    out.push(parsed.config);
  }
  return out.sort((a, b) => a.startTime - b.startTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function timeoutOption(v: unknown, path: string, def: number, issues: Issue[], envName?: string, envValue?: string): number {
  // k6's tiers: the K6_* variable (envconfig) overrides the script's value.
  if (envName !== undefined && envValue !== undefined && envValue !== '') {
    const r = parseDuration(envValue);
    if (r.ok) return r.ms;
    issues.push(issue('invalid-duration', envName, `${envName} must be a duration like "60s", got ${JSON.stringify(envValue)}`));
    return def;
  }
  if (!present(v)) return def;
  const r = parseDuration(v);
  if (!r.ok) {
    issues.push(issue('invalid-duration', path, `\`${path}\` must be a duration like "60s", got ${JSON.stringify(v)}`));
    return def;
  }
  return r.ms;
}

/**
 * Consolidates script options, K6_* variables and CLI overrides like k6 run does, derives the
 * scenarios, applies defaults and validates. Never throws: every problem is an issue.
 */
export function resolveOptions(
  scriptOptions: unknown,
  overrides: OptionOverrides = {},
  env: ResolveEnv = {},
): { options: ResolvedOptions; issues: Issue[] } {
  const issues: Issue[] = [];
  const warnings: string[] = [];
  const vars = env.vars ?? {};
  let script: Record<string, unknown> = {};
  if (isRecord(scriptOptions)) script = scriptOptions;
  else if (present(scriptOptions))
    issues.push(issue('invalid-type', 'options', `\`options\` must be an object, got ${JSON.stringify(scriptOptions)}`));

  const scriptTier: ExecTier = {
    vus: script.vus,
    duration: script.duration,
    iterations: script.iterations,
    stages: script.stages,
    scenarios: script.scenarios,
  };
  const cliTier: ExecTier = {
    vus: overrides.vus,
    duration: overrides.duration,
    iterations: overrides.iterations,
    stages: overrides.stages,
  };
  const exec = applyTier(applyTier(scriptTier, envTier(vars, issues)), cliTier);
  const rawScenarios = deriveScenarios(exec, issues, warnings) ?? {};
  const scenarios = parseScenarios(rawScenarios, issues, env.exports);
  explainReplacedScenarios(issues, script.scenarios, exec.scenarios);

  // Execution segment and sequence.
  const segText =
    overrides.executionSegment ??
    vars.K6_EXECUTION_SEGMENT ??
    (typeof script.executionSegment === 'string' ? script.executionSegment : undefined);
  const seqText =
    overrides.executionSegmentSequence ??
    vars.K6_EXECUTION_SEGMENT_SEQUENCE ??
    (typeof script.executionSegmentSequence === 'string' ? script.executionSegmentSequence : undefined);
  let segment = ExecutionSegment.full();
  if (segText !== undefined) {
    const r = ExecutionSegment.parse(segText);
    if (r.ok) segment = r.value;
    else
      issues.push(
        issue(
          'invalid-segment',
          'executionSegment',
          `--execution-segment ${JSON.stringify(segText)}: ${r.message}; use e.g. 0:1/2, 1/3:2/3 or 50%:100%`,
        ),
      );
  }
  let sequence: ExecutionSegmentSequence = [];
  if (seqText !== undefined) {
    const r = parseSegmentSequence(seqText);
    if (r.ok) sequence = r.value;
    else
      issues.push(
        issue(
          'invalid-segment-sequence',
          'executionSegmentSequence',
          `--execution-segment-sequence ${JSON.stringify(seqText)}: ${r.message}; use e.g. 0,1/3,2/3,1`,
        ),
      );
  }
  if (sequence.length > 0 && !sequence.some((s) => s.equals(segment))) {
    issues.push(
      issue(
        'segment-not-in-sequence',
        'executionSegment',
        `provided segment ${segment.toString()} can't be found in sequence ${seqText ?? ''}; pick one of its segments`,
      ),
    );
  }
  const tupleResult = ExecutionTuple.create(segment, sequence.length > 0 && sequence.some((s) => s.equals(segment)) ? sequence : undefined);
  const tuple = tupleResult.ok ? tupleResult.value : ExecutionTuple.full();

  // Summary and misc options.
  const trendFromEnv = vars.K6_SUMMARY_TREND_STATS?.split(',');
  const scriptTrend = Array.isArray(script.summaryTrendStats)
    ? script.summaryTrendStats.filter((s): s is string => typeof s === 'string')
    : undefined;
  const summaryTrendStats = overrides.summaryTrendStats ?? trendFromEnv ?? scriptTrend ?? DEFAULT_SUMMARY_TREND_STATS;
  issues.push(...validateTrendStats(summaryTrendStats));
  const unitRaw =
    overrides.summaryTimeUnit ??
    vars.K6_SUMMARY_TIME_UNIT ??
    (typeof script.summaryTimeUnit === 'string' ? script.summaryTimeUnit : undefined);
  let summaryTimeUnit: SummaryTimeUnit | undefined;
  if (unitRaw !== undefined && unitRaw !== '') {
    if (unitRaw === 's' || unitRaw === 'ms' || unitRaw === 'us') summaryTimeUnit = unitRaw;
    else
      issues.push(
        issue('invalid-time-unit', 'summaryTimeUnit', `summary time unit ${JSON.stringify(unitRaw)} is invalid; use s, ms or us`),
      );
  }
  const modeRaw = overrides.summaryMode ?? vars.K6_SUMMARY_MODE;
  let summaryMode: SummaryMode | undefined;
  if (modeRaw !== undefined && modeRaw !== '') {
    const found = SUMMARY_MODES.find((m) => m === modeRaw.toLowerCase());
    if (found !== undefined) summaryMode = found;
    else
      issues.push(
        issue('invalid-summary-mode', 'summaryMode', `summary mode ${JSON.stringify(modeRaw)} is invalid; use ${SUMMARY_MODES.join(', ')}`),
      );
  }
  const scriptTags = isRecord(script.tags)
    ? Object.fromEntries(Object.entries(script.tags).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  const tags = overrides.tags ?? scriptTags;
  const thresholds = (isRecord(script.thresholds) ? script.thresholds : {}) as NonNullable<Options['thresholds']>;
  const noThresholds = overrides.noThresholds ?? boolEnv(vars, 'K6_NO_THRESHOLDS') ?? false;
  const noSummary = overrides.noSummary ?? boolEnv(vars, 'K6_NO_SUMMARY') ?? false;
  const discardResponseBodies =
    overrides.discardResponseBodies ?? boolEnv(vars, 'K6_DISCARD_RESPONSE_BODIES') ?? script.discardResponseBodies === true;
  // Connection options k6/http reads from exec's options (flag > K6_* > script).
  const insecureSkipTLSVerify =
    overrides.insecureSkipTLSVerify ?? boolEnv(vars, 'K6_INSECURE_SKIP_TLS_VERIFY') ?? script.insecureSkipTLSVerify === true;
  const noConnectionReuse = overrides.noConnectionReuse ?? boolEnv(vars, 'K6_NO_CONNECTION_REUSE') ?? script.noConnectionReuse === true;
  const noVUConnectionReuse =
    overrides.noVUConnectionReuse ?? boolEnv(vars, 'K6_NO_VU_CONNECTION_REUSE') ?? script.noVUConnectionReuse === true;

  const k6: Options = {
    ...(script as Options),
    scenarios: Object.fromEntries(Object.entries(rawScenarios).filter(([, v]) => isRecord(v))) as NonNullable<Options['scenarios']>,
    tags: { ...tags },
    summaryTrendStats: [...summaryTrendStats],
    discardResponseBodies,
    insecureSkipTLSVerify,
    noConnectionReuse,
    noVUConnectionReuse,
  };
  delete k6.vus;
  delete k6.duration;
  delete k6.iterations;
  delete k6.stages;
  if (segText !== undefined) k6.executionSegment = segText;
  if (seqText !== undefined) k6.executionSegmentSequence = seqText;

  const options: ResolvedOptions = {
    k6,
    scenarios,
    tags,
    thresholds,
    noThresholds,
    noSummary,
    quiet: overrides.quiet ?? false,
    discardResponseBodies,
    summaryTrendStats,
    summaryTimeUnit,
    summaryMode,
    summaryExport: overrides.summaryExport ?? vars.K6_SUMMARY_EXPORT,
    out: overrides.out ?? [],
    executionSegment: segment,
    executionSegmentSequence: sequence,
    tuple,
    setupTimeout: timeoutOption(script.setupTimeout, 'setupTimeout', 60_000, issues, 'K6_SETUP_TIMEOUT', vars.K6_SETUP_TIMEOUT),
    teardownTimeout: timeoutOption(
      script.teardownTimeout,
      'teardownTimeout',
      60_000,
      issues,
      'K6_TEARDOWN_TIMEOUT',
      vars.K6_TEARDOWN_TIMEOUT,
    ),
    noSetup: boolEnv(vars, 'K6_NO_SETUP') ?? script.noSetup === true,
    noTeardown: boolEnv(vars, 'K6_NO_TEARDOWN') ?? script.noTeardown === true,
    handleSummaryTimeout: timeoutOption(script.handleSummaryTimeout, 'handleSummaryTimeout', 120_000, issues),
    warnings,
  };
  return { options, issues };
}
