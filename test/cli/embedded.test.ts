/**
 * End to end on the embedded engine against the bundled platform (no k6 anywhere on PATH), and the
 * embedded engine's refusal of a flag it does not support (104, before anything runs).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as engine from '../../engine/index.ts';
import * as report from '../../src/reporting/index.ts';
import type { EngineModule, ReportModule } from '../../src/run/adapters.ts';
import { cleanEnv, collect, countingServer, errorLines, makeProject, readJson, runCli, scenarioSource, spawnCli } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

void test('the real engine and report modules satisfy the run command adapters (the platform and the Slack sink run as processes of their own)', () => {
  // Compile-time checks: this file does not type-check if a module drifts from what the run command calls.
  const modules: [EngineModule, ReportModule] = [engine, report];
  assert.equal(typeof modules[0].runEngine, 'function');
  assert.ok(
    modules[0].SUPPORTED_RUN_FLAGS.some((f) => f.name === 'out'),
    'the engine takes --out',
  );
  assert.ok(
    modules[0].SUPPORTED_RUN_FLAGS.some((f) => f.name === 'summary-export'),
    'the engine takes --summary-export',
  );
});

void test('end to end: bundled platform, embedded engine, outputs, run.json and the report; results printed last', async () => {
  const scenario = project.write('e2e.ts', scenarioSource());
  const r = await runCli([scenario, '--iterations', '3', '--verbose'], { cwd: project.dir, env: cleanEnv(project) });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  // --verbose: each start-up phase's time, in order, up to the scenarios' start.
  const phases = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('agentload: [phase] '))
    .map((l) => l.replace(/: \d+ ms.*$| at \d+ ms$/, ''));
  assert.deepEqual(phases, [
    'agentload: [phase] node and the run command loaded',
    'agentload: [phase] arguments, environment and target hosts checked',
    'agentload: [phase] type check and engine load, side by side',
    'agentload: [phase] scenario bundled',
    'agentload: [phase] options and thresholds checked',
    'agentload: [phase] bundled platform started',
    'agentload: [phase] engine: script loaded and compiled',
    'agentload: [phase] engine: init code run (VU 0: options)',
    'agentload: [phase] engine: ready to start (setup() starts)',
    'agentload: [phase] engine: setup() done',
    'agentload: [phase] engine: 1 VUs initialised',
    'agentload: [phase] engine: scenarios started',
  ]);
  assert.match(
    r.stderr,
    /\[phase\] type check and engine load, side by side: \d+ ms \(type check (cached \(the scenario and its imports are unchanged\)|run in a child process), done at \+\d+ ms; engine chosen and loaded at \+\d+ ms\), at \d+ ms\n/,
  );
  assert.match(r.stderr, /agentload: engine embedded \(/);
  assert.match(r.stderr, /agentload: target bundled platform at http:\/\/127\.0\.0\.1:\d+/);
  const runDir = project.runDirs().find((d) => d.includes('e2e-'));
  assert.ok(runDir !== undefined);
  for (const f of ['out.json.gz', 'summary-export.json', 'handle-summary-data.json', 'run.json', 'report.html']) {
    assert.ok(existsSync(join(runDir, f)), `${f} written`);
  }
  const manifest = readJson(join(runDir, 'run.json')) as {
    engine: { kind: string };
    target: { kind: string; url: string };
    exitCode: number;
    report: { verdict: string };
  };
  assert.equal(manifest.engine.kind, 'embedded');
  assert.equal(manifest.target.kind, 'bundled');
  assert.equal(manifest.exitCode, 0);
  assert.equal(manifest.report.verdict, 'pass');
  const summary = readJson(join(runDir, 'summary-export.json')) as { metrics: Record<string, { count?: number }> };
  assert.equal(summary.metrics.http_reqs?.count, 3, 'three requests reached the platform');
  const lastLine = r.stdout.trim().split('\n').at(-1) ?? '';
  assert.match(lastLine, /^results: verdict pass, exit code 0: .*reports\/e2e-\d{8}-\d{6}\//);
});

void test('AGENTLOAD_PREBUILT=0: the same run from the TypeScript sources through tsx (command, type check, engine, platform, report), registered on demand', async () => {
  const scenario = project.write('from-sources.ts', scenarioSource());
  const r = await runCli([scenario, '--iterations', '2'], { cwd: project.dir, env: cleanEnv(project, { AGENTLOAD_PREBUILT: '0' }) });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(
    r.stderr,
    /ERR_UNKNOWN_FILE_EXTENSION|through tsx \(slower start\)/,
    'tsx is asked for, not a fallback to warn about',
  );
  const runDir = project.runDirs().find((d) => d.includes('from-sources-'));
  assert.ok(runDir !== undefined);
  const summary = readJson(join(runDir, 'summary-export.json')) as { metrics: Record<string, { count?: number }> };
  assert.equal(summary.metrics.http_reqs?.count, 2, 'two requests reached the platform');
  assert.equal((readJson(join(runDir, 'run.json')) as { report: { verdict: string } }).report.verdict, 'pass');
});

void test('a flag the embedded engine does not support: exit 104, the flag named, nothing run', async () => {
  const scenario = project.write('unsupported.ts', scenarioSource());
  const r = await runCli([scenario, '--engine', 'node', '--vus', '1', '--http-debug'], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: 'http://127.0.0.1:9' }),
  });
  assert.equal(r.code, 104);
  assert.doesNotMatch(r.stderr, /\[phase\]/, 'phase times only with --verbose');
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0] ?? '',
    /^agentload: flag --http-debug is not supported by the embedded engine \(supported: --vus, --duration, .*\): run with a k6 binary/,
  );
  const dirs = project.runDirs().filter((d) => d.includes('unsupported-'));
  assert.equal(dirs.length, 1, 'a run folder for the failed run');
  assert.deepEqual(readdirSync(dirs[0] ?? '').sort(), ['junit.xml', 'run.json'], 'nothing ran: no bundle, no outputs');
  assert.match(
    readFileSync(join(dirs[0] ?? '', 'junit.xml'), 'utf8'),
    /failures="1"[\s\S]*<failure message="exit code 104: flag --http-debug is not supported/,
  );
});

void test('Ctrl+C on the embedded engine: graceful stop, exit 105, outputs, run.json and a report marked interrupted', async () => {
  const scenario = project.write(
    'longrun.ts',
    "import http from 'k6/http';\nimport { sleep } from 'k6';\nexport const options = { vus: 1, duration: '60s' };\nexport default async function (): Promise<void> {\n  await http.asyncRequest('GET', `${__ENV.BASE_URL ?? ''}/health`);\n  await sleep(0.2);\n}\n",
  );
  const child = spawnCli([scenario], { cwd: project.dir, env: cleanEnv(project) });
  const done = collect(child);
  const deadline = Date.now() + 90_000;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  while (
    !/target bundled platform/.test(stderr) ||
    !project.runDirs().some((d) => d.includes('longrun-') && existsSync(join(d, 'out.json.gz')))
  ) {
    if (Date.now() > deadline) throw new Error(`the run never started:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 105, r.stderr);
  assert.match(r.stdout, /results: .*exit code 105 \(interrupted\)/);
  const runDir = project.runDirs().find((d) => d.includes('longrun-'));
  assert.ok(runDir !== undefined);
  const manifest = readJson(join(runDir, 'run.json')) as { interrupted: boolean; exitCode: number; report: { files: string[] } };
  assert.equal(manifest.interrupted, true);
  assert.equal(manifest.exitCode, 105);
  assert.ok(manifest.report.files.includes('report.html'));
  assert.ok(existsSync(join(runDir, 'summary-export.json')));
});

void test("--summary-mode: k6 v1's compact summary by default (thresholds with the values judged), full with every metric, legacy as before v1; SIZE and PROFILE recorded for the report's header", async () => {
  const server = await countingServer();
  try {
    const scenario = project.write(
      'modes.ts',
      `import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: 1, iterations: 3, thresholds: { http_req_duration: ['p(95)<5000'], http_req_failed: ['rate<0.5'] } };
export default async function (): Promise<void> {
  const res = await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}/health\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
`,
    );
    const env = cleanEnv(project, { BASE_URL: server.url });
    const compact = await runCli([scenario, '--engine', 'node', '-e', 'SIZE=full', '-e', 'PROFILE=production'], { cwd: project.dir, env });
    assert.equal(compact.code, 0, `${compact.stdout}\n${compact.stderr}`);
    assert.match(compact.stdout, /█ THRESHOLDS/);
    assert.match(compact.stdout, /✓ 'p\(95\)<5000' p\(95\)=[\d.]+(µs|ms|s)/);
    assert.match(compact.stdout, /✓ 'rate<0\.5' rate=0\.00%/);
    assert.match(compact.stdout, /checks_succeeded\.+: 100\.00% 3 out of 3/);
    assert.match(compact.stdout, /HTTP\n/);
    assert.doesNotMatch(compact.stdout, /http_req_blocked/, 'compact leaves out the HTTP sub-timings');
    const runDir =
      project
        .runDirs()
        .filter((d) => d.includes('modes-'))
        .sort()
        .at(-1) ?? '';
    const manifest = readJson(join(runDir, 'run.json')) as { settings: Record<string, string> };
    assert.deepEqual(manifest.settings, { SIZE: 'full', PROFILE: 'production' });
    const full = await runCli([scenario, '--engine', 'node', '--summary-mode', 'full', '--no-report'], { cwd: project.dir, env });
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /█ TOTAL RESULTS[\s\S]*http_req_blocked/);
    const legacy = await runCli([scenario, '--engine', 'node', '--summary-mode', 'legacy', '--no-report'], { cwd: project.dir, env });
    assert.equal(legacy.code, 0, legacy.stderr);
    assert.doesNotMatch(legacy.stdout, /█ THRESHOLDS/);
    assert.match(legacy.stdout, /✓ http_req_duration\.+: avg=/);
    const bad = await runCli([scenario, '--summary-mode', 'short'], { cwd: project.dir, env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--summary-mode/);
  } finally {
    await server.close();
  }
});

void test("--summary-mode full: a section per group and per named scenario with their own checks and metrics, as k6 v1 prints; a threshold on a statistic outside summaryTrendStats shows its value while handleSummary's data keeps k6's shape", async () => {
  const server = await countingServer();
  try {
    const scenario = project.write(
      'breakdown.ts',
      `import http from 'k6/http';
import { check, group } from 'k6';
export const options = {
  scenarios: {
    browse: { executor: 'shared-iterations', vus: 1, iterations: 2, exec: 'browse' },
    poll: { executor: 'shared-iterations', vus: 1, iterations: 3, exec: 'poll' },
  },
  thresholds: { http_req_duration: ['p(99.9)<5000'] },
};
// k6-style (group() takes no async function): this also runs handleSummary on a sync-mode VU thread.
export function browse(): void {
  group('catalogue', () => {
    const res = http.get(\`\${__ENV.BASE_URL ?? ''}/health\`);
    check(res, { 'catalogue answers': (r) => r.status === 200 });
  });
}
export function poll(): void {
  const res = http.get(\`\${__ENV.BASE_URL ?? ''}/health\`);
  check(res, { 'poll answers': (r) => r.status === 200 });
}
`,
    );
    const env = cleanEnv(project, { BASE_URL: server.url });
    const full = await runCli([scenario, '--engine', 'node', '--summary-mode', 'full'], { cwd: project.dir, env });
    assert.equal(full.code, 0, `${full.stdout}\n${full.stderr}`);
    const out = full.stdout;
    assert.match(
      out,
      /✓ 'p\(99\.9\)<5000' p\(99\.9\)=[\d.]+(µs|ms|s)/,
      'the judged value, though p(99.9) is not a summaryTrendStats column',
    );
    // Totals list every check flat; each named scenario has its own section with its own counts.
    assert.match(out, /█ TOTAL RESULTS[\s\S]*checks_total\.+: 5 /);
    const browse = /█ SCENARIO: browse \n([\s\S]*?)(?=█ SCENARIO|$)/.exec(out)?.[1] ?? '';
    const poll = /█ SCENARIO: poll \n([\s\S]*?)(?=█ SCENARIO|$)/.exec(out)?.[1] ?? '';
    assert.match(browse, /checks_total\.+: 2 /, browse);
    assert.match(browse, /iterations\.+: 2 /);
    assert.match(browse, /http_reqs\.+: 2 /);
    assert.doesNotMatch(browse, /poll answers/);
    assert.match(
      browse,
      /\n {4}↳ GROUP: catalogue \n[\s\S]*\n {6}checks_total\.+: 2 [\s\S]*✓ catalogue answers[\s\S]*\n {6}http_reqs\.+: 2 /,
    );
    assert.match(poll, /checks_total\.+: 3 /, poll);
    assert.match(poll, /http_reqs\.+: 3 /);
    assert.doesNotMatch(poll, /GROUP|catalogue/);
    assert.doesNotMatch(out, /group_duration/, 'k6 v1 leaves group_duration out of its summary');
    // The k6-shaped data written for the report is unchanged: no p(99.9) column, no report keys.
    const runDir =
      project
        .runDirs()
        .filter((d) => d.includes('breakdown-'))
        .sort()
        .at(-1) ?? '';
    const data = readJson(join(runDir, 'handle-summary-data.json')) as Record<string, unknown> & {
      metrics: Record<string, { values: Record<string, number> }>;
    };
    assert.deepEqual(Object.keys(data).sort(), ['metrics', 'options', 'root_group', 'state']);
    assert.deepEqual(Object.keys(data.metrics.http_req_duration?.values ?? {}).sort(), ['avg', 'max', 'med', 'min', 'p(90)', 'p(95)']);
    // On two worker threads the sections come from the workers' snapshots, merged on the main thread.
    const threaded = await runCli([scenario, '--engine', 'node', '--summary-mode', 'full', '--workers', '2', '--no-report'], {
      cwd: project.dir,
      env,
    });
    assert.equal(threaded.code, 0, threaded.stderr);
    const threadedBrowse = /█ SCENARIO: browse \n([\s\S]*?)(?=█ SCENARIO|$)/.exec(threaded.stdout)?.[1] ?? '';
    assert.match(threadedBrowse, /http_reqs\.+: 2 /, threaded.stdout);
    assert.match(threadedBrowse, /↳ GROUP: catalogue/);
    assert.match(/█ SCENARIO: poll \n([\s\S]*?)(?=█ SCENARIO|$)/.exec(threaded.stdout)?.[1] ?? '', /http_reqs\.+: 3 /);
    // Compact mode shows no per-scenario sections.
    const compact = await runCli([scenario, '--engine', 'node', '--no-report'], { cwd: project.dir, env });
    assert.equal(compact.code, 0, compact.stderr);
    assert.match(compact.stdout, /p\(99\.9\)=[\d.]+/);
    assert.doesNotMatch(compact.stdout, /SCENARIO:|GROUP:/);
  } finally {
    await server.close();
  }
});
