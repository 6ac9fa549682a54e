/**
 * History: reports/index.html lists the runs kept under reports/ per scenario with trend
 * sparklines (p95 latency, error rate), and runs older than the retention (90 days by default)
 * are removed. Only folders holding an agentload verdict.json are ever touched; baselines/ never.
 */

import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeHtml as h, fmtMs, fmtPct } from './format.ts';

export const DEFAULT_RETENTION_DAYS = 90;

/** The history's name for the bundled platform's runs, whatever port each got. */
const BUNDLED_TARGET = 'bundled platform';

export interface HistoryEntry {
  dir: string;
  scenario: string;
  /**
   * The target's host (verdict.json run.target), or `bundled platform` for the platform the run command started
   * (a new loopback port each run: one series all the same); '' when unknown (older runs).
   */
  target: string;
  startedAt: string;
  verdict: string;
  exitCode: number;
  p95: number | null;
  errorRate: number | null;
  rps: number | null;
}

export interface HistoryResult {
  entries: HistoryEntry[];
  removed: string[];
  indexFile: string;
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

async function readEntry(root: string, dir: string): Promise<HistoryEntry | undefined> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(join(root, dir, 'verdict.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const v = doc as {
    kind?: unknown;
    verdict?: unknown;
    exitCode?: unknown;
    run?: { scenario?: unknown; startedAt?: unknown; target?: unknown; targetKind?: unknown };
    headline?: Record<string, unknown>;
  };
  if (v.kind !== 'agentload-verdict') return undefined;
  return {
    dir,
    scenario: typeof v.run?.scenario === 'string' ? v.run.scenario : dir.replace(/-\d{8}-\d{6}(-\d+)?$|-\d[\dT:.-]*Z?$/, ''),
    target: v.run?.targetKind === 'bundled' ? BUNDLED_TARGET : typeof v.run?.target === 'string' ? v.run.target : '',
    startedAt: typeof v.run?.startedAt === 'string' ? v.run.startedAt : '',
    verdict: typeof v.verdict === 'string' ? v.verdict : '?',
    exitCode: num(v.exitCode) ?? -1,
    p95: num(v.headline?.p95),
    errorRate: num(v.headline?.errorRate),
    rps: num(v.headline?.rps),
  };
}

function sparkline(values: readonly (number | null)[], w = 120, hgt = 24): string {
  const pts = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (pts.length < 2) return '';
  const ys = pts.map((p) => p[1]);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const n = values.length - 1;
  const path = pts
    .map(
      ([i, y]) =>
        `${((i / n) * (w - 2) + 1).toFixed(1)},${(hi === lo ? hgt / 2 : hgt - 2 - ((y - lo) / (hi - lo)) * (hgt - 4)).toFixed(1)}`,
    )
    .join(' ');
  return `<svg width="${w}" height="${hgt}" viewBox="0 0 ${w} ${hgt}" role="img"><polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${path}"/></svg>`;
}

/** Applies retention and rewrites `root`/index.html. */
export async function updateHistory(root: string, o: { retentionDays?: number; now?: Date } = {}): Promise<HistoryResult> {
  const envDays = Number(process.env.AGENTLOAD_REPORT_RETENTION_DAYS);
  const days = o.retentionDays ?? (Number.isFinite(envDays) && envDays > 0 ? envDays : DEFAULT_RETENTION_DAYS);
  const now = o.now ?? new Date();
  const names = await readdir(root, { withFileTypes: true });
  const entries: HistoryEntry[] = [];
  const removed: string[] = [];
  for (const d of names) {
    if (!d.isDirectory() || d.name === 'baselines') continue;
    const e = await readEntry(root, d.name);
    if (!e) continue;
    const t = Date.parse(e.startedAt);
    if (Number.isFinite(t) && now.getTime() - t > days * 86400000) {
      await rm(join(root, d.name), { recursive: true, force: true });
      removed.push(d.name);
      continue;
    }
    entries.push(e);
  }
  entries.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  // One trend per scenario and target: runs against another system are not the same series.
  const byScenario = new Map<string, HistoryEntry[]>();
  for (const e of entries) {
    const key = `${e.scenario}\u0000${e.target}`;
    byScenario.set(key, [...(byScenario.get(key) ?? []), e]);
  }
  const sections = [...byScenario.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([, runs]) => {
      const scenario = runs[0]?.scenario ?? '';
      const target = runs[0]?.target ?? '';
      const rows = [...runs]
        .reverse()
        .map(
          (e) =>
            `<tr><td><a href="${encodeURIComponent(e.dir)}/report.html">${h(e.startedAt || e.dir)}</a></td><td class="t">${h(e.target || '–')}</td><td><span class="b ${e.verdict}">${h(e.verdict)}</span></td><td>${e.exitCode}</td><td>${fmtMs(e.p95)}</td><td>${fmtPct(e.errorRate)}</td><td>${e.rps === null ? '–' : e.rps.toFixed(1)}</td></tr>`,
        )
        .join('');
      return `<section data-scenario="${h(scenario)}" data-target="${h(target)}"><h2>${h(scenario)} <small>${target !== '' ? `on ${h(target)}, ` : ''}${runs.length} run(s)</small></h2>
<div class="spark"><span>p95 ${sparkline(runs.map((r) => r.p95))}</span><span>errors ${sparkline(runs.map((r) => r.errorRate))}</span><span>req/s ${sparkline(runs.map((r) => r.rps))}</span></div>
<div class="tw"><table><thead><tr><th>run</th><th class="t">target</th><th>verdict</th><th>exit</th><th>p95</th><th>errors</th><th>req/s</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
    })
    .join('\n');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>agentload runs</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:0}main{max-width:1000px;margin:0 auto;padding:12px}table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #d8dde3;text-align:right;white-space:nowrap}th:first-child,td:first-child,.t{text-align:left}.tw{overflow-x:auto}.spark{display:flex;flex-wrap:wrap;gap:16px;margin:6px 0}.b{padding:1px 7px;border-radius:10px;color:#fff;font-size:12px}.b.pass{background:#1a7f37}.b.fail{background:#cf222e}.b.warn{background:#9a6700}.b.inconclusive{background:#9a6700}small{color:#5b6470;font-weight:400}</style></head>
<body><main><h1>agentload runs</h1><p>${entries.length} run(s) kept (retention ${days} days).</p>
${sections || '<p>No runs yet.</p>'}
</main></body></html>
`;
  const indexFile = join(root, 'index.html');
  await writeFile(indexFile, html);
  return { entries, removed, indexFile };
}
