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
