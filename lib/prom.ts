/** A small parser for the Prometheus text exposition format (what `/metrics` returns). Pure. */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseValue(s: string): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

function parseLabels(s: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const m of s.matchAll(re)) {
    const key = m[1];
    const raw = m[2];
    if (key === undefined || raw === undefined) continue;
    labels[key] = raw.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

/** Every sample line; comments, blank lines and unparsable lines are skipped. */
export function parsePrometheus(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line0 of text.split('\n')) {
    const line = line0.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (m === null) continue;
    const name = m[1];
    const value = m[4];
    if (name === undefined || value === undefined) continue;
    const v = parseValue(value);
    if (Number.isNaN(v)) continue;
    out.push({ name, labels: m[3] !== undefined ? parseLabels(m[3]) : {}, value: v });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `match`; undefined when none match. */
export function promValue(samples: readonly PromSample[], name: string, match: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    sum = (sum ?? 0) + s.value;
  }
  return sum;
}

/** Largest value of the samples named `name` (e.g. the fullest queue across topics). */
export function promMax(samples: readonly PromSample[], name: string): number | undefined {
  let max: number | undefined;
  for (const s of samples) if (s.name === name && (max === undefined || s.value > max)) max = s.value;
  return max;
}
