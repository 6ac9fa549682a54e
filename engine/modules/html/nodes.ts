/** The parsed-tree helpers every part of `k6/html` shares: node kinds and names, attributes, Go ints. */
import type { Cheerio } from 'cheerio/slim';
import type { AnyNode, Element as DomElement } from 'domhandler';

export type Nodes = Cheerio<AnyNode>;

export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

/** The node's kind as a plain string ('tag', 'text', 'comment', 'root', 'directive', ...). */
export function kind(n: AnyNode): string {
  return n.type;
}

export function isElement(n: AnyNode): n is DomElement {
  const k = kind(n);
  return k === 'tag' || k === 'script' || k === 'style';
}

/** goquery.NodeName: the tag for elements (lower case in HTML), `#text`, `#comment`, `#document`; '' for nothing. */
export function nodeName(n: AnyNode | undefined): string {
  if (n === undefined) return '';
  if (isElement(n)) return n.name;
  switch (kind(n)) {
    case 'text':
      return '#text';
    case 'comment':
      return '#comment';
    case 'root':
      return '#document';
    case 'directive':
      return (n as { name: string }).name.replace(/^!/, '').toLowerCase() === 'doctype' ? 'html' : (n as { name: string }).name;
    default:
      return '';
  }
}

/** k6's node type numbers (DOM's): element 1, text 3, comment 8, document 9, doctype 10. */
export function nodeType(n: AnyNode): number | undefined {
  if (isElement(n)) return 1;
  switch (kind(n)) {
    case 'text':
      return 3;
    case 'comment':
      return 8;
    case 'root':
      return 9;
    case 'directive':
      return 10;
    default:
      return undefined;
  }
}

export function attrOf(n: AnyNode | undefined, name: string): string | undefined {
  if (n === undefined || !isElement(n)) return undefined;
  return Object.prototype.hasOwnProperty.call(n.attribs, name) ? n.attribs[name] : undefined;
}

/** A script number argument as k6's Go int: NaN/undefined → 0, fractions cut. */
export function toInt(v: unknown): number {
  const n = Math.trunc(Number(v));
  return Number.isFinite(n) ? n : Number.isNaN(n) ? 0 : n;
}

/** Defines read-only, non-enumerable own properties. */
export function hidden(target: object, props: Record<string, unknown>): void {
  for (const [k, value] of Object.entries(props))
    Object.defineProperty(target, k, { value, enumerable: false, writable: false, configurable: false });
}
