/** The element classes outside forms: anchors, text, tables, media, links, style, maps. */
import { cssString, HtmlElement } from './element.ts';
import { attrOf } from './nodes.ts';

/** Base for splitting a relative href into path, query and fragment (never shown). */
const RELATIVE_BASE = 'http://relative.invalid';

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

export class MapElement extends HtmlElement {
  areas(): HtmlElement[] {
    return this.elems(this._sel.find('area'));
  }

  images(): HtmlElement[] {
    const name = attrOf(this._node, 'id');
    if (name === undefined) return [];
    const n = cssString(name);
    return this.elems(this.inDocument(`img[usemap="#${n}"],object[usemap="#${n}"]`));
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
