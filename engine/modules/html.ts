/**
 * `k6/html`: `parseHTML(src)` → Selection, and the Selection behind `Response.html()`, with k6's
 * semantics (k6 wraps goquery): a jQuery-like read-only Selection whose callbacks get
 * `(index, Element)` in each() and `(index, Selection)` in map()/filter()/is()/not(); an Element
 * whose members are methods (`el.nodeName()`, `el.textContent()`), as k6 exposes them.
 *
 * Parsing is HTML5 (parse5, like Go's x/net/html: implicit html/head/body), selection is cheerio.
 * Both are loaded on the first parse only, so scripts that never parse HTML pay nothing.
 */
import { createRequire } from 'node:module';
import type * as CheerioSlim from 'cheerio/slim';
import type { Cheerio, CheerioAPI } from 'cheerio/slim';
import type { AnyNode, Comment, Document, Element as DomElement, ProcessingInstruction, Text } from 'domhandler';
import type * as Parse5 from 'parse5';
import type * as Parse5Adapter from 'parse5-htmlparser2-tree-adapter';
import { ModuleUsageError } from './k6.ts';

interface Libs {
  readonly load: typeof CheerioSlim.load;
  readonly parse: typeof Parse5.parse;
  readonly adapter: typeof Parse5Adapter.adapter;
}

let libs: Libs | undefined;
function lib(): Libs {
  if (libs === undefined) {
    const req = createRequire(import.meta.url);
    const cheerio = req('cheerio/slim') as typeof CheerioSlim;
    const parse5 = req('parse5') as typeof Parse5;
    const adapter = req('parse5-htmlparser2-tree-adapter') as typeof Parse5Adapter;
    libs = { load: cheerio.load, parse: parse5.parse, adapter: adapter.adapter };
  }
  return libs;
}

type Nodes = Cheerio<AnyNode>;

const XHTML_NS = 'http://www.w3.org/1999/xhtml';
/** Base for splitting a relative href into path, query and fragment (never shown). */
const RELATIVE_BASE = 'http://relative.invalid';

/** The node's kind as a plain string ('tag', 'text', 'comment', 'root', 'directive', ...). */
function kind(n: AnyNode): string {
  return n.type;
}

function isElement(n: AnyNode): n is DomElement {
  const k = kind(n);
  return k === 'tag' || k === 'script' || k === 'style';
}

