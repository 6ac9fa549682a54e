/** The run-flag table: parsing, refusal of unknown flags (naming them), help generated from the table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUPPORTED_RUN_FLAGS, parseRunFlags, runHelp } from '../../../engine/index.ts';

void test('k6 flag forms: long, short, =value, repeatable lists, booleans', () => {
  const p = parseRunFlags([
    '--vus',
    '10',
    '-d',
    '30s',
    '--out=json=a.json',
    '-e',
    'A=1',
    '--env',
    'B=2',
    '--tag',
    't=x',
    '-q',
    '--no-thresholds',
    '--stage',
    '5s:1',
    '-s',
    '5s:0',
  ]);
  assert.deepEqual(p.issues, []);
  assert.equal(p.values.vus, '10');
  assert.equal(p.values.duration, '30s');
  assert.deepEqual(p.lists.out, ['json=a.json']);
  assert.deepEqual(p.lists.env, ['A=1', 'B=2']);
  assert.deepEqual(p.lists.stage, ['5s:1', '5s:0']);
  assert.ok(p.booleans.has('quiet') && p.booleans.has('no-thresholds'));
});

void test('unknown flags and missing values are issues with stable codes, naming the flag', () => {
  const p = parseRunFlags(['--address', 'x:1', '--vus']);
  assert.deepEqual(
    p.issues.map((i) => i.code),
    ['unsupported-flag', 'missing-flag-value'],
  );
  assert.match(p.issues[0]?.message ?? '', /flag --address is not supported by the embedded engine; use one of: --vus/);
  assert.match(p.issues[1]?.message ?? '', /flag --vus needs a value \(N\), e.g\. --vus 10/);
  assert.deepEqual(parseRunFlags(['--vus', '1']).issues, [], 'control: a known flag is no issue');
});

void test('--help lists every flag of the table', () => {
  const help = runHelp();
  for (const f of SUPPORTED_RUN_FLAGS) assert.ok(help.includes(`--${f.name}`), f.name);
});
