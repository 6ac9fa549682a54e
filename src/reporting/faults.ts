/**
 * Faults of a run (`faults.jsonl`, written by the fault controller, src/faults/controller.ts): one row per
 * fault with when it started, took effect and was over, and the recovery the script measured. The report
 * marks each on every time chart and lists them in a table. The file is the controller's, not the
 * engine's, so the same works for runs of the real k6 binary.
 */

import { readFile } from 'node:fs/promises';
import { escapeHtml as h, fmtMs, mdCell } from './format.ts';

export interface FaultRow {
  id: string;
  action: string;
  /** Epoch ms. */
  at: number;
  appliedAt: number | null;
  endedAt: number | null;
  recoveryMs: number | null;
  /** e.g. `partition 4000 ms blackhole`, `worker-1 (held msg …)`. */
  note: string;
  /** Set when the controller refused or could not apply it. */
  error: string | null;
}

function obj(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);

function noteOf(params: Record<string, unknown> | undefined, detail: Record<string, unknown> | undefined): string {
  const parts: string[] = [];
  const d = num(params?.durationMs);
  if (d !== null && d > 0) parts.push(`${d} ms`);
  const mode = str(params?.mode);
  if (mode !== null) parts.push(mode);
  const inst = str(detail?.instance);
  if (inst !== null) parts.push(inst);
  const held = obj(detail?.held);
  if (held !== undefined) parts.push(`mid-message (seq ${String(num(held.seq) ?? '?')})`);
  const inflight = num(detail?.inflight);
  if (inflight !== null) parts.push(`${inflight} request(s) in flight`);
  const dropped = num(detail?.bytesDropped);
  if (dropped !== null) parts.push(`${dropped} bytes dropped`);
  const end = str(detail?.endError);
  if (end !== null) parts.push(`end: ${end}`);
  return parts.join(', ');
}

/** Parses faults.jsonl: `fault`, `end`, `recovery`, `failed` and `refused` lines merged per fault. Bad lines are skipped. */
export function parseFaultLog(text: string): FaultRow[] {
  const rows = new Map<string, FaultRow>();
  const extra: FaultRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let e: Record<string, unknown> | undefined;
    try {
      e = obj(JSON.parse(line));
    } catch {
      continue;
    }
    if (e === undefined) continue;
    const id = str(e.id);
    const kind = e.kind;
    if (kind === 'fault' && id !== null) {
      rows.set(id, {
        id,
        action: str(e.action) ?? '?',
        at: num(e.at) ?? 0,
        appliedAt: num(e.appliedAt),
        endedAt: num(e.endedAt),
        recoveryMs: num(e.recoveryMs) ?? null,
        note: noteOf(obj(e.params), obj(e.detail)),
        error: null,
      });
    } else if (kind === 'end' && id !== null) {
      const r = rows.get(id);
      if (r !== undefined) {
        r.endedAt = num(e.endedAt) ?? r.endedAt;
        const note = noteOf(undefined, obj(e.detail));
        if (note !== '' && !r.note.includes(note)) r.note = [r.note, note].filter((x) => x !== '').join(', ');
      }
    } else if (kind === 'recovery' && id !== null) {
      const r = rows.get(id);
      if (r !== undefined) r.recoveryMs = num(e.recoveryMs);
    } else if (kind === 'failed' || kind === 'refused') {
      extra.push({
        id: id ?? '–',
        action: str(e.action) ?? '?',
        at: num(e.at) ?? 0,
        appliedAt: null,
        endedAt: null,
        recoveryMs: null,
        note: '',
        error: str(e.error) ?? kind,
      });
      if (id !== null) rows.delete(id);
    }
  }
  return [...rows.values(), ...extra].sort((a, b) => a.at - b.at);
}

export async function readFaultLog(path: string): Promise<FaultRow[]> {
  return parseFaultLog(await readFile(path, 'utf8'));
}

function rel(t: number | null, t0: number): string {
  return t === null || t0 <= 0 ? '–' : `+${((t - t0) / 1000).toFixed(1)} s`;
}

/** The "Faults" section of report.html; `t0` = the run's first sample (epoch ms) for relative times. */
export function faultsSectionHtml(rows: readonly FaultRow[], t0: number): string {
  if (rows.length === 0) return '';
  const body = rows
    .map(
      (r) =>
        `<tr><td class="l">${h(r.id)}</td><td class="l">${h(r.action)}</td><td>${rel(r.at, t0)}</td><td class="l">${h(new Date(r.at).toISOString())}</td><td>${r.endedAt === null ? '–' : fmtMs(r.endedAt - r.at)}</td><td>${r.recoveryMs === null ? '–' : fmtMs(r.recoveryMs)}</td><td class="l wrap">${r.error !== null ? `<b style="color:var(--bad)">${h(r.error)}</b>` : h(r.note)}</td></tr>`,
    )
    .join('');
  return `<section><h2>Faults</h2><p class="muted">Applied by the fault controller and marked on every chart above. Recovery: from the fault's start to the first delivery (or success) after it, as the scenario measured it.</p><div class="tw"><table id="faults"><thead><tr><th class="l">id</th><th class="l">action</th><th>at</th><th class="l">time (UTC)</th><th>lasted</th><th>recovery</th><th class="l">detail</th></tr></thead><tbody>${body}</tbody></table></div></section>`;
}

export function faultsMarkdown(rows: readonly FaultRow[], t0: number): string[] {
  if (rows.length === 0) return [];
  const out = ['**Faults**', '', '| action | at | recovery | detail |', '|---|---:|---:|---|'];
  for (const r of rows)
    out.push(
      `| ${mdCell(r.action)} | ${rel(r.at, t0)} | ${r.recoveryMs === null ? '–' : fmtMs(r.recoveryMs)} | ${mdCell(r.error ?? r.note)} |`,
    );
  out.push('');
  return out;
}

/** What the page's charts need: time (s since the epoch) and a label per fault. */
export function faultMarks(rows: readonly FaultRow[]): Array<{ t: number; label: string }> {
  return rows.filter((r) => r.error === null).map((r) => ({ t: r.at / 1000, label: `${r.id} ${r.action}` }));
}
