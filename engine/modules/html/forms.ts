/** The element classes of forms: fields, the form itself, labels, and the form-owned elements. */
import { HtmlElement, valueOrHtml } from './element.ts';
import { attrOf } from './nodes.ts';

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
