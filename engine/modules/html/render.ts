import type { AnyNode, Comment, Document, Element as DomElement, ProcessingInstruction, Text } from 'domhandler';
import { isElement, kind, XHTML_NS } from './nodes.ts';

/** Go's html.escape: the characters it replaces in text and attribute values, and with what. */
const GO_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\r': '&#13;' };
const goEscape = (s: string): string => s.replace(/[&'<>"\r]/g, (c) => GO_ESCAPES[c] ?? c);
/** Go's escapeComment: every `&`, and a `>` at the start or after `!` or `-` (where it would end the comment). */
const goEscapeComment = (s: string): string => s.replace(/&|(^|(?<=[!-]))>/g, (c) => (c === '&' ? '&amp;' : '&gt;'));
/** x/net/html's voidElements: rendered `<br/>`, never with children. */
const GO_VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'keygen',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);
/** Elements whose text children Go writes unescaped (childTextNodesAreLiteral, noscript included). */
const GO_LITERAL_TEXT = new Set(['iframe', 'noembed', 'noframes', 'noscript', 'plaintext', 'script', 'style', 'xmp']);

/** Go's writeQuoted for doctype identifiers: double quotes unless the value has one. */
const goQuoted = (s: string): string => (s.includes('"') ? `'${s}'` : `"${s}"`);

/**
 * One node as Go's html.Render (x/net/html render1) writes it, so `html()` equals k6's: `<br/>`,
 * attributes always double-quoted, `&'<>"\r` escaped as `&amp; &#39; &lt; &gt; &#34; &#13;` (no
 * `&nbsp;`), script/style text literal, a newline kept after `<pre>`, `<listing>`, `<textarea>`.
 */
export function renderGo(n: AnyNode): string {
  switch (kind(n)) {
    case 'text':
      return goEscape((n as Text).data);
    case 'comment':
      return `<!--${goEscapeComment((n as Comment).data)}-->`;
    case 'root': {
      let out = '';
      for (const c of (n as Document).children) out += renderGo(c);
      return out;
    }
    case 'directive': {
      const d = n as ProcessingInstruction & Partial<Record<'x-name' | 'x-publicId' | 'x-systemId', string | null>>;
      const pub = d['x-publicId'] ?? '';
      const sys = d['x-systemId'] ?? '';
      const ids =
        pub !== '' ? ` PUBLIC ${goQuoted(pub)}${sys !== '' ? ` ${goQuoted(sys)}` : ''}` : sys !== '' ? ` SYSTEM ${goQuoted(sys)}` : '';
      return `<!DOCTYPE ${d['x-name'] ?? ''}${ids}>`;
    }
    default:
      break;
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
  if (
    first !== undefined &&
    kind(first) === 'text' &&
    (first as Text).data.startsWith('\n') &&
    (n.name === 'pre' || n.name === 'listing' || n.name === 'textarea')
  )
    out += '\n';
  const literal = n.namespace === XHTML_NS && GO_LITERAL_TEXT.has(n.name);
  for (const c of n.children) out += literal && kind(c) === 'text' ? (c as Text).data : renderGo(c);
  return `${out}</${n.name}>`;
}
