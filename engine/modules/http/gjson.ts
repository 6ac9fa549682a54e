/**
 * `res.json(selector)`: k6 answers selectors with GJSON paths (github.com/tidwall/gjson). This is the
 * part of that syntax scripts use, on an already parsed value:
 *
 * - `a.b.c` (keys; `\.` escapes a dot; `*` and `?` wildcards match the first key that fits);
 * - `list.2` (index), `list.#` (length), `list.#.name` (that path of every element);
 * - queries `list.#(age>40).name` (first match) and `list.#(age>40)#.name` (every match), also in the
 *   older bracket form `#[...]`; operators `== != < <= > >= % !%` (`%` is a `*`/`?` pattern), values
 *   `"string"`, numbers, `true`, `false`, `null`; `#(nested.#(=="x"))` queries nest; `#(name)` means the
 *   path exists; `#(=="x")` compares the element itself;
 * - the modifiers `@this`, `@reverse`, `@keys`, `@values`.
 *
 * No match is `undefined` (k6 returns nothing then).
 */

const MISSING: unique symbol = Symbol('missing');
/** A looked-up value, or MISSING (a JSON value is never a symbol). */
type Found = unknown;

/** Splits a path on dots that are not escaped and not inside a query's brackets. */
function components(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i] ?? '';
    if (quoted) {
      cur += c;
      if (c === '\\') cur += path[++i] ?? '';
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '\\' && depth === 0) {
      cur += path[++i] ?? '';
      continue;
    }
    if (c === '"' && depth > 0) {
      quoted = true;
      cur += c;
      continue;
    }
    if (c === '(' || c === '[') depth++;
    if (c === ')' || c === ']') depth--;
    if (c === '.' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    if (c === '|' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

function wildcard(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  );
  return re.test(text);
}

function parseLiteral(text: string): unknown {
  const t = text.trim();
  if (t.startsWith('"')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return t.slice(1, -1);
    }
  }
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  const n = Number(t);
  return Number.isNaN(n) ? t : n;
}

function compare(left: Found, op: string, right: unknown): boolean {
  if (left === MISSING) return false;
  switch (op) {
    case '==':
      return left === right || (typeof left === 'number' && typeof right === 'number' && left === right);
    case '!=':
      return left !== right;
    case '%':
      return typeof left === 'string' && typeof right === 'string' && wildcard(right, left);
    case '!%':
      return typeof left === 'string' && typeof right === 'string' && !wildcard(right, left);
    default:
      break;
  }
  if (typeof left === 'number' && typeof right === 'number') {
    return op === '<' ? left < right : op === '<=' ? left <= right : op === '>' ? left > right : left >= right;
  }
  if (typeof left === 'string' && typeof right === 'string') {
    return op === '<' ? left < right : op === '<=' ? left <= right : op === '>' ? left > right : left >= right;
  }
  return false;
}

/** Does `element` satisfy the query text (inside the brackets)? */
function matches(element: unknown, query: string): boolean {
  // The operator is the first one outside nested brackets and quotes.
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < query.length; i++) {
    const c = query[i] ?? '';
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') {
      quoted = true;
      continue;
    }
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    if (depth !== 0) continue;
    const op = /^(==|!=|<=|>=|!%|<|>|%)/.exec(query.slice(i))?.[1];
    if (op === undefined) continue;
    const path = query.slice(0, i).trim();
    const left = path === '' ? element : lookup(element, components(path));
    return compare(left, op, parseLiteral(query.slice(i + op.length)));
  }
  const found = lookup(element, components(query.trim()));
  // `#(nets.#(=="fb"))`: a nested query that finds nothing gives an empty list.
  return found !== MISSING && !(Array.isArray(found) && found.length === 0 && query.includes('#'));
}

function lookup(value: unknown, parts: readonly string[]): Found {
  let cur: unknown = value;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const rest = parts.slice(i + 1);
    if (part.startsWith('@')) {
      cur = modifier(cur, part);
      if (cur === MISSING) return MISSING;
      continue;
    }
    if (Array.isArray(cur)) {
      if (part === '#') {
        if (rest.length === 0) return cur.length;
        return cur.map((el) => lookup(el, rest)).filter((x) => x !== MISSING);
      }
      const q = /^#[([](.*)[)\]](#?)$/s.exec(part);
      if (q !== null) {
        const all = q[2] === '#';
        const query = q[1] ?? '';
        if (all) {
          const hits = cur.filter((el) => matches(el, query));
          return rest.length === 0 ? hits : hits.map((el) => lookup(el, rest)).filter((x) => x !== MISSING);
        }
        const hit: unknown = (cur as unknown[]).find((el) => matches(el, query));
        if (hit === undefined) return MISSING;
        cur = hit;
        continue;
      }
      if (/^\d+$/.test(part)) {
        const idx = Number(part);
        if (idx >= cur.length) return MISSING;
        cur = cur[idx];
        continue;
      }
      return MISSING;
    }
    if (typeof cur === 'object' && cur !== null) {
      const obj = cur as Record<string, unknown>;
      if (part.includes('*') || part.includes('?')) {
        const key = Object.keys(obj).find((k) => wildcard(part, k));
        if (key === undefined) return MISSING;
        cur = obj[key];
        continue;
      }
      if (!Object.prototype.hasOwnProperty.call(obj, part)) return MISSING;
      cur = obj[part];
      continue;
    }
    return MISSING;
  }
  return cur;
}

function modifier(value: unknown, name: string): Found {
  switch (name) {
    case '@this':
      return value;
    case '@reverse':
      return Array.isArray(value)
        ? [...(value as unknown[])].reverse()
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(Object.entries(value).reverse())
          : value;
    case '@keys':
      return typeof value === 'object' && value !== null ? Object.keys(value) : MISSING;
    case '@values':
      return typeof value === 'object' && value !== null ? Object.values(value) : MISSING;
    default:
      return MISSING;
  }
}

/** The value at a GJSON path of `value` (parsed JSON), undefined when nothing matches. */
export function gjsonGet(value: unknown, path: string): unknown {
  const r = lookup(value, components(path));
  return r === MISSING ? undefined : r;
}
