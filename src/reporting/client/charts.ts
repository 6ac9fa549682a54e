/**
 * Runs in report.html: draws the charts from the inlined data (PageData) with uPlot, the page's only
 * library. Type-checked against the DOM (src/reporting/client/tsconfig.json) and linted like the rest;
 * src/reporting/html.ts compiles it with esbuild when it renders a report and inlines the result, so the
 * page stays one file that works offline.
 */

import type uPlotType from 'uplot';
import type { ChartLine, Column, PageData } from './page-data.ts';

/** uPlot's IIFE build (inlined before this script) defines it as a global. */
declare const uPlot: typeof uPlotType;

interface ChartSeries {
  label: string;
  values: Column | null;
  color?: string;
  dash?: number[];
  /** Join across empty buckets (sampled values). */
  span?: boolean;
  /** A reference line (threshold, baseline): thin, always joined. */
  line?: boolean;
}

interface ChartOptions {
  unit?: string;
  kind?: string;
  /** Points only, no lines. */
  scatter?: boolean;
  /** An x axis that is not time (a distribution, a scatter). */
  x?: { values: number[]; label: string; ticks?: (x: number) => string };
}

const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#1b7c83', '#57606a'];
/** Percentiles past this are left off the distribution charts. */
const P_MAX = 0.999;

const D = JSON.parse(document.getElementById('report-data')?.textContent ?? 'null') as PageData;
const S = D.series;
const T = S.t;
const charts: [uPlotType, HTMLElement][] = [];
const MARKS = D.faults;

// Every fault as a dashed vertical line with its label, on every time chart.
function faultMarks(): uPlotType.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const r = window.devicePixelRatio || 1;
          let n = 0;
          ctx.save();
          ctx.strokeStyle = '#9a6700';
          ctx.fillStyle = '#9a6700';
          ctx.lineWidth = r;
          ctx.setLineDash([4 * r, 3 * r]);
          ctx.font = `${10 * r}px sans-serif`;
          MARKS.forEach((f, i) => {
            const x = u.valToPos(f.t, 'x', true);
            if (!(x >= u.bbox.left && x <= u.bbox.left + u.bbox.width)) return;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(f.label, x + 3 * r, u.bbox.top + (11 + (i % 3) * 11) * r);
            n++;
          });
          ctx.restore();
          u.root.setAttribute('data-fault-marks', String(n));
        },
      ],
    },
  };
}

function col(metric: string, field: string): Column | null {
  return S.metrics[metric]?.[field] ?? null;
}

function add(container: HTMLElement | null, title: string, all: ChartSeries[], opts: ChartOptions = {}): void {
  const X = opts.x ? opts.x.values : T;
  const series = all.filter((s): s is ChartSeries & { values: Column } => s.values !== null);
  if (container === null || series.length === 0 || X.length === 0) return;
  const box = document.createElement('div');
  box.className = 'chart';
  if (opts.kind !== undefined) box.setAttribute('data-kind', opts.kind);
  const hd = document.createElement('h3');
  hd.textContent = title;
  box.appendChild(hd);
  const el = document.createElement('div');
  box.appendChild(el);
  container.appendChild(box);
  let xs: number[] = X;
  let vals: Column[] = series.map((s) => s.values);
  // One x value: draw it as a short flat segment with its point shown (uPlot cannot scale one x value).
  const one = X.length === 1;
  const x0 = X[0] ?? 0;
  if (one) {
    xs = [x0, x0 + (opts.x ? Math.max(1, Math.abs(x0) * 0.1) : S.bucketSec)];
    vals = vals.map((v) => [v[0] ?? null, v[0] ?? null]);
  }
  const ticks = opts.x?.ticks;
  const xAxis: uPlotType.Axis = opts.x
    ? { label: opts.x.label, values: ticks ? (_u: uPlotType, tk: number[]) => tk.map(ticks) : undefined }
    : {};
  const o: uPlotType.Options = {
    width: Math.max(260, el.clientWidth || 500),
    height: 220,
    scales: { x: { time: !opts.x } },
    legend: { live: true },
    axes: [xAxis, { label: opts.unit ?? '', size: 60 }],
    series: [
      { label: opts.x ? opts.x.label : 'time' },
      ...series.map((s, i): uPlotType.Series => ({
        label: s.label,
        stroke: s.color ?? COLORS[i % COLORS.length],
        width: s.line === true ? 1 : 1.5,
        dash: s.dash,
        spanGaps: s.span === true || s.line === true,
        paths: opts.scatter === true && s.line !== true ? () => null : undefined,
        points:
          opts.scatter === true && s.line !== true
            ? { show: true, size: 5, fill: s.color ?? COLORS[i % COLORS.length] }
            : { show: one && s.line !== true },
      })),
    ],
    plugins: MARKS.length > 0 && !opts.x ? [faultMarks()] : [],
  };
  const u = new uPlot(o, [xs, ...vals] as uPlotType.AlignedData, el);
  charts.push([u, el]);
}

