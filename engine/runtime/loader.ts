/**
 * Bundle loader: turns an ESM k6 script into a per-VU factory. The script is transformed to
 * CommonJS once (esbuild), wrapped in a function and compiled once (`vm`); every VU calls that
 * function with its own `require`, so init code runs once per VU and module state is per VU.
 * Stack traces are mapped back through esbuild's map and the bundle's own source map.
 */
import { readFileSync, existsSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { transform } from 'esbuild';
import { EngineError, EXIT_CODES, toError } from './errors.ts';

/** What each VU passes to its instance of the script. */
export interface ScriptGlobals {
  readonly require: (specifier: string) => unknown;
  readonly env: Record<string, string>;
  readonly vuId: number;
  readonly open: (path: string, mode?: string) => string | ArrayBuffer;
  readonly console: Readonly<Record<'log' | 'info' | 'debug' | 'warn' | 'error', (...args: unknown[]) => void>>;
  readonly timers: Readonly<Record<'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval', unknown>>;
}

/** One VU's instance of the script: its exports and a way to set `__ITER`. */
export interface ScriptInstance {
  readonly exports: Readonly<Record<string, unknown>>;
  setIter(n: number): void;
}

export interface CompiledScript {
  /** Absolute path of the bundle. */
  readonly path: string;
  /** Runs the init code for one VU. Throws what the init code throws. */
  instantiate(globals: ScriptGlobals): ScriptInstance;
  /** Rewrites `file:line:col` positions of this script in a stack to the original sources. */
  mapStack(stack: string): string;
  /** The frames of this script in an error's stack, mapped, formatted like k6 (`\tat fn (file:///x.ts:3:5)`). */
  scriptFrames(error: unknown): string[];
  /** `file:///x.ts:12:5` of the innermost frame of this script on the current stack, or ''. */
  callSite(): string;
  /** Captures the stack now (cheap: frames are formatted only when the thunk is called). */
  captureSite(): () => string;
}

type WrappedFn = (
  require: ScriptGlobals['require'], module: { exports: Record<string, unknown> }, exports: Record<string, unknown>,
  __ENV: Record<string, string>, __VU: number, open: ScriptGlobals['open'], console: ScriptGlobals['console'],
  setTimeout: unknown, clearTimeout: unknown, setInterval: unknown, clearInterval: unknown,
  __agentload: { setIter?: (n: number) => void },
) => void;

const PROLOGUE = '(function (require, module, exports, __ENV, __VU, open, console, setTimeout, clearTimeout, setInterval, clearInterval, __agentload) { var __ITER = 0; __agentload.setIter = function (n) { __ITER = n; };\n';
const EPILOGUE = '\n})';

function loadBundleMap(code: string, path: string): SourceMap | undefined {
  const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code);
  try {
    if (m?.[1] !== undefined) {
      const url = m[1];
      const inline = /^data:application\/json(?:;charset=[^;,]+)?;base64,(.*)$/.exec(url);
      if (inline?.[1] !== undefined) return new SourceMap(JSON.parse(Buffer.from(inline[1], 'base64').toString('utf8')) as never);
      const file = resolve(dirname(path), decodeURIComponent(url));
      if (existsSync(file)) return new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as never);
    } else if (existsSync(`${path}.map`)) {
      return new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as never);
    }
  } catch {
    return undefined; // a broken source map only costs us mapped stacks
  }
  return undefined;
}

interface Position { file: string; line: number; column: number; name?: string }

