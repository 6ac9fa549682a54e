/**
 * The generated entry that wraps a scenario: it re-exports everything the scenario exports and adds a
 * `handleSummary` that (1) calls the scenario's own handleSummary if it has one, else renders the default
 * end-of-test text summary, and (2) also writes the summary data to the run folder, at the path the toolkit
 * passes in `__ENV.AGENTLOAD_HANDLE_SUMMARY_PATH`. The entry runs inside the load script: no Node APIs.
 */
import { SUMMARY_REPORT_EXPORT } from '../../engine/output/summary-types.ts';

/** Environment variable (seen by the script as `__ENV`) naming where the handleSummary data goes. */
export const HANDLE_SUMMARY_PATH_ENV = 'AGENTLOAD_HANDLE_SUMMARY_PATH';
/**
 * A scenario without its own handleSummary may export `summaryExtras(data)`: an object like handleSummary's
 * (`stdout` text is appended to the default summary, other keys are files written beside it).
 */
export const SUMMARY_EXTRAS_EXPORT = 'summaryExtras';
/** The end-of-test summary's mode (`compact`, `full`, `legacy`; the run command's --summary-mode). */
export const SUMMARY_MODE_ENV = 'AGENTLOAD_SUMMARY_MODE';
/** `1` when the default text summary may use ANSI colours. */
export const SUMMARY_COLORS_ENV = 'AGENTLOAD_SUMMARY_COLORS';
/**
 * Where handleSummary writes the names the scenario read through lib/config.ts (its `__agentloadEnvRead`
 * registry), for the run command's unused-variable warning (src/run/unused-env.ts).
 */
export const ENV_READ_PATH_ENV = 'AGENTLOAD_ENV_READ_PATH';
const ENV_READ_REGISTRY = '__agentloadEnvRead';
/**
 * An exported function giving the same names as read so far, for a run that stops before handleSummary: the
 * embedded engine hands the run command the script's exports after init (runEngine's `onInit`), also when the
 * init code threw (a function declaration is hoisted, so it is callable even then).
 */
export const ENV_READ_EXPORT = '__agentloadVariablesRead';

export interface EntryInput {
  /** Absolute path of the scenario file. */
  readonly scenario: string;
  /** Names the scenario exports (from a first esbuild pass). */
  readonly exports: readonly string[];
  /** Absolute path of the text-summary module (exports `textSummary(data, opts)`), if available. */
  readonly textSummaryModule: string | undefined;
}

export function entrySource(input: EntryInput): string {
  const spec = JSON.stringify(input.scenario);
  const lines: string[] = [`export * from ${spec};`];
  if (input.exports.includes('default')) lines.push(`export { default } from ${spec};`);
  const hasUserSummary = input.exports.includes('handleSummary');
  if (hasUserSummary) lines.push(`import { handleSummary as __agentloadUserSummary } from ${spec};`);
  else if (input.exports.includes(SUMMARY_EXTRAS_EXPORT))
    lines.push(`import { ${SUMMARY_EXTRAS_EXPORT} as __agentloadExtras } from ${spec};`);
  if (input.textSummaryModule !== undefined) {
    lines.push(`import { textSummary as __agentloadTextSummary } from ${JSON.stringify(input.textSummaryModule)};`);
  }
  // The names read through lib/config so far (null: the scenario does not use it): a hoisted function, callable
  // whether or not the init code finished.
  lines.push(
    `export function ${ENV_READ_EXPORT}() {`,
    `  var read = typeof globalThis === 'object' ? globalThis[${JSON.stringify(ENV_READ_REGISTRY)}] : undefined;`,
    "  if (!read || typeof read.forEach !== 'function') return null;",
    '  var names = [];',
    '  read.forEach(function (n) { names.push(n); });',
    '  return names.sort();',
    '}',
  );
  lines.push(
    'function __agentloadWithData(out, data) {',
    '  var result = {};',
    "  if (out !== null && typeof out === 'object') { for (var k in out) { result[k] = out[k]; } }",
    `  var path = __ENV[${JSON.stringify(HANDLE_SUMMARY_PATH_ENV)}];`,
    '  if (path) { result[path] = JSON.stringify(data, null, 2); }',
    `  var readPath = __ENV[${JSON.stringify(ENV_READ_PATH_ENV)}];`,
    `  var names = ${ENV_READ_EXPORT}();`,
    '  if (readPath && names) { result[readPath] = JSON.stringify(names); }',
    '  return result;',
    '}',
    // The embedded engine passes the summary report (thresholds' judged values, per-group and per-scenario
    // aggregates) as a second argument when the script asks for it by this export; a k6 binary does not, and
    // the text shows what `data` holds.
    `export var ${SUMMARY_REPORT_EXPORT} = true;`,
    'export function handleSummary(data, report) {',
  );
  if (hasUserSummary) {
    lines.push(
      '  var out = __agentloadUserSummary(data);',
      "  if (out !== null && typeof out === 'object' && typeof out.then === 'function') {",
      '    return out.then(function (o) { return __agentloadWithData(o, data); });',
      '  }',
      '  return __agentloadWithData(out, data);',
    );
  } else if (input.textSummaryModule !== undefined) {
    lines.push(
      `  var colors = __ENV[${JSON.stringify(SUMMARY_COLORS_ENV)}] === '1';`,
      `  var mode = __ENV[${JSON.stringify(SUMMARY_MODE_ENV)}] || 'legacy';`,
      "  var text = __agentloadTextSummary(data, { indent: ' ', enableColors: colors, summaryMode: mode, report: report });",
      "  var out = { stdout: '\\n' + text + '\\n\\n' };",
    );
    if (input.exports.includes(SUMMARY_EXTRAS_EXPORT)) {
      // The scenario adds to the default summary: text after it, and files of its own (tables, charts).
      lines.push(
        `  var extra = __agentloadExtras(data);`,
        "  if (extra !== null && typeof extra === 'object') {",
        "    for (var e in extra) { if (e === 'stdout') { out.stdout += extra[e]; } else { out[e] = extra[e]; } }",
        '  }',
      );
    }
    lines.push('  return __agentloadWithData(out, data);');
  } else {
    lines.push('  return __agentloadWithData({}, data);');
  }
  lines.push('}', '');
  return lines.join('\n');
}
