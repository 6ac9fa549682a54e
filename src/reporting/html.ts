/**
 * report.html: one self-contained file (uPlot and the data inlined, no network), readable on a
 * phone (responsive tables and charts) and printed (print CSS). Tables are rendered here so they
 * work without JavaScript; charts are drawn in the page from the inlined series.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import type { ChartLine, PageData } from './client/page-data.ts';
import { describeNoise, describeRow, figureLabel, worstFirst, type Comparison } from './compare.ts';
import type { FullReport } from './types.ts';
import type { SoakResult } from './soak.ts';
import { thresholdsOfEndpoint } from './junit.ts';
import { parseMetricKey } from '../../engine/metrics/submetric.ts';
import { compare, parseThresholdExpression, type Operator } from '../../engine/thresholds/expression.ts';
import type { Distribution, EndpointSeries, RunModel, ThresholdRow } from './model.ts';
import { describeValues, runHeader, valueKindOf } from './run-header.ts';
import { faultMarks, faultsSectionHtml } from './faults.ts';
import { escapeHtml as h, fmtInt, fmtMs, fmtNum, fmtPct, fmtValue } from './format.ts';

const require = createRequire(import.meta.url);
let uplotCache: { js: string; css: string } | undefined;
let clientCache: string | undefined;
/** The page's chart code: a real TypeScript file, type-checked against the DOM and linted (src/reporting/client/). */
const CLIENT_SOURCE = fileURLToPath(new URL('./client/charts.ts', import.meta.url));

/** The chart code compiled to one browser script (esbuild, once per process), safe inside <script>. */
function clientJs(): string {
  clientCache ??= transformSync(readFileSync(CLIENT_SOURCE, 'utf8'), {
    loader: 'ts',
    format: 'iife',
    target: 'es2020',
    sourcefile: CLIENT_SOURCE,
  }).code.replace(/<\/script/gi, '<\\/script');
  return clientCache;
}

function uplot(): { js: string; css: string } {
  if (!uplotCache) {
    const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    uplotCache = { js: js.replace(/<\/script/gi, '<\\/script'), css };
  }
  return uplotCache;
}

