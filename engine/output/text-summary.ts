/**
 * k6's end-of-test text summary, rendered from the handleSummary `data` object, in k6 v1's three modes
 * (`--summary-mode`): `legacy` is the pre-v1 layout (checks per group with ✓ / ✗ and a ↳ pass-rate line,
 * then one line per metric sorted by name with submetrics under their parent, dot leaders, ✓/✗ threshold
 * marks and human units); `compact` (k6 v1's default) shows the thresholds with the values they were judged
 * on (`✓ 'p(95)<100' p(95)=4.16ms`), the checks as totals, then the metrics by category (HTTP, EXECUTION,
 * NETWORK, protocols, CUSTOM) without HTTP sub-timings; `full` adds every metric, then (given the summary
 * report) a section per group and per named scenario with their own checks and metrics, nested groups under
 * `↳ GROUP:` as k6 v1 prints them.
 *
 * NO Node APIs and no runtime imports here: this file is also bundled into k6 scripts.
 */

import type { SummaryCheck, SummaryData, SummaryGroup, SummaryMetric, SummaryReport, SummaryReportGroup } from './summary-types.ts';
import { HTTP_SUB_TIMINGS } from '../../shared/k6-metrics.ts';

export interface TextSummaryOptions {
  /** Prefix for every line (k6 passes ' '). */
  readonly indent?: string;
  /** ANSI colours (k6: on when stdout is a TTY and --no-color is off). Default true. */
  readonly enableColors?: boolean;
  /** 's', 'ms' or 'us' to print every duration in that unit; '' or undefined for automatic units. */
  readonly summaryTimeUnit?: string | null;
  /** Trend columns; defaults to data.options.summaryTrendStats. */
  readonly summaryTrendStats?: readonly string[] | null;
  /** k6 v1's `--summary-mode`: `compact` (k6 v1's default), `full` or `legacy` (the pre-v1 layout). Default `legacy`. */
  readonly summaryMode?: string | null;
  /**
   * What k6 v1's summary shows beyond `data` (the embedded engine passes it to handleSummary as a second
   * argument): thresholds' judged values outside summaryTrendStats, and full mode's per-group and
   * per-scenario sections. Without it the summary shows what `data` holds.
   */
  readonly report?: SummaryReport | null;
}

export type SummaryMode = 'compact' | 'full' | 'legacy';
export const SUMMARY_MODES: readonly SummaryMode[] = ['compact', 'full', 'legacy'];

const GROUP_MARK = '█';
const DETAILS_MARK = '↳';
const OK_MARK = '✓';
const FAIL_MARK = '✗';
const FAINT = 2;
const RED = 31;
const GREEN = 32;
const CYAN = 36;

type Decorate = (text: string, color: number, ...styles: number[]) => string;

const plain: Decorate = (text) => text;
const ansi: Decorate = (text, color, ...styles) => `\x1b[${[color, ...styles].join(';')}m${text}\x1b[0m`;

/** Printed width: code points after NFKC normalisation, ANSI escape sequences excluded. */
export function strWidth(s: string): number {
  let width = 0;
  let esc = false;
  let csi = false;
  for (const ch of s.normalize('NFKC')) {
    const code = ch.charCodeAt(0);
    if (ch === '\x1b') {
      esc = true;
      continue;
    }
    if (esc && ch === '[') {
      csi = true;
      continue;
    }
    if (esc && csi && code >= 0x40 && code <= 0x7e) {
      esc = false;
      csi = false;
      continue;
    }
    if (esc && !csi && code >= 0x40 && code <= 0x5f) {
      esc = false;
      continue;
    }
    if (!esc && !csi) width++;
  }
  return width;
}

function checkLines(indent: string, c: Pick<SummaryCheck, 'name' | 'passes' | 'fails'>, decorate: Decorate): string {
  if (c.fails === 0) return decorate(`${indent}${OK_MARK} ${c.name}`, GREEN);
  const pct = Math.floor((100 * c.passes) / (c.passes + c.fails));
  return decorate(
    `${indent}${FAIL_MARK} ${c.name}\n${indent} ${DETAILS_MARK}  ${pct}% — ${OK_MARK} ${c.passes} / ${FAIL_MARK} ${c.fails}`,
    RED,
  );
}

