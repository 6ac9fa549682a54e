/** junit.xml: one testcase per threshold, per endpoint SLO, per soak budget and per baseline figure. */

import { describeRow } from './compare.ts';
import type { FullReport } from './types.ts';
import type { EndpointRow, ThresholdRow } from './model.ts';
import { valueKindOf } from './run-header.ts';
import { parseMetricKey } from '../../engine/metrics/submetric.ts';
import { escapeXml, fmtMs, fmtNum, fmtPct, fmtValue } from './format.ts';

interface Case {
  classname: string;
  name: string;
  failure?: { message: string; body: string; type?: string };
  skipped?: string;
  props?: Record<string, string>;
}

/** Thresholds whose submetric filter names this endpoint (by `name`, `url` or `endpoint` tag). */
export function thresholdsOfEndpoint(rows: readonly ThresholdRow[], e: EndpointRow): ThresholdRow[] {
  // setup()/teardown() requests are not the load an endpoint objective is about.
  if (e.phase !== undefined) return [];
  const fullName = e.key.slice(e.method.length + 1);
  return rows.filter((r) => {
    const parsed = parseMetricKey(r.metric);
    if (!parsed.ok) return false;
    const tags = parsed.key.submetric?.tags ?? {};
    if (tags.name === undefined && tags.endpoint === undefined && tags.url === undefined) return false;
    if (tags.name !== undefined && tags.name !== fullName) return false;
    if (tags.url !== undefined && tags.url !== fullName) return false;
    if (tags.endpoint !== undefined && tags.endpoint !== e.endpoint) return false;
    if (tags.method !== undefined && tags.method !== e.method) return false;
    return true;
  });
}

function suite(name: string, cases: readonly Case[]): string {
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const body = cases
    .map((c) => {
      const props = c.props
        ? `\n      <properties>${Object.entries(c.props)
            .map(([k, v]) => `<property name="${escapeXml(k)}" value="${escapeXml(v)}"/>`)
            .join('')}</properties>`
        : '';
      const fail = c.failure
        ? `\n      <failure message="${escapeXml(c.failure.message)}" type="${escapeXml(c.failure.type ?? 'threshold')}">${escapeXml(c.failure.body)}</failure>`
        : '';
      const skip = c.skipped !== undefined ? `\n      <skipped message="${escapeXml(c.skipped)}"/>` : '';
      return `    <testcase classname="${escapeXml(c.classname)}" name="${escapeXml(c.name)}" time="0">${props}${fail}${skip}\n    </testcase>`;
    })
    .join('\n');
  return `  <testsuite name="${escapeXml(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}">\n${body}\n  </testsuite>`;
}

/** The `run` suite: one testcase for the run as a whole, failing whenever the verdict is fail (whatever the reason). */
function runCase(scenario: string, exitCode: number, failed: boolean, reasons: readonly string[]): Case {
  const c: Case = { classname: 'run', name: `${scenario === '' ? 'run' : scenario}: verdict`, props: { exitCode: String(exitCode) } };
  if (failed) {
    const message = reasons.length > 0 ? reasons.join('; ') : `the run failed with exit code ${String(exitCode)}`;
    c.failure = { message, body: reasons.join('\n') || message, type: 'run' };
  }
  return c;
}

function document(name: string, suites: readonly string[]): string {
  const all = suites.join('\n');
  const tests = (all.match(/<testcase /g) ?? []).length;
  const failures = (all.match(/<failure /g) ?? []).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${escapeXml(`agentload ${name}`.trim())}" tests="${tests}" failures="${failures}" errors="0">\n${all}\n</testsuites>\n`;
}

/** junit.xml for a run that ended before it had outputs to report on: one failing `run` testcase. */
export function renderRunFailureJUnit(scenario: string, exitCode: number, reason: string): string {
  return document(scenario, [suite('run', [runCase(scenario, exitCode, true, [`exit code ${String(exitCode)}: ${reason}`])])]);
}

