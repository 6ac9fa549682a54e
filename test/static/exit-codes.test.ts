/**
 * One exit-code table (shared/exit-codes.ts): the README's table says exactly what it says, the parts that
 * had tables of their own now read it, and the two files that run before tsx (so cannot import it) use only
 * its codes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EXIT_CODES, EXIT_CODE_MEANINGS, type ExitCodeName } from '../../shared/exit-codes.ts';
import * as engineErrors from '../../engine/runtime/errors.ts';
import * as toolkitErrors from '../../src/errors.ts';
import { EXIT } from '../../src/reporting/types.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (rel: string): string => readFileSync(ROOT + rel, 'utf8');

/** The README's exit-code table: the `| code | meaning |` rows after the header. */
function readmeRows(): { code: number; meaning: string }[] {
  const readme = read('README.md');
  const start = readme.indexOf('| code | meaning |\n|---|---|\n');
  assert.ok(start >= 0, 'README has the exit-code table');
  const rows: { code: number; meaning: string }[] = [];
  for (const line of readme.slice(start).split('\n').slice(2)) {
    const m = /^\| (\d+) \| (.*) \|$/.exec(line);
    if (m === null) break;
    rows.push({ code: Number(m[1]), meaning: m[2] ?? '' });
  }
  return rows;
}

void test("the README's exit-code table is the shared table: same codes, same order, same words", () => {
  const expected = (Object.keys(EXIT_CODES) as ExitCodeName[]).map((name) => ({
    code: EXIT_CODES[name],
    meaning: EXIT_CODE_MEANINGS[name],
  }));
  assert.deepEqual(readmeRows(), expected);
});

void test('every code is listed once, in increasing order', () => {
  const codes = Object.values(EXIT_CODES);
  assert.deepEqual(
    codes,
    [...new Set(codes)].sort((a, b) => a - b),
  );
});

void test("the engine's, the toolkit's and the report's codes are the shared table", () => {
  assert.equal(engineErrors.EXIT_CODES, EXIT_CODES);
  assert.equal(toolkitErrors.EXIT_CODES, EXIT_CODES);
  const shared: Readonly<Record<keyof typeof EXIT, number>> = {
    ok: EXIT_CODES.ok,
    usage: EXIT_CODES.usage,
    regression: EXIT_CODES.regression,
    soak: EXIT_CODES.soak,
    noData: EXIT_CODES.noData,
    inconclusive: EXIT_CODES.inconclusive,
    thresholds: EXIT_CODES.thresholdsFailed,
  };
  assert.deepEqual({ ...EXIT }, shared);
});

void test('the files that run before tsx exit only with codes of the table (or 1, a child that gave none)', () => {
  const allowed = new Set<number>([...Object.values(EXIT_CODES), 1]);
  for (const file of ['bin/agentload.mjs', 'scripts/stop-early.mjs']) {
    const literals: number[] = [];
    for (const m of read(file).matchAll(/process\.exit\((\d+)\)|\? (\d+) : (\d+)\)/g)) {
      const groups: (string | undefined)[] = m.slice(1);
      for (const g of groups) if (g !== undefined) literals.push(Number(g));
    }
    assert.ok(literals.length > 0, `${file} has exit codes`);
    for (const n of literals) assert.ok(allowed.has(n), `${file} exits with ${String(n)}, which is not in shared/exit-codes.ts`);
  }
});

void test('no Node-side entry point exits with a bare number any more', () => {
  for (const file of ['engine/cli.ts', 'engine/test-run/worker-entry.ts', 'src/slack-sink/main.ts', 'src/faults/main.ts']) {
    const text = read(file);
    assert.doesNotMatch(text, /process\.exit\((?:[2-9]|\d{2,3})\)|exitCode = (?:[2-9]|\d{2,3})\b|: (?:99|10\d|110|120);/, file);
    assert.match(text, /EXIT_CODES\.\w+/, `${file} names its code from the table`);
  }
});
