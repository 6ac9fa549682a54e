/**
 * `k6/html` against k6's documented behaviour: the expectations of k6's own html tests and docs
 * examples (Selection over goquery, Element methods), the failure values (missing attribute,
 * empty selection, bad input), and one real run: `res.html()` and `parseHTML()` in a script
 * against a local server.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { runEngine } from '../../../engine/index.ts';
import { HrefElement, HtmlElement, parseHTML, responseHtml, Selection } from '../../../engine/modules/html/index.ts';
import { MODULES } from '../../../engine/modules/index.ts';
import { ModuleUsageError } from '../../../engine/modules/k6.ts';
import { tempDir } from '../conformance/run-helpers.ts';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

/** The page of k6's own html tests (same structure: h1 with data-*, two p, a form, a footer). */
const PAGE = `
<html>
<head>
	<title>This is the title</title>
</head>
<body>
	<h1 id="top" data-test="dataval" data-num-a="123" data-num-b="1.5" data-not-num-a="1.50" data-not-num-b="1.1e02">Lorem ipsum</h1>

	<p data-test-b="true" data-opts='{"id":101}' data-test-empty="">Lorem ipsum dolor sit amet.</p>
	<p>Nullam id nisi eget ex pharetra imperdiet.</p>

	<form id="form1">
		<input id="text_input" name="text_input" type="text" value="input-text-value"/>
		<select id="select_one" name="select_one">
			<option value="not this option">no</option>
			<option value="yes this option" selected>yes</option>
		</select>
		<select id="select_text" name="select_text">
			<option>no text</option>
			<option selected>yes text</option>
		</select>
		<select id="select_multi" name="select_multi" multiple>
			<option>option 1</option>
			<option selected>option 2</option>
			<option selected>option 3</option>
		</select>
		<textarea id="textarea" name="textarea" multiple>Lorem ipsum dolor sit amet</textarea>
	</form>

	<footer>This is the footer.</footer>
</body>
`;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ModuleUsageError, `expected a ModuleUsageError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a throw');
}

/** A generated accessor (defined per tag at load time, so not in the static types). */
function call(e: HtmlElement, method: string): unknown {
  const f = (e as unknown as Record<string, unknown>)[method];
  assert.equal(typeof f, 'function', `${e.nodeName()} has ${method}()`);
  return (f as (this: HtmlElement) => unknown).call(e);
}

function el(v: unknown): HtmlElement {
  assert.ok(v instanceof HtmlElement, `expected an Element, got ${String(v)}`);
  return v;
}

void test('k6/html is registered and parseHTML returns a Selection of the document', () => {
  const factory = MODULES['k6/html'];
  assert.ok(factory !== undefined, 'k6/html is in the module table');
  const mod = (factory as () => Record<string, unknown>)();
  assert.equal(typeof mod.parseHTML, 'function');
  const doc = (mod.parseHTML as (s: string) => unknown)(PAGE);
  assert.ok(doc instanceof Selection);
  assert.equal(doc.size(), 1);
  assert.equal(el(doc.get(0)).nodeName(), '#document');
  assert.equal(JSON.stringify(doc), '{}', 'no parser internals leak into JSON (or console.log)');
  assert.equal(JSON.stringify(doc.get(0)), '{}');
});

void describe("Selection traversal: the counts and values of k6's own tests", () => {
  const doc = parseHTML(PAGE);
  const body = doc.find('body');
  const cases: [string, () => unknown, unknown][] = [
    ['find h1 size', () => doc.find('h1').size(), 1],
    ['find h1 text', () => doc.find('h1').text(), 'Lorem ipsum'],
    ['add selector', () => doc.find('h1').add('footer').text(), 'Lorem ipsumThis is the footer.'],
    ['add selection', () => doc.find('h1').add(doc.find('footer')).size(), 2],
    ['html', () => doc.find('h1').html(), 'Lorem ipsum'],
    ['head children', () => doc.find('head').children().is('title'), true],
    ['children(p)', () => body.children('p').size(), 2],
    ['closest', () => doc.find('textarea').closest('form').attr('id'), 'form1'],
    ['contents of head', () => doc.find('head').contents().size(), 3],
    ['first content text', () => doc.find('head').contents().first().text(), '\n\t'],
    ['is selector', () => doc.find('h1').is('h1'), true],
    ['is function', () => doc.find('h1').is((_i: number, s: Selection) => s.text() === 'Lorem ipsum'), true],
    ['is selection', () => body.children().first().is(doc.find('h1')), true],
    ['filter selector', () => body.children().filter('p').size(), 2],
    [
      'filter function',
      () =>
        body
          .children()
          .filter((_i: number, s: Selection) => s.is('p'))
          .size(),
      2,
    ],
    ['filter selection', () => body.children().filter(doc.find('p')).size(), 2],
    ['end', () => body.children().filter('p').end().size(), 5],
    ['eq', () => body.children().eq(3).attr('id'), 'form1'],
    ['eq negative', () => body.children().eq(-1).text(), 'This is the footer.'],
    ['eq of a non-number is eq(0)', () => body.children().eq(undefined).attr('id'), 'top'],
    ['first', () => body.children().first().attr('id'), 'top'],
    ['last', () => body.children().last().text(), 'This is the footer.'],
    ['has selector', () => body.children().has('input').size(), 1],
    ['has selection', () => body.children().has(doc.find('input')).size(), 1],
    ['next', () => doc.find('h1').next().is('p'), true],
    ['next(filter)', () => doc.find('p').next('form').size(), 1],
    ['nextAll', () => doc.find('h1').nextAll().size(), 4],
    ['nextAll(p)', () => doc.find('h1').nextAll('p').size(), 2],
    ['prev', () => doc.find('footer').prev().is('form'), true],
    ['prevAll', () => doc.find('form').prevAll().size(), 3],
    ['prevAll(p)', () => doc.find('form').prevAll('p').size(), 2],
    ['prevUntil string', () => doc.find('footer').prevUntil('h1').size(), 3],
    ['prevUntil selection', () => doc.find('footer').prevUntil(doc.find('h1')).size(), 3],
    ['prevUntil filtered', () => doc.find('form').prevUntil('h1', 'p').size(), 2],
    ['prevUntil all', () => doc.find('footer').prevUntil().size(), 4],
    ['prevUntil null filtered', () => doc.find('footer').prevUntil(null, 'p').size(), 2],
    ['nextUntil string', () => doc.find('h1').nextUntil('footer').size(), 3],
    ['nextUntil selection filtered', () => doc.find('h1').nextUntil(doc.find('footer'), 'p').size(), 2],
    ['nextUntil all', () => doc.find('h1').nextUntil().size(), 4],
    ['parent', () => doc.find('textarea').parent().attr('id'), 'form1'],
    ['parent(form)', () => doc.find('textarea').parent('form').attr('id'), 'form1'],
    ['parents', () => doc.find('textarea').parents().size(), 3],
    ['parents(body)', () => doc.find('textarea').parents('body').size(), 1],
    ['parentsUntil html', () => doc.find('textarea').parentsUntil('html').size(), 2],
    ['parentsUntil selection filtered', () => doc.find('textarea').parentsUntil(doc.find('html'), 'body').size(), 1],
    ['parentsUntil all', () => doc.find('textarea').parentsUntil().size(), 3],
    ['not selector', () => body.children().not('p').size(), 3],
    ['not selection', () => body.children().not(doc.find('p')).size(), 3],
    [
      'not function',
      () =>
        body
          .children()
          .not((_i: number, s: Selection) => s.is('p'))
          .size(),
      3,
    ],
    ['siblings', () => doc.find('form').siblings().size(), 4],
    ['siblings(p)', () => doc.find('form').siblings('p').size(), 2],
    ['slice(1, 2)', () => body.children().slice(1, 2).text(), 'Lorem ipsum dolor sit amet.'],
    ['slice(3)', () => body.children().slice(3).size(), 2],
    ['slice past the end', () => body.children().slice(3, 99).size(), 2],
    ['index', () => doc.find('p').index(), 1],
    ['index(selector)', () => doc.find('form').index('body > *'), 3],
    ['index(selection)', () => body.children().index(doc.find('footer')), 4],
  ];
  for (const [label, got, want] of cases)
    void test(label, () => {
      assert.deepEqual(got(), want, label);
    });
});

void test("val(): k6's values per field kind", () => {
  const doc = parseHTML(PAGE);
  assert.equal(doc.find('#text_input').val(), 'input-text-value');
  assert.equal(doc.find('#select_one option[selected]').val(), 'yes this option');
  assert.equal(doc.find('#select_one').val(), 'yes this option');
  assert.equal(doc.find('#select_text').val(), 'yes text', 'an option without value gives its HTML');
  assert.deepEqual(doc.find('#select_multi').val(), ['option 2', 'option 3']);
  assert.equal(doc.find('#textarea').val(), 'Lorem ipsum dolor sit amet');
  assert.equal(doc.find('h1').val(), undefined, 'no value for other elements');
  const inputs = parseHTML('<input type=checkbox id=c><input type=radio id=r><input id=t><button id=b>x</button>');
  assert.deepEqual(
    [inputs.find('#c').val(), inputs.find('#r').val(), inputs.find('#t').val(), inputs.find('#b').val()],
    ['on', 'on', '', ''],
  );
});

void test('data(): keys camelCased, values converted like k6', () => {
  const doc = parseHTML(PAGE);
  const h1 = doc.find('h1');
  assert.equal(h1.data('test'), 'dataval');
  assert.equal(h1.data('num-a'), 123);
  assert.equal(h1.data('num-b'), 1.5);
  assert.equal(h1.data('not-num-a'), '1.50', 'a number that does not round-trip stays a string');
  assert.equal(h1.data('not-num-b'), '1.1e02');
  assert.deepEqual(h1.data(), { test: 'dataval', numA: 123, numB: 1.5, notNumA: '1.50', notNumB: '1.1e02' });
  const p = doc.find('p');
  assert.equal(p.data('test-b'), true);
  assert.equal(p.data('testB'), true, 'camelCase keys map to data-test-b');
  assert.equal(p.data('test-empty'), undefined);
  assert.deepEqual(p.data('opts'), { id: 101 });
  assert.equal((p.data() as { opts: { id: number } }).opts.id, 101);
  assert.equal(
    (parseHTML('<b data-user-id="7">x</b>').find('b').data() as { userID: unknown }).userID,
    7,
    'initialisms upper-cased like k6 (snaker)',
  );
  assert.equal(doc.find('footer').data(), undefined, 'no attributes: undefined');
  assert.equal(doc.find('nothing').data('x'), undefined);
});

void test('attr(): the value, else the default, else undefined', () => {
  const doc = parseHTML(PAGE);
  const h1 = doc.find('h1');
  assert.equal(h1.attr('id'), 'top');
  assert.equal(h1.attr('id', 'default'), 'top');
  assert.equal(h1.attr('class'), undefined, 'missing attribute: undefined');
  assert.equal(h1.attr('class', 'default'), 'default', 'missing attribute: the default');
  assert.equal(doc.find('nothing').attr('id'), undefined);
});

void test('each() hands Elements and returns the selection', () => {
  const doc = parseHTML(PAGE);
  const opts = doc.find('#select_multi option');
  const seen: string[] = [];
  const ret = opts.each((i: number, e: HtmlElement) => {
    seen[i] = e.innerHTML();
  });
  assert.deepEqual(seen, ['option 1', 'option 2', 'option 3']);
  assert.equal(ret, opts, 'each() returns the selection');
});

void test("map() hands Selections, keeps any value, drops a throwing callback's", () => {
  const doc = parseHTML(PAGE);
  const opts = doc.find('#select_multi option');
  assert.deepEqual(
    opts.map((_i: number, s: Selection) => s.text()),
    ['option 1', 'option 2', 'option 3'],
  );
  assert.deepEqual(
    doc.find('#select_multi').map((_i: number, s: Selection) => s.attr('name')),
    ['select_multi'],
  );
  assert.deepEqual(
    opts.map((i: number) => ({ i })),
    [{ i: 0 }, { i: 1 }, { i: 2 }],
    'map keeps non-string values',
  );
  assert.deepEqual(
    opts.map((i: number) => {
      if (i === 1) throw new Error('skip');
      return i;
    }),
    [0, 2],
    'a throwing callback drops its value (k6)',
  );
  assert.deepEqual(
    doc.find('nothing').map(() => 1),
    [],
  );
});

void test('get() and toArray(): Elements by index (negative from the end), one Selection per node', () => {
  const doc = parseHTML(PAGE);
  const all = doc.find('body').children().get() as HtmlElement[];
  assert.deepEqual(
    all.map((e) => e.nodeName()),
    ['h1', 'p', 'p', 'form', 'footer'],
  );
  assert.equal(el(doc.find('body').children().get(-1)).innerHTML(), 'This is the footer.');
  assert.equal(doc.find('body').children().get(5), undefined, 'out of range: undefined');
  assert.equal(doc.find('body').children().get(-6), undefined);
  const arr = doc.find('p').toArray();
  assert.equal(arr.length, 2);
  assert.ok(arr.every((s) => s instanceof Selection && s.size() === 1));
  assert.equal(arr[1]?.text(), 'Nullam id nisi eget ex pharetra imperdiet.');
});

void test('docs example: the Elements of a dl', () => {
  const sel = parseHTML('\n<dl>\n  <dt id="term-1">Value term 1</dt>\n  <dt id="term-2">Value term 2</dt>\n</dl>\n  ')
    .find('dl')
    .children();
  const el1 = el(sel.get(0));
  const el2 = el(sel.get(1));
  assert.deepEqual([el1.nodeName(), el1.id(), el1.textContent()], ['dt', 'term-1', 'Value term 1']);
  assert.deepEqual([el2.nodeName(), el2.id(), el2.textContent()], ['dt', 'term-2', 'Value term 2']);
});

void test('docs example: form serialization, as a string, an array and an object', () => {
  const form = parseHTML('\n <form><input name="username"></form>\n  ').find('form');
  assert.equal(form.serialize(), 'username=');
  assert.deepEqual(form.serializeArray(), [{ name: 'username', value: '' }]);
  assert.deepEqual(form.serializeObject(), { username: '' });
});

void test('serialize(): sorted keys, repeated names, and the fields k6 leaves out', () => {
  const full = parseHTML(PAGE).find('form');
  assert.equal(
    full.serialize(),
    'select_multi=option+2&select_multi=option+3&select_one=yes+this+option&select_text=yes+text&text_input=input-text-value&textarea=Lorem+ipsum+dolor+sit+amet',
  );
  const skipped = parseHTML(
    '<form><input name=a value="x y&z"><input type=submit name=s value=go><input type=checkbox name=c><input type=checkbox name=d checked=checked value=1><input name=e disabled=disabled><input value=noname></form>',
  ).find('form');
  assert.deepEqual(skipped.serializeObject(), { a: 'x y&z', d: '1' }, 'submit, unchecked, disabled and unnamed fields are left out');
  assert.equal(skipped.serialize(), 'a=x+y%26z&d=1');
});

void describe("Element: k6's DOM methods on the k6 element test page", () => {
  const doc = parseHTML(`<html><head><title>T</title></head><body>
	<h1 id="top">Lorem ipsum</h1>
	<empty></empty>
	<p>one</p>
	<p>one</p>
	pretext
	<div id="div_elem" class="class1 class2" lang="en">
		innerfirst
		<h2 id="h2_elem" class="class2">Nullam</h2>
		<span id="span1"><b>test content</b></span>
		<svg id="svg_elem"></svg>
		<span id="span2">Maecenas</span>
		innerlast
	</div>
	aftertext
	<footer>This is the footer.</footer>
