/**
 * Per tag: the element class with the hand-written members, and k6's generated attribute
 * accessors as typed specs (what k6 derives from which attribute, with which default).
 */
import type { AnyNode } from 'domhandler';
import { attrAsUrl, HtmlElement } from './element.ts';
import {
  HrefElement,
  LinkElement,
  MapElement,
  MediaElement,
  StyleElement,
  TableCellElement,
  TableColElement,
  TableElement,
  TableRowElement,
  TableSectionElement,
  TextElement,
} from './elements.ts';
import {
  ButtonElement,
  DataListElement,
  FieldSetElement,
  FormElement,
  FormOwnedElement,
  InputElement,
  LabelElement,
  OptionElement,
  OutputElement,
  ProgressElement,
  SelectElement,
  TextAreaElement,
} from './forms.ts';
import { attrOf, isElement } from './nodes.ts';
import type { Selection } from './selection.ts';

/** One generated accessor: which attribute k6 reads and what it returns. */
export type AccessorSpec =
  /** The attribute, '' when missing. */
  | { readonly kind: 'text'; readonly attr: string }
  /** The attribute as a URL resolved against the response URL; when missing, '' or (`<base>`) the document URL. */
  | { readonly kind: 'url'; readonly attr: string; readonly missing: 'empty' | 'document-url' }
  /** Whether the attribute is there. */
  | { readonly kind: 'present'; readonly attr: string }
  /** The attribute as a Go integer (strconv.Atoi), else `def`. */
  | { readonly kind: 'int'; readonly attr: string; readonly def: number }
  /** The attribute when it is one of `values`, else `def`. */
  | { readonly kind: 'oneOf'; readonly attr: string; readonly values: ReadonlySet<string>; readonly def: string }
  /** The attribute when it is one of `values`, else undefined. */
  | { readonly kind: 'oneOfOrUndefined'; readonly attr: string; readonly values: ReadonlySet<string> }
  /** Always `value`. */
  | { readonly kind: 'constant'; readonly value: string };

type Accessors = Readonly<Record<string, AccessorSpec>>;

const DOCUMENT_URL = 'document-url';
const text = (attr: string): AccessorSpec => ({ kind: 'text', attr });
const url = (attr: string, missing: 'empty' | typeof DOCUMENT_URL = 'empty'): AccessorSpec => ({ kind: 'url', attr, missing });
const present = (attr: string): AccessorSpec => ({ kind: 'present', attr });
const int = (attr: string, def: number): AccessorSpec => ({ kind: 'int', attr, def });
const oneOf = (attr: string, values: readonly string[], def: string): AccessorSpec => ({
  kind: 'oneOf',
  attr,
  values: new Set(values),
  def,
});
const oneOfOrUndefined = (attr: string, values: readonly string[]): AccessorSpec => ({
  kind: 'oneOfOrUndefined',
  attr,
  values: new Set(values),
});
const constant = (value: string): AccessorSpec => ({ kind: 'constant', value });

const REFERRER = oneOf(
  'referrerpolicy',
  ['no-referrer', 'no-referrer-when-downgrade', 'origin', 'origin-when-cross-origin', 'unsafe-url'],
  '',
);
const CROSS_ORIGIN = oneOfOrUndefined('crossorigin', ['anonymous', 'use-credentials']);
const INPUT_TYPES = [
  'button',
  'checkbox',
  'color',
  'date',
  'datetime-local',
  'email',
  'file',
  'hidden',
  'image',
  'month',
  'number',
  'password',
  'radio',
  'range',
  'reset',
  'search',
  'submit',
  'tel',
  'time',
  'url',
  'week',
];
const HREF: Accessors = {
  download: text('download'),
  referrerPolicy: REFERRER,
  rel: text('rel'),
  href: url('href'),
  target: text('target'),
  type: text('type'),
  accessKey: text('accesskey'),
  hrefLang: text('hreflang'),
};
const MEDIA: Accessors = {
  autoplay: present('autoplay'),
  controls: present('controls'),
  loop: present('loop'),
  muted: present('muted'),
  preload: oneOf('preload', ['metadata', 'none'], 'auto'),
  src: url('src'),
  crossOrigin: CROSS_ORIGIN,
  currentSrc: text('src'),
  defaultMuted: present('muted'),
  mediaGroup: text('mediagroup'),
};
const TABLE_CELL: Accessors = { colSpan: int('colspan', 1), rowSpan: int('rowspan', 1), headers: text('headers') };

