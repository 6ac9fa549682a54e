/**
 * The CI gate's decisions, as pure functions (scripts/ci.mjs, written with zx, runs the scenarios and
 * calls these): which exit code of several runs is the worst, the annotations for what failed (GitHub
 * workflow commands, GitLab log lines and a Code Quality report), the combined Markdown summary.
 * Everything comes from each run's verdict.json, the report's machine-readable verdict.
 */
import { createHash } from 'node:crypto';

export type CiKind = 'github' | 'gitlab' | 'none';

/** GitHub Actions sets GITHUB_ACTIONS=true, GitLab CI sets GITLAB_CI=true. */
export function detectCi(env: Readonly<Record<string, string | undefined>>): CiKind {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.GITLAB_CI === 'true') return 'gitlab';
  return 'none';
}

/**
 * How bad an exit code is: 0 passed < 6 inconclusive against the baseline < 3 regression < 4 soak budget < 99 thresholds < anything else (the run
 * did not complete as planned: bad command line 2, invalid config 104, interrupted 105, script error 107,
 * test.abort() 108, bundle over budget 120, ...). Ties among "anything else" go to the larger code.
 */
export function severity(code: number): number {
  switch (code) {
    case 0:
      return 0;
    case 6:
      return 1;
    case 3:
      return 2;
    case 4:
      return 3;
    case 99:
      return 4;
    default:
      return 5;
  }
}

export function worstExitCode(codes: readonly number[]): number {
  let worst = 0;
  for (const c of codes) {
    const d = severity(c) - severity(worst);
    if (d > 0 || (d === 0 && c > worst)) worst = c;
  }
  return worst;
}

/** The run folder from the run command's last line: `results: verdict pass, exit code 0: reports/x-20260101-000000/ (open ...)`. */
export function runDirFromOutput(stdout: string): string | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('results:'));
  const m = line === undefined ? null : /: (\S+)\/(?: \(open .*\))?\s*$/.exec(line);
  return m?.[1];
}

/** A baseline finding per comparison status: its level, title and what its figures did. */
const BASELINE_FINDINGS = {
  fail: { level: 'error', title: 'regression', figures: 'past the fail limit' },
  inconclusive: {
    level: 'warning',
    title: 'inconclusive against the baseline (the machine was busier)',
    figures: 'that would have failed, on a machine busier than during the baseline,',
  },
  warn: { level: 'warning', title: 'slower than the baseline', figures: 'past the warning limit' },
} as const;

/** The parts of verdict.json the gate reads. */
export interface VerdictDoc {
  readonly verdict: 'pass' | 'warn' | 'inconclusive' | 'fail';
  readonly exitCode: number;
  readonly reasons: readonly string[];
  readonly thresholds: readonly {
    readonly metric: string;
    readonly expression: string;
    readonly ok: boolean;
    readonly observed: number | null;
    readonly problem?: string;
  }[];
  readonly comparison: {
    readonly baselineSource: string;
    readonly verdict: string;
    readonly rows: readonly { readonly key: string; readonly stat: string; readonly status: string; readonly change: number | null }[];
  } | null;
}

export interface ScenarioResult {
  readonly name: string;
  /** The scenario file as given (annotations point at it). */
  readonly file: string;
  readonly exitCode: number;
  readonly runDir: string | undefined;
  readonly verdict: VerdictDoc | undefined;
  readonly baseline: string | undefined;
}

export interface Finding {
  readonly level: 'error' | 'warning';
  readonly title: string;
  readonly message: string;
  /** Stable id (Code Quality fingerprint). */
  readonly key: string;
}

function num(v: number | null): string {
  return v === null ? 'no data' : String(Math.round(v * 1000) / 1000);
}

