import type { CheerioAPI } from 'cheerio/slim';
import type { AnyNode } from 'domhandler';
import { ModuleUsageError } from '../k6.ts';
import { attrToProperty, dataValue, propertyToAttr, queryEscape } from './data.ts';
import { HtmlElement, valueOrHtml } from './element.ts';
import { attrOf, hidden, isElement, nodeName, type Nodes, toInt } from './nodes.ts';
import { renderGo } from './render.ts';
import { elementFor } from './tags.ts';

function invalidSelector(method: string, v: unknown): ModuleUsageError {
  const shown = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  return new ModuleUsageError(
    'html-invalid-selector',
    `Selection.${method}(): cannot use a ${shown} as a selector; pass a CSS selector string, a Selection or an Element`,
  );
}

function notAFunction(method: string, what: string, v: unknown): ModuleUsageError {
  return new ModuleUsageError(
    'html-invalid-argument',
    `Selection.${method}(): the argument must be ${what}, got ${v === null ? 'null' : typeof v}`,
  );
}

/** A read-only set of nodes of one parsed document (k6's Selection). */
export class Selection {
  // Internals are non-enumerable: console.log(sel) and JSON.stringify(sel) stay small ({}), as in k6.
  /** @internal */ declare readonly _$: CheerioAPI;
  /** @internal */ declare readonly _sel: Nodes;
  /** @internal the response URL relative hrefs resolve against ('' for parseHTML). */
  declare readonly _url: string;

  constructor($: CheerioAPI, sel: Nodes, url: string) {
    hidden(this, { _$: $, _sel: sel, _url: url });
  }

