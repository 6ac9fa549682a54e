/**
 * k6 threshold expressions: parsing with k6's grammar and error wording (k6 v0.49
 * `metrics/thresholds_parser.go`).
 *
 * ```
 * assertion          -> aggregation_method whitespace* operator whitespace* float
 * aggregation_method -> trend | rate | gauge | counter
 * counter            -> "count" | "rate"
 * gauge              -> "value"
 * rate               -> "rate"
 * trend              -> "avg" | "min" | "max" | "med" | percentile
 * percentile         -> "p(" float ")"
 * operator           -> ">" | ">=" | "<=" | "<" | "==" | "===" | "!="
 * float              -> Go strconv.ParseFloat syntax (digits, ".", exponent, inf, nan, hex)
 * whitespace         -> " "
 * ```
 *
 * Scanning follows k6: the first operator in the order `<=, <, >=, >, ===, ==, !=` that occurs
 * anywhere splits the text in two; both sides are then trimmed and parsed. So `p(95)<<500`
 * splits at the first `<` and fails on the right-hand side `<500`.
 */

import type { MetricType } from '../contracts.ts';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';
export type AggregationMethod = 'count' | 'rate' | 'value' | 'avg' | 'min' | 'max' | 'med' | 'p';

export interface ThresholdExpression {
  readonly method: AggregationMethod;
  /** The N of p(N) (0..100), only for method 'p'. */
  readonly percentile?: number;
  readonly operator: Operator;
  readonly value: number;
}

const OPERATORS: readonly Operator[] = ['<=', '<', '>=', '>', '===', '==', '!='];
const METHODS: readonly AggregationMethod[] = ['value', 'count', 'rate', 'avg', 'min', 'med', 'max'];

const SUPPORTED: Readonly<Record<MetricType, readonly string[]>> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p'],
};

/** Aggregation methods k6 accepts for a metric type (`p` stands for p(N)). */
export function supportedMethods(type: MetricType): readonly string[] {
  return SUPPORTED[type];
}

/** Text k6 prints for the supported methods of a type. */
export function supportedMethodsText(type: MetricType): string {
  return SUPPORTED[type].map((m) => (m === 'p' ? 'p(N)' : m)).join(', ');
}

/** Result of Go's strconv.ParseFloat(s, 64): the value, or k6's error reason text. */
export function parseGoFloat(s: string): { ok: true; value: number } | { ok: false; reason: string } {
  const bad = { ok: false as const, reason: `strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax` };
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special !== null) {
    const word = (special[2] ?? '').toLowerCase();
    if (word === 'nan') return special[1] === '' ? { ok: true, value: NaN } : bad;
    return { ok: true, value: special[1] === '-' ? -Infinity : Infinity };
  }
  let value: number;
  const dec = /^[+-]?(?:\d+(?:_\d+)*\.?(?:\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?$/;
  const hex = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?\d+)$/.exec(s);
  if (dec.test(s)) {
    if (s.includes('_')) return bad; // Go allows '_' only after a base prefix
    value = Number(s);
  } else if (hex !== null) {
    const intPart = (hex[2] ?? '').replace(/_/g, '');
    const fracPart = (hex[3] ?? '').replace(/_/g, '');
    if (intPart === '' && fracPart === '') return bad;
    const mant = parseInt(intPart + fracPart || '0', 16);
    value = mant * Math.pow(2, Number(hex[4]) - 4 * fracPart.length) * (hex[1] === '-' ? -1 : 1);
  } else {
    return bad;
  }
  if (!Number.isFinite(value)) return { ok: false, reason: `strconv.ParseFloat: parsing ${goQuote(s)}: value out of range` };
  return { ok: true, value };
}

/** Go's %q for plain strings (close enough to JSON escaping for threshold text). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

export type ParseExpressionResult =
  { readonly ok: true; readonly expr: ThresholdExpression } | { readonly ok: false; readonly message: string };

/** Parses one threshold expression such as `p(95)<500`; errors carry k6's exact wording. */
export function parseThresholdExpression(input: string): ParseExpressionResult {
  let lhs: string | undefined;
  let rhs = '';
  let operator: Operator | undefined;
  for (const op of OPERATORS) {
    const at = input.indexOf(op);
    if (at !== -1) {
      lhs = input.slice(0, at).trim();
      rhs = input.slice(at + op.length).trim();
      operator = op;
      break;
    }
  }
  if (lhs === undefined || operator === undefined) {
    return { ok: false, message: `failed parsing threshold expression ${goQuote(input)}; reason: malformed threshold expression` };
  }
  let method: AggregationMethod | undefined = METHODS.find((m) => m === lhs);
  let percentile: number | undefined;
  if (method === undefined) {
    if (lhs.startsWith('p(') && lhs.endsWith(')')) {
      const inner = lhs.slice(2, -1);
      const pv = parseGoFloat(inner);
      if (!pv.ok) {
        return {
          ok: false,
          message: `failed parsing threshold expression's ${goQuote(input)} left hand side; reason: malformed percentile value; reason: ${pv.reason}`,
        };
      }
      if (!(pv.value >= 0 && pv.value <= 100)) {
        return {
          ok: false,
          message: `failed parsing threshold expression's ${goQuote(input)} left hand side; reason: percentile ${inner} is outside 0..100; use p(N) with 0 <= N <= 100`,
        };
      }
      method = 'p';
      percentile = pv.value;
    } else {
      return {
        ok: false,
        message: `failed parsing threshold expression's ${goQuote(input)} left hand side; reason: failed parsing method from expression`,
      };
    }
  }
  const v = parseGoFloat(rhs);
  if (!v.ok) {
    // "expresion's" (sic) is k6's wording.
    return { ok: false, message: `failed parsing threshold expresion's ${goQuote(input)} right hand side; reason: ${v.reason}` };
  }
  const expr: ThresholdExpression =
    percentile === undefined ? { method, operator, value: v.value } : { method, percentile, operator, value: v.value };
  return { ok: true, expr };
}

/** k6's sink key for an expression: the method, or `p(N)` with N formatted like Go's %g. */
export function sinkKey(expr: ThresholdExpression): string {
  return expr.method === 'p' ? `p(${String(expr.percentile ?? 0)})` : expr.method;
}

/** Applies an operator the way k6 does (`==` and `===` are the same on floats). */
export function compare(lhs: number, op: Operator, rhs: number): boolean {
  switch (op) {
    case '>':
      return lhs > rhs;
    case '>=':
      return lhs >= rhs;
    case '<=':
      return lhs <= rhs;
    case '<':
      return lhs < rhs;
    case '==':
    case '===':
      return lhs === rhs;
    case '!=':
      return lhs !== rhs;
  }
}
