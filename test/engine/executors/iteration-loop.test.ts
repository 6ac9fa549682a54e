/**
 * The VU iteration loop (engine/executors/iteration.ts loopIterations): an iteration during which the scenario's
 * stop signal aborts is interrupted, also when it aborts in the iteration's synchronous part (exec.test.abort()
 * from a function that never awaits: host.abortTest aborts the run, and the scenario's hard stop, right there).
 * k6 counts that iteration as interrupted (getIterationRunner: handleInterrupt → AddInterruptedIterations).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IterationContext, IterationResult, VirtualUser } from '../../../engine/contracts.ts';
import { IterationCounter } from '../../../engine/executors/common.ts';
import { loopIterations } from '../../../engine/executors/iteration.ts';
import { oneVuForASecond, realTimeRuntime as runtime } from './fakes.ts';
import { runSource } from '../conformance/run-helpers.ts';

const cfg = oneVuForASecond;

/** A VU whose second iteration aborts `stop` before it returns (no await in between), as exec.test.abort() does. */
class AbortsInSecond implements VirtualUser {
  readonly idInTest = 1;
  readonly idInInstance = 1;
  n = 0;
  seenAborted: boolean[] = [];
  constructor(readonly stop: AbortController) {}
  runIteration(it: IterationContext): Promise<IterationResult> {
    this.n++;
    if (this.n === 2) this.stop.abort(new Error('test aborted'));
    this.seenAborted.push(it.signal.aborted);
    return Promise.resolve(this.n === 2 ? { kind: 'failed', error: new Error('aborted') } : { kind: 'completed' });
  }
}

void test('an iteration that aborts the stop signal in its synchronous part is interrupted, and the loop ends', async () => {
  const rt = runtime();
  const stop = new AbortController();
  const vu = new AbortsInSecond(stop);
  let regular = true;
  const more = (interrupted: boolean): boolean => !interrupted && regular && !stop.signal.aborted;
  await loopIterations(rt, cfg, vu, new IterationCounter(rt.tuple), stop.signal, () => 0, 0, more);
  regular = false;
  assert.equal(vu.n, 2);
  assert.deepEqual(vu.seenAborted, [false, true], 'the iteration signal aborts with the stop');
  assert.equal(rt.stats.completed, 1);
  assert.equal(rt.stats.interrupted, 1);
});

void test('exec.test.abort() from an iteration that never awaits: 1 complete and 1 interrupted, as from one that awaits', async () => {
  for (const body of ['', 'await null; ']) {
    const r = await runSource(
      `import exec from 'k6/execution';
export const options = { vus: 1, iterations: 5 };
export default ${body === '' ? '' : 'async '}function () { ${body}if (__ITER === 1) exec.test.abort('stop'); }
`,
      ['--no-color'],
    );
    assert.equal(r.code, 108, r.stderr);
    assert.match(r.stdout + r.stderr, /1 complete and 1 interrupted iterations/, body === '' ? 'sync' : 'async');
  }
});
