/** The `Server-Timing` response header (W3C Server Timing), parsed. Pure. */

/** `Server-Timing: cache;dur=0.4, db;desc="x";dur=3.1` → `{ cache: 0.4, db: 3.1 }` (ms; entries without `dur` are left out). Pure. */
export function parseServerTiming(value: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (value === undefined) return out;
  for (const entry of value.split(',')) {
    const [name, ...params] = entry.split(';').map((x) => x.trim());
    if (name === undefined || name === '') continue;
    for (const p of params) {
      const m = /^dur=([0-9.]+)$/i.exec(p);
      if (m?.[1] !== undefined) out[name] = Number(m[1]);
    }
  }
  return out;
}
