/**
 * Whatever an iteration throws, it is a failed iteration, counted as k6 counts it (iterations, one error line
 * with source=stacktrace) and the run goes on, on every path: the VUs here, the VUs of --workers threads, and a
 * VU's own thread (the sync VU mode). Values that throw when the engine reads them: a `then` getter on what the
 * exec function returns (reading it is what an `await` of it does), a thrown object whose `message` getter throws.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runSource, tempDir } from './conformance/run-helpers.ts';

const SCRIPT = `export const options = { vus: 1, iterations: 4 };
export default function () {
  if (__ENV.KIND === 'then') return { get then() { throw new Error('then getter threw'); } };
  throw { get message() { throw new Error('message getter threw'); } };
}
`;

interface SummaryExport {
  metrics: Record<string, { count?: number } | undefined>;
}

const dir = tempDir();
let runs = 0;

async function iterationsOf(kind: 'then' | 'message', mode: readonly string[]): Promise<{ code: number; count: number; errors: string[] }> {
  const summary = join(dir, `summary-${String(runs++)}.json`);
  const r = await runSource(SCRIPT, ['-q', '--no-summary', '--summary-export', summary, ...mode], { KIND: kind });
  assert.equal(r.code, 0, r.stderr);
  const exported = JSON.parse(readFileSync(summary, 'utf8')) as SummaryExport;
  const errors = r.stderr.split('\n').filter((l) => l.includes('level=error'));
  return { code: r.code, count: exported.metrics.iterations?.count ?? 0, errors };
}

void describe('an iteration that throws a value the engine cannot read is a failed iteration on every path', { timeout: 120_000 }, () => {
  for (const [name, mode] of [
    ['VUs on the engine thread', []],
    ['--workers 2', ['--workers', '2']],
    ['--vu-mode sync', ['--vu-mode', 'sync']],
  ] as const) {
    void it(name, async () => {
      const then = await iterationsOf('then', mode);
      assert.equal(then.count, 4, 'every iteration counted');
      assert.equal(then.errors.length, 4, then.errors.join('\n'));
      assert.ok(
        then.errors.every((l) => l.includes('then getter threw') && l.includes('source=stacktrace')),
        then.errors.join('\n'),
      );
      const message = await iterationsOf('message', mode);
      assert.equal(message.count, 4, 'every iteration counted');
      assert.equal(message.errors.length, 4, message.errors.join('\n'));
      // goja shows a thrown object by its String(), as here once its message cannot be read.
      assert.ok(
        message.errors.every((l) => l.includes('[object Object]') && l.includes('source=stacktrace')),
        message.errors.join('\n'),
      );
    });
  }
});
