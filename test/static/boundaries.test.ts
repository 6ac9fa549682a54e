/**
 * The dependency rules of docs/architecture.md, as `npm run boundaries` (dependency-cruiser with
 * .dependency-cruiser.cjs) checks them: the repository passes, and a fixture tree with one deliberate
 * violation per rule fails, each violation reported by the rule that states it, and a tree of the allowed
 * edges alone has no violation (file rules and folder rules: a folder rule's violation names the folder).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
/** The folders `npm run boundaries` cruises (package.json). */
const FOLDERS = ['engine', 'shared', 'src', 'target', 'lib', 'scenarios', 'objectives', 'scripts', 'bin', 'bench'];

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

/** Every violation, from dependency-cruiser's JSON report (of those folders that exist). */
function violations(cwd: string, folders: readonly string[]): readonly Violation[] {
  const present = folders.filter((f) => existsSync(join(cwd, f)));
  const r = spawnSync(process.execPath, [DEPCRUISE, ...present, '--config', CONFIG, '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.ok(r.stdout.startsWith('{'), `depcruise printed JSON (stderr: ${r.stderr})`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** The check as `npm run boundaries` runs it (its exit code is the number of errors). */
function check(cwd: string, folders: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, ...folders, '--config', CONFIG], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** One deliberate violation per rule: the file that breaks it, its import, and the rule expected to report it. */
const CASES: readonly { readonly name: string; readonly file: string; readonly imports: string; readonly rule: string }[] = [
  { name: 'a lib/ helper importing a Node builtin', file: 'lib/uses-fs.ts', imports: 'node:fs', rule: 'in-script-no-node-builtin' },
  {
    name: 'the bundled text summary importing a Node builtin',
    file: 'engine/output/text-summary.ts',
    imports: 'node:path',
    rule: 'in-script-no-node-builtin',
  },
  {
    name: 'a scenario importing the engine',
    file: 'scenarios/uses-engine.ts',
    imports: '../engine/runtime/vu.ts',
    rule: 'in-script-no-node-side-module',
  },
  {
    name: 'a threshold profile importing the toolkit',
    file: 'objectives/uses-src.ts',
    imports: '../src/run/env.ts',
    rule: 'in-script-no-node-side-module',
  },
  {
    name: 'the engine importing the toolkit',
    file: 'engine/runtime/uses-src.ts',
    imports: '../../src/run/env.ts',
    rule: 'engine-not-to-src-or-target',
  },
  {
    name: 'the engine importing the platform',
    file: 'engine/modules/uses-target.ts',
    imports: '../../target/errors.ts',
    rule: 'engine-not-to-src-or-target',
  },
  {
    name: 'the platform importing the engine',
    file: 'target/uses-engine.ts',
    imports: '../engine/contracts.ts',
    rule: 'target-not-to-engine-or-src',
  },
  {
    name: 'the platform importing the toolkit',
    file: 'target/uses-src.ts',
    imports: '../src/run/env.ts',
    rule: 'target-not-to-engine-or-src',
  },
  {
    name: 'the report importing the engine runtime',
    file: 'src/reporting/uses-runtime.ts',
    imports: '../../engine/runtime/vu.ts',
    rule: 'report-reads-k6-formats-only',
  },
  {
    name: 'the report importing the run command',
    file: 'src/reporting/uses-run.ts',
    imports: '../run/env.ts',
    rule: 'report-reads-k6-formats-only',
  },
  {
    name: 'a lower toolkit part importing src/cli',
    file: 'src/run/uses-cli.ts',
    imports: '../cli/errors.ts',
    rule: 'lower-src-not-to-cli',
  },
  {
    name: 'a folder cycle engine/execution ⇄ engine/executors',
    file: 'engine/executors/uses-execution.ts',
    imports: '../execution/execution-plan.ts',
    rule: 'no-folder-cycles',
  },
  {
    name: 'a folder cycle engine/runtime ⇄ engine/sync (the VU runtime starting sync VU threads)',
    file: 'engine/runtime/uses-sync.ts',
    imports: '../sync/thread-vu.ts',
    rule: 'no-folder-cycles',
  },
  {
    name: 'a folder cycle through engine/runtime (runtime → modules → runtime)',
    file: 'engine/modules/uses-runtime.ts',
    imports: '../runtime/vu.ts',
    rule: 'no-folder-cycles',
  },
];

/** Edges the rules allow: the report reading the shared k6 types; the test run starting sync VU threads that run the runtime's Vu. */
const ALLOWED: readonly { readonly file: string; readonly imports: string }[] = [
  { file: 'src/reporting/reads-contracts.ts', imports: '../../engine/contracts.ts' },
  { file: 'src/reporting/reads-judge.ts', imports: '../../engine/thresholds/judge.ts' },
  { file: 'src/reporting/reads-shared.ts', imports: '../../shared/exit-codes.ts' },
  { file: 'engine/execution/execution-plan.ts', imports: '../executors/index.ts' },
  { file: 'engine/test-run/instance.ts', imports: '../sync/thread-vu.ts' },
  { file: 'engine/test-run/run.ts', imports: '../runtime/vu.ts' },
  { file: 'engine/runtime/vu.ts', imports: '../modules/index.ts' },
  { file: 'engine/sync/thread-vu.ts', imports: '../runtime/vu.ts' },
  { file: 'lib/uses-shared.ts', imports: '../shared/errors.ts' },
  { file: 'src/cli/run.ts', imports: '../run/env.ts' },
];

const trees: string[] = [];
after(() => {
  for (const t of trees) rmSync(t, { recursive: true, force: true });
});

/** A fixture tree holding these import edges (and the files they import), type-checked as the repository is. */
function tree(edges: readonly { readonly file: string; readonly imports: string }[]): string {
  const root = mkdtempSync(join(tmpdir(), 'agentload-boundaries-'));
  trees.push(root);
  const write = (rel: string, text: string): void => {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  };
  const sources = new Map<string, string[]>();
  for (const { file, imports } of edges) {
    sources.set(file, [...(sources.get(file) ?? []), `export * from '${imports}';`]);
    if (!imports.startsWith('node:')) {
      const target = join(dirname(file), imports);
      if (!sources.has(target)) sources.set(target, []);
    }
  }
  for (const [file, lines] of sources) write(file, `${lines.join('\n')}\nexport const here = ${JSON.stringify(file)};\n`);
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true },
    }),
  );
  return root;
}

