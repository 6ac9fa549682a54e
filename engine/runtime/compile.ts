/**
 * Compiles a script body (the loader's rewrite of the bundle, see script-analysis.ts) once with `vm`
 * into a function every VU calls with its own `require`, and maps stack positions back to the
 * original sources through the loader's source map. No esbuild here: VU threads of the synchronous
 * VU mode compile the text the main thread prepared.
 */
import { SourceMap } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { thrownText, toError } from '../../shared/errors.ts';

/** What each VU passes to its instance of the script. */
export interface ScriptGlobals {
  readonly require: (specifier: string) => unknown;
  readonly env: Record<string, string>;
  readonly vuId: number;
  readonly open: (path: string, mode?: string) => string | ArrayBuffer;
  readonly console: Readonly<Record<'log' | 'info' | 'debug' | 'warn' | 'error', (...args: unknown[]) => void>>;
  readonly timers: Readonly<Record<'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval', unknown>>;
  /** The object the script's exports are defined on (default a new one): the VU keeps it, so exports defined before init code threw stay readable. */
  readonly exports?: Record<string, unknown>;
}

/** One VU's instance of the script: its exports and a way to set `__ITER`. */
export interface ScriptInstance {
  readonly exports: Readonly<Record<string, unknown>>;
  setIter(n: number): void;
  /** Set when the script has top-level await: its init code is done when this settles. */
  readonly ready?: Promise<void>;
}

/** The prepared text of a script: what VU threads need to compile it themselves. */
export interface ScriptSource {
  /** Absolute path of the script as given. */
  readonly path: string;
  /** The function body (script-analysis.ts): `prefix` then `body`, whose lines are the source map's. */
  readonly prefix: string;
  readonly body: string;
  /** The loader's source map (JSON), its sources relative to the script's folder. */
  readonly map: string;
}

export interface CompiledScript {
  /** Absolute path of the script. */
  readonly path: string;
  /** Runs the init code for one VU. Throws what the init code throws (or `ready` rejects with it). */
  instantiate(globals: ScriptGlobals): ScriptInstance;
  /** Rewrites `file:line:col` positions of this script in a stack to the original sources. */
  mapStack(stack: string): string;
  /** The frames of this script in an error's stack, mapped, formatted like k6 (`\tat fn (file:///x.ts:3:5)`). */
  scriptFrames(error: unknown): string[];
  /** `file:///x.ts:12:5` of the innermost frame of this script on the current stack, or ''. */
  callSite(): string;
  /** Captures the stack now (cheap: frames are formatted only when the thunk is called). */
  captureSite(): () => string;
  /** `file:///x.ts:12:5` of a 1-based position in the bundle text the loader analysed. */
  positionOf(line: number, column: number): string;
  readonly source: ScriptSource;
}

type WrappedFn = (
  require: ScriptGlobals['require'],
  module: { exports: Record<string, unknown> },
  exports: Record<string, unknown>,
  __ENV: Record<string, string>,
  __VU: number,
  open: ScriptGlobals['open'],
  console: ScriptGlobals['console'],
  setTimeout: unknown,
  clearTimeout: unknown,
  setInterval: unknown,
  clearInterval: unknown,
  __agentload: { setIter?: (n: number) => void },
  __agentload_getters: (fns: Record<string, () => unknown>) => PropertyDescriptorMap,
) => unknown;

const PROLOGUE =
  '(function (require, module, exports, __ENV, __VU, open, console, setTimeout, clearTimeout, setInterval, clearInterval, __agentload, __agentload_getters) { var __ITER = 0; __agentload.setIter = function (n) { __ITER = n; }; ';
const EPILOGUE = '\n})';

/** Export getters as property descriptors (enumerable, like an ES module namespace). */
function getters(fns: Record<string, () => unknown>): PropertyDescriptorMap {
  const out: PropertyDescriptorMap = {};
  for (const [k, get] of Object.entries(fns)) out[k] = { enumerable: true, get };
  return out;
}

