/** Pure parts of the run command: argument splitting, host allowlist, k6 versions, redaction, env names. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helpText, parseRunArgs, TOOLKIT_FLAGS } from '../../src/cli/flags.ts';
import { AgentloadError } from '../../src/errors.ts';
import { checkTargetHosts, hostAllowed, isLoopbackHost, parseAllowedHosts } from '../../src/run/allowlist.ts';
import { parseK6Version } from '../../src/k6/binary.ts';
import { k6Args } from '../../src/k6/run.ts';
import { envFlagNames, makeRedactor, redactArgs } from '../../src/run/env.ts';

void test('parseRunArgs: scenario anywhere, toolkit flags taken out, k6 flags kept in order with their values', () => {
  const p = parseRunArgs([
    '--vus',
    '10',
    'scenarios/x.ts',
    '--engine=node',
    '-e',
    'A=b',
    '--no-thresholds',
    '-u5',
    '--out',
    'csv=x.csv',
    '--no-report',
  ]);
  assert.equal(p.scenario, 'scenarios/x.ts');
  assert.equal(p.options.engine, 'node');
  assert.equal(p.options.report, false);
  assert.deepEqual(p.k6Args, ['--vus', '10', '-e', 'A=b', '--no-thresholds', '-u5', '--out', 'csv=x.csv']);
  // A value that looks like a path belongs to its flag, not the scenario slot.
  assert.equal(parseRunArgs(['--config', 'k6.json', 's.ts']).scenario, 's.ts');
  assert.deepEqual(parseRunArgs(['--config', 'k6.json', 's.ts']).k6Args, ['--config', 'k6.json']);
});

void test('parseRunArgs: env defaults, flag over env, bad values are one-line usage errors', () => {
  assert.equal(parseRunArgs(['s.ts'], { AGENTLOAD_ENGINE: 'k6' }).options.engine, 'k6');
  assert.equal(parseRunArgs(['s.ts', '--engine', 'node'], { AGENTLOAD_ENGINE: 'k6' }).options.engine, 'node');
  assert.equal(parseRunArgs(['s.ts'], { AGENTLOAD_BUNDLE_BUDGET_KB: '300' }).options.bundleBudgetKb, 300);
  const codes = (argv: string[], env: Record<string, string> = {}): string => {
    try {
      parseRunArgs(argv, env);
      return 'ok';
    } catch (err: unknown) {
      assert.ok(err instanceof AgentloadError);
      assert.ok(!err.message.includes('\n'));
      return err.code;
    }
  };
  assert.equal(codes(['s.ts', '--engine', 'rust']), 'invalid-flag-value');
  assert.equal(codes(['s.ts', '--engine']), 'missing-flag-value');
  assert.equal(codes(['s.ts'], { AGENTLOAD_ENGINE: 'zig' }), 'invalid-flag-value');
  assert.equal(codes(['s.ts', '--bundle-budget', '-3']), 'invalid-flag-value');
  assert.equal(codes(['a.ts', 'b.ts']), 'usage');
  assert.equal(codes(['--cloud=yes', 's.ts']), 'invalid-flag-value');
});

void test('--help lists every toolkit flag from the table', () => {
  const help = helpText();
  for (const f of TOOLKIT_FLAGS) assert.ok(help.includes(f.name), f.name);
});

void test('--help says when the baseline gate judges the run-to-run spread: 3 or more saved runs, a 99 % bound', () => {
  const help = helpText().replace(/\s+/g, ' ');
  assert.match(help, /holds 3 or more saved runs, worse than every one of them and beyond their 99 % prediction bound/);
  assert.match(help, /--save-baseline .*save 3 or more runs so the gate judges the run-to-run spread/);
});

void test('allowlist: loopback by name, listed hosts and wildcards, everything else refused', () => {
  for (const h of ['localhost', 'api.localhost', '127.0.0.1', '127.8.9.1', '::1', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['example.com', '10.0.0.1', '0.0.0.0', '128.0.0.1', 'localhost.example.com']) assert.ok(!isLoopbackHost(h), h);
  const allowed = parseAllowedHosts(' Staging.Example.com,*.test.io  other ');
  assert.deepEqual(allowed, ['staging.example.com', '*.test.io', 'other']);
  assert.ok(hostAllowed('staging.example.com', allowed));
  assert.ok(hostAllowed('a.b.test.io', allowed));
  assert.ok(!hostAllowed('test.io', allowed));
  assert.ok(!hostAllowed('prod.example.com', allowed));
  assert.doesNotThrow(() => checkTargetHosts({ BASE_URL: 'http://127.0.0.1:3000', DB_DSN: '/tmp/x.sqlite' }));
  assert.throws(() => checkTargetHosts({ BASE_URL: 'http://10.1.2.3' }), { code: 'host-not-allowed' });
  assert.throws(() => checkTargetHosts({ LLM_URL: 'https://api.llm.example' }), { code: 'host-not-allowed' });
  assert.throws(() => checkTargetHosts({ DB_DSN: 'postgres://u:p@db.example:5432/x' }), { code: 'host-not-allowed' });
  assert.throws(() => checkTargetHosts({ BASE_URL: 'not a url' }), { code: 'invalid-url' });
  assert.doesNotThrow(() => checkTargetHosts({ BASE_URL: 'http://10.1.2.3', AGENTLOAD_ALLOWED_HOSTS: '10.1.2.3' }));
});

void test('k6 versions: parsed from `k6 version`', () => {
  assert.equal(parseK6Version('k6 v0.49.0 (go1.21.6, linux/amd64)'), '0.49.0');
  assert.equal(parseK6Version('k6 v1.6.0 (commit/abc, go1.24.1, linux/amd64)'), '1.6.0');
  assert.equal(parseK6Version('something else'), undefined);
});

void test('k6 argument list: run/cloud run, bundle, outputs, then user flags', () => {
  assert.deepEqual(k6Args({ bundle: 'b.js', outJson: 'o.gz', summaryExport: 's.json', userArgs: ['--vus', '2'], cloud: false }), [
    'run',
    'b.js',
    '--out',
    'json=o.gz',
    '--summary-export=s.json',
    '--vus',
    '2',
  ]);
  assert.deepEqual(k6Args({ bundle: 'b.js', outJson: undefined, summaryExport: undefined, userArgs: ['-q'], cloud: true }), [
    'cloud',
    'run',
    'b.js',
    '-q',
  ]);
});

void test('redaction: -e values, URL credentials and secret-named values are masked; names kept', () => {
  const redact = makeRedactor({ SLACK_SIGNING_SECRET: 'abcd1234secret', PLAIN: 'visible-value' });
  assert.deepEqual(
    redactArgs(
      [
        '-e',
        'TOKEN=x1',
        '--env=K=v',
        '-eA=b',
        '--out',
        'influxdb=http://u:pw@h:8086/db',
        '--tag',
        'note=abcd1234secret',
        '--tag',
        'x=visible-value',
      ],
      redact,
    ),
    [
      '-e',
      'TOKEN=***',
      '--env=K=***',
      '-eA=***',
      '--out',
      'influxdb=http://***@h:8086/db',
      '--tag',
      'note=***',
      '--tag',
      'x=visible-value',
    ],
  );
  assert.deepEqual(envFlagNames(['-e', 'TOKEN=x1', '--env=K=v', '-eA=b', '--vus', '1']), ['TOKEN', 'K', 'A']);
});