/** Per tag: the class with the hand-written members, and the generated accessors. */
const TAGS: Readonly<Record<string, readonly [typeof HtmlElement, Accessors]>> = {
  a: [HrefElement, HREF],
  area: [HrefElement, HREF],
  audio: [MediaElement, MEDIA],
  video: [MediaElement, MEDIA],
  base: [HtmlElement, { href: url('href', DOCUMENT_URL), target: text('target') }],
  button: [
    ButtonElement,
    {
      accessKey: text('accesskey'),
      autofocus: present('autofocus'),
      disabled: present('disabled'),
      tabIndex: int('tabindex', 0),
      type: oneOf('type', ['button', 'menu', 'reset'], 'submit'),
    },
  ],
  canvas: [HtmlElement, { width: int('width', 150), height: int('height', 150) }],
  col: [TableColElement, {}],
  data: [HtmlElement, { value: text('value') }],
  datalist: [DataListElement, {}],
  keygen: [
    FormOwnedElement,
    {
      autofocus: present('autofocus'),
      challenge: text('challenge'),
      disabled: present('disabled'),
      keytype: oneOf('keytype', ['DSA', 'EC'], 'RSA'),
      name: text('name'),
      type: constant('keygen'),
    },
  ],
  progress: [ProgressElement, {}],
  del: [HtmlElement, { cite: text('cite'), datetime: text('datetime') }],
  ins: [HtmlElement, { cite: text('cite'), datetime: text('datetime') }],
  embed: [HtmlElement, { height: text('height'), width: text('width'), src: text('src'), type: text('type') }],
  fieldset: [FieldSetElement, { disabled: present('disabled'), name: text('name'), type: constant('fieldset') }],
  form: [
    FormElement,
    {
      action: url('action'),
      name: text('name'),
      target: text('target'),
      enctype: oneOf('enctype', ['multipart/form-data', 'text/plain'], 'application/x-www-form-urlencoded'),
      encoding: oneOf('enctype', ['multipart/form-data', 'text/plain'], 'application/x-www-form-urlencoded'),
      acceptCharset: text('accept-charset'),
      autocomplete: oneOf('autocomplete', ['off'], 'on'),
      noValidate: present('novalidate'),
    },
  ],
  iframe: [
    HtmlElement,
    {
      allowfullscreen: present('allowfullscreen'),
      referrerPolicy: REFERRER,
      height: text('height'),
      width: text('width'),
      name: text('name'),
      src: url('src'),
    },
  ],
  img: [
    HtmlElement,
    {
      currentSrc: url('src'),
      sizes: text('sizes'),
      srcset: text('srcset'),
      alt: text('alt'),
      crossOrigin: CROSS_ORIGIN,
      height: int('height', 0),
      width: int('width', 0),
      isMap: present('ismap'),
      name: text('name'),
      src: url('src'),
      useMap: text('usemap'),
      referrerPolicy: REFERRER,
    },
  ],
  input: [
    InputElement,
    {
      tabIndex: int('tabindex', 0),
      type: oneOf('type', INPUT_TYPES, 'text'),
      disabled: present('disabled'),
      autofocus: present('autofocus'),
      required: present('required'),
      value: text('value'),
      checked: present('checked'),
      defaultChecked: present('checked'),
      alt: text('alt'),
      src: url('src'),
      height: text('height'),
      width: text('width'),
      accept: text('accept'),
      autocomplete: oneOf('autocomplete', ['off'], 'on'),
      maxLength: int('maxlength', -1),
      size: int('size', 0),
      pattern: text('pattern'),
      placeholder: text('placeholder'),
      readonly: present('readonly'),
      min: text('min'),
      max: text('max'),
      defaultValue: text('value'),
      dirName: text('dirname'),
      accessKey: text('accesskey'),
      multiple: present('multiple'),
      step: text('step'),
    },
  ],
  label: [LabelElement, { htmlFor: text('for') }],
  legend: [FormOwnedElement, { accessKey: text('accesskey') }],
  li: [HtmlElement, { value: int('value', 0), type: oneOf('type', ['1', 'a', 'A', 'i', 'I', 'disc', 'square', 'circle'], '') }],
  link: [
    LinkElement,
    {
      crossOrigin: CROSS_ORIGIN,
      referrerPolicy: REFERRER,
      href: url('href'),
      hreflang: text('hreflang'),
      media: text('media'),
      rel: text('rel'),
      target: text('target'),
      type: text('type'),
    },
  ],
  map: [MapElement, { name: text('name') }],
  meta: [
    HtmlElement,
    {
      content: text('content'),
      name: text('name'),
      httpEquiv: oneOf('http-equiv', ['content-type', 'default-style', 'refresh'], ''),
    },
  ],
  meter: [
    FormOwnedElement,
    {
      min: int('min', 0),
      max: int('max', 0),
      high: int('high', 0),
      low: int('low', 0),
      optimum: int('optimum', 0),
    },
  ],
  object: [
    FormOwnedElement,
    {
      data: url('data'),
      height: text('height'),
      name: text('name'),
      type: text('type'),
      tabIndex: int('tabindex', 0),
      typeMustMatch: present('typemustmatch'),
      useMap: text('usemap'),
      width: text('width'),
    },
  ],
  ol: [HtmlElement, { reversed: present('reversed'), start: int('start', 0), type: oneOf('type', ['a', 'A', 'i', 'I'], '1') }],
  optgroup: [HtmlElement, { disabled: present('disabled'), label: text('label') }],
  option: [OptionElement, { defaultSelected: present('selected'), selected: present('selected') }],
  output: [OutputElement, { htmlFor: text('for'), name: text('name'), type: constant('output') }],
  param: [HtmlElement, { name: text('name'), value: text('value') }],
  pre: [HtmlElement, { name: text('name'), value: text('value') }],
  q: [HtmlElement, { cite: text('cite') }],
  script: [
    TextElement,
    {
      crossOrigin: text('crossorigin'),
      type: text('type'),
      src: url('src'),
      charset: text('charset'),
      async: present('async'),
      defer: present('defer'),
      noModule: present('nomodule'),
    },
  ],
  select: [
    SelectElement,
    {
      autofocus: present('autofocus'),
      disabled: present('disabled'),
      multiple: present('multiple'),
      required: present('required'),
      tabIndex: int('tabindex', 0),
    },
  ],
  source: [
    HtmlElement,
    {
      keySystem: text('keysystem'),
      media: text('media'),
      sizes: text('sizes'),
      src: url('src'),
      srcset: text('srcset'),
      type: text('type'),
    },
  ],
  style: [StyleElement, { media: text('media') }],
  table: [TableElement, { sortable: present('sortable') }],
  thead: [TableSectionElement, {}],
  tbody: [TableSectionElement, {}],
  tfoot: [TableSectionElement, {}],
  tr: [TableRowElement, {}],
  td: [TableCellElement, TABLE_CELL],
  th: [
    TableCellElement,
    {
      ...TABLE_CELL,
      abbr: text('abbr'),
      scope: oneOf('scope', ['row', 'col', 'colgroup', 'rowgroup'], ''),
      sorted: present('sorted'),
    },
  ],
  textarea: [
    TextAreaElement,
    {
      type: constant('textarea'),
      value: text('value'),
      defaultValue: text('value'),
      placeholder: text('placeholder'),
      rows: int('rows', 0),
      cols: int('cols', 0),
      maxLength: int('maxlength', 0),
      tabIndex: int('tabindex', 0),
      accessKey: text('accesskey'),
      readOnly: present('readonly'),
      required: present('required'),
      autocomplete: oneOf('autocomplete', ['off'], 'on'),
      autocapitalize: oneOf('autocapitalize', ['none', 'off', 'characters', 'words'], 'sentences'),
      wrap: oneOf('wrap', ['hard', 'off'], 'soft'),
    },
  ],
  time: [HtmlElement, { datetime: text('datetime') }],
  title: [TextElement, {}],
  track: [
    HtmlElement,
    {
      kind: oneOf('kind', ['captions', 'descriptions', 'chapters', 'metadata'], 'subtitle'),
      src: url('src'),
      srclang: text('srclang'),
      label: text('label'),
      default: present('default'),
    },
  ],
  ul: [HtmlElement, { type: text('type') }],
};