/**
 * The violations that concern a file: those from the file itself and those of folder rules (cycles), which
 * name a folder that holds it (`engine/sync`, or `engine` for a cycle between top folders).
 */
function reportedFor(vs: readonly Violation[], file: string): readonly Violation[] {
  return vs.filter((v) => v.from === file || file.startsWith(`${v.from}/`));
}

const FIXTURE_FOLDERS = ['engine', 'shared', 'src', 'target', 'lib', 'scenarios', 'objectives'];
const fixture = tree([...CASES, ...ALLOWED]);
const onFixture = { violations: violations(fixture, FIXTURE_FOLDERS) };
/** The allowed edges alone: a tree without violations, so a folder rule broken by an allowed edge shows as such. */
const onAllowed = { violations: violations(tree(ALLOWED), FIXTURE_FOLDERS) };

void test('the repository keeps every dependency rule (npm run boundaries passes)', () => {
  assert.deepEqual(
    violations(ROOT, FOLDERS).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`),
    [],
  );
  const r = check(ROOT, FOLDERS);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /no dependency violations found/);
});

void test('the check fails (non-zero exit) on a tree with violations', () => {
  const r = check(fixture, FIXTURE_FOLDERS);
  assert.notEqual(r.status, 0, r.output);
  assert.match(r.output, /x \d+ dependency violations \(\d+ errors/);
  assert.ok(
    onFixture.violations.length >= CASES.length,
    `${String(onFixture.violations.length)} violations for ${String(CASES.length)} cases`,
  );
});

for (const c of CASES) {
  void test(`a violation is reported by its rule: ${c.name} (${c.rule})`, () => {
    const found = onFixture.violations.filter((v) => v.rule.name === c.rule && (v.from === c.file || v.from === dirname(c.file)));
    assert.ok(
      found.length > 0,
      `${c.rule} reports ${c.file} → ${c.imports}; reported: ${JSON.stringify(onFixture.violations.map((v) => [v.rule.name, v.from, v.to]))}`,
    );
  });
}

void test('allowed edges are not reported: the report on shared k6 types, engine/test-run → sync → runtime, lib on shared/', () => {
  for (const { file } of ALLOWED)
    assert.deepEqual(
      reportedFor(onAllowed.violations, file).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`),
      [],
      file,
    );
  assert.deepEqual(
    onAllowed.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`),
    [],
  );
});

void test('the allowed-edges check catches a folder rule: one edge runtime → sync makes the allowed sync → runtime edge a reported cycle', () => {
  const broken = violations(
    tree([...ALLOWED, { file: 'engine/runtime/starts-sync.ts', imports: '../sync/thread-vu.ts' }]),
    FIXTURE_FOLDERS,
  );
  assert.deepEqual(
    reportedFor(broken, 'engine/sync/thread-vu.ts').map((v) => `${v.rule.name}: ${v.from} → ${v.to}`),
    ['no-folder-cycles: engine/sync → engine/runtime'],
  );
});