function groupLines(indent: string, g: SummaryGroup, decorate: Decorate): string[] {
  const out: string[] = [];
  let inner = indent;
  if (g.name !== '') {
    out.push(`${indent}${GROUP_MARK} ${g.name}\n`);
    inner = indent + '  ';
  }
  for (const c of g.checks) out.push(checkLines(inner, c, decorate));
  if (g.checks.length > 0) out.push('');
  for (const sub of g.groups) out.push(...groupLines(inner, sub, decorate));
  return out;
}

function displayName(name: string): string {
  const at = name.indexOf('{');
  return at >= 0 ? `{ ${name.slice(at + 1, -1)} }` : name;
}
function nameIndent(name: string): string {
  return name.includes('{') ? '  ' : '';
}

/** Go-like number text with at most `prec` decimals and no trailing zeros. */
function fixedNoZeros(v: number, prec: number): string {
  return String(parseFloat(v.toFixed(prec)));
}
function fixedNoZerosTrunc(v: number, prec: number): string {
  const mult = Math.pow(10, prec);
  return fixedNoZeros(Math.trunc(mult * v) / mult, prec);
}

function humanizeBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes < 10) return `${bytes} B`;
  const e = Math.floor(Math.log(bytes) / Math.log(1000));
  const val = Math.floor((bytes / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return `${val.toFixed(val < 10 ? 1 : 0)} ${units[e | 0] ?? ''}`;
}

function humanizeAutoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0.001) return `${Math.trunc(ms * 1e6)}ns`;
  if (ms < 1) return `${fixedNoZerosTrunc(ms * 1000, 2)}µs`;
  if (ms < 1000) return `${fixedNoZerosTrunc(ms, 2)}ms`;
  let text = `${fixedNoZerosTrunc((ms % 60000) / 1000, ms > 60000 ? 0 : 2)}s`;
  let rest = Math.trunc(ms / 60000);
  if (rest < 1) return text;
  text = `${rest % 60}m${text}`;
  rest = Math.trunc(rest / 60);
  if (rest < 1) return text;
  return `${rest}h${text}`;
}

const TIME_UNITS: Readonly<Record<string, { unit: string; coef: number }>> = {
  s: { unit: 's', coef: 0.001 },
  ms: { unit: 'ms', coef: 1 },
  us: { unit: 'µs', coef: 1000 },
};

function humanizeDuration(ms: number, timeUnit: string | null | undefined): string {
  const u =
    typeof timeUnit === 'string' && timeUnit !== '' && Object.prototype.hasOwnProperty.call(TIME_UNITS, timeUnit)
      ? TIME_UNITS[timeUnit]
      : undefined;
  if (u !== undefined) return `${(ms * u.coef).toFixed(2)}${u.unit}`;
  return humanizeAutoDuration(ms);
}

/** k6's humanizeValue: rates as truncated percentages, data as bytes, time as durations. */
export function humanizeValue(val: number, metric: Pick<SummaryMetric, 'type' | 'contains'>, timeUnit?: string | null): string {
  if (metric.type === 'rate') return `${(Math.trunc(val * 100 * 100) / 100).toFixed(2)}%`;
  switch (metric.contains) {
    case 'data':
      return humanizeBytes(val);
    case 'time':
      return humanizeDuration(val, timeUnit);
    default:
      return fixedNoZeros(val, 6);
  }
}

function nonTrendColumns(m: SummaryMetric, timeUnit: string | null | undefined, modern = false): string[] {
  const v = (k: string): number => m.values[k] ?? 0;
  switch (m.type) {
    case 'counter':
      return [humanizeValue(v('count'), m, timeUnit), `${humanizeValue(v('rate'), m, timeUnit)}/s`];
    case 'gauge':
      return [
        humanizeValue(v('value'), m, timeUnit),
        `min=${humanizeValue(v('min'), m, timeUnit)}`,
        `max=${humanizeValue(v('max'), m, timeUnit)}`,
      ];
    case 'rate':
      // k6 v1 (compact, full): `3.29% 9 out of 273`; before v1: `3.29% ✓ 9 ✗ 264`.
      if (modern) return [humanizeValue(v('rate'), m, timeUnit), `${v('passes')} out of ${v('passes') + v('fails')}`];
      return [humanizeValue(v('rate'), m, timeUnit), `${OK_MARK} ${v('passes')}`, `${FAIL_MARK} ${v('fails')}`];
    default:
      return ['[no data]'];
  }
}

