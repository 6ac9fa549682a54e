/**
 * What a k6 binary can run, decided before the run: the oldest k6 the toolkit supports, the module names
 * that are rewritten for older binaries (one table, by version), and the `k6/x/*` extensions a bundle
 * needs against the ones `k6 version` lists. Pure functions of their inputs; refusals are one-line
 * AgentloadErrors (exit 2).
 */
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import { compareVersions, type K6Binary } from './binary.ts';

/**
 * The oldest k6 release the toolkit supports: v0.49.0. The reference outputs the engine and the report
 * are checked against were recorded with it, every scenario bundle was run on it, and from it up every
 * `k6/*` module the scenarios import exists under one of the names in MODULE_ALIASES. Older releases lack
 * `k6/experimental/timers` (added in v0.48) and differ in output formats the report reads.
 */
export const MIN_K6_VERSION = '0.49.0';

export interface ModuleAlias {
  /** The module name scenarios import. */
  readonly module: string;
  /** The name the binaries this row covers know the same module by. */
  readonly alias: string;
  /** The row covers binaries older than this release (the module graduated in it). */
  readonly below?: string;
  /** The row covers binaries from this release on (the module left k6's core in it). */
  readonly from?: string;
  readonly why: string;
}

/**
 * Module names by k6 version: imports of `module` are rewritten to `alias` in the bundle for the binaries a
 * row covers. An unrecognised version counts as the current release: `from` rows apply, `below` rows do not.
 */
export const MODULE_ALIASES: readonly ModuleAlias[] = [
  {
    module: 'k6/timers',
    alias: 'k6/experimental/timers',
    below: '0.50.0',
    why: 'k6 v0.50.0 graduated k6/experimental/timers (v0.48) to k6/timers with the same API',
  },
  {
    module: 'k6/websockets',
    alias: 'k6/experimental/websockets',
    below: '1.6.0',
    why: 'k6 v1.6.0 graduated k6/experimental/websockets to k6/websockets with the same API (grafana/k6#5579, #5586)',
  },
  {
    module: 'k6/experimental/redis',
    alias: 'k6/x/redis',
    from: '2.0.0',
    why: 'k6 v2.0.0 removed the built-in k6/experimental/redis (grafana/k6#5776, deprecated in #5237); the same API is the k6/x/redis extension',
  },
];

/** The rewrites a binary of this version needs. */
export function moduleAliasesFor(version: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of MODULE_ALIASES) {
    const covered =
      version === undefined
        ? a.from !== undefined
        : (a.below !== undefined && compareVersions(version, a.below) < 0) ||
          (a.from !== undefined && compareVersions(version, a.from) >= 0);
    if (covered) out[a.module] = a.alias;
  }
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
  'k6/x/redis': 'github.com/grafana/xk6-redis',
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

/** k6's switch for fetching a custom binary with missing extensions (k6 v1: on unless set to false). */
export const AUTO_EXTENSION_RESOLUTION_ENV = 'K6_AUTO_EXTENSION_RESOLUTION';

/**
 * Refuses (exit 2) a bundle that imports a `k6/x/*` module the binary was not built with: newer k6 would
 * otherwise try to download a custom binary ("automatic extension resolution") and fail without network;
 * older k6 fails at init with "unknown module". Setting K6_AUTO_EXTENSION_RESOLUTION=true explicitly says
 * k6 may fetch them (a machine with network): then the missing ones are returned for a notice instead.
 */
export function checkExtensions(
  bundleImports: readonly string[],
  binary: K6Binary,
  script: string,
  env: Readonly<Record<string, string | undefined>> = {},
): string[] {
  const wanted = extensionImports(bundleImports);
  const have = new Set(binary.extensions.filter((e) => e.type === 'js').map((e) => e.name));
  const missing = wanted.filter((m) => !have.has(m));
  if (missing.length === 0) return [];
  if (/^(1|t|true)$/i.test(env[AUTO_EXTENSION_RESOLUTION_ENV] ?? '')) return missing;
  const listed = have.size === 0 ? 'it lists no JavaScript extensions' : `it has ${[...have].sort().join(', ')}`;
  throw new AgentloadError(
    'k6-extension-missing',
    EXIT_CODES.usage,
    `${script} imports ${missing.join(', ')}, which ${binary.path} (k6${binary.version === undefined ? '' : ` v${binary.version}`}) was not built with (${listed}): build a k6 with \`${xk6BuildCommand(binary.version, wanted)}\` and set K6_BIN to it, or run on the embedded engine with --engine node`,
  );
}
