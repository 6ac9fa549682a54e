/**
 * What the loader learns from a script's ES module text (esbuild's bundle output) with acorn, and the
 * rewrite that turns it into the body of the function every VU calls:
 *
 * - imports of `k6/...` become `require()` calls, exports become getters on `exports` (live, as ES
 *   module bindings are), line for line, so the bundle's source map still holds;
 * - a module with top-level `await` (k6 runs ES modules, so its init code may await) becomes an async
 *   body: its VUs' init code returns a promise the runtime waits for;
 * - the calls that block in k6 (`http.get()`, `sleep()`, `ws.connect()`, ...) are found, and each one
 *   that is not directly awaited is a reason to run the script's VUs in the synchronous VU mode
 *   (docs/engine-sync.md): k6 scripts use their results on the next line.
 */
import { parse, type Node as AcornNode, type Program } from 'acorn';
import { ancestor } from 'acorn-walk';

/** Calls that block the VU in k6 (and return promises in the engine's async mode), per module. */
export const BLOCKING_CALLS: Readonly<Record<string, readonly string[]>> = {
  'k6/http': ['request', 'get', 'head', 'post', 'put', 'patch', 'del', 'options', 'batch'],
  k6: ['sleep'],
  'k6/ws': ['connect'],
};

/** A blocking call used without `await`: why the script needs the synchronous VU mode. */
export interface BlockingUse {
  /** e.g. `http.get(...)`, `sleep(...)`. */
  readonly call: string;
  /** 1-based line and column in the analysed text (map them through the source map). */
  readonly line: number;
  readonly column: number;
}

export interface ScriptAnalysis {
  /** Module specifiers the script imports (k6/... and anything else left external). */
  readonly imports: readonly string[];
  readonly topLevelAwait: boolean;
  /** Blocking calls whose result is not awaited where they are made (empty: the script is async-first). */
  readonly blockingUses: readonly BlockingUse[];
  /** Text the body starts with, on the first line of the input (export getters, the async wrapper). */
  readonly prefix: string;
  /** The rest of the function body: the input rewritten line for line, plus a closing line for the async wrapper. */
  readonly body: string;
}

interface Pos {
  readonly start: number;
  readonly end: number;
}
type AnyNode = AcornNode & Record<string, unknown>;

/** `text` with its newlines kept and everything else dropped (keeps line numbers when code is replaced). */
function newlinesOf(text: string): string {
  return text.replace(/[^\n]/g, '');
}

const isNode = (v: unknown): v is AnyNode => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

/** A binding name's reference: `http` in `http.get`, `sleep` in `sleep(1)`. */
interface Binding {
  readonly module: string;
  readonly kind: 'namespace' | 'named';
  readonly imported: string;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, column: offset - last };
}

/** Whether `node` (a call) is the operand of an await, looking through parentheses and `as` casts esbuild left. */
function awaited(ancestors: readonly AnyNode[], call: AnyNode): boolean {
  const parent = ancestors[ancestors.length - 2];
  return parent !== undefined && parent.type === 'AwaitExpression' && parent.argument === call;
}

/** Does any await sit in module scope (not inside a function)? */
function hasTopLevelAwait(program: Program): boolean {
  let found = false;
  const visit = (n: unknown): void => {
    if (found || !isNode(n)) return;
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') return;
    if (n.type === 'AwaitExpression' || (n.type === 'ForOfStatement' && n.await === true)) {
      found = true;
      return;
    }
    for (const key of Object.keys(n)) {
      const v = n[key];
      if (Array.isArray(v)) for (const c of v) visit(c);
      else if (isNode(v)) visit(v);
    }
  };
  visit(program);
  return found;
}