/** A horizontal line across the chart: a threshold (red, dashed) or the baseline (grey, dotted). */
function hline(l: ChartLine, xs?: number[]): ChartSeries {
  return {
    label: l.label,
    values: (xs ?? T).map(() => l.value),
    color: l.kind === 'threshold' ? '#cf222e' : '#57606a',
    dash: l.kind === 'threshold' ? [6, 4] : [2, 3],
    line: true,
  };
}
// A percentile p (0..1) on a tail-stretching axis: x = -log10(1 - p), so p50, p90, p99, p99.9 are evenly apart.
const px = (p: number): number => -Math.log(1 - Math.min(p, P_MAX)) / Math.LN10;
const pLabel = (x: number): string => {
  const p = (1 - Math.pow(10, -x)) * 100;
  return `p${p >= 99.5 ? p.toFixed(1) : p.toFixed(0)}`;
};
// Average busy VUs per bucket (Little's law: iterations' time in the bucket / its length): right for
// arrival-rate runs, where the once-a-second vus gauge mostly catches VUs between iterations.
function busyVUs(): Column | null {
  const avg = col('iteration_duration', 'avg');
  const n = col('iteration_duration', 'count');
  if (!avg || !n) return null;
  return avg.map((a, i) => {
    const c = n[i];
    return a === null || c === null || c === undefined ? null : (a * c) / (S.bucketSec * 1000);
  });
}
// Pairs (requests/s, p95) per bucket, in order of the rate: the system's latency as the load rises.
function rateVsLatency(): [number, number, number | null][] | null {
  const rate = col('http_reqs', 'rate');
  const p95 = col('http_req_duration', 'p95');
  const p50 = col('http_req_duration', 'p50');
  if (!rate || !p95) return null;
  const pts: [number, number, number | null][] = [];
  rate.forEach((r, i) => {
    const p = p95[i];
    if (r !== null && p !== null && p !== undefined) pts.push([r, p, p50 ? (p50[i] ?? null) : null]);
  });
  pts.sort((a, b) => a[0] - b[0]);
  return pts.length > 0 ? pts : null;
}
const bySec = (arr: Column | null): Column | null => arr && arr.map((v) => (v === null ? null : v / S.bucketSec));

/** The run's charts over time: latency, requests and errors, VUs, latency against rate, checks, iterations. */
function drawOverall(): void {
  const main = document.getElementById('charts-main');
  add(
    main,
    'HTTP latency percentiles (ms)',
    [
      { label: 'p50', values: col('http_req_duration', 'p50') },
      { label: 'p90', values: col('http_req_duration', 'p90') },
      { label: 'p95', values: col('http_req_duration', 'p95') },
      { label: 'p99', values: col('http_req_duration', 'p99') },
      ...D.lines.map((l) => hline(l)),
    ],
    { unit: 'ms' },
  );
  add(
    main,
    'Requests and errors per second',
    [
      { label: 'requests/s', values: col('http_reqs', 'rate') },
      { label: 'failed/s', values: bySec(col('http_req_failed', 'passes')), color: '#cf222e' },
    ],
    { unit: '/s' },
  );
  add(
    main,
    'Virtual users',
    [
      { label: 'vus (sampled)', values: col('vus', 'value'), span: true },
      { label: 'busy VUs (avg)', values: busyVUs(), span: true, color: '#8250df' },
      { label: 'vus_max', values: col('vus_max', 'value'), span: true, dash: [4, 4] },
    ],
    { unit: 'VUs', kind: 'vus' },
  );
  const rl = rateVsLatency();
  if (rl)
    add(
      main,
      `Latency against request rate (per ${S.bucketSec} s)`,
      [
        { label: 'p95 (ms)', values: rl.map((x) => x[1]) },
        { label: 'p50 (ms)', values: rl.map((x) => x[2]) },
      ],
      { unit: 'ms', scatter: true, kind: 'rate-latency', x: { values: rl.map((x) => x[0]), label: 'requests/s' } },
    );
  add(
    main,
    'Checks per bucket',
    [
      { label: 'passed', values: col('checks', 'passes'), color: '#1a7f37' },
      { label: 'failed', values: col('checks', 'fails'), color: '#cf222e' },
    ],
    { unit: 'checks' },
  );
  add(main, 'Iterations per second', [{ label: 'iterations/s', values: col('iterations', 'rate') }], { unit: '/s' });
}