/** JSON safe inside <script>: no "</script", no U+2028/9 surprises. */
function inlineJson(x: unknown): string {
  return JSON.stringify(x)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The most endpoints drawn as charts of their own (the busiest first). */
const MAX_ENDPOINT_CHARTS = 12;

/** Latency limits of `http_req_duration` threshold rows (percentiles, avg, med, max) as lines. */
function thresholdLines(rows: readonly ThresholdRow[]): ChartLine[] {
  const out: ChartLine[] = [];
  for (const t of rows) {
    const key = parseMetricKey(t.metric);
    const e = parseThresholdExpression(t.expression);
    if (!key.ok || !e.ok || key.key.parent !== 'http_req_duration') continue;
    if (['p', 'avg', 'med', 'max'].includes(e.expr.method)) out.push({ label: t.expression, value: e.expr.value, kind: 'threshold' });
  }
  return out;
}

/** The baseline's p95 and p99 of a comparison figure (`metric http_req_duration`, `endpoint GET /x`) as lines. */
function baselineLines(r: FullReport, key: string): ChartLine[] {
  const rows = r.comparison?.rows.filter((x) => x.key === key && (x.stat === 'p95' || x.stat === 'p99') && x.baseline !== null) ?? [];
  return rows.map((x) => ({ label: `baseline ${x.stat}`, value: x.baseline ?? 0, kind: 'baseline' as const }));
}

/** Chart data beyond the series: threshold and baseline lines, per-endpoint latency. */
function chartLines(r: FullReport): {
  lines: ChartLine[];
  endpoints: { label: string; series: EndpointSeries; dist: Distribution | null; lines: ChartLine[] }[];
} {
  const m = r.model;
  const overall = m.thresholds.filter((t) => t.metric === 'http_req_duration');
  return {
    lines: [...thresholdLines(overall), ...baselineLines(r, 'metric http_req_duration')],
    endpoints: m.endpoints
      .filter((e) => e.phase === undefined)
      .slice(0, MAX_ENDPOINT_CHARTS)
      .flatMap((e) => {
        const series = m.endpointSeries[e.key];
        if (!series) return [];
        const label = `${e.method} ${e.name}${e.endpoint !== undefined ? ` [${e.endpoint}]` : ''}`;
        return [
          {
            label,
            series,
            dist: m.distributions[e.key] ?? null,
            lines: [...thresholdLines(thresholdsOfEndpoint(m.thresholds, e)), ...baselineLines(r, `endpoint ${e.key}`)],
          },
        ];
      }),
  };
}

/** The run's `http_req_failed` rate limits without tag filters (`rate<0.01`), as an endpoint's error budget. */
function overallErrorLimits(rows: readonly ThresholdRow[]): { op: Operator; value: number }[] {
  const out: { op: Operator; value: number }[] = [];
  for (const r of rows) {
    const key = parseMetricKey(r.metric);
    const e = parseThresholdExpression(r.expression);
    if (key.ok && e.ok && key.key.parent === 'http_req_failed' && key.key.submetric === undefined && e.expr.method === 'rate')
      out.push({ op: e.expr.operator, value: e.expr.value });
  }
  return out;
}

/** A table whose first `left` columns hold text (left-aligned); the rest are numbers. */
function table(head: readonly string[], rows: readonly string[][], left = 1): string {
  if (rows.length === 0) return '<p class="muted">none</p>';
  const cell = (tag: string, c: string, i: number): string => `<${tag}${i < left ? ' class="l"' : ''}>${c}</${tag}>`;
  return `<div class="tw"><table><thead><tr>${head.map((x, i) => cell('th', x, i)).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

const badge = (ok: boolean, text?: string): string => `<span class="b ${ok ? 'ok' : 'bad'}">${text ?? (ok ? 'pass' : 'fail')}</span>`;

const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--card:#f6f8fa}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:12px}
h1{font-size:20px;margin:8px 0}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:14px 0 6px}
.banner{padding:14px 16px;border-radius:8px;color:#fff;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:baseline}
.banner.pass{background:var(--ok)}.banner.fail{background:var(--bad)}.banner.warn{background:var(--warn)}.banner.inconclusive{background:var(--warn)}
.banner .v{font-size:24px;font-weight:700;letter-spacing:.5px}.banner ul{margin:4px 0 0;padding-left:18px;flex-basis:100%}
.meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:6px;margin:10px 0}
.meta div{background:var(--card);padding:6px 8px;border-radius:6px}.meta b{display:block;font-size:12px;color:var(--muted);font-weight:600}
.note{border-left:4px solid var(--warn);background:#fff8e5;padding:6px 10px;margin:8px 0}
.tw{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th.l,td.l{text-align:left}th{background:var(--card);font-weight:600;position:sticky;top:0}
td.wrap{white-space:normal;word-break:break-all;text-align:left}
.b{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}.b.ok{background:var(--ok)}.b.bad{background:var(--bad)}.b.warn{background:var(--warn)}.b.muted{background:#8c959f}
.muted{color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:12px}
.chart{border:1px solid var(--line);border-radius:6px;padding:6px;min-width:0;break-inside:avoid}.chart h3{margin:2px 4px 6px}
code{background:var(--card);padding:0 4px;border-radius:4px}
@media (max-width:600px){main{padding:6px}th,td{padding:3px 5px;font-size:13px}.banner .v{font-size:20px}}
@media print{.tw{overflow:visible}th,td{padding:2px 4px;white-space:normal;font-size:11px}.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}main{max-width:none}.chart,table,tr{break-inside:avoid}h2{break-after:avoid}th{position:static}body{font-size:12px}}
`;

/** Warnings over the figures: a truncated or interrupted run, folded tag sets, skipped lines, k6 judging otherwise. */
function runNotes(m: RunModel): string[] {
  const notes: string[] = [];
  if (m.meta.truncated) notes.push('The k6 output was truncated (a killed run?): the report covers the data up to its last complete line.');
  if (m.meta.interrupted) notes.push('The run was interrupted before its planned end: figures cover the part that ran.');
  if (m.meta.cardinalityCapped) notes.push('Too many distinct tag sets: further ones were folded together; per-tag figures are partial.');
  const bad = m.meta.files.reduce((n, f) => n + f.badLines, 0);
  if (bad > 0) notes.push(`${bad} line(s) were not k6 JSON and were skipped.`);
  const disagree = m.thresholds.filter((t) => t.k6Ok !== undefined && t.k6Ok !== t.ok);
  if (disagree.length > 0 && m.meta.files.length === 1)
    notes.push(
      `k6 judged ${disagree.length} threshold(s) differently (percentiles here are within ${m.meta.percentileRelativeError * 100} %): ${disagree.map((t) => `${t.metric} ${t.expression}`).join(', ')}.`,
    );
  return notes;
}

/** The header's cells: the scenario, runHeader's (target, size, profile, load, flags), when, how long, engine, commit, inputs. */
function metaCells(m: RunModel): [string, string][] {
  const started = m.meta.startedAt ?? (m.meta.firstTime > 0 ? new Date(m.meta.firstTime).toISOString() : '–');
  return [
    ['scenario', m.meta.scenario ?? '–'],
    ...runHeader(m),
    ['started', started],
    ['duration', `${fmtNum(m.meta.durationSec, 1)} s`],
    ['engine', m.meta.engine ? `${m.meta.engine.name ?? ''} ${m.meta.engine.version ?? ''}` : '–'],
    ['git', m.meta.gitSha?.slice(0, 12) ?? '–'],
    ['inputs', m.meta.files.map((f) => `${f.path.split('/').pop() ?? ''} (${f.points} samples)`).join(', ')],
  ];
}

function thresholdCells(m: RunModel): string[][] {
  return m.thresholds.map((t) => [
    badge(t.ok),
    `<code>${h(t.metric)}</code>`,
    `<code>${h(t.expression)}</code>`,
    t.problem !== undefined
      ? h(t.problem)
      : t.noData === true
        ? 'no data (not evaluated, as in k6)'
        : h(fmtValue(valueKindOf(m.metrics, t.metric), t.aggregation, t.observed)),
    t.k6Ok === undefined ? '<span class="muted">–</span>' : badge(t.k6Ok),
  ]);
}

/** One row per endpoint, its name with an SLO badge when thresholds (or the run's error-rate limits) judge it. */
function endpointCells(m: RunModel): string[][] {
  const errorLimits = overallErrorLimits(m.thresholds);
  return m.endpoints.map((e) => {
    const slos = thresholdsOfEndpoint(m.thresholds, e);
    // The badge judges errors too: the run's own error-rate limits (http_req_failed without tags) hold per endpoint.
    const errorsOk = e.phase !== undefined || errorLimits.every((t) => compare(e.errorRate, t.op, t.value));
    const judged = slos.length > 0 || (e.phase === undefined && errorLimits.length > 0);
    const ok = slos.every((t) => t.ok) && errorsOk;
    const label = ok ? 'SLO ok' : !errorsOk && slos.every((t) => t.ok) ? `SLO fail: ${fmtPct(e.errorRate)} errors` : 'SLO fail';
    return [
      `<span title="${h(e.key)}">${h(`${e.method} ${e.name}`)}</span>${e.phase !== undefined ? ` <span class="muted">[${e.phase}]</span>` : ''}${e.endpoint !== undefined ? ` <span class="muted">[${h(e.endpoint)}]</span>` : ''}${judged ? ` ${badge(ok, label)}` : ''}`,
      fmtInt(e.count),
      `${fmtNum(e.rps)}/s`,
      e.errorRate > 0 ? `<b style="color:var(--bad)">${fmtPct(e.errorRate)}</b>` : fmtPct(e.errorRate),
      fmtMs(e.avg),
      fmtMs(e.p50),
      fmtMs(e.p90),
      fmtMs(e.p95),
      fmtMs(e.p99),
      fmtMs(e.max),
    ];
  });
}

function checkCells(m: RunModel): string[][] {
  return m.checks.map((c) => {
    const total = c.passes + c.fails;
    return [
      h(c.group === '' ? c.name : `${c.group.replace(/^::/, '')} › ${c.name}`),
      badge(c.fails === 0, c.fails === 0 ? 'all pass' : `${c.fails} failed`),
      String(c.passes),
      String(c.fails),
      fmtPct(total === 0 ? 0 : c.passes / total),
    ];
  });
}

/** One section per metric panel: its metrics' values and a place for its charts. */
function panelSections(m: RunModel): string {
  return m.panels
    .map((p) => {
      const rows = m.metrics
        .filter((x) => p.metrics.includes(x.name))
        .map((x) => [`<code>${h(x.name)}</code>`, x.type, h(describeValues(x))]);
      return `<section><h2>${h(p.title)}</h2>${table(['metric', 'type', 'values'], rows, 3)}<div class="charts" id="panel-${h(p.id)}"></div></section>`;
    })
    .join('');
}

/** The soak analysis: one row per fitted signal (slope, confidence interval, budget, verdict); empty without one. */
function soakSection(soak: SoakResult | undefined): string {
  if (!soak) return '';
  const rows = soak.signals.map((s) => [
    `<code>${h(s.metric)}</code>`,
    s.fit ? `${fmtNum(s.fit.slopePerHour, 3)} ${h(s.unit)}/h` : '–',
    s.fit ? `${fmtNum(s.fit.ciLow, 3)} … ${fmtNum(s.fit.ciHigh, 3)}` : '–',
    s.budget !== undefined ? `${fmtNum(s.budget)} ${h(s.unit)}/h` : '<span class="muted">no budget</span>',
    s.verdict === 'breached' || s.verdict === 'within'
      ? badge(s.verdict === 'within', s.verdict)
      : `<span class="b muted">${s.verdict === 'no budget' ? 'info' : s.verdict}</span>`,
    s.fit ? `${s.fit.points} pts, r² ${s.fit.r2.toFixed(2)}` : h(s.note),
  ]);
  return `<section id="soak"><h2>Soak analysis</h2><p class="muted">Linear fit after ${fmtNum(soak.warmupSec, 0)} s of warm-up; 95 % confidence interval; a budget is breached when the slope exceeds it and the growth is significant.</p>${table(['signal', 'slope', '95 % CI', 'budget', 'verdict', 'fit'], rows)}<div class="charts" id="charts-soak"></div></section>`;
}

/** The run's machine-noise figures against the baseline runs' (one sentence; empty when neither side recorded any). */
function noiseLine(c: Comparison): string {
  const figs = c.noise?.figures ?? [];
  if (figs.length === 0) return '';
  return ` Machine: ${figs.map((f) => `${h(describeNoise(f))}${f.busier ? ' <b>busier</b>' : ''}`).join('; ')}.`;
}

/** The baseline comparison, worst figures first; empty without a baseline. */
function comparisonSection(c: Comparison | undefined): string {
  if (!c) return '';
  const cls = (s: string): string =>
    s === 'fail' ? 'bad' : s === 'warn' || s === 'inconclusive' ? 'warn' : s === 'improved' || s === 'ok' ? 'ok' : 'muted';
  const rows = worstFirst(c.rows).map((x) => [
    h(figureLabel(x)),
    fmtNum(x.baseline, 4),
    fmtNum(x.current, 4),
    x.change === null ? '–' : h(describeRow(x).replace(/^.* \(/, '(')),
    x.p === undefined ? '–' : x.p.toPrecision(2),
    `<span class="b ${cls(x.status)}">${x.status}</span>${x.note !== undefined ? ` <span class="muted">${h(x.note)}</span>` : ''}`,
  ]);
  const runs = c.baselineRuns > 1 ? ` (median of ${c.baselineRuns} runs)` : '';
  return `<section id="comparison"><h2>Comparison with the baseline</h2><p>Baseline <code>${h(c.baselineSource)}</code>${runs}: <b>${c.verdict}</b>. A judged figure (request latency p50/p95/p99, error rates, throughput, metrics with thresholds) fails when it is more than ${c.failPct} % worse, by more than ${c.floorMs} ms (or ${c.floorRatio * 100} percentage points), the change is significant (one-sided p &lt; ${c.alpha}, rank test over the run's time windows or a proportion test) and, with 3 or more baseline runs, beyond their spread; warns over ${c.warnPct} %. A latency tail (p95/p99) that would fail on a machine busier than during every baseline run is <i>inconclusive</i> (exit 6), not failed.${noiseLine(c)} Sub-timings, avg and metrics without thresholds are <i>info</i>: shown, never failing.</p>${table(['figure', 'baseline', 'now', 'change', 'p', 'status'], rows, 1)}</section>
`;
}

export function renderHtml(r: FullReport): string {
  const m = r.model;
  const up = uplot();
  const v = r.verdict;
  const title = `agentload ${m.meta.scenario ?? 'run'}: ${v.verdict.toUpperCase()}`;
  // On a soak run the soak analysis is the answer: it goes near the top, under the banner.
  const soakRun = /^soak([-_]|$)/.test(m.meta.scenario ?? '');
  const soak = soakSection(r.soak);
  const data: PageData = {
    series: m.series,
    panels: m.panels,
    soak: r.soak ? { fromSec: r.soak.fromSec, signals: r.soak.signals } : null,
    ...chartLines(r),
    faults: faultMarks(m.faults),
  };

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${h(title)}</title><style>${up.css}${CSS}</style></head>
<body><main>
<h1>${h(title)}</h1>
<div class="banner ${v.verdict}"><span class="v">${v.verdict.toUpperCase()}</span><span>exit code ${v.exitCode}</span><span>thresholds ${v.thresholds.total - v.thresholds.failed}/${v.thresholds.total} passed</span>${v.reasons.length > 0 ? `<ul>${v.reasons.map((x) => `<li>${h(x)}</li>`).join('')}</ul>` : ''}</div>
${runNotes(m)
  .map((n) => `<div class="note">${h(n)}</div>`)
  .join('\n')}
<div class="meta" id="run-header">${metaCells(m)
    .map(([k, val]) => `<div><b>${h(k)}</b>${h(val)}</div>`)
    .join('')}</div>
${soakRun ? soak : ''}
<section><h2>Thresholds</h2>${table(['', 'metric', 'threshold', 'observed', 'k6 said'], thresholdCells(m), 3)}</section>
<section><h2>Endpoints</h2>${table(['endpoint', 'count', 'req/s', 'errors', 'avg', 'p50', 'p90', 'p95', 'p99', 'max'], endpointCells(m))}<p class="muted">Percentiles within ${m.meta.percentileRelativeError * 100} % of k6's exact values.</p></section>
<section><h2>Over time</h2><div class="charts" id="charts-main"></div></section>
${faultsSectionHtml(m.faults, m.meta.firstTime)}
<section id="endpoint-charts"><h2>Latency per endpoint</h2><p class="muted">Per endpoint: p50/p95/p99 per ${fmtNum(m.series.bucketSec, 0)} s, and the run's latency distribution (the latency at each percentile, tail stretched: p50, p90, p99, p99.9 evenly apart); dashed red: the thresholds on that endpoint; dotted grey: the baseline's p95 and p99.</p><div class="charts" id="charts-endpoints"></div></section>
<section><h2>Checks</h2>${table(['check', '', 'passed', 'failed', 'pass rate'], checkCells(m), 2)}</section>
<section><h2>Errors by status and type</h2>${table(
    ['endpoint', 'status', 'error code', 'count'],
    m.errors.map((e) => [h(e.endpoint), h(e.status), h(e.errorCode || '–'), String(e.count)]),
    3,
  )}</section>
${panelSections(m)}
${soakRun ? '' : soak}
${comparisonSection(r.comparison)}
<section><h2>All metrics</h2>${table(
    ['metric', 'type', 'values'],
    m.metrics.map((x) => [`<code>${h(x.name)}</code>`, x.type, h(describeValues(x))]),
    3,
  )}</section>
<p class="muted">Generated ${h(r.generatedAt)} by agentload from k6 output.</p>
</main>
<script id="report-data" type="application/json">${inlineJson(data)}</script>
<script>${up.js}</script>
<script>${clientJs()}</script>
</body></html>
`;
}