/** Analyses an ES module (esbuild's output) and rewrites it into a function body (see the file comment). */
export function analyseModule(code: string): ScriptAnalysis {
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: false });
  const imports: string[] = [];
  const bindings = new Map<string, Binding>();
  const edits: { start: number; end: number; text: string }[] = [];
  const exportGetters: string[] = [];
  let counter = 0;
  for (const stmt of program.body as unknown as AnyNode[]) {
    const pos = stmt as unknown as Pos;
    const original = code.slice(pos.start, pos.end);
    if (stmt.type === 'ImportDeclaration') {
      const source = String((stmt.source as { value: unknown }).value);
      if (!imports.includes(source)) imports.push(source);
      const mod = `__agentload_m${String(counter++)}`;
      const parts = [`var ${mod} = require(${JSON.stringify(source)});`];
      for (const spec of stmt.specifiers as AnyNode[]) {
        const local = String((spec.local as { name: unknown }).name);
        if (spec.type === 'ImportDefaultSpecifier') {
          parts.push(`var ${local} = ${mod} && ${mod}.__esModule ? ${mod}.default : ${mod};`);
          bindings.set(local, { module: source, kind: 'namespace', imported: 'default' });
        } else if (spec.type === 'ImportNamespaceSpecifier') {
          parts.push(`var ${local} = Object.assign(Object.create(null), ${mod}, { default: ${mod} });`);
          bindings.set(local, { module: source, kind: 'namespace', imported: '*' });
        } else {
          const imported = spec.imported as AnyNode;
          const name = imported.type === 'Identifier' ? String(imported.name) : String(imported.value);
          parts.push(`var ${local} = ${mod}[${JSON.stringify(name)}];`);
          bindings.set(local, { module: source, kind: 'named', imported: name });
        }
      }
      edits.push({ start: pos.start, end: pos.end, text: parts.join(' ') + newlinesOf(original) });
    } else if (stmt.type === 'ExportNamedDeclaration') {
      const decl = stmt.declaration as AnyNode | null | undefined;
      if (decl !== null && decl !== undefined) {
        // `export const x = ...` / `export function f() {}`: keep the declaration, export its names.
        const declPos = decl as unknown as Pos;
        edits.push({ start: pos.start, end: declPos.start, text: '' });
        const names: string[] = [];
        if (decl.type === 'VariableDeclaration') {
          for (const d of decl.declarations as AnyNode[]) collectPatternNames(d.id as AnyNode, names);
        } else {
          names.push(String((decl.id as { name: unknown }).name));
        }
        for (const n of names) exportGetters.push(`${JSON.stringify(n)}: function () { return ${n}; }`);
      } else if (stmt.source !== null && stmt.source !== undefined) {
        const source = String((stmt.source as { value: unknown }).value);
        if (!imports.includes(source)) imports.push(source);
        const mod = `__agentload_m${String(counter++)}`;
        const specs = (stmt.specifiers as AnyNode[]).map((s) => {
          const local = s.local as AnyNode;
          const exported = s.exported as AnyNode;
          const from = local.type === 'Identifier' ? String(local.name) : String(local.value);
          const to = exported.type === 'Identifier' ? String(exported.name) : String(exported.value);
          return `${JSON.stringify(to)}: function () { return ${mod}[${JSON.stringify(from)}]; }`;
        });
        edits.push({ start: pos.start, end: pos.end, text: `var ${mod} = require(${JSON.stringify(source)});${newlinesOf(original)}` });
        exportGetters.push(...specs);
      } else {
        for (const s of stmt.specifiers as AnyNode[]) {
          const local = s.local as AnyNode;
          const exported = s.exported as AnyNode;
          const from = String(local.name);
          const to = exported.type === 'Identifier' ? String(exported.name) : String(exported.value);
          exportGetters.push(`${JSON.stringify(to)}: function () { return ${from}; }`);
        }
        edits.push({ start: pos.start, end: pos.end, text: newlinesOf(original) });
      }
    } else if (stmt.type === 'ExportDefaultDeclaration') {
      const decl = stmt.declaration as AnyNode;
      const declPos = decl as unknown as Pos;
      const named = (decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') && decl.id !== null && decl.id !== undefined;
      if (named) {
        edits.push({ start: pos.start, end: declPos.start, text: '' });
        exportGetters.push(`"default": function () { return ${String((decl.id as { name: unknown }).name)}; }`);
      } else {
        edits.push({ start: pos.start, end: declPos.start, text: 'var __agentload_default = ' });
        exportGetters.push('"default": function () { return __agentload_default; }');
      }
    } else if (stmt.type === 'ExportAllDeclaration') {
      const source = String((stmt.source as { value: unknown }).value);
      if (!imports.includes(source)) imports.push(source);
      edits.push({
        start: pos.start,
        end: pos.end,
        text: `__agentload_exportAll(require(${JSON.stringify(source)}));${newlinesOf(original)}`,
      });
    }
  }
  const tla = hasTopLevelAwait(program);
  const blockingUses = findBlockingUses(program, code, bindings);

  edits.sort((a, b) => a.start - b.start);
  let body = '';
  let at = 0;
  for (const e of edits) {
    body += code.slice(at, e.start) + e.text;
    at = e.end;
  }
  body += code.slice(at);
  // Exports are defined up front as getters (function declarations are hoisted; `const`s read before their
  // line throw as they would in a module), so the runtime finds them even while top-level awaits run.
  const prologue =
    `Object.defineProperties(exports, __agentload_getters({${exportGetters.join(', ')}}));` +
    ' function __agentload_exportAll(m) { for (var k in m) if (k !== "default" && !(k in exports)) Object.defineProperty(exports, k, { enumerable: true, get: function () { return m[k]; } }); }';
  return {
    imports,
    topLevelAwait: tla,
    blockingUses,
    // The getters must see the body's bindings: inside the async function (they are set before its first await).
    prefix: tla ? `return (async () => { ${prologue}` : prologue,
    body: tla ? `${body}\n})();` : body,
  };
}

