/**
 * The dependency rules of docs/architecture.md, checked by `npm run check` (dependency-cruiser).
 * The folder says where code runs and what it may touch; a rule here is a sentence of that document.
 */

/** Code bundled into k6 scripts: no Node API, no Node-side module. */
const IN_SCRIPT = '^(scenarios|lib|objectives|shared)/|^engine/output/(text-summary|summary-types)[.]ts$';
/** Node-free modules both sides share: the engine's k6 formats, threshold grammar and verdict, the shared folder. */
const SHARED_WITH_REPORT = [
  '^shared/',
  '^engine/contracts[.]ts$',
  '^engine/metrics/submetric[.]ts$',
  '^engine/thresholds/(expression|judge)[.]ts$',
  '^engine/output/summary-types[.]ts$',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'in-script-no-node-builtin',
      severity: 'error',
      comment: 'Code that runs inside a load script (scenarios/, lib/, objectives/, the bundled text summary) uses no Node API.',
      from: { path: IN_SCRIPT },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'in-script-no-node-side-module',
      severity: 'error',
      comment: 'Code that runs inside a load script imports no Node-side module (engine/, src/, target/, scripts/, bench/, bin/, test/).',
      from: { path: IN_SCRIPT },
      to: { path: '^(engine|src|target|scripts|bench|bin|test)/', pathNot: IN_SCRIPT },
    },
    {
      name: 'engine-not-to-src-or-target',
      severity: 'error',
      comment: 'engine/ is the embedded k6: it imports nothing from the toolkit (src/) or the platform under test (target/).',
      from: { path: '^engine/' },
      to: { path: '^(src|target)/' },
    },
    {
      name: 'target-not-to-engine-or-src',
      severity: 'error',
      comment: 'target/ is the system under test: it imports nothing from engine/ or src/.',
      from: { path: '^target/' },
      to: { path: '^(engine|src)/' },
    },
    {
      name: 'report-reads-k6-formats-only',
      severity: 'error',
      comment: 'src/reporting reads k6 file formats through the shared Node-free types only, so it works the same for the real k6 binary.',
      from: { path: '^src/reporting/' },
      to: { path: '^(engine|src|target|lib|thresholds)/', pathNot: ['^src/reporting/', ...SHARED_WITH_REPORT] },
    },
    {
      name: 'lower-src-not-to-cli',
      severity: 'error',
      comment: 'src/cli is the top layer: nothing below it in src/ imports it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Dependencies between folders point one way.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
