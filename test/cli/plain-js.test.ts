/**
 * Plain k6 JavaScript through the toolkit (`npm run k6 -- script.js`): no TypeScript error about a JavaScript
 * file, the same bundle, run folder and report as a scenario; type-checked only with --typecheck, which then
 * checks the script's JSDoc types (exit 107 before anything is sent); a synchronous k6 script runs on the embedded
 * engine's sync VU mode.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { referenceServerPerFile } from '../support/reference-server.ts';
import { cleanEnv, errorLines, makeProject, readJson, ROOT, runCli } from './helpers.ts';

const DOCS = join(ROOT, 'test/fixtures/k6-docs');
const project = makeProject();
const server = referenceServerPerFile(() => {
  project.cleanup();
});

void test('a docs-style k6 script (.js) runs through npm run k6: bundle, run folder, report; a crossed threshold gives 99 and a failing verdict', async () => {
  const env = cleanEnv(project, { BASE_URL: server.url, TARGET_URL: `${server.url}/health` });
  const r = await runCli([join(DOCS, 'checks-thresholds.js'), '--engine', 'node'], { cwd: project.dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /TS\d+|allowJs/);
  assert.match(r.stderr, /bundle .*checks-thresholds\.js \d+\.\d KB/);
  const [runDir] = project.runDirs();
  assert.ok(runDir !== undefined);
  assert.match(runDir, /checks-thresholds-\d{8}-\d{6}$/);
  for (const f of [
    'out.json.gz',
    'summary-export.json',
    'handle-summary-data.json',
    'run.json',
    'report.html',
    'junit.xml',
    'summary.md',
    'verdict.json',
  ]) {
    assert.ok(existsSync(join(runDir, f)), `${f} written`);
  }
  assert.equal((readJson(join(runDir, 'verdict.json')) as { verdict: string }).verdict, 'pass');

  const slow = await runCli([join(DOCS, 'checks-thresholds.js'), '--engine', 'node'], {
    cwd: project.dir,
    env: { ...env, TARGET_URL: `${server.url}/slow`, P95_MS: '50' },
  });
  assert.equal(slow.code, 99, slow.stderr);
  const slowDir = project.runDirs().find((d) => d !== runDir);
  assert.ok(slowDir !== undefined);
  assert.equal((readJson(join(slowDir, 'verdict.json')) as { verdict: string }).verdict, 'fail');
});

const JSDOC = `import http from 'k6/http';

/** @param {number} times */
function path(times) { return '/health?n=' + String(times * 2); }

export const options = { iterations: 1 };
export default async function () {
  await http.asyncRequest('GET', __ENV.BASE_URL + path('three'));
}
`;

void test('JavaScript is not type-checked by default; --typecheck checks its JSDoc types: file:line:col, exit 107, nothing sent', async () => {
  const script = project.write('jsdoc.js', JSDOC);
  const env = cleanEnv(project, { BASE_URL: server.url });
  const before = server.hits.get('/health') ?? 0;
  const plain = await runCli([script, '--engine', 'node', '--no-report'], { cwd: project.dir, env });
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal((server.hits.get('/health') ?? 0) - before, 1, 'unchecked, the script ran and sent its request');

  const checked = await runCli([script, '--engine', 'node', '--typecheck'], { cwd: project.dir, env });
  assert.equal(checked.code, 107, checked.stderr);
  assert.deepEqual(errorLines(checked.stderr), [
    "jsdoc.js:8:56 Argument of type 'string' is not assignable to parameter of type 'number'.",
  ]);
  assert.equal((server.hits.get('/health') ?? 0) - before, 1, 'the checked run sent nothing');
});

void test("a synchronous k6 script (http.get, group, check, sleep) runs through npm run k6 on the engine's sync VU mode: every request sent, checks passed", async () => {
  const env = cleanEnv(project, { BASE_URL: server.url });
  const before = server.hits.get('/health') ?? 0;
  const known = new Set(project.runDirs());
  const r = await runCli([join(DOCS, 'http-get.js'), '--engine', 'node', '--no-report'], { cwd: project.dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /vu mode: sync \(auto: http\.get\(\.\.\.\) not awaited at /);
  assert.equal((server.hits.get('/health') ?? 0) - before, 6, 'one request per iteration, 6 iterations');
  const runDir = project.runDirs().find((d) => !known.has(d));
  assert.ok(runDir !== undefined);
  const data = readJson(join(runDir, 'summary-export.json')) as {
    metrics: { checks: { passes: number; fails: number }; group_duration?: unknown };
  };
  assert.equal(data.metrics.checks.passes, 6);
  assert.equal(data.metrics.checks.fails, 0);
  assert.ok(data.metrics.group_duration !== undefined, 'the group was timed');
});
