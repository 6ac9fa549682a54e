/** Small formatting helpers shared by the writers. */

export function fmtNum(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  if (a >= 1) return v.toFixed(digits);
  return v.toPrecision(Math.max(1, digits + 1));
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${fmtNum(v)} ms`;
}

/** A count: a whole number, never `123.000`. */
export function fmtInt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return String(Math.round(v));
}

/** Bytes in B, kB, MB or GB (powers of 1000, as k6 prints them). */
export function fmtBytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a < 1000) return `${fmtInt(v)} B`;
  if (a < 1e6) return `${fmtNum(v / 1e3, 1)} kB`;
  if (a < 1e9) return `${fmtNum(v / 1e6, 1)} MB`;
  return `${fmtNum(v / 1e9, 2)} GB`;
}

/** What a metric holds, enough to give its values units: k6's metric type and `contains` (time, data, default). */
export interface ValueKind {
  readonly type: 'counter' | 'gauge' | 'rate' | 'trend';
  readonly contains: string;
}

/**
 * One value of a metric with its unit: durations in ms/s, data in B/kB/MB, rates as percentages, counts as
 * whole numbers, per-second figures with `/s`. `stat` is the value's name (`count`, `rate`, `p95`, `p(95)`,
 * `avg`, `value`, `passes` …) as in the model's values and threshold aggregations.
 */
export function fmtValue(kind: ValueKind, stat: string, v: number | null | undefined): string {
  const scalar = (x: number | null | undefined): string =>
    kind.contains === 'time'
      ? fmtMs(x)
      : kind.contains === 'data'
        ? fmtBytes(x)
        : x !== null && x !== undefined && Number.isInteger(x)
          ? fmtInt(x)
          : fmtNum(x, 3);
  switch (kind.type) {
    case 'counter':
      if (stat === 'rate') return kind.contains === 'data' ? `${fmtBytes(v)}/s` : `${fmtNum(v)}/s`;
      return kind.contains === 'data' ? fmtBytes(v) : kind.contains === 'time' ? fmtMs(v) : fmtInt(v);
    case 'rate':
      return stat === 'rate' ? fmtPct(v) : fmtInt(v);
    case 'gauge':
      return scalar(v);
    case 'trend':
      return stat === 'count' ? fmtInt(v) : scalar(v);
  }
}

export function fmtPct(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${(v * 100).toFixed(digits)} %`;
}

/** Strips characters XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/U+FFFF). */
export function stripInvalidXml(s: string): string {
  return s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
}

export function escapeXml(s: string): string {
  return stripInvalidXml(s).replace(/[&<>"']/g, (c) => XML_ENT[c] ?? c);
}

const XML_ENT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export const escapeHtml = escapeXml;

/** Markdown table cell: pipes escaped, newlines flattened, HTML-ish characters escaped. */
export function mdCell(s: string): string {
  return stripInvalidXml(s).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Markdown inline code inside a table cell: entities are not decoded in code spans, so only pipes and backticks matter. */
export function mdCode(s: string): string {
  const clean = stripInvalidXml(s).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  const fence = clean.includes('`') ? '`` ' : '`';
  return `${fence}${clean}${fence === '`` ' ? ' ``' : '`'}`;
}