</body>`);
  const div = el(doc.find('div').get(0));
  const cases: [string, () => unknown, unknown][] = [
    ['nodeName', () => el(doc.find('#top').get(0)).nodeName(), 'h1'],
    ['nodeType', () => el(doc.find('#top').get(0)).nodeType(), 1],
    ['nodeValue of text', () => el(doc.find('#top').get(0)).firstChild()?.nodeValue(), 'Lorem ipsum'],
    ['nodeValue of element', () => div.nodeValue(), undefined],
    ['innerHTML', () => el(doc.find('span').get(0)).innerHTML(), '<b>test content</b>'],
    ['textContent', () => el(doc.find('b').get(0)).textContent(), 'test content'],
    ['ownerDocument', () => el(doc.find('body').get(0)).ownerDocument()?.nodeName(), '#document'],
    [
      'attributes',
      () => Object.fromEntries(Object.entries(div.attributes()).map(([k, a]) => [k, a.value])),
      { id: 'div_elem', class: 'class1 class2', lang: 'en' },
    ],
    ['attribute owner', () => div.attributes().id?.owner_element, div],
    ['getAttributeNode', () => div.getAttributeNode('id')?.value, 'div_elem'],
    ['getAttributeNode missing', () => div.getAttributeNode('nope'), undefined],
    ['firstChild', () => div.firstChild()?.nodeValue()?.trim(), 'innerfirst'],
    ['lastChild', () => div.lastChild()?.nodeValue()?.trim(), 'innerlast'],
    ['childElementCount', () => el(doc.find('body').get(0)).childElementCount(), 6],
    ['firstElementChild', () => div.firstElementChild()?.id(), 'h2_elem'],
    ['lastElementChild', () => div.lastElementChild()?.id(), 'span2'],
    ['previousSibling', () => div.previousSibling()?.textContent().trim(), 'pretext'],
    ['nextSibling', () => div.nextSibling()?.textContent().trim(), 'aftertext'],
    ['previousElementSibling', () => div.previousElementSibling()?.textContent(), 'one'],
    ['nextElementSibling', () => div.nextElementSibling()?.textContent(), 'This is the footer.'],
    ['parentElement', () => div.parentElement()?.nodeName(), 'body'],
    ['parentNode of html', () => el(doc.find('html').get(0)).parentNode()?.nodeName(), '#document'],
    ['parentElement of html', () => el(doc.find('html').get(0)).parentElement(), undefined],
    ['childNodes', () => div.childNodes().length, 9],
    ['children', () => div.children().map((c) => c.id()), ['h2_elem', 'span1', 'svg_elem', 'span2']],
    ['classList', () => div.classList(), ['class1', 'class2']],
    ['className', () => div.className(), 'class1 class2'],
    ['className missing', () => el(doc.find('footer').get(0)).className(), undefined],
    ['lang', () => div.lang(), 'en'],
    ['toString element', () => div.toString(), '[object html.Node]'],
    ['toString text', () => div.previousSibling()?.toString(), '[object #text]'],
    ['hasAttribute', () => div.hasAttribute('id'), true],
    ['hasAttribute missing', () => div.hasAttribute('noattr'), false],
    ['getAttribute', () => div.getAttribute('id'), 'div_elem'],
    ['getAttribute missing', () => div.getAttribute('noattr'), undefined],
    ['hasAttributes', () => el(doc.find('h1').get(0)).hasAttributes(), true],
    ['hasAttributes none', () => el(doc.find('footer').get(0)).hasAttributes(), false],
    ['hasChildNodes', () => el(doc.find('p').get(0)).hasChildNodes(), true],
    ['hasChildNodes empty', () => el(doc.find('empty').get(0)).hasChildNodes(), false],
    ['isSameNode other', () => el(doc.find('p').get(0)).isSameNode(doc.find('p').get(1)), false],
    ['isSameNode same', () => el(doc.find('p').get(0)).isSameNode(doc.find('p').get(0)), true],
    ['isEqualNode', () => el(doc.find('p').get(0)).isEqualNode(doc.find('p').get(1)), true],
    [
      'getElementsByClassName',
      () =>
        el(doc.find('body').get(0))
          .getElementsByClassName('class2')
          .map((e) => e.id()),
      ['div_elem', 'h2_elem'],
    ],
    ['getElementsByTagName', () => el(doc.find('body').get(0)).getElementsByTagName('span').length, 2],
    ['querySelector', () => el(doc.find('body').get(0)).querySelector('#div_elem')?.id(), 'div_elem'],
    ['querySelector none', () => el(doc.find('body').get(0)).querySelector('#none'), undefined],
    [
      'querySelectorAll',
      () =>
        el(doc.find('body').get(0))
          .querySelectorAll('span')
          .map((e) => e.id()),
      ['span1', 'span2'],
    ],
    ['contains', () => el(doc.find('html').get(0)).contains(doc.find('body').get(0)), true],
    ['contains itself', () => el(doc.find('body').get(0)).contains(doc.find('body').get(0)), false],
    ['matches', () => div.matches('#div_elem'), true],
    ['namespaceURI svg', () => el(doc.find('#svg_elem').get(0)).namespaceURI(), 'http://www.w3.org/2000/svg'],
    ['isDefaultNamespace svg', () => el(doc.find('#svg_elem').get(0)).isDefaultNamespace(), false],
    ['isDefaultNamespace div', () => div.isDefaultNamespace(), true],
  ];
  for (const [label, got, want] of cases)
    void test(label, () => {
      assert.deepEqual(got(), want, label);
    });
});

void test('anchors: href parts, resolved against the response URL by res.html()', () => {
  const page = '<a id="rel" href="/path/x?q=1#frag">r</a><a id="abs" href="https://user:pw@example.com:8443/a">a</a>';
  const bare = parseHTML(page);
  const rel = bare.find('#rel').get(0);
  assert.ok(rel instanceof HrefElement);
  assert.deepEqual(
    [call(rel, 'href'), rel.pathname(), rel.search(), rel.hash(), rel.host(), rel.protocol(), rel.text()],
    ['/path/x?q=1#frag', '/path/x', '?q=1', '#frag', '', ':', 'r'],
  );
  const abs = bare.find('#abs').get(0);
  assert.ok(abs instanceof HrefElement);
  assert.deepEqual(
    [abs.hostname(), abs.port(), abs.username(), abs.password(), abs.protocol(), abs.origin()],
    ['example.com', '8443', 'user', 'pw', 'https', 'https://example.com:8443'],
  );
  const fromRes = responseHtml(page, 'http://127.0.0.1:8080/base/page', '#rel').get(0);
  assert.ok(fromRes instanceof HrefElement);
  assert.equal(call(fromRes, 'href'), 'http://127.0.0.1:8080/path/x?q=1#frag');
  assert.equal(fromRes.host(), '127.0.0.1:8080');
});

void describe("typed elements: k6's per-tag accessors (form fields, select/option, tables, img, meta)", () => {
  const page = `<html><head><title>Home</title><meta name="description" content="agents"><meta http-equiv="bogus" content="x"></head><body>