/** Go's html.escape: the characters it replaces in text and attribute values, and with what. */
const GO_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\r': '&#13;' };
const goEscape = (s: string): string => s.replace(/[&'<>"\r]/g, (c) => GO_ESCAPES[c] ?? c);
/** Go's escapeComment: every `&`, and a `>` at the start or after `!` or `-` (where it would end the comment). */
const goEscapeComment = (s: string): string => s.replace(/&|(^|(?<=[!-]))>/g, (c) => (c === '&' ? '&amp;' : '&gt;'));
/** x/net/html's voidElements: rendered `<br/>`, never with children. */
const GO_VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/** Elements whose text children Go writes unescaped (childTextNodesAreLiteral, noscript included). */
const GO_LITERAL_TEXT = new Set(['iframe', 'noembed', 'noframes', 'noscript', 'plaintext', 'script', 'style', 'xmp']);

/** Go's writeQuoted for doctype identifiers: double quotes unless the value has one. */
const goQuoted = (s: string): string => (s.includes('"') ? `'${s}'` : `"${s}"`);

/**
 * One node as Go's html.Render (x/net/html render1) writes it, so `html()` equals k6's: `<br/>`,
 * attributes always double-quoted, `&'<>"\r` escaped as `&amp; &#39; &lt; &gt; &#34; &#13;` (no
 * `&nbsp;`), script/style text literal, a newline kept after `<pre>`, `<listing>`, `<textarea>`.
 */
function renderGo(n: AnyNode): string {
  switch (kind(n)) {
    case 'text': return goEscape((n as Text).data);
    case 'comment': return `<!--${goEscapeComment((n as Comment).data)}-->`;
    case 'root': {
      let out = '';
      for (const c of (n as Document).children) out += renderGo(c);
      return out;
    }
    case 'directive': {
      const d = n as ProcessingInstruction & Partial<Record<'x-name' | 'x-publicId' | 'x-systemId', string | null>>;
      const pub = d['x-publicId'] ?? '';
      const sys = d['x-systemId'] ?? '';
      const ids = pub !== '' ? ` PUBLIC ${goQuoted(pub)}${sys !== '' ? ` ${goQuoted(sys)}` : ''}` : sys !== '' ? ` SYSTEM ${goQuoted(sys)}` : '';
      return `<!DOCTYPE ${d['x-name'] ?? ''}${ids}>`;
    }
    default: break;
  }
  if (!isElement(n)) return '';
  const prefixes = (n as DomElement & { 'x-attribsPrefix'?: Record<string, string | undefined> })['x-attribsPrefix'];
  let out = `<${n.name}`;
  for (const [key, value] of Object.entries(n.attribs)) {
    const prefix = prefixes?.[key];
    out += ` ${prefix === undefined || prefix === '' ? '' : `${prefix}:`}${key}="${goEscape(value)}"`;
  }
  if (GO_VOID.has(n.name)) return `${out}/>`;
  out += '>';
  const first = n.children[0];
  if (first !== undefined && kind(first) === 'text' && (first as Text).data.startsWith('\n')
    && (n.name === 'pre' || n.name === 'listing' || n.name === 'textarea')) out += '\n';
  const literal = n.namespace === XHTML_NS && GO_LITERAL_TEXT.has(n.name);
  for (const c of n.children) out += literal && kind(c) === 'text' ? (c as Text).data : renderGo(c);
  return `${out}</${n.name}>`;
}

/** goquery.NodeName: the tag for elements (lower case in HTML), `#text`, `#comment`, `#document`; '' for nothing. */
function nodeName(n: AnyNode | undefined): string {
  if (n === undefined) return '';
  if (isElement(n)) return n.name;
  switch (kind(n)) {
    case 'text': return '#text';
    case 'comment': return '#comment';
    case 'root': return '#document';
    case 'directive': return (n as { name: string }).name.replace(/^!/, '').toLowerCase() === 'doctype' ? 'html' : (n as { name: string }).name;
    default: return '';
  }
}

/** k6's node type numbers (DOM's): element 1, text 3, comment 8, document 9, doctype 10. */
function nodeType(n: AnyNode): number | undefined {
  if (isElement(n)) return 1;
  switch (kind(n)) {
    case 'text': return 3;
    case 'comment': return 8;
    case 'root': return 9;
    case 'directive': return 10;
    default: return undefined;
  }
}

function attrOf(n: AnyNode | undefined, name: string): string | undefined {
  if (n === undefined || !isElement(n)) return undefined;
  return Object.prototype.hasOwnProperty.call(n.attribs, name) ? n.attribs[name] : undefined;
}

// golint's initialisms, which k6's snaker turns into upper case in data() keys (data-user-id → userID).
const INITIALISMS = new Set(['ACL', 'API', 'ASCII', 'CPU', 'CSS', 'DNS', 'EOF', 'GUID', 'HTML', 'HTTP', 'HTTPS', 'ID', 'IP', 'JSON', 'LHS', 'QPS', 'RAM', 'RHS', 'RPC', 'SLA', 'SMTP', 'SQL', 'SSH', 'TCP', 'TLS', 'TTL', 'UDP', 'UI', 'UID', 'UUID', 'URI', 'URL', 'UTF8', 'VM', 'XML', 'XMPP', 'XSRF', 'XSS']);

/** `num-a` → `numA`, `user-id` → `userID` (k6's attrToProperty). */
function attrToProperty(s: string): string {
  const i = s.indexOf('-');
  if (i === -1) return s;
  const rest = s.slice(i + 1).split(/[-_]/).filter((w) => w !== '').map((w) => {
    const up = w.toUpperCase();
    return INITIALISMS.has(up) ? up : up.slice(0, 1) + w.slice(1);
  });
  return s.slice(0, i) + rest.join('');
}

/** `testB` → `test-b`, `userID` → `user-id` (k6's propertyToAttr). */
function propertyToAttr(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}

/** k6's data attribute conversion: JSON for `{`/`[`, booleans, numbers that round-trip, '' / null / undefined → undefined. */
function dataValue(v: string): unknown {
  if (v === '' || v === 'null' || v === 'undefined') return undefined;
  if (v.startsWith('{') || v.startsWith('[')) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  return v.trim() === v && Number.isFinite(n) && String(n) === v ? n : v;
}

/** Go's url.QueryEscape: unreserved kept, space as '+', the rest %XX. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

function invalidSelector(method: string, v: unknown): ModuleUsageError {
  const shown = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  return new ModuleUsageError('html-invalid-selector', `Selection.${method}(): cannot use a ${shown} as a selector; pass a CSS selector string, a Selection or an Element`);
}

function notAFunction(method: string, what: string, v: unknown): ModuleUsageError {
  return new ModuleUsageError('html-invalid-argument', `Selection.${method}(): the argument must be ${what}, got ${v === null ? 'null' : typeof v}`);
}

/** A script number argument as k6's Go int: NaN/undefined → 0, fractions cut. */
function toInt(v: unknown): number {
  const n = Math.trunc(Number(v));
  return Number.isFinite(n) ? n : Number.isNaN(n) ? 0 : n;
}

/** Defines read-only, non-enumerable own properties. */
function hidden(target: object, props: Record<string, unknown>): void {
  for (const [k, value] of Object.entries(props)) Object.defineProperty(target, k, { value, enumerable: false, writable: false, configurable: false });
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
      case 'button': return attrOf(n, 'value') ?? '';
      case 'textarea': return this.html();
      case 'option': return valueOrHtml(this);
      case 'select': {
        const selected = this.first().find('option[selected]');
        if (attrOf(n, 'multiple') !== undefined) return selected.toArray().map(valueOrHtml);
        return valueOrHtml(selected);
      }
      default: return undefined;
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

function valueOrHtml(s: Selection): string {
  const v = s.attr('value');
  return typeof v === 'string' ? v : s.html();
}

/** An attribute as k6's `attributes()`/`getAttributeNode()` give it. */
export interface HtmlAttribute {
  readonly owner_element: HtmlElement;
  readonly name: string;
  readonly value: string;
  prefix(): string;
  namespaceURI(): string;
  localName(): string;
}

function namespaceForPrefix(prefix: string): string {
  if (prefix === 'svg') return 'http://www.w3.org/2000/svg';
  if (prefix === 'math') return 'http://www.w3.org/1998/Math/MathML';
  return XHTML_NS;
}

/** One node, DOM-like; every member is a method, as k6 exposes Go methods. */
export class HtmlElement {
  /** @internal */ declare readonly _node: AnyNode;
  /** @internal a Selection of exactly this node. */
  declare readonly _sel: Selection;

  constructor(node: AnyNode, sel: Selection) {
    hidden(this, { _node: node, _sel: sel });
  }

  protected elemOf(n: AnyNode | null | undefined): HtmlElement | undefined {
    if (n === null || n === undefined) return undefined;
    return elementFor(n, new Selection(this._sel._$, this._sel._$(n), this._sel._url));
  }

  protected elems(s: Selection): HtmlElement[] {
    const out: HtmlElement[] = [];
    for (let i = 0; i < s.size(); i++) out.push(s.get(i) as HtmlElement);
    return out;
  }

  #attr(name: string): string {
    return attrOf(this._node, name) ?? '';
  }

  /** The attribute resolved against the response URL (as k6 does for href/src/action); raw without a URL. */
  protected attrAsUrl(name: string, def = ''): string {
    const v = attrOf(this._node, name);
    if (this._sel._url === '') return v ?? '';
    if (v === undefined) return def;
    try {
      return new URL(v, this._sel._url).href;
    } catch {
      return def;
    }
  }

  /** The first form around this node, else the form its `form` attribute names. */
  protected ownerForm(): Selection | undefined {
    const around = this._sel.closest('form');
    if (around.size() > 0) return around;
    const id = attrOf(this._node, 'form');
    if (id === undefined || id === '') return undefined;
    const byId = this.byId(id).first();
    return byId.size() > 0 ? byId : undefined;
  }

  /** The labels around this node plus those `for` its id (k6's elemLabels). */
  protected labelsOf(): HtmlElement[] {
    const around = this._sel.closest('label');
    const id = attrOf(this._node, 'id');
    if (id === undefined || id === '') return this.elems(around);
    const forId = new Selection(this._sel._$, this._sel._$.root().find(`label[for="${id.replace(/["\\]/g, '\\$&')}"]`), this._sel._url);
    return this.elems(forId.size() === 0 ? around : around.add(forId));
  }

  /** The elements of this document with the given id. */
  protected byId(id: string, tag = ''): Selection {
    const $ = this._sel._$;
    return new Selection($, $.root().find(`${tag}[id="${id.replace(/["\\]/g, '\\$&')}"]`), this._sel._url);
  }

  get [Symbol.toStringTag](): string {
    return 'Element';
  }

  nodeName(): string {
    return nodeName(this._node);
  }

  nodeType(): number | undefined {
    return nodeType(this._node);
  }

  nodeValue(): string | undefined {
    const k = kind(this._node);
    return k === 'text' || k === 'comment' ? this._sel.text() : undefined;
  }

  id(): string {
    return this.#attr('id');
  }

  textContent(): string {
    return this._sel.text();
  }

  innerHTML(): string {
    return this._sel.html();
  }

  getAttribute(name: unknown): string | undefined {
    return attrOf(this._node, String(name));
  }

  getAttributeNode(name: unknown): HtmlAttribute | undefined {
    const v = attrOf(this._node, String(name));
    return v === undefined ? undefined : this.#attribute(String(name), v);
  }

  hasAttribute(name: unknown): boolean {
    return attrOf(this._node, String(name)) !== undefined;
  }

  hasAttributes(): boolean {
    return isElement(this._node) && Object.keys(this._node.attribs).length > 0;
  }

  attributes(): Record<string, HtmlAttribute> {
    const out: Record<string, HtmlAttribute> = {};
    if (isElement(this._node)) for (const [k, v] of Object.entries(this._node.attribs)) out[k] = this.#attribute(k, v);
    return out;
  }

  #attribute(name: string, value: string): HtmlAttribute {
    const prefixes = (this._node as { 'x-attribsPrefix'?: Record<string, string | undefined> })['x-attribsPrefix'];
    const prefix = prefixes?.[name] ?? '';
    return { owner_element: this, name, value, prefix: () => prefix, namespaceURI: () => namespaceForPrefix(prefix), localName: () => name };
  }

  hasChildNodes(): boolean {
    return 'children' in this._node && this._node.children.length > 0;
  }

  childNodes(): HtmlElement[] {
    return this.elems(this._sel.contents());
  }

  children(): HtmlElement[] {
    return this.elems(this._sel.children());
  }

  childElementCount(): number {
    return this._sel.children().size();
  }

  firstChild(): HtmlElement | undefined {
    return 'children' in this._node ? this.elemOf(this._node.children[0]) : undefined;
  }

  lastChild(): HtmlElement | undefined {
    return 'children' in this._node ? this.elemOf(this._node.children[this._node.children.length - 1]) : undefined;
  }

  firstElementChild(): HtmlElement | undefined {
    return this._sel.children().get(0) as HtmlElement | undefined;
  }

  lastElementChild(): HtmlElement | undefined {
    return this._sel.children().get(-1) as HtmlElement | undefined;
  }

  previousSibling(): HtmlElement | undefined {
    return this.elemOf(this._node.prev);
  }

  nextSibling(): HtmlElement | undefined {
    return this.elemOf(this._node.next);
  }

  previousElementSibling(): HtmlElement | undefined {
    return this._sel.prev().get(0) as HtmlElement | undefined;
  }

  nextElementSibling(): HtmlElement | undefined {
    return this._sel.next().get(0) as HtmlElement | undefined;
  }

  parentNode(): HtmlElement | undefined {
    return this.elemOf(this._node.parent);
  }

  parentElement(): HtmlElement | undefined {
    return this._sel.parent().get(0) as HtmlElement | undefined;
  }

  ownerDocument(): HtmlElement | undefined {
    let n: AnyNode | null = this._node;
    while (n !== null && kind(n) !== 'root') n = n.parent;
    return this.elemOf(n);
  }

  classList(): string[] {
    const c = attrOf(this._node, 'class');
    return c === undefined ? [] : c.split(/\s+/).filter((w) => w !== '');
  }

  className(): string | undefined {
    return attrOf(this._node, 'class');
  }

  lang(): string | undefined {
    return attrOf(this._node, 'lang');
  }

  namespaceURI(): string {
    return isElement(this._node) && typeof this._node.namespace === 'string' && this._node.namespace !== '' ? this._node.namespace : XHTML_NS;
  }

  isDefaultNamespace(): boolean {
    return this.namespaceURI() === XHTML_NS;
  }

  /** `[object html.Node]` for elements, `[object #text]` and the like for other nodes (k6's). */
  toString(): string {
    return isElement(this._node) ? '[object html.Node]' : `[object ${nodeName(this._node)}]`;
  }

  isSameNode(other: unknown): boolean {
    return other instanceof HtmlElement && other._node === this._node;
  }

  isEqualNode(other: unknown): boolean {
    return other instanceof HtmlElement && other.innerHTML() === this.innerHTML();
  }

  contains(other: unknown): boolean {
    if (!(other instanceof HtmlElement) || other._node === this._node) return false;
    for (let n = other._node.parent; n !== null; n = n.parent) if (n === this._node) return true;
    return false;
  }

  matches(selector: unknown): boolean {
    return this._sel.is(String(selector));
  }

  getElementsByClassName(name: unknown): HtmlElement[] {
    return this.elems(this._sel.find(`.${String(name)}`));
  }

  getElementsByTagName(name: unknown): HtmlElement[] {
    return this.elems(this._sel.find(String(name)));
  }

  querySelector(selector: unknown): HtmlElement | undefined {
    return this._sel.find(String(selector)).get(0) as HtmlElement | undefined;
  }

  querySelectorAll(selector: unknown): HtmlElement[] {
    return this.elems(this._sel.find(String(selector)));
  }
}

/** `<a>`, `<area>`: URL parts of href, resolved against the response URL when there is one. */
export class HrefElement extends HtmlElement {
  /** The href as a URL; a relative one (no response URL to resolve against) keeps only path, query and fragment. */
  #url(): { u: URL; relative: boolean } | undefined {
    const href = this.attrAsUrl('href');
    if (href === '') return undefined;
    try {
      return { u: new URL(href), relative: false };
    } catch {
      try {
        return { u: new URL(href, RELATIVE_BASE), relative: true };
      } catch {
        return undefined;
      }
    }
  }

  #abs(): URL | undefined {
    const p = this.#url();
    return p === undefined || p.relative ? undefined : p.u;
  }

  hash(): string {
    return this.#url()?.u.hash ?? '';
  }

  host(): string {
    return this.#abs()?.host ?? '';
  }

  hostname(): string {
    return this.#abs()?.hostname ?? '';
  }

  port(): string {
    return this.#abs()?.port ?? '';
  }

  pathname(): string {
    return this.#url()?.u.pathname ?? '';
  }

  /** The scheme without ':' (k6), ':' when there is none. */
  protocol(): string {
    const p = this.#abs()?.protocol;
    return p === undefined ? ':' : p.replace(/:$/, '');
  }

  search(): string {
    return this.#url()?.u.search ?? '';
  }

  origin(): string {
    const u = this.#abs();
    return u === undefined || u.origin === 'null' ? '' : u.origin;
  }

  username(): string {
    return this.#abs()?.username ?? '';
  }

  password(): string {
    return this.#abs()?.password ?? '';
  }

  relList(): string[] {
    const r = attrOf(this._node, 'rel');
    return r === undefined || r === '' ? [] : r.split(' ');
  }

  text(): string {
    return this.textContent();
  }

  /** k6: an anchor's string form is its href. */
  override toString(): string {
    return this.attrAsUrl('href');
  }
}

