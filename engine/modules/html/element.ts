import type { AnyNode } from 'domhandler';
import { attrOf, hidden, isElement, kind, nodeName, nodeType, XHTML_NS } from './nodes.ts';
import type { Selection } from './selection.ts';

/** An attribute value inside a double-quoted CSS attribute selector. */
export function cssString(v: string): string {
  return v.replace(/["\\]/g, '\\$&');
}

/** The attribute resolved against the response URL (as k6 does for href/src/action); raw without a URL. */
export function attrAsUrl(e: HtmlElement, name: string, def = ''): string {
  const v = attrOf(e._node, name);
  if (e._sel._url === '') return v ?? '';
  if (v === undefined) return def;
  try {
    return new URL(v, e._sel._url).href;
  } catch {
    return def;
  }
}

/** The value attribute, else the inner HTML (k6 for option/button values). */
export function valueOrHtml(s: Selection): string {
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
    return this._sel._element(n);
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
    return attrAsUrl(this, name, def);
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
    const forId = this.inDocument(`label[for="${cssString(id)}"]`);
    return this.elems(forId.size() === 0 ? around : around.add(forId));
  }

  /** The elements of this document with the given id. */
  protected byId(id: string, tag = ''): Selection {
    return this.inDocument(`${tag}[id="${cssString(id)}"]`);
  }

  /** The elements of this whole document that match `selector`. */
  protected inDocument(selector: string): Selection {
    return this._sel._with(this._sel._$.root().find(selector));
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
    return {
      owner_element: this,
      name,
      value,
      prefix: () => prefix,
      namespaceURI: () => namespaceForPrefix(prefix),
      localName: () => name,
    };
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
    return isElement(this._node) && typeof this._node.namespace === 'string' && this._node.namespace !== ''
      ? this._node.namespace
      : XHTML_NS;
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
