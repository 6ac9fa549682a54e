/**
 * The CI gate (scripts/ci.mjs, zx) end to end on the embedded engine against a real loopback server: it
 * runs every scenario, compares each with its saved baseline, prints GitHub annotations for a crossed
 * threshold and a regression, appends the summaries to $GITHUB_STEP_SUMMARY, writes a GitLab Code Quality
 * report under GitLab, and exits with the worst code (99 over 3 over 0). The gate's pure parts
 * (src/ci/gate.ts) are tested in the last test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { annotationLines, runDirFromOutput, worstExitCode, type ScenarioResult } from '../../src/ci/gate.ts';
import { referenceServerPerFile } from '../support/reference-server.ts';
import { collect, makeProject, ROOT, type CliResult } from './helpers.ts';

const project = makeProject();
const server = referenceServerPerFile(() => {
  project.cleanup();
});

const scenario = (endpoint: string, p95: string): string => `import http from 'k6/http';
export const options = { vus: 2, iterations: 40, thresholds: { http_req_duration: ['p(95)<${p95}'] } };
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}\${__ENV.ENDPOINT ?? '${endpoint}'}\`);
}
`;
const fast = project.write('fast.ts', scenario('/health', '5000'));
const slow = project.write('slow.ts', scenario('/slow', '50'));
const baselines = join(project.dir, 'baselines');

function node(args: string[], env: Record<string, string>): Promise<CliResult> {
  return collect(
    spawn(process.execPath, args, {
      // as package.json starts it: no tsx (the scripts load pre-built)
      cwd: project.dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NO_COLOR: '1',
        BASE_URL: server.url,
        AGENTLOAD_BASELINES_DIR: baselines,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    300_000,
  );
}
const ci = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  node([join(ROOT, 'scripts/ci.mjs'), ...args, '--', '--engine', 'node'], env);

void test('GitHub: baseline saved, then a regression (3) and a crossed threshold (99): annotations, step summary, worst exit 99', async () => {
  const first = await ci([fast, '--reports-dir', 'r1', '--annotations', 'none']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const [runDir] = readdirSync(join(project.dir, 'r1')).filter((n) => n.startsWith('fast-'));
  assert.ok(runDir !== undefined);
  const saved = await node([join(ROOT, 'scripts/compare.mjs'), join(project.dir, 'r1', runDir), '--save-baseline', 'fast'], {});
  assert.equal(saved.code, 0, saved.stderr);
  assert.ok(existsSync(join(baselines, 'fast.json')));

  const summary = join(project.dir, 'step-summary.md');
  const r = await ci([fast, slow, '--reports-dir', 'r2'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, ENDPOINT: '/slow' });
  assert.equal(r.code, 99, r.stdout + r.stderr);
  const annotations = r.stdout.split('\n').filter((l) => l.startsWith('::'));
  assert.equal(annotations.filter((l) => l.startsWith('::error')).length, 2, 'one error per scenario: the regression, the threshold');
  assert.ok(
    annotations.some((l) =>
      /^::error file=.*fast\.ts,title=fast%3A regression::\d+ figures past the fail limit against the baseline [^:]+: metric \w+ \w+ \+\d+\.\d %25, /.test(
        l,
      ),
    ),
    annotations.join('\n'),
  );
  assert.ok(
    annotations.some((l) =>
      /^::error file=.*slow\.ts,title=slow%3A threshold crossed::http_req_duration p\(95\)<50 crossed: observed \d+/.test(l),
    ),
    annotations.join('\n'),
  );
  assert.match(r.stdout, /^ci: fast fail \(exit 3\), slow fail \(exit 99\): exit 99$/m);
  const md = readFileSync(summary, 'utf8');
  assert.match(md, /^# agentload CI gate: exit 99$/m);
  assert.match(md, /^\| fast \| fail \| 3 \| baselines\/fast\.json \| r2\//m);
  assert.match(md, /^\| slow \| fail \| 99 \| – \| r2\//m);
  for (const d of readdirSync(join(project.dir, 'r2')).filter((n) => !n.endsWith('.md'))) {
    assert.ok(
      md.includes(readFileSync(join(project.dir, 'r2', d, 'summary.md'), 'utf8').trim()),
      `${d}'s summary.md is in the step summary`,
    );
  }
  assert.equal(readFileSync(join(project.dir, 'r2', 'ci-summary.md'), 'utf8'), md);
});

void test('GitLab: the regression alone exits 3, with a highlighted log line and a Code Quality report', async () => {
  const r = await ci([fast, '--reports-dir', 'r3'], { GITLAB_CI: 'true', ENDPOINT: '/slow' });
  assert.equal(r.code, 3, r.stdout + r.stderr);
  // eslint-disable-next-line no-control-regex -- the ANSI colour of GitLab log lines is what is checked
  assert.match(r.stdout, /^\u001b\[31;1mERROR: fast: regression: \d+ figures past the fail limit against the baseline [^:]+: metric /m);
  const report = JSON.parse(readFileSync(join(project.dir, 'gl-code-quality-report.json'), 'utf8')) as {
    description: string;
    severity: string;
    location: { path: string };
    fingerprint: string;
  }[];
  assert.ok(report.length >= 1);
  assert.ok(report.every((i) => i.location.path === fast && /^[0-9a-f]{32}$/.test(i.fingerprint)));
  const regression = report.find((i) => i.severity === 'major');
  assert.ok(regression !== undefined, 'the regression is a major finding');
  assert.match(regression.description, /^fast: regression: \d+ figures past the fail limit/);
});

void test('bad input: no scenario, a missing file, an unknown annotations kind (exit 2, one line)', async () => {
  const none = await node([join(ROOT, 'scripts/ci.mjs')], {});
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^ci: no scenario given: npm run ci -- scenarios\/api-latency\.ts/);
  const missing = await node([join(ROOT, 'scripts/ci.mjs'), 'nope.ts'], {});
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim(), 'ci: scenario file not found: nope.ts: check the path');
  const kind = await node([join(ROOT, 'scripts/ci.mjs'), fast, '--annotations', 'jenkins'], {});
  assert.equal(kind.code, 2);
  assert.equal(kind.stderr.trim(), 'ci: --annotations must be auto, github, gitlab or none, got "jenkins"');
});

void test('gate rules: worst code, the run folder from the results line, annotation escaping', () => {
  assert.equal(worstExitCode([]), 0);
  assert.equal(worstExitCode([0, 3, 0]), 3);
  assert.equal(worstExitCode([3, 4]), 4);
  assert.equal(worstExitCode([4, 99, 3]), 99);
  // 6 (inconclusive against the baseline) is not a pass, and below every failure.
  assert.equal(worstExitCode([0, 6, 0]), 6);
  assert.equal(worstExitCode([6, 3, 6]), 3);
  assert.equal(worstExitCode([99, 6]), 99);
  assert.equal(worstExitCode([99, 107]), 107);
  assert.equal(worstExitCode([105, 2]), 105);
  assert.equal(
    runDirFromOutput(
      'x\nresults: verdict pass, exit code 0: reports/api-20260101-000000/ (open reports/api-20260101-000000/report.html)\n',
    ),
    'reports/api-20260101-000000',
  );
  assert.equal(runDirFromOutput('results: exit code 107: /tmp/r/x-1/\n'), '/tmp/r/x-1');
  const r: ScenarioResult = {
    name: 'api',
    file: 'scenarios/a,b.ts',
    exitCode: 99,
    runDir: 'r',
    baseline: undefined,
    verdict: {
      verdict: 'fail',
      exitCode: 99,
      reasons: [],
      comparison: null,
      thresholds: [{ metric: 'http_req_duration{name:x}', expression: 'p(95)<100', ok: false, observed: 123.4567 }],
    },
  };
  assert.deepEqual(annotationLines('github', r), [
    '::error file=scenarios/a%2Cb.ts,title=api%3A threshold crossed::http_req_duration{name:x} p(95)<100 crossed: observed 123.457',
  ]);
  assert.deepEqual(annotationLines('none', r), [
    'ERROR: api: threshold crossed: http_req_duration{name:x} p(95)<100 crossed: observed 123.457',
  ]);
  assert.deepEqual(annotationLines('github', { ...r, exitCode: 107, verdict: undefined }), [
    '::error file=scenarios/a%2Cb.ts,title=api%3A run failed::the run ended with exit code 107 and left no report (see the log above)',
  ]);
});