<form id="f" action="/submit" method="POST" enctype="text/plain">
  <label for="u" id="lab">User</label>
  <input id="u" name="user" type="email" value="a@b.c" required maxlength="20">
  <input id="odd" type="weird">
  <input id="cb" type="checkbox" name="cb" checked>
  <button id="b1" name="go">Go</button><button id="b2" type="reset" value="r">R</button>
  <select id="s" name="s"><optgroup disabled><option value="1">one</option></optgroup><option selected label="Two">two</option></select>
  <textarea id="ta" rows="3" wrap="hard">text</textarea>
</form>
<input id="outside" form="f" name="o">
<table id="t"><caption>Cap</caption><thead><tr><th scope="col" colspan="2">H</th></tr></thead><tbody><tr><td>1</td><td rowspan="x">2</td></tr></tbody></table>
<img id="i" src="/img.png" width="10" height="abc" alt="pic">
</body></html>`;
  const doc = responseHtml(page, 'http://127.0.0.1:9/dir/page');
  const one = (sel: string): HtmlElement => el(doc.find(sel).get(0));
  const cases: [string, () => unknown, unknown][] = [
    ['title text', () => call(one('title'), 'text'), 'Home'],
    ['meta content', () => call(one('meta'), 'content'), 'agents'],
    ['meta httpEquiv not allowed', () => call(el(doc.find('meta').get(1)), 'httpEquiv'), ''],
    ['form action resolved', () => call(one('form'), 'action'), 'http://127.0.0.1:9/submit'],
    ['form method lower-case post only', () => call(one('form'), 'method'), 'get'],
    ['form enctype', () => call(one('form'), 'enctype'), 'text/plain'],
    ['form autocomplete default', () => call(one('form'), 'autocomplete'), 'on'],
    ['form length', () => call(one('form'), 'length'), 7],
    ['form elements', () => (call(one('form'), 'elements') as HtmlElement[]).length, 7],
    ['input type', () => call(one('#u'), 'type'), 'email'],
    ['input unknown type', () => call(one('#odd'), 'type'), 'text'],
    ['input value', () => call(one('#u'), 'value'), 'a@b.c'],
    ['input value missing', () => call(one('#odd'), 'value'), ''],
    ['input required', () => call(one('#u'), 'required'), true],
    ['input maxLength', () => call(one('#u'), 'maxLength'), 20],
    ['input maxLength default', () => call(one('#odd'), 'maxLength'), -1],
    ['input checked', () => call(one('#cb'), 'checked'), true],
    ['input name', () => call(one('#u'), 'name'), 'user'],
    ['input form', () => (call(one('#u'), 'form') as HtmlElement).id(), 'f'],
    ['input form by attribute', () => (call(one('#outside'), 'form') as HtmlElement).id(), 'f'],
    ['input formMethod', () => call(one('#u'), 'formMethod'), 'post'],
    ['input formAction', () => call(one('#u'), 'formAction'), 'http://127.0.0.1:9/submit'],
    ['button type default', () => call(one('#b1'), 'type'), 'submit'],
    ['button value from HTML', () => call(one('#b1'), 'value'), 'Go'],
    ['button value attr', () => call(one('#b2'), 'value'), 'r'],
    ['label control', () => (call(one('#lab'), 'control') as HtmlElement).id(), 'u'],
    ['label htmlFor', () => call(one('#lab'), 'htmlFor'), 'u'],
    ['select type', () => call(one('#s'), 'type'), 'select'],
    ['select value', () => call(one('#s'), 'value'), 'two'],
    ['select length', () => call(one('#s'), 'length'), 2],
    ['select selectedIndex', () => call(one('#s'), 'selectedIndex'), 1],
    ['select options', () => (call(one('#s'), 'options') as HtmlElement[]).map((o) => call(o, 'value')), ['1', 'two']],
    ['option disabled by optgroup', () => call(one('option'), 'disabled'), true],
    ['option index', () => call(el(doc.find('option').get(1)), 'index'), 1],
    ['option label', () => call(el(doc.find('option').get(1)), 'label'), 'Two'],
    ['option selected', () => call(el(doc.find('option').get(1)), 'selected'), true],
    ['textarea type', () => call(one('#ta'), 'type'), 'textarea'],
    ['textarea rows', () => call(one('#ta'), 'rows'), 3],
    ['textarea wrap', () => call(one('#ta'), 'wrap'), 'hard'],
    ['textarea autocapitalize default', () => call(one('#ta'), 'autocapitalize'), 'sentences'],
    ['table caption', () => (call(one('table'), 'caption') as HtmlElement).textContent(), 'Cap'],
    ['table rows', () => (call(one('table'), 'rows') as HtmlElement[]).length, 2],
    ['table tBodies', () => (call(one('table'), 'tBodies') as HtmlElement[]).length, 1],
    ['row cells', () => (call(el(doc.find('tr').get(1)), 'cells') as HtmlElement[]).length, 2],
    ['row rowIndex', () => call(el(doc.find('tr').get(1)), 'rowIndex'), 1],
    ['row sectionRowIndex', () => call(el(doc.find('tr').get(1)), 'sectionRowIndex'), 0],
    ['th colSpan', () => call(one('th'), 'colSpan'), 2],
    ['th scope', () => call(one('th'), 'scope'), 'col'],
    ['td rowSpan not a number', () => call(el(doc.find('td').get(1)), 'rowSpan'), 1],
    ['td cellIndex', () => call(el(doc.find('td').get(1)), 'cellIndex'), 1],
    ['img src resolved', () => call(one('#i'), 'src'), 'http://127.0.0.1:9/img.png'],
    ['img width', () => call(one('#i'), 'width'), 10],
    ['img height not a number', () => call(one('#i'), 'height'), 0],
    ['img alt', () => call(one('#i'), 'alt'), 'pic'],
    ['img crossOrigin missing', () => call(one('#i'), 'crossOrigin'), undefined],
    ['anchor-less div has no href', () => typeof (one('table') as unknown as Record<string, unknown>).href, 'undefined'],
  ];
  for (const [label, got, want] of cases)
    void test(label, () => {
      assert.deepEqual(got(), want, label);
    });
  void test("an anchor's string form is its href (k6)", () => {
    assert.equal(String(el(parseHTML('<a href="/x">x</a>').find('a').get(0))), '/x', "an anchor's string form is its href (k6)");
  });
  const more =
    parseHTML(`<label id="wrap">W <input id="in" list="dl" name="n"></label><label for="in">For</label><datalist id="dl"><option value="v1"></option></datalist>
