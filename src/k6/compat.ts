/**
 * What a k6 binary can run, decided before the run: the oldest k6 the toolkit supports, the module names
 * that are rewritten for older binaries (one table, by version), and the `k6/x/*` extensions a bundle
 * needs against the ones `k6 version` lists. Pure functions of their inputs; refusals are one-line
 * AgentloadErrors (exit 2).
 */
import { AgentloadError, EXIT_CODES } from '../cli/errors.ts';
import { compareVersions, type K6Binary } from './binary.ts';

/**
 * The oldest k6 release the toolkit supports: v0.49.0. The reference outputs the engine and the report
 * are checked against were recorded with it, every scenario bundle was run on it, and from it up every
 * `k6/*` module the scenarios import exists under one of the names in MODULE_ALIASES. Older releases lack
 * `k6/experimental/timers` (added in v0.48) and differ in output formats the report reads.
 */
export const MIN_K6_VERSION = '0.49.0';

export interface ModuleAlias {
  /** The module name scenarios import (the current name). */
  readonly module: string;
  /** The name binaries older than `since` know the same module by. */
  readonly alias: string;
  /** First k6 release that knows `module`. */
  readonly since: string;
  readonly why: string;
}

/** Module names by k6 version: below `since`, imports of `module` are rewritten to `alias` in the bundle. */
export const MODULE_ALIASES: readonly ModuleAlias[] = [
  {
    module: 'k6/timers',
    alias: 'k6/experimental/timers',
    since: '0.50.0',
    why: 'k6 v0.50.0 graduated k6/experimental/timers (v0.48) to k6/timers with the same API',
  },
  {
    module: 'k6/websockets',
    alias: 'k6/experimental/websockets',
    since: '1.6.0',
    why: 'k6 v1.6.0 graduated k6/experimental/websockets to k6/websockets with the same API (grafana/k6#5579, #5586)',
  },
];

/** The rewrites a binary of this version needs (`{}` for current or unrecognised versions). */
export function moduleAliasesFor(version: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (version === undefined) return out;
  for (const a of MODULE_ALIASES) if (compareVersions(version, a.since) < 0) out[a.module] = a.alias;
  return out;
}

/** Refuses (exit 2) a k6 older than MIN_K6_VERSION. An unrecognised version string is treated as current. */
export function checkK6Floor(binary: K6Binary): void {
  if (binary.version === undefined || compareVersions(binary.version, MIN_K6_VERSION) >= 0) return;
  throw new AgentloadError(
    'k6-too-old',
    EXIT_CODES.usage,
    `k6 v${binary.version} (${binary.path}) is older than v${MIN_K6_VERSION}, the oldest k6 agentload supports: install a newer k6 (or point K6_BIN at one), or run on the embedded engine with --engine node`,
  );
}

/** The Go modules that provide the extensions the toolkit's scenarios use (for the xk6 build line). */
export const KNOWN_EXTENSION_MODULES: Readonly<Record<string, string>> = {
  'k6/x/sql': 'github.com/grafana/xk6-sql',
  'k6/x/sql/driver/postgres': 'github.com/grafana/xk6-sql-driver-postgres',
  'k6/x/sql/driver/sqlite3': 'github.com/grafana/xk6-sql-driver-sqlite3',
};

/** `k6/x/...` modules among a bundle's imports, sorted. */
export function extensionImports(imports: readonly string[]): string[] {
  return [...new Set(imports.filter((i) => i.startsWith('k6/x/')))].sort();
}

/** The `xk6 build` line that makes a k6 with every extension a bundle imports. */
export function xk6BuildCommand(version: string | undefined, modules: readonly string[]): string {
  const withs = [...new Set(modules.map((m) => KNOWN_EXTENSION_MODULES[m] ?? `<Go module providing ${m}>`))];
  return ['xk6 build', ...(version === undefined ? [] : [`v${version}`]), ...withs.map((w) => `--with ${w}`)].join(' ');
}

/**
 * Refuses (exit 2) a bundle that imports a `k6/x/*` module the binary was not built with: newer k6 would
 * otherwise try to download a custom binary ("automatic extension resolution") and fail without network;
 * older k6 fails at init with "unknown module".
 */
export function checkExtensions(bundleImports: readonly string[], binary: K6Binary, script: string): void {
  const wanted = extensionImports(bundleImports);
  const have = new Set(binary.extensions.filter((e) => e.type === 'js').map((e) => e.name));
  const missing = wanted.filter((m) => !have.has(m));
  if (missing.length === 0) return;
  const listed = have.size === 0 ? 'it lists no JavaScript extensions' : `it has ${[...have].sort().join(', ')}`;
  throw new AgentloadError(
    'k6-extension-missing',
    EXIT_CODES.usage,
    `${script} imports ${missing.join(', ')}, which ${binary.path} (k6${binary.version === undefined ? '' : ` v${binary.version}`}) was not built with (${listed}): build a k6 with \`${xk6BuildCommand(binary.version, wanted)}\` and set K6_BIN to it, or run on the embedded engine with --engine node`,
  );
}