/** Loads and compiles a bundle once. Syntax errors → EngineError 107 naming file:line. */
export async function loadScript(path: string): Promise<CompiledScript> {
  const abs = resolve(path);
  let code: string;
  try {
    code = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new EngineError('script-load-failed', EXIT_CODES.scriptException, `cannot read script ${abs}: ${toError(e).message}; check the path`);
  }
  const bundleMap = loadBundleMap(code, abs);
  let out: { code: string; map: string };
  try {
    out = await transform(code, { format: 'cjs', loader: 'js', sourcemap: 'external', sourcefile: abs, target: 'node20', logLevel: 'silent' });
  } catch (e) {
    const err = e as { errors?: { text: string; location?: { line: number; column: number; lineText: string } | null }[] };
    const first = err.errors?.[0];
    const where = first?.location ? `${abs}:${first.location.line}:${first.location.column}` : abs;
    throw new EngineError('script-load-failed', EXIT_CODES.scriptException, `cannot parse script ${where}: ${first?.text ?? toError(e).message}`);
  }
  const cjsMap = new SourceMap(JSON.parse(out.map) as never);
  const url = pathToFileURL(abs).href;
  const script = new Script(PROLOGUE + out.code + EPILOGUE, { filename: url });
  const fn = script.runInThisContext() as WrappedFn;

  const mapPosition = (line: number, column: number): Position => {
    // line/column are 1-based as in stack traces; the prologue adds one line.
    const e1 = cjsMap.findEntry(line - 2, column - 1) as { originalLine?: number; originalColumn?: number; name?: string };
    if (e1.originalLine === undefined || e1.originalColumn === undefined) return { file: abs, line, column };
    if (bundleMap !== undefined) {
      const e2 = bundleMap.findEntry(e1.originalLine, e1.originalColumn) as { originalSource?: string; originalLine?: number; originalColumn?: number; name?: string };
      if (e2.originalSource !== undefined && e2.originalLine !== undefined && e2.originalColumn !== undefined) {
        let file = e2.originalSource;
        if (file.startsWith('file://')) file = fileURLToPath(file);
        else file = resolve(dirname(abs), file);
        return { file, line: e2.originalLine + 1, column: e2.originalColumn + 1, ...(e2.name === undefined ? {} : { name: e2.name }) };
      }
    }
    return { file: abs, line: e1.originalLine + 1, column: e1.originalColumn + 1 };
  };
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const framePattern = new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g');
  const mapStack = (stack: string): string =>
    stack.replace(framePattern, (_m, l: string, c: string) => {
      const p = mapPosition(Number(l), Number(c));
      return `${pathToFileURL(p.file).href}:${p.line}:${p.column}`;
    });

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
      const p = mapPosition(Number(m[1]), Number(m[2]));
      return `${pathToFileURL(p.file).href}:${p.line}:${p.column}`;
    }
    return '';
  };
  return {
    path: abs,
    instantiate(g: ScriptGlobals): ScriptInstance {
      const module = { exports: {} as Record<string, unknown> };
      const hook: { setIter?: (n: number) => void } = {};
      fn(g.require, module, module.exports, g.env, g.vuId, g.open, g.console,
        g.timers.setTimeout, g.timers.clearTimeout, g.timers.setInterval, g.timers.clearInterval, hook);
      const setIter = hook.setIter ?? ((): void => undefined);
      return { exports: module.exports, setIter };
    },
    mapStack,
    callSite(): string {
      return siteOf(capture());
    },
    captureSite(): () => string {
      const holder = capture();
      let site: string | undefined;
      return () => (site ??= siteOf(holder));
    },
    scriptFrames(error: unknown): string[] {
      const stack = error instanceof Error ? error.stack ?? '' : '';
      const frames: string[] = [];
      for (const line of stack.split('\n')) {
        if (!line.includes(url)) continue;
        const m = /^\s*at (?:(.*?) \()?(.*):(\d+):(\d+)\)?$/.exec(line);
        if (m === null) continue;
        const p = mapPosition(Number(m[3]), Number(m[4]));
        const fnName = m[1] === undefined || m[1] === '' ? '' : `${m[1]} `;
        frames.push(`\tat ${fnName}${fnName === '' ? '' : '('}${pathToFileURL(p.file).href}:${p.line}:${p.column}${fnName === '' ? '' : ')'}`);
      }
      return frames;
    },
  };
}

/** k6-style text of an exception: `Error: msg\n\tat fn (file:///x.js:3:5)\n`. */
export function formatScriptException(script: CompiledScript, error: unknown): string {
  const e = toError(error);
  const head = `${e.name}: ${e.message}`;
  const frames = script.scriptFrames(error);
  return frames.length === 0 ? head : `${head}\n${frames.join('\n')}\n`;
}