/** Sorts by parent name, keeping submetrics right after their parent (k6's order). */
export function compareMetricNames(a: string, b: string): number {
  const pa = a.split('{', 1)[0] ?? a;
  const pb = b.split('{', 1)[0] ?? b;
  const byParent = pa.localeCompare(pb);
  if (byParent !== 0) return byParent;
  return a.slice(pa.length).localeCompare(b.slice(pb.length));
}

function metricLines(
  metrics: Record<string, SummaryMetric>,
  indentBase: string,
  stats: readonly string[],
  timeUnit: string | null | undefined,
  decorate: Decorate,
  modern = false,
): string[] {
  const indent = indentBase + '  ';
  const names: string[] = [];
  let nameMax = 0;
  const trendCols = new Map<string, string[]>();
  const trendMax = stats.map(() => 0);
  const firstCol = new Map<string, string>();
  let firstMax = 0;
  const extras = new Map<string, string[]>();
  const extraMax = [0, 0];
  for (const [name, m] of Object.entries(metrics)) {
    names.push(name);
    nameMax = Math.max(nameMax, strWidth(nameIndent(name) + displayName(name)));
    if (m.type === 'trend') {
      const cols = stats.map((stat, i) => {
        const raw = m.values[stat] ?? 0;
        const text = stat === 'count' ? String(raw) : humanizeValue(raw, m, timeUnit);
        trendMax[i] = Math.max(trendMax[i] ?? 0, strWidth(text));
        return text;
      });
      trendCols.set(name, cols);
      continue;
    }
    const cols = nonTrendColumns(m, timeUnit, modern);
    const first = cols[0] ?? '';
    firstCol.set(name, first);
    firstMax = Math.max(firstMax, strWidth(first));
    const rest = cols.slice(1);
    extras.set(name, rest);
    rest.forEach((e, i) => (extraMax[i] = Math.max(extraMax[i] ?? 0, strWidth(e))));
  }
  names.sort(compareMetricNames);

  const dataText = (name: string): string => {
    const cols = trendCols.get(name);
    if (cols !== undefined) {
      return cols
        .map((c, i) => `${stats[i] ?? ''}=${decorate(c, CYAN)}${' '.repeat(Math.max(0, (trendMax[i] ?? 0) - strWidth(c)))}`)
        .join(' ');
    }
    const first = firstCol.get(name) ?? '';
    let text = decorate(first, CYAN) + ' '.repeat(Math.max(0, firstMax - strWidth(first)));
    const rest = extras.get(name) ?? [];
    if (rest.length === 1) text += ' ' + decorate(rest[0] ?? '', CYAN, FAINT);
    else if (rest.length > 1) {
      text += ' ' + rest.map((e, i) => decorate(e, CYAN, FAINT) + ' '.repeat(Math.max(0, (extraMax[i] ?? 0) - strWidth(e)))).join(' ');
    }
    return text;
  };

  const out: string[] = [];
  for (const name of names) {
    const m = metrics[name];
    if (m === undefined) continue;
    let mark = ' ';
    let color: (s: string) => string = (s) => s;
    if (m.thresholds !== undefined) {
      const failed = Object.values(m.thresholds).some((t) => !t.ok);
      mark = failed ? FAIL_MARK : OK_MARK;
      color = (s) => decorate(s, failed ? RED : GREEN);
    }
    const ind = nameIndent(name);
    const shown = displayName(name);
    const dots = decorate('.'.repeat(Math.max(0, nameMax - strWidth(shown) - strWidth(ind) + 3)) + ':', FAINT);
    // k6 v1 marks thresholds in their own section, not beside the metric.
    out.push(
      modern ? `${indent}${ind}${shown}${dots} ${dataText(name)}` : `${indent}${ind}${color(mark)} ${shown}${dots} ${dataText(name)}`,
    );
  }
  return out;
}

/** Renders k6's end-of-test summary text (without k6's leading/trailing blank lines). */
export function textSummary(data: SummaryData, options: TextSummaryOptions = {}): string {
  const indent = options.indent ?? ' ';
  const enableColors = options.enableColors ?? true;
  const timeUnit = options.summaryTimeUnit !== undefined ? options.summaryTimeUnit : data.options.summaryTimeUnit;
  const stats = options.summaryTrendStats ?? data.options.summaryTrendStats;
  const decorate = enableColors ? ansi : plain;
  const mode = options.summaryMode === 'compact' || options.summaryMode === 'full' ? options.summaryMode : 'legacy';
  if (mode !== 'legacy') return modernSummary(data, indent, stats, timeUnit, decorate, mode, options.report ?? undefined);
  return [...groupLines(indent + '    ', data.root_group, decorate), ...metricLines(data.metrics, indent, stats, timeUnit, decorate)].join(
    '\n',
  );
}

