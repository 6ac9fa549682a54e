/**
 * An unhandled promise rejection in script code never ends the process or a VU thread. As k6 (js/eventloop: a
 * rejection left unhandled fails the VU's event loop with `Uncaught (in promise) <stack>`): in an iteration it is
 * logged with the executor and scenario (not as source=stacktrace), the iteration is counted as k6 counts a failed
 * one and the run goes on to its end; in init code or setup() it fails them as an exception would (exit 107).
 * Real engine runs in a child process (on the code before, the process exited 1), every path: VUs on the engine
 * thread, --workers threads, VU threads (--vu-mode sync).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { ROOT, tempDir } from './conformance/run-helpers.ts';

const SCRIPT = `export const options = { vus: 2, iterations: 6 };
if (__ENV.K === 'init') Promise.reject(new Error('rejected in init'));
async function notAwaited() { throw new Error('rejected in a nested async function'); }
export function setup() { if (__ENV.K === 'setup') Promise.reject(new Error('rejected in setup')); }
export default async function () {
  if (__ENV.K === 'default') Promise.reject(new Error('rejected in the default function'));
  if (__ENV.K === 'nested') notAwaited();
  if (__ENV.K === 'await') {
    await new Promise((r) => setTimeout(r, 5));
    Promise.reject(new Error('rejected after an await'));
  }
}
`;

const dir = tempDir();
const script = join(dir, 'rejects.js');
writeFileSync(script, SCRIPT);
let runs = 0;

interface Outcome {
  code: number;
  stderr: string;
  iterations: number | undefined;
}

/** `node --import tsx engine/cli.ts run` in a child process, 60 s at most. */
function run(kind: string, mode: readonly string[], file = script): Promise<Outcome> {
  const summary = join(dir, `summary-${String(runs++)}.json`);
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href,
      join(ROOT, 'engine/cli.ts'),
      'run',
      '-q',
      '--no-summary',
      '--summary-export',
      summary,
      ...mode,
      file,
    ],
    { cwd: dir, env: { ...process.env, K: kind }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  return new Promise<Outcome>((resolve) => {
    child.on('close', (c) => {
      const exported = existsSync(summary)
        ? (JSON.parse(readFileSync(summary, 'utf8')) as { metrics: Record<string, { count?: number } | undefined> })
        : undefined;
      resolve({ code: c ?? -1, stderr, iterations: exported?.metrics.iterations?.count });
    });
  });
}

const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes('level=error'));

void describe(
  'an unhandled rejection in an iteration: logged as k6 logs it, the iteration counted, the run goes on',
  { timeout: 300_000 },
  () => {
    const cases = [
      ['default', 'rejected in the default function'],
      ['nested', 'rejected in a nested async function'],
      ['await', 'rejected after an await'],
    ] as const;
    for (const [name, mode] of [
      ['VUs on the engine thread', []],
      ['--workers 2', ['--workers', '2']],
      ['--vu-mode sync', ['--vu-mode', 'sync']],
    ] as const) {
      void it(name, async () => {
        for (const [kind, message] of cases) {
          const r = await run(kind, mode);
          assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
          assert.equal(r.iterations, 6, `${kind}: every iteration counted`);
          const errors = errorLines(r.stderr);
          assert.equal(errors.length, 6, `${kind}: one line per iteration\n${r.stderr}`);
          for (const l of errors) {
            assert.ok(l.includes(`msg="Uncaught (in promise) Error: ${message}\\n\\tat `), l);
            assert.ok(l.includes('executor=shared-iterations scenario=default'), l);
            assert.ok(!l.includes('source=stacktrace'), l);
          }
        }
      });
    }
  },
);

void describe('an unhandled rejection in init code or setup() fails it as an exception would', { timeout: 120_000 }, () => {
  for (const [name, mode] of [
    ['VUs on the engine thread', []],
    ['--vu-mode sync', ['--vu-mode', 'sync']],
  ] as const) {
    void it(name, async () => {
      for (const kind of ['init', 'setup'] as const) {
        const r = await run(kind, mode);
        assert.equal(r.code, 107, `${kind}: ${r.stderr}`);
        assert.ok(r.stderr.includes(`msg="Uncaught (in promise) Error: rejected in ${kind}\\n\\tat `), r.stderr);
        assert.ok((r.iterations ?? 0) === 0, `${kind}: no iteration ran`);
      }
    });
  }
});

// A VU initialised mid-run (pool growth) in the wake-up that started another VU's iteration: the rejection that
// iteration left is that VU's (logged), not the new VU's init code's (it failed that init, silently: the line
// and the VU lost). The first wake-up starts VU 1, whose 15 ms of work makes the next start due: none is idle,
// one is initialised in the same macrotask.
const ARRIVAL = `export const options = { scenarios: { a: { executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s',
  duration: '1s', preAllocatedVUs: 1, maxVUs: 2 } } };
export default function () {
  Promise.reject(new Error('rejected by VU ' + __VU));
  const t = Date.now();
  while (Date.now() - t < 15);
}
`;
const arrivalScript = join(dir, 'arrival.js');
writeFileSync(arrivalScript, ARRIVAL);

void describe("a VU initialised mid-run does not take another VU's rejection", { timeout: 120_000 }, () => {
  void it('every iteration logs its line', async () => {
    const r = await run('', [], arrivalScript);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((r.iterations ?? 0) > 1, r.stderr);
    assert.equal(errorLines(r.stderr).length, r.iterations, `one line per iteration\n${r.stderr}`);
  });
});
