/**
 * Type-checks one scenario (and whatever it imports) with the load-script compiler options
 * (tsconfig.k6.json: k6 types, no Node types). Uses the TypeScript API on just that file, so a run
 * does not pay for checking every scenario. `k6` and `k6/*` resolve to @types/k6 wherever the file lives.
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
  const globals = join(opts.root, 'src', 'bundle', 'k6-globals.d.ts');
  const options = opts.javascript === true ? { ...cached.options, allowJs: true, checkJs: true } : cached.options;
  const program = ts.createProgram({ rootNames: [...files.map((f) => resolve(f)), globals], options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (d.file === undefined || d.start === undefined) {
        return { file: undefined, line: 0, column: 0, message, text: `error TS${d.code}: ${message}` };
      }
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      const shown = shownPath(opts.cwd, d.file.fileName);
      return {
        file: d.file.fileName,
        line: line + 1,
        column: character + 1,
        message,
        text: `${shown}:${line + 1}:${character + 1} ${message}`,
      };
    });
}