/** `<input>`, `<button>`, `<select>`, `<textarea>` and friends: the owning form and its submission settings. */
export class FormFieldElement extends HtmlElement {
  form(): HtmlElement | undefined {
    return this.ownerForm()?.get(0) as HtmlElement | undefined;
  }

  #formOrOwn(name: string): string | undefined {
    const own = attrOf(this._node, `form${name}`);
    if (own !== undefined) return own;
    return this.ownerForm()?.attr(name) as string | undefined;
  }

  formAction(): string {
    const action = this.#formOrOwn('action');
    if (this._sel._url === '') return action ?? '';
    if (action === undefined || action === '') return this._sel._url;
    try {
      return new URL(action, this._sel._url).href;
    } catch {
      return action;
    }
  }

  formEnctype(): string {
    const e = this.#formOrOwn('enctype');
    return e === 'multipart/form-data' || e === 'text/plain' ? e : 'application/x-www-form-urlencoded';
  }

  formMethod(): string {
    return this.#formOrOwn('method')?.toLowerCase() === 'post' ? 'post' : 'get';
  }

  formNoValidate(): boolean {
    return this.#formOrOwn('novalidate') !== undefined;
  }

  formTarget(): string {
    return this.#formOrOwn('target') ?? '';
  }

  name(): string {
    return attrOf(this._node, 'name') ?? '';
  }

  labels(): HtmlElement[] {
    return this.labelsOf();
  }
}

