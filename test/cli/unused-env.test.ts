/**
 * Set-but-unread variables (src/run/unused-env.ts): the bundle's handleSummary writes the names the scenario read
 * through lib/config.ts, and the run command names each variable the user set that the scenario never read, with
 * the close match for a typo; the rest of the shell (PATH, HOME, …) is never named.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { closeMatch, editDistance, unusedVariables, unusedWarnings } from '../../src/run/unused-env.ts';
import { makeFakeK6, type FakeK6 } from '../support/fake-k6.ts';
import { cleanEnv, countingServer, makeProject, ROOT, runCli, scenarioSource, type CountingServer } from './helpers.ts';

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

/** A scenario reading DURATION through lib/config (as the toolkit's do), then `extraInit` in its init code. */
function sizedScenario(extraInit = ''): string {
  const config = JSON.stringify(join(ROOT, 'lib/config.ts'));
  return `import http from 'k6/http';
import { duration, required, target } from ${config};
const { baseUrl } = target(__ENV);
const DURATION = duration(__ENV, 'DURATION', '1s');
${extraInit}
export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: DURATION } } };
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${baseUrl}/health\`);
}
// keeps required imported when extraInit does not use it
export const _required = required;
`;
}

const TYPO = /^agentload: warning: DURATON \(-e flag\) is set but \S+ never reads it: did you mean DURATION\?$/m;

void test('a run whose init code throws (107) names what it read until then: a missing required variable next to its typo', async () => {
  project.write('init-throws.ts', sizedScenario("const TOKEN = required(__ENV, 'AGENT_TOKEN', 'set AGENT_TOKEN');\nvoid TOKEN;"));
  const sent = server.requests();
  const r = await runCli(['init-throws.ts', '--engine', 'node', '--no-report', '-e', 'AGENT_TOKNE=t', '-e', 'DURATON=2s'], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: server.url }),
  });
  assert.equal(r.code, 107, r.stderr);
  assert.match(r.stderr, /AGENT_TOKEN is not set/);
  assert.match(
    r.stderr,
    /^agentload: warning: AGENT_TOKNE \(-e flag\) is set but init-throws\.ts never reads it: did you mean AGENT_TOKEN\?$/m,
  );
  assert.match(r.stderr, TYPO);
  assert.equal(server.requests(), sent, 'nothing was sent');
});

void test('init code that throws before it reads a variable: that variable is not called unused (only what was read until then is known)', async () => {
  const config = JSON.stringify(join(ROOT, 'lib/config.ts'));
  project.write(
    'throws-early.ts',
    `import http from 'k6/http';
import { duration, required, target } from ${config};
const TOKEN = required(__ENV, 'AGENT_TOKEN', 'set AGENT_TOKEN');
const { baseUrl } = target(__ENV);
const DURATION = duration(__ENV, 'DURATION', '1s');
export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: DURATION } } };
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${baseUrl}/health?t=\${TOKEN}\`);
}
`,
  );
  const r = await runCli(['throws-early.ts', '--engine', 'node', '--no-report', '-e', 'DURATION=2s', '-e', 'AGENT_TOKNE=t'], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: server.url }),
  });
  assert.equal(r.code, 107, r.stderr);
  assert.match(r.stderr, /AGENT_TOKEN is not set/);
  // DURATION is read after the throw: the run cannot tell it is unused.
  assert.doesNotMatch(r.stderr, /warning: DURATION /);
  // A typo of a name read before the throw is still named.
  assert.match(
    r.stderr,
    /^agentload: warning: AGENT_TOKNE \(-e flag\) is set but throws-early\.ts never reads it: did you mean AGENT_TOKEN\?$/m,
  );
});

void describe('runs whose summary never runs here: the init code is run once more on the embedded engine', () => {
  const fakes: FakeK6[] = [];
  after(() => fakes.forEach((f) => f.cleanup()));
  const fake = (opts: Parameters<typeof makeFakeK6>[0]): FakeK6 => {
    const f = makeFakeK6(opts);
    fakes.push(f);
    return f;
  };

  void it('a k6 binary that stops before its summary (107, no handleSummary): the typo is named, nothing sent by the check', async () => {
    const k6 = fake({ exitCode: 107, writesOutputs: false });
    project.write('k6-stops.ts', sizedScenario());
    const sent = server.requests();
    const r = await runCli(['k6-stops.ts', '--no-report', '-e', 'DURATON=2s', '-e', 'DURATION=1s'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: server.url }, k6.dir),
    });
    assert.equal(r.code, 107, r.stderr);
    assert.match(r.stderr, /k6-stops\.ts/);
    assert.match(r.stderr, TYPO);
    assert.equal(server.requests(), sent, 'the init code sent nothing');
  });

  void it('a plain k6 script (no lib/config) that stops before its summary: no check, its own __ENV reads are not seen', async () => {
    const k6 = fake({ exitCode: 107, writesOutputs: false });
    project.write('plain-stops.ts', scenarioSource());
    const r = await runCli(['plain-stops.ts', '--no-report', '-e', 'FOO=bar', '-e', 'DURATION=1s'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: server.url }, k6.dir),
    });
    assert.equal(r.code, 107, r.stderr);
    assert.doesNotMatch(r.stderr, /warning:/);
  });

  void it('--cloud (the summary runs in Grafana Cloud): the typo is named here', async () => {
    const k6 = fake({ exitCode: 0 });
    project.write('cloud-typo.ts', sizedScenario());
    const r = await runCli(['--cloud', 'cloud-typo.ts', '-e', 'DURATON=2s'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: 'https://staging.example.test', AGENTLOAD_ALLOWED_HOSTS: 'staging.example.test' }, k6.dir),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(k6.calls()[0]?.args.slice(0, 2), ['cloud', 'run']);
    assert.match(r.stderr, TYPO);
  });
});
