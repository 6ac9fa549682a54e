#!/usr/bin/env node
// npm run ci -- <scenario>... [--baseline-dir DIR] [--reports-dir DIR] [--annotations auto|github|gitlab|none]
//               [--codequality FILE] [-- <flags for every run>]
//
// The CI gate, written with zx: runs each scenario the way `npm run k6` does (against BASE_URL, or the
// bundled platform), compares it with its baseline (<baseline-dir>/<name>.json when there is one), prints
// GitHub or GitLab annotations for what failed, appends every summary.md to $GITHUB_STEP_SUMMARY when set,
// writes <reports-dir>/ci-summary.md (and a GitLab Code Quality report under GitLab), and exits with the
// worst exit code of the runs (src/ci/gate.ts: 0 < 3 regression < 4 soak < 99 thresholds < anything else).
import { parseArgs } from 'node:util';
import { $, fs, path } from 'zx';
import { loadPrebuilt } from './prebuilt.mjs';

// The gate's decisions and the run command both load pre-built (scripts/prebuilt.mjs): no TypeScript is compiled at start.
const { annotationLines, ciSummary, codeQuality, detectCi, runDirFromOutput, worstExitCode } = await loadPrebuilt('src/ci/gate.ts');

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const USAGE =
  'usage: npm run ci -- <scenario>... [--baseline-dir DIR] [--reports-dir DIR] [--annotations auto|github|gitlab|none] [--codequality FILE] [-- <k6 run flags>]';

function fail(message) {
  process.stderr.write(`ci: ${message}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash === -1 ? argv : argv.slice(0, dash);
const runFlags = dash === -1 ? [] : argv.slice(dash + 1);
let parsed;
try {
  parsed = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      'baseline-dir': { type: 'string', default: process.env.AGENTLOAD_BASELINES_DIR ?? 'reports/baselines' },
      'reports-dir': { type: 'string', default: process.env.AGENTLOAD_REPORTS_DIR ?? 'reports' },
      annotations: { type: 'string', default: 'auto' },
      codequality: { type: 'string', default: 'gl-code-quality-report.json' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (e) {
  fail(`${e.message}\n${USAGE}`);
}
const { values: opts, positionals: scenarios } = parsed;
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (scenarios.length === 0) fail(`no scenario given: npm run ci -- scenarios/api-latency.ts scenarios/smoke.ts\n${USAGE}`);
const kind = opts.annotations === 'auto' ? detectCi(process.env) : opts.annotations;
if (!['github', 'gitlab', 'none'].includes(kind)) fail(`--annotations must be auto, github, gitlab or none, got "${opts.annotations}"`);
for (const s of scenarios) if (!fs.existsSync(s)) fail(`scenario file not found: ${s}: check the path`);

const reportsDir = path.resolve(opts['reports-dir']);
const baselineDir = path.resolve(opts['baseline-dir']);
const results = [];
const summaries = new Map();

for (const file of scenarios) {
  const name = path.basename(file).replace(/\.(ts|js|mts|mjs)$/, '');
  const baselineFile = path.join(baselineDir, `${name}.json`);
  const baseline = fs.existsSync(baselineFile) ? baselineFile : undefined;
  process.stderr.write(
    `\nci: ${name}: ${baseline === undefined ? `no baseline (${path.relative(process.cwd(), baselineFile)}), thresholds only` : `baseline ${path.relative(process.cwd(), baseline)}`}\n`,
  );
  const args = [file, '--reports-dir', reportsDir, ...(baseline === undefined ? [] : ['--baseline', baseline]), ...runFlags];
  const run = await $({
    nothrow: true,
    verbose: true,
    env: { ...process.env, AGENTLOAD_REPORTS_DIR: reportsDir },
  })`${process.execPath} ${path.join(ROOT, 'scripts/k6.mjs')} ${args}`;
  const exitCode = run.exitCode ?? 1;
  const shown = runDirFromOutput(run.stdout);
  const runDir = shown === undefined ? undefined : path.resolve(shown);
  const verdictFile = runDir === undefined ? undefined : path.join(runDir, 'verdict.json');
  const verdict = verdictFile !== undefined && fs.existsSync(verdictFile) ? JSON.parse(fs.readFileSync(verdictFile, 'utf8')) : undefined;
  const summaryFile = runDir === undefined ? undefined : path.join(runDir, 'summary.md');
  if (summaryFile !== undefined && fs.existsSync(summaryFile)) summaries.set(name, fs.readFileSync(summaryFile, 'utf8'));
  const result = {
    name,
    file,
    exitCode,
    runDir: runDir === undefined ? undefined : path.relative(process.cwd(), runDir) || runDir,
    verdict,
    baseline: baseline === undefined ? undefined : path.relative(process.cwd(), baseline),
  };
  results.push(result);
  for (const line of annotationLines(kind, result)) process.stdout.write(`${line}\n`);
}

const worst = worstExitCode(results.map((r) => r.exitCode));
const markdown = ciSummary(results, summaries, worst);
fs.mkdirSync(reportsDir, { recursive: true });
fs.writeFileSync(path.join(reportsDir, 'ci-summary.md'), markdown);
if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, markdown);
if (kind === 'gitlab') fs.writeFileSync(path.resolve(opts.codequality), `${JSON.stringify(codeQuality(results), null, 2)}\n`);
process.stdout.write(
  `\nci: ${results.map((r) => `${r.name} ${r.verdict?.verdict ?? 'no report'} (exit ${r.exitCode})`).join(', ')}: exit ${worst}\n`,
);
process.exitCode = worst;