/** The aggregation a threshold expression is judged on (`p(95)`, `rate`, `avg` …), as k6 names it in values. */
function thresholdStat(expression: string): string | undefined {
  const m = /^\s*(p\(\d+(?:\.\d+)?\)|avg|min|max|med|count|rate|value)\s*(?:<=|>=|<|>|===|==|!=)/.exec(expression);
  return m?.[1];
}

/** HTTP sub-timings and other figures k6 v1 leaves out of the compact summary (shown in full). */
const COMPACT_HIDDEN = new Set<string>([...HTTP_SUB_TIMINGS, 'group_duration']);

/** k6 v1's metric categories, in its order; a metric goes to the first whose test matches, else CUSTOM. */
const CATEGORIES: readonly { readonly title: string; readonly test: (name: string) => boolean }[] = [
  { title: 'HTTP', test: (n) => n.startsWith('http_') },
  {
    title: 'EXECUTION',
    test: (n) => ['iterations', 'iteration_duration', 'vus', 'vus_max', 'dropped_iterations', 'group_duration'].includes(n),
  },
  { title: 'NETWORK', test: (n) => n === 'data_sent' || n === 'data_received' },
  { title: 'WEBSOCKET', test: (n) => n.startsWith('ws_') },
  { title: 'GRPC', test: (n) => n.startsWith('grpc_') },
  { title: 'BROWSER', test: (n) => n.startsWith('browser_') },
];