export class InputElement extends FormFieldElement {
  /** The `<datalist>` named by `list`, for the input types that can have one. */
  list(): HtmlElement | undefined {
    const id = attrOf(this._node, 'list');
    if (id === undefined || id === '') return undefined;
    if (['hidden', 'checkbox', 'radio', 'file', 'button'].includes(attrOf(this._node, 'type') ?? '')) return undefined;
    return this.byId(id, 'datalist').get(0) as HtmlElement | undefined;
  }
}

export class ButtonElement extends FormFieldElement {
  value(): string {
    return valueOrHtml(this._sel);
  }
}

export class SelectElement extends FormFieldElement {
  length(): number {
    return this._sel.find('option').size();
  }

  options(): HtmlElement[] {
    return this.elems(this._sel.find('option'));
  }

  selectedIndex(): number {
    const selected = this._sel.find('option[selected]');
    return selected.size() === 0 ? -1 : this._sel.find('option').index(selected);
  }

  selectedOptions(): HtmlElement[] {
    return this.elems(this._sel.find('option[selected]'));
  }

  size(): number {
    return attrOf(this._node, 'multiple') === undefined ? 1 : 4;
  }

  type(): string {
    return attrOf(this._node, 'multiple') === undefined ? 'select' : 'select-multiple';
  }