  #wrap(sel: Nodes): Selection {
    return new Selection(this._$, sel, this._url);
  }

  #one(i: number): Selection {
    return this.#wrap(this._sel.eq(i));
  }

  /** Runs a selector-taking cheerio call; an unparsable selector matches nothing, as in goquery. */
  #safe(f: () => Nodes): Selection {
    try {
      return this.#wrap(f());
    } catch (e) {
      if (e instanceof ModuleUsageError) throw e;
      return this.#wrap(this._sel.slice(0, 0));
    }
  }

  /** string / Selection / Element argument → what cheerio accepts, or a clear error. */
  #target(method: string, v: unknown): string | Nodes | AnyNode {
    if (typeof v === 'string') return v;
    if (v instanceof Selection) return v._sel;
    if (v instanceof HtmlElement) return v._node;
    throw invalidSelector(method, v);
  }

  #matcher(fn: (i: number, s: Selection) => unknown): (i: number, el: AnyNode) => boolean {
    return (i: number, el: AnyNode): boolean => Boolean(fn(i, this.#wrap(this._$(el))));
  }

  /** `until` of nextUntil/prevUntil/parentsUntil: a selector, a Selection, or null/undefined for "to the end". */
  #until(method: string, until: unknown): string | Nodes | undefined {
    if (until === null || until === undefined) return undefined;
    if (typeof until === 'string') return until === '' ? undefined : until;
    if (until instanceof Selection) return until._sel;
    throw invalidSelector(method, until);
  }

  /** @internal a Selection of `nodes` of this document. */
  _with(nodes: Nodes): Selection {
    return this.#wrap(nodes);
  }

  /** @internal the Element of node `n` of this document. */
  _element(n: AnyNode): HtmlElement {
    return elementFor(n, this.#wrap(this._$(n)));
  }

  get [Symbol.toStringTag](): string {
    return 'Selection';
  }

  size(): number {
    return this._sel.length;
  }

  add(arg: unknown): Selection {
    const t = this.#target('add', arg);
    return this.#safe(() => this._sel.add(typeof t === 'string' ? this._$(t) : t));
  }

  find(arg: unknown): Selection {
    const t = this.#target('find', arg);
    return this.#safe(() => this._sel.find(t as string));
  }

  closest(arg: unknown): Selection {
    const t = this.#target('closest', arg);
    return this.#safe(() => this._sel.closest(t as string));
  }

  has(arg: unknown): Selection {
    const t = this.#target('has', arg);
    return this.#safe(() => this._sel.has(t as string));
  }

  not(arg: unknown): Selection {
    if (typeof arg === 'function') return this.#wrap(this._sel.not(this.#matcher(arg as (i: number, s: Selection) => unknown)));
    const t = this.#target('not', arg);
    return this.#safe(() => this._sel.not(t));
  }

  filter(arg: unknown): Selection {
    if (typeof arg === 'string') return this.#safe(() => this._sel.filter(arg));
    if (arg instanceof Selection) return this.#wrap(this._sel.filter(arg._sel));
    if (typeof arg !== 'function') throw notAFunction('filter', 'a function, a selector or a selection', arg);
    return this.#wrap(this._sel.filter(this.#matcher(arg as (i: number, s: Selection) => unknown)));
  }

  is(arg: unknown): boolean {
    if (typeof arg === 'string') {
      try {
        return this._sel.is(arg);
      } catch {
        return false;
      }
    }
    if (arg instanceof Selection) return this._sel.is(arg._sel);
    if (typeof arg !== 'function') throw notAFunction('is', 'a function, a selector or a selection', arg);
    return this._sel.is(this.#matcher(arg as (i: number, s: Selection) => unknown));
  }

  next(sel?: string): Selection {
    return this.#safe(() => this._sel.next(sel));
  }

  nextAll(sel?: string): Selection {
    return this.#safe(() => this._sel.nextAll(sel));
  }

  prev(sel?: string): Selection {
    return this.#safe(() => this._sel.prev(sel));
  }

  prevAll(sel?: string): Selection {
    return this.#safe(() => this._sel.prevAll(sel));
  }

  parent(sel?: string): Selection {
    return this.#safe(() => this._sel.parent(sel));
  }

  parents(sel?: string): Selection {
    return this.#safe(() => this._sel.parents(sel));
  }

  siblings(sel?: string): Selection {
    return this.#safe(() => this._sel.siblings(sel));
  }

  children(sel?: string): Selection {
    return this.#safe(() => this._sel.children(sel));
  }

  nextUntil(until?: unknown, filter?: string): Selection {
    const u = this.#until('nextUntil', until);
    return this.#safe(() => this._sel.nextUntil(u as string, filter));
  }

  prevUntil(until?: unknown, filter?: string): Selection {
    const u = this.#until('prevUntil', until);
    return this.#safe(() => this._sel.prevUntil(u as string, filter));
  }

  parentsUntil(until?: unknown, filter?: string): Selection {
    const u = this.#until('parentsUntil', until);
    return this.#safe(() => this._sel.parentsUntil(u as string, filter));
  }

  contents(): Selection {
    return this.#wrap(this._sel.contents());
  }

  end(): Selection {
    return this.#wrap(this._sel.end());
  }

  eq(i: unknown): Selection {
    return this.#one(toInt(i));
  }

  first(): Selection {
    return this.#wrap(this._sel.first());
  }

  last(): Selection {
    return this.#wrap(this._sel.last());
  }

  slice(start: unknown, end?: unknown): Selection {
    return this.#wrap(this._sel.slice(toInt(start), end === undefined ? undefined : toInt(end)));
  }

  /** The combined text of every node (goquery Text). */
  text(): string {
    return this._sel.text();
  }

  /** The inner HTML of the first node, rendered as Go's html.Render does (goquery's Html()); '' for an empty selection. */
  html(): string {
    const n = this._sel[0];
    if (n === undefined || !('children' in n)) return '';
    let out = '';
    for (const c of n.children) out += renderGo(c);
    return out;
  }

  /** The attribute of the first element, else `def` (undefined when not given). */
  attr(name: unknown, def?: unknown): unknown {
    const v = attrOf(this._sel[0], String(name));
    return v === undefined ? def : v;
  }

  val(): unknown {
    const n = this._sel[0];
    switch (nodeName(n)) {
      case 'input': {
        const v = attrOf(n, 'value');
        if (v !== undefined) return v;
        const type = attrOf(n, 'type');
        return type === 'radio' || type === 'checkbox' ? 'on' : '';
      }
      case 'button':
        return attrOf(n, 'value') ?? '';
      case 'textarea':
        return this.html();
      case 'option':
        return valueOrHtml(this);
      case 'select': {
        const selected = this.first().find('option[selected]');
        if (attrOf(n, 'multiple') !== undefined) return selected.toArray().map(valueOrHtml);
        return valueOrHtml(selected);
      }
      default:
        return undefined;
    }
  }

  /** `data()`: every data-* attribute of the first element by camelCase key; `data(key)`: one, converted like k6. */
  data(key?: unknown): unknown {
    const n = this._sel[0];
    if (n === undefined || !isElement(n) || Object.keys(n.attribs).length === 0) return undefined;
    if (key !== undefined) {
      const v = attrOf(n, `data-${propertyToAttr(typeof key === 'string' ? key : JSON.stringify(key))}`);
      return v === undefined ? undefined : dataValue(v);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n.attribs)) {
      if (k.startsWith('data-') && k.length > 5) out[attrToProperty(k.slice(5))] = dataValue(v);
    }
    return out;
  }

  /** Calls `fn(index, Element)` for each node; returns this selection. */
  each(fn: unknown): this {
    if (typeof fn !== 'function') throw notAFunction('each', 'a function', fn);
    const f = fn as (i: number, e: HtmlElement) => unknown;
    for (let i = 0; i < this._sel.length; i++) {
      const el = this.get(i);
      try {
        f(i, el as HtmlElement);
      } catch (e) {
        const err = new Error(`the function passed to each() failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        throw err;
      }
    }
    return this;
  }

  /**
   * `fn(index, Selection)` for each node, the results in an array. As in k6, a callback that throws
   * leaves its value out instead of failing the call.
   */
  map(fn: unknown): unknown[] {
    if (typeof fn !== 'function') throw notAFunction('map', 'a function', fn);
    const f = fn as (i: number, s: Selection) => unknown;
    const out: unknown[] = [];
    for (let i = 0; i < this._sel.length; i++) {
      try {
        out.push(f(i, this.#one(i)));
      } catch {
        // k6 drops the value of a failing callback.
      }
    }
    return out;
  }

  /** `get()`: every node as an Element; `get(i)` one (negative counts from the end), undefined out of range. */
  get(i?: unknown): HtmlElement | HtmlElement[] | undefined {
    if (i === undefined) return this._sel.toArray().map((n) => elementFor(n, this.#wrap(this._$(n))));
    const len = this._sel.length;
    const k = toInt(i);
    if (!(k < len && k > -len)) return undefined;
    const n = this._sel[k < 0 ? len + k : k];
    return n === undefined ? undefined : elementFor(n, this.#one(k));
  }

  /** One Selection per node. */
  toArray(): Selection[] {
    const out: Selection[] = [];
    for (let i = 0; i < this._sel.length; i++) out.push(this.#one(i));
    return out;
  }

  index(arg?: unknown): number {
    if (arg === undefined) return this._sel.index();
    if (typeof arg === 'string') {
      try {
        return this._$(arg).index(this._sel);
      } catch {
        return -1;
      }
    }
    if (arg instanceof Selection) return this._sel.index(arg._sel);
    if (arg instanceof HtmlElement) return this._sel.index(arg._node);
    return -1;
  }

  /** The submittable form fields as `[{ name, value }]`, by k6's rules. */
  serializeArray(): { name: string; value: unknown }[] {
    const submittable = 'input,select,textarea,keygen';
    const fields = this._sel.is('form') ? this._sel.find(submittable) : this._sel.filter(submittable);
    const out: { name: string; value: unknown }[] = [];
    for (const n of fields.toArray()) {
      const name = attrOf(n, 'name') ?? '';
      const type = attrOf(n, 'type') ?? '';
      const checked = attrOf(n, 'checked') ?? '';
      if (name === '' || attrOf(n, 'disabled') === 'disabled') continue;
      if (['submit', 'button', 'reset', 'image', 'file'].includes(type)) continue;
      if ((type === 'checkbox' || type === 'radio') && checked !== 'checked') continue;
      out.push({ name, value: this.#wrap(this._$(n)).val() });
    }
    return out;
  }

  serializeObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const { name, value } of this.serializeArray()) out[name] = value;
    return out;
  }

  /** The form fields URL-encoded like Go's url.Values.Encode (keys sorted, last value of a name wins). */
  serialize(): string {
    const values = new Map<string, string[]>();
    for (const { name, value } of this.serializeArray()) {
      if (typeof value === 'string') values.set(name, [value]);
      else if (Array.isArray(value)) values.set(name, value.map(String));
    }
    const parts: string[] = [];
    for (const k of [...values.keys()].sort()) {
      for (const v of values.get(k) ?? []) parts.push(`${queryEscape(k)}=${queryEscape(v)}`);
    }
    return parts.join('&');
  }
}