interface Position {
  file: string;
  line: number;
  column: number;
  name?: string;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Compiles a prepared script once. */
export function compileScript(src: ScriptSource): CompiledScript {
  const abs = src.path;
  const map = new SourceMap(JSON.parse(src.map) as never);
  const url = pathToFileURL(abs).href;
  const script = new Script(PROLOGUE + src.prefix + src.body + EPILOGUE, { filename: url });
  const firstLineShift = PROLOGUE.length + src.prefix.length;
  const fn = script.runInThisContext() as WrappedFn;

  /** A 1-based position of the bundle text (the map's generated side) in the original sources. */
  const mapBundlePosition = (line: number, col: number): Position => {
    const e = map.findEntry(line - 1, Math.max(0, col - 1)) as {
      originalSource?: string;
      originalLine?: number;
      originalColumn?: number;
      name?: string;
    };
    if (e.originalSource === undefined || e.originalLine === undefined || e.originalColumn === undefined)
      return { file: abs, line, column: col };
    let file = e.originalSource;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    else file = resolve(dirname(abs), file);
    return { file, line: e.originalLine + 1, column: e.originalColumn + 1, ...(e.name === undefined ? {} : { name: e.name }) };
  };
  // Stack positions are 1-based; the prologue and prefix share the first line (they shift its columns only).
  const mapPosition = (line: number, column: number): Position => mapBundlePosition(line, line === 1 ? column - firstLineShift : column);
  const where = (p: Position): string => `${pathToFileURL(p.file).href}:${p.line}:${p.column}`;
  // esbuild names an anonymous `export default function` after the file (`exception_default`); k6 shows no name.
  const synthesizedDefault = `${basename(abs)
    .replace(/\.[^.]*$/, '')
    .replace(/[^\w$]/g, '_')}_default`;
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const framePattern = new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g');
  const mapStack = (stack: string): string =>
    stack.replace(framePattern, (_m, l: string, c: string) => where(mapPosition(Number(l), Number(c))));

  const capture = (): { stack?: string } => {
    const holder: { stack?: string } = {};
    const limit = Error.stackTraceLimit;
    // http.get → start → awaitable → captureSite → here: the script's frame is within 8.
    Error.stackTraceLimit = 8;
    Error.captureStackTrace(holder);
    Error.stackTraceLimit = limit;
    return holder;
  };
  const siteOf = (holder: { stack?: string }): string => {
    for (const line of (holder.stack ?? '').split('\n')) {
      if (!line.includes(url)) continue;
      const m = /:(\d+):(\d+)\)?$/.exec(line);
      if (m === null) continue;
      return where(mapPosition(Number(m[1]), Number(m[2])));
    }
    return '';
  };
  return {
    path: abs,
    source: src,
    instantiate(g: ScriptGlobals): ScriptInstance {
      const module = { exports: g.exports ?? {} };
      const hook: { setIter?: (n: number) => void } = {};
      const out = fn(
        g.require,
        module,
        module.exports,
        g.env,
        g.vuId,
        g.open,
        g.console,
        g.timers.setTimeout,
        g.timers.clearTimeout,
        g.timers.setInterval,
        g.timers.clearInterval,
        hook,
        getters,
      );
      const setIter = hook.setIter ?? ((): void => undefined);
      if (isThenable(out)) return { exports: module.exports, setIter, ready: Promise.resolve(out).then(() => undefined) };
      return { exports: module.exports, setIter };
    },
    mapStack,
    positionOf: (line, column) => where(mapBundlePosition(line, column)),
    callSite(): string {
      return siteOf(capture());
    },
    captureSite(): () => string {
      const holder = capture();
      let site: string | undefined;
      return () => (site ??= siteOf(holder));
    },
    scriptFrames(error: unknown): string[] {
      const stack = error instanceof Error ? (error.stack ?? '') : '';
      const frames: string[] = [];
      for (const line of stack.split('\n')) {
        if (!line.includes(url)) continue;
        const m = /^\s*at (?:(.*?) \()?(.*):(\d+):(\d+)\)?$/.exec(line);
        if (m === null) continue;
        const p = mapPosition(Number(m[3]), Number(m[4]));
        const fnName = m[1] === undefined || m[1] === '' || m[1] === synthesizedDefault ? '' : `${m[1]} `;
        frames.push(`\tat ${fnName}${fnName === '' ? '' : '('}${where(p)}${fnName === '' ? '' : ')'}`);
      }
      return frames;
    },
  };
}

/**
 * k6-style text of an exception: `Error: msg\n\tat fn (file:///x.js:3:5)\n`. Never throws: an Error whose
 * name, message or stack throws when read (a getter) is shown as toError shows a value it cannot read.
 */
export function formatScriptException(script: CompiledScript, error: unknown): string {
  try {
    const e = toError(error);
    const head = `${e.name}: ${e.message}`;
    const frames = script.scriptFrames(error);
    return frames.length === 0 ? head : `${head}\n${frames.join('\n')}\n`;
  } catch {
    return `Error: ${thrownText(error)}`;
  }
}