  value(): string {
    const o = this._sel.find('option[selected]');
    return o.size() === 0 ? '' : valueOrHtml(o.first());
  }
}

export class OptionElement extends HtmlElement {
  disabled(): boolean {
    if (attrOf(this._node, 'disabled') !== undefined) return true;
    const group = this._sel.parents('optgroup');
    return group.size() > 0 && group.attr('disabled') !== undefined;
  }

  form(): HtmlElement | undefined {
    const around = this._sel.parents('form');
    if (around.size() > 0) return around.get(0) as HtmlElement;
    const id = this._sel.parents('select').attr('form');
    if (typeof id !== 'string') return undefined;
    return this.byId(id, 'form').get(0) as HtmlElement | undefined;
  }

  index(): number {
    const holder = this._sel.parents('select,datalist');
    return holder.size() === 0 ? 0 : holder.find('option').index(this._sel);
  }

  label(): string {
    return attrOf(this._node, 'label') ?? this.textContent();
  }

  text(): string {
    return this.textContent();
  }

  value(): string {
    return valueOrHtml(this._sel);
  }
}

export class TextAreaElement extends FormFieldElement {
  length(): number {
    return (attrOf(this._node, 'value') ?? '').length;
  }
}

export class FormElement extends HtmlElement {
  elements(): HtmlElement[] {
    return this.elems(this._sel.find('input,select,button,textarea,fieldset'));
  }

  length(): number {
    return this._sel.find('input,select,button,textarea,fieldset').size();
  }

  method(): string {
    return attrOf(this._node, 'method') === 'post' ? 'post' : 'get';
  }
}

export class LabelElement extends HtmlElement {
  control(): HtmlElement | undefined {
    const id = attrOf(this._node, 'for');
    if (id === undefined) return undefined;
    return this.byId(id).get(0) as HtmlElement | undefined;
  }

  form(): HtmlElement | undefined {
    return this.ownerForm()?.get(0) as HtmlElement | undefined;
  }
}

/** `<title>`, `<script>`: text() is the text content. */
export class TextElement extends HtmlElement {
  text(): string {
    return this.textContent();
  }
}

export class TableElement extends HtmlElement {
  #child(name: string): HtmlElement | undefined {
    return this._sel.children(name).get(0) as HtmlElement | undefined;
  }

  caption(): HtmlElement | undefined {
    return this.#child('caption');
  }

  tHead(): HtmlElement | undefined {
    return this.#child('thead');
  }

  tFoot(): HtmlElement | undefined {
    return this.#child('tfoot');
  }

  rows(): HtmlElement[] {
    return this.elems(this._sel.find('tr'));
  }

  tBodies(): HtmlElement[] {
    return this.elems(this._sel.find('tbody'));
  }
}

export class TableSectionElement extends HtmlElement {
  rows(): HtmlElement[] {
    return this.elems(this._sel.find('tr'));
  }
}