/** Per endpoint: latency over time and its distribution, with its threshold and baseline lines. */
function drawEndpoints(): void {
  const ec = document.getElementById('charts-endpoints');
  D.endpoints.forEach((e) => {
    add(
      ec,
      `${e.label} (ms)`,
      [
        { label: 'p50', values: e.series.p50 },
        { label: 'p95', values: e.series.p95 },
        { label: 'p99', values: e.series.p99 },
        ...e.lines.map((l) => hline(l)),
      ],
      { unit: 'ms', kind: 'endpoint-time' },
    );
    const dist = e.dist;
    if (dist) {
      const keep = dist.p.map((p, i) => (p <= P_MAX ? i : -1)).filter((i) => i >= 0);
      const xs = keep.map((i) => px(dist.p[i] ?? 0));
      add(
        ec,
        `${e.label}: latency distribution (ms)`,
        [{ label: 'latency', values: keep.map((i) => dist.ms[i] ?? null) }, ...e.lines.map((l) => hline(l, xs))],
        { unit: 'ms', kind: 'endpoint-distribution', x: { values: xs, label: 'percentile', ticks: pLabel } },
      );
    }
  });
}

/** One chart per metric of each protocol panel. */
function drawPanels(): void {
  D.panels.forEach((p) => {
    const c = document.getElementById(`panel-${p.id}`);
    if (!c) return;
    p.metrics.forEach((name) => {
      const m = S.metrics[name];
      if (!m) return;
      if (m.p95)
        add(c, `${name} (p50/p95)`, [
          { label: 'p50', values: m.p50 ?? null },
          { label: 'p95', values: m.p95 },
        ]);
      else if (m.passes && m.rate) add(c, `${name} (rate)`, [{ label: 'rate', values: m.rate }]);
      else if (m.rate) add(c, `${name} (per second)`, [{ label: '/s', values: m.rate }]);
      else if (m.value) add(c, name, [{ label: 'value', values: m.value, span: true }]);
    });
  });
}

/** Soak signals with their fitted lines. */
function drawSoak(): void {
  const soak = D.soak;
  if (soak) {
    const sc = document.getElementById('charts-soak');
    soak.signals.forEach((s) => {
      const column = S.metrics[s.metric]?.[s.field];
      if (!column) return;
      const scale = s.unit === 'MB' ? 1 / 1048576 : 1;
      const vals = column.map((v) => (v === null ? null : v * scale));
      const f = s.fit;
      const fit = f ? T.map((t) => (t < soak.fromSec ? null : f.intercept + (f.slopePerHour / 3600) * (t - soak.fromSec))) : null;
      add(
        sc,
        `${s.metric} (${s.unit})`,
        [
          { label: s.field, values: vals, span: true },
          { label: 'fit', values: fit, color: '#cf222e', dash: [6, 4] },
        ],
        { unit: s.unit },
      );
    });
  }
}

function resize(): void {
  charts.forEach(([u, el]) => {
    const w = el.clientWidth;
    if (w > 0) u.setSize({ width: w, height: 220 });
  });
}
drawOverall();
drawEndpoints();
drawPanels();
drawSoak();
window.addEventListener('resize', resize);
window.addEventListener('beforeprint', resize);
resize();
document.documentElement.setAttribute('data-charts', String(charts.length));
