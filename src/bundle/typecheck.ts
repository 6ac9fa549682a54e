/**
 * Type-checks one scenario (and whatever it imports) with the load-script compiler options
 * (tsconfig.k6.json: k6 types, no Node types). Uses the TypeScript API on just that file, so a run
 * does not pay for checking every scenario. `k6` and `k6/*` resolve to @types/k6 wherever the file lives.
 * The run and build commands do not load this module: they check in a child process, with a cache
 * per scenario content (typecheck-cache.ts, typecheck-child.ts), which calls `typecheckIncremental`.
 */
import { dirname, join, relative, resolve } from 'node:path';

function shownPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}
import ts from 'typescript';

export interface TypeDiagnostic {
  readonly file: string | undefined;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** `file:line:col message`, the file relative to `cwd`. */
  readonly text: string;
}

export interface TypecheckOptions {
  /** The toolkit root (where tsconfig.k6.json and node_modules are). */
  readonly root: string;
  /** Paths in messages are shown relative to this folder. */
  readonly cwd: string;
  /** The file is JavaScript: check it with its JSDoc types (allowJs, checkJs). */
  readonly javascript?: boolean;
}

function loadCompilerOptions(root: string): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.k6.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (read.error !== undefined) {
    throw new Error(`cannot read ${configPath}: ${ts.flattenDiagnosticMessageText(read.error.messageText, ' ')}`);
  }
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configPath), undefined, configPath);
  const typesDir = join(root, 'node_modules', '@types');
  return {
    ...parsed.options,
    noEmit: true,
    typeRoots: [typesDir],
    // Scenarios outside the toolkit folder still see k6's types.
    paths: { ...parsed.options.paths, k6: [join(typesDir, 'k6')], 'k6/*': [join(typesDir, 'k6', '*')] },
  };
}

let cached: { root: string; options: ts.CompilerOptions } | undefined;

/** Returns every type error in `file` and the files it imports (none means it type-checks). */
export function typecheckScenario(file: string, opts: TypecheckOptions): TypeDiagnostic[] {
  return typecheckScenarios([file], opts);
}

/** Type-checks several scenarios in one program (faster than one program each). */
export function typecheckScenarios(files: readonly string[], opts: TypecheckOptions): TypeDiagnostic[] {
  if (cached?.root !== opts.root) cached = { root: opts.root, options: loadCompilerOptions(opts.root) };
  const program = ts.createProgram({ rootNames: rootNames(files, opts.root), options: withJavascript(cached.options, opts) });
  return toDiagnostics(ts.getPreEmitDiagnostics(program), opts.cwd);
}

/** JavaScript scripts are checked with their JSDoc types. */
function withJavascript(options: ts.CompilerOptions, opts: TypecheckOptions): ts.CompilerOptions {
  return opts.javascript === true ? { ...options, allowJs: true, checkJs: true } : options;
}

function rootNames(files: readonly string[], root: string): string[] {
  return [...files.map((f) => resolve(f)), join(root, 'src', 'bundle', 'k6-globals.d.ts')];
}

/** What an incremental check read: every file with its bytes, and the paths it looked for and did not find. */
export interface CheckReads {
  readonly read: Map<string, string>;
  readonly missing: Set<string>;
}

/**
 * `typecheckScenarios` as an incremental program whose state is kept in `buildInfo` (TypeScript's
 * .tsbuildinfo: files whose text did not change are not checked again), recording in `reads` what
 * the check read (the cache key of typecheck-cache.ts is made of exactly those bytes).
 */
export function typecheckIncremental(
  files: readonly string[],
  opts: TypecheckOptions & { readonly buildInfo: string; readonly reads: CheckReads },
): TypeDiagnostic[] {
  const options: ts.CompilerOptions = {
    ...withJavascript(loadCompilerOptions(opts.root), opts),
    incremental: true,
    tsBuildInfoFile: opts.buildInfo,
  };
  const host = ts.createIncrementalCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => {
    const text = readFile(name);
    if (text !== undefined && name !== opts.buildInfo) opts.reads.read.set(resolve(name), text);
    return text;
  };
  host.fileExists = (name) => {
    const found = fileExists(name);
    if (!found) opts.reads.missing.add(resolve(name));
    return found;
  };
  const program = ts.createIncrementalProgram({ rootNames: rootNames(files, opts.root), options, host });
  const diagnostics = [
    ...program.getConfigFileParsingDiagnostics(),
    ...program.getOptionsDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSemanticDiagnostics(),
  ];
  program.emit(); // with noEmit, writes only the .tsbuildinfo
  return toDiagnostics(diagnostics, opts.cwd);
}

function toDiagnostics(diagnostics: readonly ts.Diagnostic[], cwd: string): TypeDiagnostic[] {
  return diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (d.file === undefined || d.start === undefined) {
        return { file: undefined, line: 0, column: 0, message, text: `error TS${d.code}: ${message}` };
      }
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      const shown = shownPath(cwd, d.file.fileName);
      return {
        file: d.file.fileName,
        line: line + 1,
        column: character + 1,
        message,
        text: `${shown}:${line + 1}:${character + 1} ${message}`,
      };
    });
}