export class TableRowElement extends HtmlElement {
  cells(): HtmlElement[] {
    return this.elems(this._sel.find('th,td'));
  }

  rowIndex(): number {
    const table = this._sel.parents('table');
    return table.size() === 0 ? -1 : table.find('tr').index(this._sel);
  }

  sectionRowIndex(): number {
    const section = this._sel.parents('thead,tbody,tfoot');
    return section.size() === 0 ? -1 : section.find('tr').index(this._sel);
  }
}

export class TableCellElement extends HtmlElement {
  cellIndex(): number {
    const row = this._sel.parents('tr');
    return row.size() === 0 ? -1 : row.find('th,td').index(this._sel);
  }
}

/** `<fieldset>`, `<keygen>`, `<legend>`, `<object>`, `<meter>`, `<output>`, `<progress>`: the owning form and labels. */
export class FormOwnedElement extends HtmlElement {
  form(): HtmlElement | undefined {
    return this.ownerForm()?.get(0) as HtmlElement | undefined;
  }

  labels(): HtmlElement[] {
    return this.labelsOf();
  }
}

export class FieldSetElement extends FormOwnedElement {
  elements(): HtmlElement[] {
    return this.elems(this._sel.find('input,select,button,textarea'));
  }

  validity(): undefined {
    return undefined;
  }
}

export class OutputElement extends FormOwnedElement {
  value(): string {
    return this.textContent();
  }

  defaultValue(): string {
    return this.textContent();
  }
}

export class ProgressElement extends FormOwnedElement {
  max(): number {
    const m = Number.parseFloat(attrOf(this._node, 'max') ?? '');
    return Number.isNaN(m) || m < 0 ? 1 : m;
  }

  #progress(def: number): number {
    const raw = attrOf(this._node, 'value');
    if (raw === undefined) return def;
    const v = Number.parseFloat(raw);
    return Number.isNaN(v) || v < 0 ? def : v / this.max();
  }

  value(): number {
    return this.#progress(0);
  }

  position(): number {
    return this.#progress(-1);
  }
}

export class DataListElement extends HtmlElement {
  options(): HtmlElement[] {
    return this.elems(this._sel.find('option'));
  }
}

export class MapElement extends HtmlElement {
  areas(): HtmlElement[] {
    return this.elems(this._sel.find('area'));
  }

