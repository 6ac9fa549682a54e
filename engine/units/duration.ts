/**
 * k6 durations. Input: strings like Go's time.ParseDuration (`1h2m3.5s`, `500ms`, `1.5us`) plus
 * k6's extensions (`d` for days, a bare number string means milliseconds), or JSON numbers
 * (milliseconds). Output: Go's time.Duration.String() (`30s`, `1m0s`, `1h2m3.5s`, `500ms`).
 * All values in milliseconds (float).
 */

export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly message: string };

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;

/** Parses a k6 duration value (string or number of milliseconds). Never throws. */
export function parseDuration(value: unknown): DurationResult {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, message: `${String(value)} is not a finite number of milliseconds` };
    return { ok: true, ms: value };
  }
  if (typeof value !== 'string') return { ok: false, message: `expected a duration string like "30s", got ${describe(value)}` };
  const text = value;
  if (text !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return { ok: true, ms: Number(text) };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '') return { ok: false, message: `"${text}" is not a duration like "30s", "1m30s" or "500ms"` };
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < rest.length) {
    PART.lastIndex = pos;
    const m = PART.exec(rest);
    if (!m) return { ok: false, message: `"${text}" is not a duration like "30s", "1m30s" or "500ms"` };
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    pos = PART.lastIndex;
  }
  return { ok: true, ms: sign * total };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${value.toString()}`;
    case 'undefined':
      return 'undefined';
    default:
      return typeof value === 'object' ? 'an object' : typeof value;
  }
}

function fmtFrac(v: bigint, prec: number): { digits: string; rest: bigint } {
  // Go's fmtFrac: prints v/10**prec fraction without trailing zeros.
  let digits = '';
  let printed = false;
  let x = v;
  for (let i = 0; i < prec; i++) {
    const d = x % 10n;
    printed = printed || d !== 0n;
    if (printed) digits = d.toString() + digits;
    x /= 10n;
  }
  return { digits: printed ? `.${digits}` : '', rest: x };
}

/** Go's time.Duration.String() of `ms` milliseconds (rounded to whole nanoseconds). */
export function formatDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1_000_000_000n) {
    let prec: number;
    let unit: string;
    if (ns < 1000n) return `${neg ? '-' : ''}${ns.toString()}ns`;
    if (ns < 1_000_000n) {
      prec = 3;
      unit = 'µs';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const { digits, rest } = fmtFrac(ns, prec);
    out = `${rest.toString()}${digits}${unit}`;
  } else {
    const { digits, rest } = fmtFrac(ns, 9);
    const secs = rest % 60n;
    const mins = (rest / 60n) % 60n;
    const hours = rest / 3600n;
    out = `${secs.toString()}${digits}s`;
    if (rest >= 60n) out = `${mins.toString()}m${out}`;
    if (rest >= 3600n) out = `${hours.toString()}h${out}`;
  }
  return `${neg ? '-' : ''}${out}`;
}
