/**
 * `k6/html`: `parseHTML(src)` → Selection, and the Selection behind `Response.html()`, with k6's
 * semantics (k6 wraps goquery): a jQuery-like read-only Selection whose callbacks get
 * `(index, Element)` in each() and `(index, Selection)` in map()/filter()/is()/not(); an Element
 * whose members are methods (`el.nodeName()`, `el.textContent()`), as k6 exposes them.
 *
 * Parsing is HTML5 (parse5, like Go's x/net/html: implicit html/head/body), selection is cheerio.
 * Both are loaded on the first parse only, so scripts that never parse HTML pay nothing.
 *
 * Files: `selection.ts` (Selection), `element.ts` (the Element base), `elements.ts` and `forms.ts`
 * (the per-tag classes), `tags.ts` (tag → class and k6's generated accessors, as typed specs),
 * `render.ts` (Go's html.Render), `nodes.ts` and `data.ts` (shared helpers).
 */
import { createRequire } from 'node:module';
import type * as CheerioSlim from 'cheerio/slim';
import type * as Parse5 from 'parse5';
import type * as Parse5Adapter from 'parse5-htmlparser2-tree-adapter';
import { ModuleUsageError } from '../k6.ts';
import { Selection } from './selection.ts';
import type { K6Module } from '../k6-types.ts';

export { Selection } from './selection.ts';
export { HtmlElement, type HtmlAttribute } from './element.ts';
export { HrefElement } from './elements.ts';

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

/** Parses a whole document (HTML5 rules) into a Selection of the document node. */
export function parseHTML(src: unknown, url = ''): Selection {
  if (typeof src !== 'string') {
    const shown = src === null ? 'null' : src instanceof ArrayBuffer ? 'an ArrayBuffer' : typeof src;
    throw new ModuleUsageError(
      'html-invalid-source',
      `parseHTML() needs the HTML as a string, got ${shown}; pass res.body of a response with responseType 'text' (the default)`,
    );
  }
  const { load, parse, adapter } = lib();
  const doc = parse(src, { treeAdapter: adapter });
  const $ = load(doc);
  return new Selection($, $.root(), url);
}

/** `res.html(selector?)`: the body parsed, `.find(selector)` when given (k6's Response.html). */
export function responseHtml(body: string | ArrayBuffer | null, url: string, selector?: string): Selection {
  if (body === null) {
    throw new ModuleUsageError(
      'no-body',
      `cannot parse the HTML of the response from ${url}: the body is null (discarded with responseType 'none', or the request failed); set responseType: 'text'`,
    );
  }
  const doc = parseHTML(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'), url);
  return selector === undefined ? doc : doc.find(selector);
}

/** `NodeType`, an enum in @types/k6, is not exported (nodeType() returns the numbers). */
export function createHtmlModule(): Record<string, unknown> {
  return { parseHTML: (src: unknown) => parseHTML(src) } satisfies K6Module<typeof import('k6/html'), 'NodeType'>;
}
