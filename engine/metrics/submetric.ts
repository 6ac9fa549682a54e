/**
 * Metric keys as used in threshold definitions: `name` or `name{tag:value,...}` (k6 semantics).
 *
 * Validation follows k6's `ParseMetricName`: braces must pair, `}` must be the last character,
 * every comma-separated item needs a `:` and a non-empty raw value. Tags then follow k6's
 * `AddSubmetric`: whitespace around keys and values is trimmed, then surrounding `"` and `'`
 * characters; the submetric's canonical name is `parent{<trimmed text between the braces>}`.
 */

export interface ParsedMetricKey {
  /** The metric the key refers to (text before `{`, untrimmed as in k6). */
  readonly parent: string;
  /** Undefined for a plain metric name. */
  readonly submetric?: {
    /** Canonical name `parent{suffix}` (k6's submetric metric name). */
    readonly name: string;
    /** The trimmed text between the braces. */
    readonly suffix: string;
    readonly tags: Readonly<Record<string, string>>;
  };
}

export type ParseMetricKeyResult = { readonly ok: true; readonly key: ParsedMetricKey } | { readonly ok: false; readonly message: string };

const TRIM_QUOTES = /^["']+|["']+$/g;

export function parseMetricKey(key: string): ParseMetricKeyResult {
  const open = key.indexOf('{');
  const close = key.lastIndexOf('}');
  if (open === -1 && close === -1) return { ok: true, key: { parent: key } };
  const prefix = 'parsing metric name failed';
  if (open === -1 || close === -1) {
    return { ok: false, message: `${prefix}, metric ${JSON.stringify(key)} has unmatched opening/close curly brace` };
  }
  if (close < open) {
    return { ok: false, message: `${prefix}, metric ${JSON.stringify(key)} closing curly brace appears before opening one` };
  }
  if (close !== key.length - 1) {
    return { ok: false, message: `${prefix}, metric ${JSON.stringify(key)} lacks a closing curly brace in its last position` };
  }
  const inner = key.slice(open + 1, close);
  for (const item of inner.split(',')) {
    const colon = item.indexOf(':');
    if (colon === -1 || colon === item.length - 1) {
      return { ok: false, message: `${prefix}, metric ${JSON.stringify(item)} tag expression is malformed` };
    }
  }
  const parent = key.slice(0, open);
  const suffix = inner.trim();
  const tags: Record<string, string> = {};
  for (const kv of suffix.split(',')) {
    if (kv === '') continue;
    const colon = kv.indexOf(':');
    const rawKey = colon === -1 ? kv : kv.slice(0, colon);
    const k = rawKey.trim().replace(TRIM_QUOTES, '');
    tags[k] =
      colon === -1
        ? ''
        : kv
            .slice(colon + 1)
            .trim()
            .replace(TRIM_QUOTES, '');
  }
  return { ok: true, key: { parent, submetric: { name: `${parent}{${suffix}}`, suffix, tags } } };
}

/** Order-insensitive equality of two tag maps. */
export function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}