<progress id="p" value="5" max="10"></progress><progress id="p2"></progress><canvas></canvas><style></style><colgroup><col span="0"></colgroup><fieldset><input><select></select></fieldset>`);
  const moreOne = (sel: string): HtmlElement => el(more.find(sel).get(0));
  const extra: [string, () => unknown, unknown][] = [
    [
      'labels: wrapping and for=id',
      () => (call(moreOne('#in'), 'labels') as HtmlElement[]).map((l) => l.textContent().trim()),
      ['W', 'For'],
    ],
    ['input list', () => (call(moreOne('#in'), 'list') as HtmlElement).id(), 'dl'],
    ['datalist options', () => (call(moreOne('datalist'), 'options') as HtmlElement[]).length, 1],
    ['progress value', () => call(moreOne('#p'), 'value'), 0.5],
    ['progress position without value', () => call(moreOne('#p2'), 'position'), -1],
    ['progress max default', () => call(moreOne('#p2'), 'max'), 1],
    ['canvas width default', () => call(moreOne('canvas'), 'width'), 150],
    ['style type default', () => call(moreOne('style'), 'type'), 'text/css'],
    ['fieldset elements', () => (call(moreOne('fieldset'), 'elements') as HtmlElement[]).length, 2],
    ['fieldset type', () => call(moreOne('fieldset'), 'type'), 'fieldset'],
  ];
  for (const [label, got, want] of extra)
    void test(label, () => {
      assert.deepEqual(got(), want, label);
    });
});

void test('failures: an empty selection and an unparsable selector give empty values', () => {
  const doc = parseHTML(PAGE);
  const none = doc.find('nothing');
  assert.equal(none.size(), 0);
  assert.equal(none.text(), '', 'empty selection: text() is ""');
  assert.equal(none.html(), '', 'empty selection: html() is ""');
  assert.equal(none.val(), undefined);
  assert.equal(none.get(0), undefined);
  assert.deepEqual(none.get(), []);
  assert.equal(doc.find('[[').size(), 0, 'an unparsable selector matches nothing (goquery)');
  assert.equal(doc.find('h1').is('[['), false);
  assert.equal(parseHTML('').find('body').size(), 1, 'an empty document still has html/head/body');
});

void test('failures: bad input and bad arguments throw ModuleUsageErrors with their codes', () => {
  const doc = parseHTML(PAGE);
  assert.equal(
    code(() => parseHTML(123)),
    'html-invalid-source',
  );
  assert.equal(
    code(() => parseHTML(undefined)),
    'html-invalid-source',
  );
  assert.equal(
    code(() => parseHTML(new ArrayBuffer(2))),
    'html-invalid-source',
  );
  assert.equal(
    code(() => doc.find(42)),
    'html-invalid-selector',
  );
  assert.equal(
    code(() => doc.find('p').has({})),
    'html-invalid-selector',
  );
  assert.equal(
    code(() => doc.find('p').nextUntil(7)),
    'html-invalid-selector',
  );
  assert.equal(
    code(() => doc.find('p').each('')),
    'html-invalid-argument',
  );
  assert.equal(
    code(() => doc.find('p').map(null)),
    'html-invalid-argument',
  );
  assert.equal(
    code(() => doc.find('p').filter(3)),
    'html-invalid-argument',
  );
  assert.equal(
    code(() => doc.find('p').is(undefined)),
    'html-invalid-argument',
  );
  assert.throws(
    () =>
      doc.find('p').each(() => {
        throw new Error('boom');
      }),
    /the function passed to each\(\) failed: boom/,
  );
});

void test('failures: res.html() of a null body throws, of a binary body reads UTF-8', () => {
  assert.equal(
    code(() => responseHtml(null, 'http://h/x')),
    'no-body',
  );
  assert.equal(
    responseHtml(new TextEncoder().encode('<p>bytes</p>').buffer, 'http://h/x', 'p').text(),
    'bytes',
    'a binary body is read as UTF-8',
  );
});

const SCRIPT = `import http from 'k6/http';
import { parseHTML } from 'k6/html';
export const options = { vus: 1, iterations: 1 };
export default async function () {
  const res = await http.get(__ENV.BASE + '/page');
  const doc = res.html();
  const out = {};
  out.title = doc.find('head title').text();
  out.links = doc.find('a').map((i, a) => i + ':' + a.attr('href') + ':' + a.text());
  out.hrefs = [];
  doc.find('a').each((i, el) => { out.hrefs.push(el.href()); });
  out.items = res.html('li').size();
  out.missing = [doc.find('a').attr('rel'), doc.find('a').attr('rel', 'none'), doc.find('table').text()];
  const parsed = parseHTML('<dl><dt id="term-1">Value term 1</dt></dl>');
  const dt = parsed.find('dt').get(0);
  out.dt = [dt.nodeName(), dt.id(), dt.textContent()];
  try { parseHTML(42); } catch (e) { out.bad = String(e.message).includes('parseHTML() needs the HTML as a string'); }
  await http.post(__ENV.BASE + '/report', JSON.stringify(out), { headers: { 'Content-Type': 'application/json' } });
}
`;

void test('in a run: res.html() and parseHTML() in a script, findings posted back to the server', async () => {
  const dir = tempDir();
  let report: Record<string, unknown> | undefined;
  const server = createServer((rq, rs) => {
    let body = '';
    rq.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    rq.on('end', () => {
      if (rq.url === '/page') {
        rs.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        rs.end(
          '<!doctype html><html><head><title>Agents</title></head><body><ul><li><a href="/a/1">one</a></li><li><a href="b/2?x=1">two</a></li></ul></body></html>',
        );
      } else {
        report = JSON.parse(body) as Record<string, unknown>;
        rs.end('ok');
      }
    });
  });
  await new Promise<void>((r) => {
    server.listen(0, '127.0.0.1', r);
  });
  const base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const script = join(dir, 'html.js');
  writeFileSync(script, SCRIPT);
  try {
    const stderr = new Sink();
    const exit = await runEngine({
      script,
      cwd: dir,
      stdout: new Sink(),
      stderr,
      handleSignals: false,
      args: ['-q', '--no-summary', '--summary-export', join(dir, 's.json')],
      env: { BASE: base },
    });
    assert.equal(exit, 0, stderr.text);
    assert.deepEqual(report, {
      title: 'Agents',
      links: ['0:/a/1:one', '1:b/2?x=1:two'],
      hrefs: [`${base}/a/1`, `${base}/b/2?x=1`],
      items: 2,
      missing: [null, 'none', ''],
      dt: ['dt', 'term-1', 'Value term 1'],
      bad: true,
    });
    const metrics = (JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { metrics: Record<string, { count?: number }> }).metrics;
    assert.equal(metrics.http_reqs?.count, 2);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

void describe("html() renders like Go's html.Render (goquery Html()): void elements, quoting, escapes, literal script text", () => {
  const inner = (src: string, sel = 'body'): string => parseHTML(src).find(sel).html();
  const cases: [string, string, string][] = [
    // x/net/html's own render test document, parsed instead of built by hand.
    [
      'render test',
      `<p id="A" foo='abc"def'>2<b empty>3</b><i backslash="\\">&amp;4</i></p>5<blockquote></blockquote><br>6<!--comm-->`,
      '<p id="A" foo="abc&#34;def">2<b empty="">3</b><i backslash="\\">&amp;4</i></p>5<blockquote></blockquote><br/>6<!--comm-->',
    ],
    [
      'text escapes, no &nbsp;',
      '<p>don\'t "quote" a&amp;b &lt;x&gt;\u00a0.</p>',
      '<p>don&#39;t &#34;quote&#34; a&amp;b &lt;x&gt;\u00a0.</p>',
    ],
    [
      'void with attributes',
      '<img src="a.png" alt="it\'s"><hr><input value="<&>">',
      '<img src="a.png" alt="it&#39;s"/><hr/><input value="&lt;&amp;&gt;"/>',
    ],
    [
      'script and style text literal',
      '<p>x</p><script>if (a < b && c > "d") {}</script><style>a > b {}</style>',
      '<p>x</p><script>if (a < b && c > "d") {}</script><style>a > b {}</style>',
    ],
    ['a leading newline in pre survives', '<pre>\n\nx</pre><textarea>\n\ny</textarea>', '<pre>\n\nx</pre><textarea>\n\ny</textarea>'],
    ['foreign attributes keep their prefix', '<svg><use xlink:href="#a"></use></svg>', '<svg><use xlink:href="#a"></use></svg>'],
    ['comments escape & and a > after - or !', '<p>y</p><!--a&b c>d a->b--><!--->x-->', '<p>y</p><!--a&amp;b c>d a-&gt;b--><!---->x--&gt;'],
  ];
  for (const [name, src, want] of cases)
    void test(name, () => {
      assert.equal(inner(src), want, name);
    });
  void test('the document with its doctype', () => {
    assert.equal(
      parseHTML('<!DOCTYPE html><p>x</p>').html(),
      '<!DOCTYPE html><html><head></head><body><p>x</p></body></html>',
      'the document',
    );
  });
  void test('a void element inside text', () => {
    assert.equal(parseHTML('<p>a<br>b</p>').find('p').html(), 'a<br/>b');
  });
});
