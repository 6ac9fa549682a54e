/**
 * The scenarios of a run as k6 derives them: the execution options of each tier applied in order (script <
 * K6_* < flags: a shortcut or `scenarios` in a higher tier wipes the lower one's), shortcuts turned into one
 * `default` scenario (lib/executor/execution_config_shortcuts.go), then every scenario parsed and validated.
 */
import type { Stage } from 'k6/options';
import type { Issue } from '../contracts.ts';
import { isExecutorName, parseScenario, validateScenario, EXECUTOR_NAMES } from '../executors/index.ts';
import type { ScenarioConfig } from '../executors/types.ts';
import { issue } from '../executors/common.ts';
import { formatDuration, parseDuration } from '../units/duration.ts';
import { isRecord, present, readDuration, type EnvVars } from './read.ts';

export const DEFAULT_SCENARIO_NAME = 'default';

/** The execution-related options of one config tier. */
interface ExecTier {
  vus?: unknown;
  duration?: unknown;
  iterations?: unknown;
  stages?: unknown;
  scenarios?: unknown;
}

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

function envTier(vars: EnvVars, issues: Issue[]): ExecTier {
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
  const duration = readDuration(t.duration, 'duration', '30s', issues);
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

/** The execution options of the script and of the CLI flags, before the tiers are applied. */
export interface ExecInputs {
  readonly script: Record<string, unknown>;
  readonly cli: { readonly vus?: number; readonly duration?: string; readonly iterations?: number; readonly stages?: readonly Stage[] };
}

/**
 * The scenarios in k6's JSON form (`raw`, for `exec.test.options`) and normalised, sorted like k6 (startTime,
 * then name). `exports`, when given, are the script's exported functions every `exec` must name.
 */
export function resolveScenarios(
  { script, cli }: ExecInputs,
  vars: EnvVars,
  exports: ReadonlySet<string> | undefined,
  issues: Issue[],
  warnings: string[],
): { raw: Record<string, unknown>; scenarios: ScenarioConfig[] } {
  const scriptTier: ExecTier = {
    vus: script.vus,
    duration: script.duration,
    iterations: script.iterations,
    stages: script.stages,
    scenarios: script.scenarios,
  };
  const cliTier: ExecTier = { vus: cli.vus, duration: cli.duration, iterations: cli.iterations, stages: cli.stages };
  const exec = applyTier(applyTier(scriptTier, envTier(vars, issues)), cliTier);
  const raw = deriveScenarios(exec, issues, warnings) ?? {};
  const scenarios = parseScenarios(raw, issues, exports);
  explainReplacedScenarios(issues, script.scenarios, exec.scenarios);
  return { raw, scenarios };
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
