/** Narrowing helpers for JSON from the wire (no `any`). Pure. */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses JSON text; undefined when it is not JSON. */
export function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function field(o: unknown, key: string): unknown {
  return isObject(o) ? o[key] : undefined;
}

export function numField(o: unknown, key: string): number | undefined {
  const v = field(o, key);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function strField(o: unknown, key: string): string | undefined {
  const v = field(o, key);
  return typeof v === 'string' ? v : undefined;
}

export function arrField(o: unknown, key: string): unknown[] {
  const v = field(o, key);
  return Array.isArray(v) ? (v as unknown[]) : [];
}

export function boolField(o: unknown, key: string): boolean | undefined {
  const v = field(o, key);
  return typeof v === 'boolean' ? v : undefined;
}