  images(): HtmlElement[] {
    const name = attrOf(this._node, 'id');
    if (name === undefined) return [];
    const n = name.replace(/["\\]/g, '\\$&');
    return this.elems(new Selection(this._sel._$, this._sel._$.root().find(`img[usemap="#${n}"],object[usemap="#${n}"]`), this._sel._url));
  }
}

export class MediaElement extends HtmlElement {
  textTracks(): HtmlElement[] {
    return this.elems(this._sel.find('track'));
  }
}

export class LinkElement extends HtmlElement {
  relList(): string[] {
    const r = attrOf(this._node, 'rel');
    return r === undefined || r === '' ? [] : r.split(' ');
  }
}

export class StyleElement extends HtmlElement {
  type(): string {
    const t = attrOf(this._node, 'type');
    return t === undefined || t === '' ? 'text/css' : t;
  }
}

export class TableColElement extends HtmlElement {
  span(): number {
    const v = attrOf(this._node, 'span');
    const n = v !== undefined && /^[+-]?\d+$/.test(v) ? Number.parseInt(v, 10) : 1;
    return n < 1 ? 1 : n;
  }
}

/**
 * k6's generated attribute accessors, as compact specs: `s:attr` string ('' when missing),
 * `u:attr` URL resolved against the response URL, `b:attr` presence, `i:attr:def` integer,
 * `e:attr:a|b:def` one of the values else def, `x:attr:a|b` one of the values else undefined,
 * `c:value` a constant.
 */
type Spec = Readonly<Record<string, string>>;

const REFERRER = 'e:referrerpolicy:no-referrer|no-referrer-when-downgrade|origin|origin-when-cross-origin|unsafe-url:';
const CROSS_ORIGIN = 'x:crossorigin:anonymous|use-credentials';
const HREF: Spec = { download: 's:download', referrerPolicy: REFERRER, rel: 's:rel', href: 'u:href', target: 's:target', type: 's:type', accessKey: 's:accesskey', hrefLang: 's:hreflang' };
const MEDIA: Spec = { autoplay: 'b:autoplay', controls: 'b:controls', loop: 'b:loop', muted: 'b:muted', preload: 'e:preload:metadata|none:auto', src: 'u:src', crossOrigin: CROSS_ORIGIN, currentSrc: 's:src', defaultMuted: 'b:muted', mediaGroup: 's:mediagroup' };
const INPUT_TYPES = 'button|checkbox|color|date|datetime-local|email|file|hidden|image|month|number|password|radio|range|reset|search|submit|tel|time|url|week';
const TABLE_CELL: Spec = { colSpan: 'i:colspan:1', rowSpan: 'i:rowspan:1', headers: 's:headers' };

/** Per tag: the class with the hand-written members, and the generated accessors. */
const TAGS: Readonly<Record<string, readonly [typeof HtmlElement, Spec]>> = {
  a: [HrefElement, HREF],
  area: [HrefElement, HREF],
  audio: [MediaElement, MEDIA],
  video: [MediaElement, MEDIA],
  base: [HtmlElement, { href: 'u:href:base', target: 's:target' }],
  button: [ButtonElement, { accessKey: 's:accesskey', autofocus: 'b:autofocus', disabled: 'b:disabled', tabIndex: 'i:tabindex:0', type: 'e:type:button|menu|reset:submit' }],
  canvas: [HtmlElement, { width: 'i:width:150', height: 'i:height:150' }],
  col: [TableColElement, {}],
  data: [HtmlElement, { value: 's:value' }],
  datalist: [DataListElement, {}],
  keygen: [FormOwnedElement, { autofocus: 'b:autofocus', challenge: 's:challenge', disabled: 'b:disabled', keytype: 'e:keytype:DSA|EC:RSA', name: 's:name', type: 'c:keygen' }],
  progress: [ProgressElement, {}],
  del: [HtmlElement, { cite: 's:cite', datetime: 's:datetime' }],
  ins: [HtmlElement, { cite: 's:cite', datetime: 's:datetime' }],
  embed: [HtmlElement, { height: 's:height', width: 's:width', src: 's:src', type: 's:type' }],
  fieldset: [FieldSetElement, { disabled: 'b:disabled', name: 's:name', type: 'c:fieldset' }],
  form: [FormElement, { action: 'u:action', name: 's:name', target: 's:target', enctype: 'e:enctype:multipart/form-data|text/plain:application/x-www-form-urlencoded', encoding: 'e:enctype:multipart/form-data|text/plain:application/x-www-form-urlencoded', acceptCharset: 's:accept-charset', autocomplete: 'e:autocomplete:off:on', noValidate: 'b:novalidate' }],
  iframe: [HtmlElement, { allowfullscreen: 'b:allowfullscreen', referrerPolicy: REFERRER, height: 's:height', width: 's:width', name: 's:name', src: 'u:src' }],
  img: [HtmlElement, { currentSrc: 'u:src', sizes: 's:sizes', srcset: 's:srcset', alt: 's:alt', crossOrigin: CROSS_ORIGIN, height: 'i:height:0', width: 'i:width:0', isMap: 'b:ismap', name: 's:name', src: 'u:src', useMap: 's:usemap', referrerPolicy: REFERRER }],
  input: [InputElement, { tabIndex: 'i:tabindex:0', type: `e:type:${INPUT_TYPES}:text`, disabled: 'b:disabled', autofocus: 'b:autofocus', required: 'b:required', value: 's:value', checked: 'b:checked', defaultChecked: 'b:checked', alt: 's:alt', src: 'u:src', height: 's:height', width: 's:width', accept: 's:accept', autocomplete: 'e:autocomplete:off:on', maxLength: 'i:maxlength:-1', size: 'i:size:0', pattern: 's:pattern', placeholder: 's:placeholder', readonly: 'b:readonly', min: 's:min', max: 's:max', defaultValue: 's:value', dirName: 's:dirname', accessKey: 's:accesskey', multiple: 'b:multiple', step: 's:step' }],
  label: [LabelElement, { htmlFor: 's:for' }],
  legend: [FormOwnedElement, { accessKey: 's:accesskey' }],
  li: [HtmlElement, { value: 'i:value:0', type: 'e:type:1|a|A|i|I|disc|square|circle:' }],
  link: [LinkElement, { crossOrigin: CROSS_ORIGIN, referrerPolicy: REFERRER, href: 'u:href', hreflang: 's:hreflang', media: 's:media', rel: 's:rel', target: 's:target', type: 's:type' }],
  map: [MapElement, { name: 's:name' }],
  meta: [HtmlElement, { content: 's:content', name: 's:name', httpEquiv: 'e:http-equiv:content-type|default-style|refresh:' }],
  meter: [FormOwnedElement, { min: 'i:min:0', max: 'i:max:0', high: 'i:high:0', low: 'i:low:0', optimum: 'i:optimum:0' }],
  object: [FormOwnedElement, { data: 'u:data', height: 's:height', name: 's:name', type: 's:type', tabIndex: 'i:tabindex:0', typeMustMatch: 'b:typemustmatch', useMap: 's:usemap', width: 's:width' }],
  ol: [HtmlElement, { reversed: 'b:reversed', start: 'i:start:0', type: 'e:type:a|A|i|I:1' }],
  optgroup: [HtmlElement, { disabled: 'b:disabled', label: 's:label' }],
  option: [OptionElement, { defaultSelected: 'b:selected', selected: 'b:selected' }],
  output: [OutputElement, { htmlFor: 's:for', name: 's:name', type: 'c:output' }],
  param: [HtmlElement, { name: 's:name', value: 's:value' }],
  pre: [HtmlElement, { name: 's:name', value: 's:value' }],
  q: [HtmlElement, { cite: 's:cite' }],
  script: [TextElement, { crossOrigin: 's:crossorigin', type: 's:type', src: 'u:src', charset: 's:charset', async: 'b:async', defer: 'b:defer', noModule: 'b:nomodule' }],
  select: [SelectElement, { autofocus: 'b:autofocus', disabled: 'b:disabled', multiple: 'b:multiple', required: 'b:required', tabIndex: 'i:tabindex:0' }],
  source: [HtmlElement, { keySystem: 's:keysystem', media: 's:media', sizes: 's:sizes', src: 'u:src', srcset: 's:srcset', type: 's:type' }],
  style: [StyleElement, { media: 's:media' }],
  table: [TableElement, { sortable: 'b:sortable' }],
  thead: [TableSectionElement, {}],
  tbody: [TableSectionElement, {}],
  tfoot: [TableSectionElement, {}],
  tr: [TableRowElement, {}],
  td: [TableCellElement, TABLE_CELL],
  th: [TableCellElement, { ...TABLE_CELL, abbr: 's:abbr', scope: 'e:scope:row|col|colgroup|rowgroup:', sorted: 'b:sorted' }],
  textarea: [TextAreaElement, { type: 'c:textarea', value: 's:value', defaultValue: 's:value', placeholder: 's:placeholder', rows: 'i:rows:0', cols: 'i:cols:0', maxLength: 'i:maxlength:0', tabIndex: 'i:tabindex:0', accessKey: 's:accesskey', readOnly: 'b:readonly', required: 'b:required', autocomplete: 'e:autocomplete:off:on', autocapitalize: 'e:autocapitalize:none|off|characters|words:sentences', wrap: 'e:wrap:hard|off:soft' }],
  time: [HtmlElement, { datetime: 's:datetime' }],
  title: [TextElement, {}],
  track: [HtmlElement, { kind: 'e:kind:captions|descriptions|chapters|metadata:subtitle', src: 'u:src', srclang: 's:srclang', label: 's:label', default: 'b:default' }],
  ul: [HtmlElement, { type: 's:type' }],
};

/** Go's strconv.Atoi: an optional sign and decimal digits, nothing else. */
function atoi(v: string | undefined, def: number): number {
  return v !== undefined && /^[+-]?\d+$/.test(v) ? Number.parseInt(v, 10) : def;
}

type Accessor = (this: HtmlElement) => unknown;

function accessor(spec: string): Accessor {
  const [k = '', attr = '', a = '', b = ''] = spec.split(':');
  const get = (e: HtmlElement): string | undefined => e.getAttribute(attr);
  switch (k) {
    case 's': return function (this: HtmlElement) { return get(this) ?? ''; };
    case 'u': return function (this: HtmlElement) { return (this as unknown as { attrAsUrl(n: string, d: string): string }).attrAsUrl(attr, a === 'base' ? this._sel._url : ''); };
    case 'b': return function (this: HtmlElement) { return get(this) !== undefined; };
    case 'i': return function (this: HtmlElement) { return atoi(get(this), Number(a)); };
    case 'e': {
      const allowed = new Set(a.split('|'));
      return function (this: HtmlElement) { const v = get(this) ?? ''; return allowed.has(v) ? v : b; };
    }
    case 'x': {
      const allowed = new Set(a.split('|'));
      return function (this: HtmlElement) { const v = get(this); return v !== undefined && allowed.has(v) ? v : undefined; };
    }
    case 'c': return () => attr;
    default: throw new Error(`k6/html: bad accessor spec ${spec}`);
  }
}

/** One subclass per tag: the hand-written class plus the generated accessors on its prototype. */
const TAG_CLASSES = new Map<string, typeof HtmlElement>();
for (const [tag, [base, spec]] of Object.entries(TAGS)) {
  const cls = class extends base {};
  Object.defineProperty(cls, 'name', { value: base.name });
  for (const [name, s] of Object.entries(spec)) Object.defineProperty(cls.prototype, name, { value: accessor(s), writable: true, configurable: true });
  TAG_CLASSES.set(tag, cls);
}

function elementFor(n: AnyNode, sel: Selection): HtmlElement {
  const cls = isElement(n) ? TAG_CLASSES.get(n.name) : undefined;
  return cls === undefined ? new HtmlElement(n, sel) : new cls(n, sel);
}

/** Parses a whole document (HTML5 rules) into a Selection of the document node. */
export function parseHTML(src: unknown, url = ''): Selection {
  if (typeof src !== 'string') {
    const shown = src === null ? 'null' : src instanceof ArrayBuffer ? 'an ArrayBuffer' : typeof src;
    throw new ModuleUsageError('html-invalid-source', `parseHTML() needs the HTML as a string, got ${shown}; pass res.body of a response with responseType 'text' (the default)`);
  }
  const { load, parse, adapter } = lib();
  const doc = parse(src, { treeAdapter: adapter });
  const $ = load(doc);
  return new Selection($, $.root(), url);
}

/** `res.html(selector?)`: the body parsed, `.find(selector)` when given (k6's Response.html). */
export function responseHtml(body: string | ArrayBuffer | null, url: string, selector?: string): Selection {
  if (body === null) {
    throw new ModuleUsageError('no-body', `cannot parse the HTML of the response from ${url}: the body is null (discarded with responseType 'none', or the request failed); set responseType: 'text'`);
  }
  const doc = parseHTML(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'), url);
  return selector === undefined ? doc : doc.find(selector);
}

export function createHtmlModule(): Record<string, unknown> {
  return { parseHTML: (src: unknown) => parseHTML(src) };
}