/** A threshold's observed value with its unit (`120.5 ms`, `2.00 %`, `1500`). */
function observed(r: FullReport, t: ThresholdRow): string {
  return fmtValue(valueKindOf(r.model.metrics, t.metric), t.aggregation, t.observed);
}

export function renderJUnit(r: FullReport): string {
  const scenario = r.model.meta.scenario ?? '';
  const suites: string[] = [
    suite('run', [
      runCase(scenario, r.verdict.exitCode, r.verdict.verdict === 'fail' || r.verdict.verdict === 'inconclusive', r.verdict.reasons),
    ]),
  ];
  const th: Case[] = r.model.thresholds.map((t) => {
    const c: Case = {
      classname: `thresholds.${t.metric}`,
      name: `${t.metric}: ${t.expression}`,
      props: { observed: fmtNum(t.observed, 4) },
    };
    if (t.problem !== undefined) c.failure = { message: t.problem, body: t.problem };
    else if (t.noData === true) c.skipped = 'no data: the metric has no samples, so k6 does not evaluate its thresholds';
    else if (!t.ok)
      c.failure = {
        message: `${t.expression} crossed: observed ${observed(r, t)}`,
        body: `${t.metric} ${t.aggregation} = ${observed(r, t)}, threshold ${t.expression}`,
      };
    return c;
  });
  suites.push(suite('thresholds', th));
  const ep: Case[] = r.model.endpoints.map((e) => {
    const label = e.endpoint !== undefined ? `${e.method} ${e.name} [${e.endpoint}]` : `${e.method} ${e.name}`;
    const own = thresholdsOfEndpoint(r.model.thresholds, e);
    const failed = own.filter((t) => !t.ok);
    const c: Case = {
      classname: 'endpoints',
      name: label,
      props: {
        count: String(Math.round(e.count)),
        p95: fmtMs(e.p95),
        p99: fmtMs(e.p99),
        errorRate: fmtPct(e.errorRate),
        slos: own.map((t) => t.expression).join(', '),
      },
    };
    if (failed.length > 0)
      c.failure = {
        message: `SLO crossed: ${failed.map((t) => `${t.expression} (observed ${observed(r, t)})`).join(', ')}`,
        body: failed.map((t) => `${t.metric}: ${t.expression}`).join('\n'),
      };
    return c;
  });
  if (ep.length > 0) suites.push(suite('endpoints', ep));
  if (r.soak) {
    const sc: Case[] = r.soak.signals.map((s) => {
      const c: Case = { classname: 'soak', name: `${s.id}: ${s.metric}`, props: { note: s.note } };
      if (s.breached) c.failure = { message: s.note, body: s.note };
      return c;
    });
    suites.push(suite('soak', sc));
  }
  if (r.comparison) {
    const cc: Case[] = r.comparison.rows
      .filter((x) => x.stat !== '' && x.status !== 'info')
      .map((x) => {
        const c: Case = {
          classname: 'baseline',
          name: `${x.key} ${x.stat}`,
          props: { baseline: fmtNum(x.baseline, 4), current: fmtNum(x.current, 4), change: fmtPct(x.change, 1) },
        };
        if (x.status === 'fail')
          c.failure = {
            message: `${fmtPct(x.change, 1)} worse than the baseline (fails over ${r.comparison?.failPct ?? 10} % when significant)`,
            body: describeRow(x) + (x.p !== undefined ? ` p=${x.p.toPrecision(2)}` : ''),
          };
        if (x.status === 'inconclusive')
          c.failure = {
            message: 'inconclusive: the machine was busier than during the baseline',
            body: `${describeRow(x)} (${x.note ?? ''})`,
          };
        if (x.status === 'guarded') c.skipped = x.note ?? 'too few samples';
        return c;
      });
    suites.push(suite('baseline', cc));
  }
  return document(scenario, suites);
}