/** What a run's verdict says failed or warned, one finding each. */
export function findings(r: ScenarioResult): Finding[] {
  const out: Finding[] = [];
  const v = r.verdict;
  if (v === undefined) {
    if (r.exitCode !== 0)
      out.push({
        level: 'error',
        title: `${r.name}: run failed`,
        message: `the run ended with exit code ${String(r.exitCode)} and left no report (see the log above)`,
        key: `${r.name}:run`,
      });
    return out;
  }
  for (const t of v.thresholds.filter((x) => !x.ok)) {
    out.push({
      level: 'error',
      title: `${r.name}: threshold crossed`,
      message: `${t.metric} ${t.expression} crossed: observed ${num(t.observed)}${t.problem === undefined ? '' : ` (${t.problem})`}`,
      key: `${r.name}:threshold:${t.metric}:${t.expression}`,
    });
  }
  // Baseline: one finding per status (past the fail limit, inconclusive, past the warning limit),
  // naming the worst three (a run can move dozens of figures; CI systems cap the annotations they show).
  for (const status of ['fail', 'inconclusive', 'warn'] as const) {
    const said = BASELINE_FINDINGS[status];
    const rows = (v.comparison?.rows ?? []).filter((x) => x.status === status).sort((a, b) => (b.change ?? 0) - (a.change ?? 0));
    if (rows.length === 0) continue;
    const worst = rows
      .slice(0, 3)
      .map((x) => `${x.key} ${x.stat} ${x.change === null ? '?' : `+${(x.change * 100).toFixed(1)} %`}`)
      .join(', ');
    out.push({
      level: said.level,
      title: `${r.name}: ${said.title}`,
      message: `${String(rows.length)} figure${rows.length === 1 ? '' : 's'} ${said.figures} against the baseline ${v.comparison?.baselineSource ?? ''}: ${worst}${rows.length > 3 ? ', ...' : ''}`,
      key: `${r.name}:baseline:${status}`,
    });
  }
  const explained = out.length > 0;
  if (!explained && v.exitCode !== 0) {
    out.push({
      level: 'error',
      title: `${r.name}: ${v.verdict}`,
      message: v.reasons.join('; ') || `exit code ${String(v.exitCode)}`,
      key: `${r.name}:verdict`,
    });
  }
  if (r.exitCode !== 0 && r.exitCode !== v.exitCode && !out.some((f) => f.level === 'error')) {
    out.push({
      level: 'error',
      title: `${r.name}: run failed`,
      message: `the run ended with exit code ${String(r.exitCode)}`,
      key: `${r.name}:run`,
    });
  }
  return out;
}

/** GitHub workflow-command escaping: data escapes %, CR, LF; properties also : and ,. */
function ghData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function ghProp(s: string): string {
  return ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One annotation line per finding: `::error file=...,title=...::message` (GitHub), `ERROR: ...` (GitLab, plain). */
export function annotationLines(kind: CiKind, r: ScenarioResult, list: readonly Finding[] = findings(r)): string[] {
  return list.map((f) => {
    if (kind === 'github') return `::${f.level} file=${ghProp(r.file)},title=${ghProp(f.title)}::${ghData(f.message)}`;
    const label = f.level === 'error' ? 'ERROR' : 'WARNING';
    const line = `${label}: ${f.title}: ${f.message}`;
    return kind === 'gitlab' ? `\u001b[${f.level === 'error' ? '31' : '33'};1m${line}\u001b[0m` : line;
  });
}

/** GitLab Code Quality report entries (artifacts:reports:codequality), shown in merge requests. */
export function codeQuality(results: readonly ScenarioResult[]): Record<string, unknown>[] {
  return results.flatMap((r) =>
    findings(r).map((f) => ({
      description: `${f.title}: ${f.message}`,
      check_name: f.key.split(':').slice(1, 2).join('') || 'agentload',
      fingerprint: createHash('sha256').update(f.key).digest('hex').slice(0, 32),
      severity: f.level === 'error' ? 'major' : 'minor',
      location: { path: r.file, lines: { begin: 1 } },
    })),
  );
}

/** The gate's own Markdown: one row per scenario, then each scenario's summary.md. */
export function ciSummary(results: readonly ScenarioResult[], summaries: ReadonlyMap<string, string>, worst: number): string {
  const rows = results.map(
    (r) => `| ${r.name} | ${r.verdict?.verdict ?? 'no report'} | ${String(r.exitCode)} | ${r.baseline ?? '–'} | ${r.runDir ?? '–'} |`,
  );
  const parts = [
    `# agentload CI gate: exit ${String(worst)}`,
    '',
    '| scenario | verdict | exit | baseline | run |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ];
  for (const r of results) {
    const s = summaries.get(r.name);
    if (s !== undefined) parts.push(s.trimEnd(), '');
  }
  return `${parts.join('\n')}\n`;
}