function collectPatternNames(p: AnyNode, out: string[]): void {
  switch (p.type) {
    case 'Identifier':
      out.push(String(p.name));
      break;
    case 'ObjectPattern':
      for (const prop of p.properties as AnyNode[])
        collectPatternNames((prop.type === 'RestElement' ? prop.argument : prop.value) as AnyNode, out);
      break;
    case 'ArrayPattern':
      for (const el of p.elements as (AnyNode | null)[]) if (el !== null) collectPatternNames(el, out);
      break;
    case 'AssignmentPattern':
      collectPatternNames(p.left as AnyNode, out);
      break;
    case 'RestElement':
      collectPatternNames(p.argument as AnyNode, out);
      break;
    default:
      break;
  }
}

/** Every reference to a blocking k6 call that is not `await <call>(...)` (see BLOCKING_CALLS). */
function findBlockingUses(program: Program, code: string, bindings: ReadonlyMap<string, Binding>): BlockingUse[] {
  const uses: BlockingUse[] = [];
  const blocking = (b: Binding, member: string | undefined): string | undefined => {
    const names = BLOCKING_CALLS[b.module];
    if (names === undefined) return undefined;
    if (b.kind === 'named') return names.includes(b.imported) ? b.imported : undefined;
    return member !== undefined && names.includes(member) ? member : undefined;
  };
  const report = (node: AnyNode, ancestors: readonly AnyNode[], label: string): void => {
    const parent = ancestors[ancestors.length - 2];
    const isCallee = parent !== undefined && parent.type === 'CallExpression' && parent.callee === node;
    if (isCallee && awaited(ancestors.slice(0, -1), parent)) return;
    const { line, column } = lineColumn(code, (node as unknown as Pos).start);
    uses.push({ call: `${label}(...)`, line, column });
  };
  ancestor(program as never, {
    MemberExpression(n: AcornNode, _s: unknown, anc: AcornNode[]) {
      const node = n as AnyNode;
      const obj = node.object as AnyNode;
      if (obj.type !== 'Identifier') return;
      const b = bindings.get(String(obj.name));
      if (b === undefined || b.kind !== 'namespace') return;
      const prop = node.property as AnyNode;
      const member = node.computed === true ? (prop.type === 'Literal' ? String(prop.value) : undefined) : String(prop.name);
      const name = blocking(b, member);
      if (name !== undefined) report(node, anc as AnyNode[], `${String(obj.name)}.${name}`);
    },
    Identifier(n: AcornNode, _s: unknown, anc: AcornNode[]) {
      const node = n as AnyNode;
      const b = bindings.get(String(node.name));
      if (b === undefined || b.kind !== 'named') return;
      const parent = (anc as AnyNode[])[anc.length - 2];
      // Not a reference: a property key (`{ sleep: 1 }`, `x.sleep`).
      if (
        parent !== undefined &&
        ((parent.type === 'MemberExpression' && parent.property === node && parent.computed !== true) ||
          (parent.type === 'Property' && parent.key === node && parent.shorthand !== true))
      )
        return;
      const name = blocking(b, undefined);
      if (name !== undefined) report(node, anc as AnyNode[], name);
    },
  });
  return uses;
}
