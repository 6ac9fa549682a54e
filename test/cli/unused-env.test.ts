/**
 * Set-but-unread variables (src/run/unused-env.ts): the bundle's handleSummary writes the names the scenario read
 * through lib/config.ts, and the run command names each variable the user set that the scenario never read, with
 * the close match for a typo; the rest of the shell (PATH, HOME, …) is never named.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closeMatch, editDistance, unusedVariables, unusedWarnings } from '../../src/run/unused-env.ts';
import { cleanEnv, countingServer, makeProject, ROOT, runCli, type CountingServer } from './helpers.ts';

const project = makeProject();
let server: CountingServer;
before(async () => {
  server = await countingServer();
});
after(async () => {
  project.cleanup();
  await server.close();
});

void test('editDistance counts one typo as 1 (missing, extra, wrong or swapped letter); closeMatch allows 1 for short names, 2 for long', () => {
  assert.equal(editDistance('DURATON', 'DURATION'), 1);
  assert.equal(editDistance('DURATOIN', 'DURATION'), 1);
  assert.equal(editDistance('RATE', 'RATE'), 0);
  assert.equal(editDistance('PATH', 'RATE'), 2);
  assert.equal(closeMatch('DURATON', ['RATE', 'DURATION']), 'DURATION');
  assert.equal(closeMatch('STEP_DURATOIN', ['STEP_DURATION', 'DURATION']), 'STEP_DURATION');
  assert.equal(closeMatch('PATH', ['RATE', 'DURATION']), undefined, 'PATH is not a typo of RATE');
  assert.equal(closeMatch('VU', ['VUS']), undefined, 'too short to judge');
});

void test('which set variables are named: every -e flag; from the environment only size variables and near-misses; never toolkit names', () => {
  const view = {
    values: {},
    sources: {
      DURATON: '-e flag',
      MY_FLAG: '-e flag',
      RATE: 'environment',
      VUS: '.env',
      PATH: 'environment',
      HOME: 'environment',
      LEVEL: 'environment',
      AGENTLOAD_REPORTS_DIR: 'environment',
      K6_NO_USAGE_REPORT: '-e flag',
      FAULT_LATENCY_MS: 'environment',
      TARGET_DATABASE_URL: 'environment',
      BASE_URL: 'environment',
    },
  } as const;
  const read = ['BASE_URL', 'DURATION', 'LEVELS', 'PROFILE', 'SIZE', 'STEP_DURATION', 'WS_URL'];
  const unused = unusedVariables({ read, view, setByToolkit: [] });
  assert.deepEqual(unused, [
    { name: 'DURATON', source: '-e flag', match: 'DURATION' },
    { name: 'LEVEL', source: 'environment', match: 'LEVELS' },
    { name: 'MY_FLAG', source: '-e flag' },
    { name: 'RATE', source: 'environment' },
    { name: 'VUS', source: '.env' },
  ]);
  assert.deepEqual(unusedWarnings(unused, read, 'scenarios/jobs.ts'), [
    'warning: DURATON (-e flag) is set but scenarios/jobs.ts never reads it: did you mean DURATION?',
    'warning: LEVEL (environment) is set but scenarios/jobs.ts never reads it: did you mean LEVELS?',
    "warning: MY_FLAG (-e flag) is set but scenarios/jobs.ts never reads it: check the name against the scenario's header",
    'warning: RATE (environment) is set but scenarios/jobs.ts never reads it: its size variables are DURATION, LEVELS, STEP_DURATION (docs/scenarios.md#size-overrides)',
    'warning: VUS (.env) is set but scenarios/jobs.ts never reads it: its size variables are DURATION, LEVELS, STEP_DURATION (docs/scenarios.md#size-overrides)',
  ]);
});

void test('end to end on the embedded engine: a typo in -e, and a size variable the scenario does not read, each get one warning line', async () => {
  // A scenario reading DURATION and RATE through lib/config, as the toolkit's scenarios do.
  const config = JSON.stringify(join(ROOT, 'lib/config.ts'));
  project.write(
    'sized.ts',
    `import http from 'k6/http';
import { duration, int, target } from ${config};
const { baseUrl } = target(__ENV);
const DURATION = duration(__ENV, 'DURATION', '1s');
const RATE = int(__ENV, 'RATE', 2, { min: 1 });
export const options = {
  scenarios: { s: { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: DURATION, preAllocatedVUs: 1 } },
};
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${baseUrl}/health\`);
}
`,
  );
  const r = await runCli(['sized.ts', '--engine', 'node', '--no-report', '-e', 'DURATON=2s', '-e', 'DURATION=1s'], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: server.url, RATE: '3', VUS: '4', LANG: 'C.UTF-8' }),
  });
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.includes('warning:'));
  assert.deepEqual(warnings, [
    'agentload: warning: DURATON (-e flag) is set but sized.ts never reads it: did you mean DURATION?',
    'agentload: warning: VUS (environment) is set but sized.ts never reads it: its size variables are DURATION, RATE (docs/scenarios.md#size-overrides)',
  ]);
  const runDir = project.runDirs().at(-1) ?? '';
  const read = JSON.parse(readFileSync(join(runDir, 'env-read.json'), 'utf8')) as string[];
  assert.deepEqual(read, ['BASE_URL', 'DURATION', 'RATE', 'WS_URL'], 'handleSummary wrote what the scenario read');
});

void test('a run whose variables are all read prints no warning', async () => {
  const r = await runCli([join(ROOT, 'scenarios/smoke.ts'), '--engine', 'node', '--no-report', '-e', 'WS_URL=ws://127.0.0.1:9'], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: server.url }),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning:/);
});

void test('a run that stops at its options check (before handleSummary) still names a variable set but never read', async () => {
  const config = JSON.stringify(join(ROOT, 'lib/config.ts'));
  project.write(
    'named.ts',
    `import http from 'k6/http';
import { duration, target } from ${config};
const { baseUrl } = target(__ENV);
export const options = {
  scenarios: { s: { executor: 'constant-vus', vus: 1, duration: duration(__ENV, 'DURATION', '1s'), exec: 's' } },
};
export async function s(): Promise<void> {
  await http.asyncRequest('GET', \`\${baseUrl}/health\`);
}
`,
  );
  // --iterations replaces the named scenarios with one running the default export, which this script lacks: 104.
  const sent = server.requests();
  const r = await runCli(['named.ts', '--engine', 'node', '--no-report', '--iterations', '2', '-e', 'DURATON=2s'], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: server.url }),
  });
  assert.equal(r.code, 104, r.stderr);
  assert.match(r.stderr, /function 'default' not found in exports: .*replace the script's own scenarios \(s\)/);
  assert.match(r.stderr, /^agentload: warning: DURATON \(-e flag\) is set but named\.ts never reads it: did you mean DURATION\?$/m);
  assert.equal(server.requests(), sent, 'nothing was sent');
});