function modernSummary(
  data: SummaryData,
  indent: string,
  stats: readonly string[],
  timeUnit: string | null | undefined,
  decorate: Decorate,
  mode: 'compact' | 'full',
  report: SummaryReport | undefined,
): string {
  const head = (title: string, at = indent, mark = GROUP_MARK): string => `${at} ${mark} ${title} \n`;
  const out: string[] = [...thresholdLines(data, indent, timeUnit, decorate, report)];
  out.push(head('TOTAL RESULTS'));
  const all: SummaryCheck[] = [];
  const collect = (g: SummaryGroup): void => {
    all.push(...g.checks);
    g.groups.forEach(collect);
  };
  collect(data.root_group);
  const sections = mode === 'full' && report?.groups !== undefined && report.scenarios !== undefined;
  const ctx: ResultsContext = { stats, timeUnit, decorate, mode, durationMs: data.state.testRunDurationMs };
  // Without the per-group sections (a k6 binary passes no report), full mode lists the checks per group here.
  const checkList = mode === 'full' && !sections ? groupLines(indent + '   ', data.root_group, decorate) : undefined;
  out.push(...resultsLines(indent, data.metrics, all, ctx, checkList));
  if (sections) {
    const byName = (rec: Record<string, SummaryReportGroup>): [string, SummaryReportGroup][] =>
      Object.entries(rec).sort(([a], [b]) => a.localeCompare(b));
    const nested = (at: string, g: SummaryReportGroup): string[] =>
      byName(g.groups).flatMap(([name, sub]) => [
        head(`GROUP: ${name}`, at + '  ', DETAILS_MARK),
        ...resultsLines(at + '  ', sub.metrics, sub.checks, ctx),
        ...nested(at + '  ', sub),
      ]);
    for (const [title, rec] of [
      ['GROUP', report.groups ?? {}],
      ['SCENARIO', report.scenarios ?? {}],
    ] as const) {
      for (const [name, g] of byName(rec)) {
        out.push('', head(`${title}: ${name}`), ...resultsLines(indent, g.metrics, g.checks, ctx), ...nested(indent, g));
      }
    }
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

/** The THRESHOLDS section: each threshold with the value it was judged on (from `data`, else the report). */
function thresholdLines(
  data: SummaryData,
  indent: string,
  timeUnit: string | null | undefined,
  decorate: Decorate,
  report: SummaryReport | undefined,
): string[] {
  const body = indent + '   ';
  const withThresholds = Object.keys(data.metrics)
    .filter((n) => data.metrics[n]?.thresholds !== undefined)
    .sort(compareMetricNames);
  if (withThresholds.length === 0) return [];
  const out: string[] = [`${indent} ${GROUP_MARK} THRESHOLDS \n`];
  for (const name of withThresholds) {
    const m = data.metrics[name];
    if (m === undefined) continue;
    out.push(`${body}${name}`);
    for (const [expr, t] of Object.entries(m.thresholds ?? {})) {
      const stat = thresholdStat(expr);
      // A statistic outside summaryTrendStats is not in `data`: the report carries it (grafana/k6#4698).
      const raw = stat === undefined ? undefined : (m.values[stat] ?? report?.thresholdValues[name]?.[expr]);
      const value = (x: number): string =>
        stat === 'count'
          ? fixedNoZeros(x, 6)
          : stat === 'rate' && m.type === 'counter'
            ? `${fixedNoZeros(x, 6)}/s`
            : humanizeValue(x, m, timeUnit);
      const shown = raw === undefined || stat === undefined ? '' : ` ${stat}=${value(raw)}`;
      out.push(decorate(`${body}${t.ok ? OK_MARK : FAIL_MARK} '${expr}'${shown}`, t.ok ? GREEN : RED));
    }
    out.push('');
  }
  out.push('');
  return out;
}

interface ResultsContext {
  readonly stats: readonly string[];
  readonly timeUnit: string | null | undefined;
  readonly decorate: Decorate;
  readonly mode: 'compact' | 'full';
  readonly durationMs: number;
}

/**
 * One results block (TOTAL RESULTS, a group, a scenario) at `indent`: the checks' totals and each check
 * (or `checkList`, already rendered), then the metrics by category, laid out like the legacy list.
 */
function resultsLines(
  indent: string,
  metrics: Record<string, SummaryMetric>,
  checks: readonly Pick<SummaryCheck, 'name' | 'passes' | 'fails'>[],
  { stats, timeUnit, decorate, mode, durationMs }: ResultsContext,
  checkList?: readonly string[],
): string[] {
  const body = indent + '   ';
  const out: string[] = [];
  const shownMetrics: Record<string, SummaryMetric> = {};
  for (const [name, m] of Object.entries(metrics)) {
    const parent = name.split('{', 1)[0] ?? name;
    if (parent === 'checks' || (parent === 'group_duration' && mode === 'full')) continue;
    if (mode === 'compact' && COMPACT_HIDDEN.has(parent)) continue;
    shownMetrics[name] = m;
  }
  if (checks.length > 0) {
    const passes = checks.reduce((n, c) => n + c.passes, 0);
    const fails = checks.reduce((n, c) => n + c.fails, 0);
    const total = passes + fails;
    const secs = durationMs / 1000;
    const pct = (x: number): string => `${(Math.trunc((total === 0 ? 0 : x / total) * 10000) / 100).toFixed(2)}%`;
    const rows: [string, string][] = [
      ['checks_total', `${total} ${fixedNoZeros(secs > 0 ? total / secs : 0, 6)}/s`],
      ['checks_succeeded', `${pct(passes)} ${passes} out of ${total}`],
      ['checks_failed', `${pct(fails)} ${fails} out of ${total}`],
    ];
    const width = Math.max(...metricNamesWidth(shownMetrics), ...rows.map(([n]) => n.length));
    for (const [n, v] of rows) out.push(`${body}${n}${decorate('.'.repeat(width - n.length + 3) + ':', FAINT)} ${decorate(v, CYAN)}`);
    out.push('');
    if (checkList !== undefined) out.push(...checkList);
    else {
      for (const c of checks) out.push(checkLines(body, c, decorate));
      out.push('');
    }
  }
  const byCategory = new Map<string, Record<string, SummaryMetric>>();
  for (const [name, m] of Object.entries(shownMetrics)) {
    const parent = name.split('{', 1)[0] ?? name;
    const title = CATEGORIES.find((c) => c.test(parent))?.title ?? 'CUSTOM';
    const into = byCategory.get(title) ?? {};
    into[name] = m;
    byCategory.set(title, into);
  }
  for (const title of ['CUSTOM', ...CATEGORIES.map((c) => c.title)]) {
    const inCategory = byCategory.get(title);
    if (inCategory === undefined) continue;
    out.push(`${body}${title}`);
    out.push(...metricLines(inCategory, indent + ' ', stats, timeUnit, decorate, true));
    out.push('');
  }
  return out;
}

function metricNamesWidth(metrics: Record<string, SummaryMetric>): number[] {
  return Object.keys(metrics).map((n) => strWidth(nameIndent(n) + displayName(n)));
}
