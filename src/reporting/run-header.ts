/** What the writers print about a run: its header (target, size, profile, load, flags) and metric values with units. */

import { fmtValue, type ValueKind } from './format.ts';
import type { MetricRow, RunModel } from './model.ts';

/**
 * Arguments as the report may show them: `-e NAME=value` / `--env NAME=value` keep the name only (values may be
 * secrets; the run command masks them in run.json already, this holds for any run.json), URL credentials dropped.
 */
export function maskArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let envNext = false;
  for (const a of args) {
    const m = /^(-e|--env=?)(.*)$/.exec(a);
    let v = a;
    if (envNext) v = a.replace(/=.*$/s, '=***');
    else if (m && (m[2] ?? '') !== '') v = `${m[1] ?? ''}${(m[2] ?? '').replace(/=.*$/s, '=***')}`;
    envNext = m !== null && (m[2] ?? '') === '';
    out.push(v.replace(/\/\/[^/@\s]*@/g, '//'));
  }
  return out;
}

/**
 * The run's header: where the load went (host only), size and profile, how much load (VUs, request and
 * iteration rates) and the flags given to the run. `[label, value]` pairs, in the order shown.
 */
export function runHeader(m: RunModel): [string, string][] {
  const value = (name: string, stat: string): number | undefined => m.metrics.find((x) => x.name === name)?.values[stat];
  const out: [string, string][] = [];
  const host = m.meta.targetHost;
  out.push(['target', host !== undefined ? `${host}${m.meta.targetKind === 'bundled' ? ' (bundled platform)' : ''}` : '–']);
  out.push(['size', m.meta.settings?.SIZE ?? 'default']);
  out.push(['profile', m.meta.settings?.PROFILE ?? 'default']);
  const vusMax = value('vus_max', 'max');
  const vus = value('vus', 'max');
  const reqRate = value('http_reqs', 'rate');
  const iterRate = value('iterations', 'rate');
  const load: string[] = [];
  if (vusMax !== undefined || vus !== undefined)
    load.push(
      `${fmtValue({ type: 'gauge', contains: 'default' }, 'max', vus ?? 0)} active / ${fmtValue({ type: 'gauge', contains: 'default' }, 'max', vusMax ?? vus ?? 0)} max VUs`,
    );
  if (reqRate !== undefined) load.push(fmtValue({ type: 'counter', contains: 'default' }, 'rate', reqRate).replace('/s', ' req/s'));
  if (iterRate !== undefined)
    load.push(fmtValue({ type: 'counter', contains: 'default' }, 'rate', iterRate).replace('/s', ' iterations/s'));
  out.push(['load', load.length > 0 ? load.join(', ') : '–']);
  const flags = maskArgs(m.meta.args ?? []).filter(
    (a, i, all) => !(i === all.findIndex((x) => !x.startsWith('-')) && /\.(ts|mts|js|mjs)$/.test(a)),
  );
  out.push(['flags', flags.length > 0 ? flags.join(' ') : 'none']);
  return out;
}

/** A threshold's metric key (`http_req_duration{endpoint:x}`) → what its metric holds, for units (format.ts fmtValue). */
export function valueKindOf(metrics: readonly MetricRow[], key: string): ValueKind {
  const parent = key.split('{')[0] ?? key;
  const m = metrics.find((x) => x.name === parent);
  return m ? { type: m.type, contains: m.contains } : { type: 'gauge', contains: 'default' };
}

/** `name=value` pairs of a metric row, each with its unit. */
export function describeValues(x: MetricRow): string {
  return Object.entries(x.values)
    .map(([k, v]) => `${k}=${fmtValue(x, k, v)}`)
    .join('  ');
}
