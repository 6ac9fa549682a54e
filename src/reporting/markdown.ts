/** summary.md: short, for CI job summaries and PR comments. */

import { describeNoise, describeRow, worstFirst } from './compare.ts';
import type { FullReport } from './types.ts';
import { faultsMarkdown } from './faults.ts';
import { fmtInt, fmtMs, fmtNum, fmtPct, fmtValue, mdCell, mdCode } from './format.ts';
import { runHeader, valueKindOf } from './run-header.ts';

const ICON = { pass: '✅', warn: '⚠️', inconclusive: '❔', fail: '❌' } as const;

export function renderMarkdown(r: FullReport, maxRows = 10): string {
  const m = r.model;
  const out: string[] = [];
  const title = m.meta.scenario ?? 'run';
  out.push(`## ${ICON[r.verdict.verdict]} agentload ${mdCell(title)}: ${r.verdict.verdict.toUpperCase()} (exit ${r.verdict.exitCode})`);
  out.push('');
  const dur = `${fmtNum(m.meta.durationSec, 1)} s`;
  const reqs = m.metrics.find((x) => x.name === 'http_reqs')?.values.count;
  out.push(
    `Duration ${dur}${reqs !== undefined ? `, ${fmtInt(reqs)} HTTP requests` : ''}, thresholds ${r.verdict.thresholds.total - r.verdict.thresholds.failed}/${r.verdict.thresholds.total} passed.`,
  );
  out.push(
    '',
    runHeader(m)
      .map(([k, v]) => `${k} ${mdCell(v)}`)
      .join(' · '),
    '',
  );
  for (const reason of r.verdict.reasons) out.push(`- ${mdCell(reason)}`);
  out.push('');
  if (m.thresholds.length > 0) {
    const rows = [...m.thresholds].sort((a, b) => Number(a.ok) - Number(b.ok)).slice(0, maxRows);
    out.push('| | metric | threshold | observed |', '|---|---|---|---|');
    for (const t of rows)
      out.push(
        `| ${t.ok ? '✅' : '❌'} | ${mdCode(t.metric)} | ${mdCode(t.expression)} | ${t.problem !== undefined ? mdCell(t.problem) : t.noData === true ? 'no data (not evaluated, as in k6)' : mdCell(fmtValue(valueKindOf(m.metrics, t.metric), t.aggregation, t.observed))} |`,
      );
    if (m.thresholds.length > rows.length) out.push(`| | … ${m.thresholds.length - rows.length} more | | |`);
    out.push('');
  }
  if (m.endpoints.length > 0) {
    out.push('| endpoint | count | err % | p50 | p95 | p99 |', '|---|---:|---:|---:|---:|---:|');
    for (const e of m.endpoints.slice(0, maxRows))
      out.push(
        `| ${mdCell(`${e.method} ${e.name}${e.phase !== undefined ? ` [${e.phase}]` : ''}`)} | ${fmtInt(e.count)} | ${fmtPct(e.errorRate)} | ${fmtMs(e.p50)} | ${fmtMs(e.p95)} | ${fmtMs(e.p99)} |`,
      );
    if (m.endpoints.length > maxRows) out.push(`| … ${m.endpoints.length - maxRows} more | | | | | |`);
    out.push('');
  }
  out.push(...faultsMarkdown(m.faults, m.meta.firstTime));
  if (r.comparison) {
    const rows = worstFirst(r.comparison.rows);
    const bad = rows.filter((x) => x.status === 'fail' || x.status === 'inconclusive' || x.status === 'warn');
    const better = rows.filter((x) => x.status === 'improved');
    const runs = r.comparison.baselineRuns > 1 ? `, median of ${r.comparison.baselineRuns} runs` : '';
    out.push(
      `**Baseline** (${mdCell(r.comparison.baselineSource)}${runs}): ${r.comparison.verdict}, ${bad.length} worse, ${better.length} improved.`,
    );
    const busier = (r.comparison.noise?.figures ?? []).filter((f) => f.busier);
    if (busier.length > 0)
      out.push(
        '',
        `The machine was busier than during the baseline (${mdCell(busier.map(describeNoise).join('; '))}): a latency tail that would have failed is inconclusive (exit 6), not failed.`,
      );
    if (bad.length > 0) {
      out.push('');
      for (const x of bad.slice(0, maxRows))
        out.push(`- ${x.status === 'fail' ? '❌' : x.status === 'inconclusive' ? '❔ inconclusive:' : '⚠️'} ${mdCell(describeRow(x))}`);
    }
    if (better.length > 0) {
      out.push('', 'Improved:');
      for (const x of better.slice(0, maxRows)) out.push(`- ${mdCell(describeRow(x))}`);
    }
    out.push('');
  }
  if (r.soak) {
    out.push('**Soak**');
    for (const s of r.soak.signals) out.push(`- ${s.breached ? '❌' : '·'} ${mdCell(s.metric)}: ${mdCell(s.note)}`);
    out.push('');
  }
  return out.join('\n') + '\n';
}