/** Go's strconv.Atoi: an optional sign and decimal digits, nothing else. */
function atoi(v: string | undefined, def: number): number {
  return v !== undefined && /^[+-]?\d+$/.test(v) ? Number.parseInt(v, 10) : def;
}

/** The value of one generated accessor on element `e`. */
function read(e: HtmlElement, spec: AccessorSpec): unknown {
  if (spec.kind === 'constant') return spec.value;
  const v = attrOf(e._node, spec.attr);
  switch (spec.kind) {
    case 'text':
      return v ?? '';
    case 'url':
      return attrAsUrl(e, spec.attr, spec.missing === DOCUMENT_URL ? e._sel._url : '');
    case 'present':
      return v !== undefined;
    case 'int':
      return atoi(v, spec.def);
    case 'oneOf':
      return v !== undefined && spec.values.has(v) ? v : spec.def;
    case 'oneOfOrUndefined':
      return v !== undefined && spec.values.has(v) ? v : undefined;
  }
}

/** One subclass per tag: the hand-written class plus the generated accessors on its prototype. */
const TAG_CLASSES = new Map<string, typeof HtmlElement>();
for (const [tag, [base, accessors]] of Object.entries(TAGS)) {
  const cls = class extends base {};
  Object.defineProperty(cls, 'name', { value: base.name });
  for (const [name, spec] of Object.entries(accessors)) {
    const value = function (this: HtmlElement): unknown {
      return read(this, spec);
    };
    Object.defineProperty(cls.prototype, name, { value, writable: true, configurable: true });
  }
  TAG_CLASSES.set(tag, cls);
}

/** The Element for node `n` (of the tag's class), with `sel` a Selection of exactly that node. */
export function elementFor(n: AnyNode, sel: Selection): HtmlElement {
  const cls = isElement(n) ? TAG_CLASSES.get(n.name) : undefined;
  return cls === undefined ? new HtmlElement(n, sel) : new cls(n, sel);
}
