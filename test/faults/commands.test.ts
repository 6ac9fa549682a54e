/**
 * Faults applied to your own system through the commands you configure (`AGENTLOAD_FAULT_<ACTION>_CMD`):
 * run with `sh -c` and FAULT_ACTION / FAULT_DURATION_MS / FAULT_MODE, their exit code decides, a partition
 * command is in effect while it runs; the view of your instances comes from AGENTLOAD_CLUSTER_STATS_CMD.
 * Real processes (sh), real HTTP against the controller.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaultController } from '../../src/faults/controller.ts';
import { labPlan } from '../../src/faults/lab.ts';
import { arr, at, req, waitFor } from '../target/helpers.ts';

let dir = '';
let controller: FaultController;
let url = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agentload-fault-cmds-'));
  const plan = labPlan('failover', {
    BASE_URL: 'http://127.0.0.1:9',
    AGENTLOAD_FAULT_INSTANCE_KILL_CMD: `echo "$FAULT_ACTION $FAULT_DURATION_MS" > ${join(dir, 'killed')}`,
    AGENTLOAD_FAULT_INSTANCE_ADD_CMD: 'echo "no capacity left" >&2; exit 3',
    AGENTLOAD_FAULT_PARTITION_CMD: `sleep "$(($FAULT_DURATION_MS / 1000))"; echo "$FAULT_MODE" > ${join(dir, 'partitioned')}`,
    AGENTLOAD_CLUSTER_STATS_CMD: 'echo \'{"instances":[{"id":"web-1","role":"api","state":"healthy","requests":7}]}\'',
  });
  assert.ok(plan !== undefined);
  controller = new FaultController({ setup: plan.setup, logPath: join(dir, 'faults.jsonl') });
  url = await controller.listen();
});

after(async () => {
  await controller.close();
  rmSync(dir, { recursive: true, force: true });
});

void describe('faults through your own commands', () => {
  void it('a command that succeeds applies the fault, with the fault in its environment', async () => {
    const r = await req(url, 'POST', '/faults', { action: 'instance-kill' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(readFileSync(join(dir, 'killed'), 'utf8'), 'instance-kill 0\n');
    assert.equal(at(r.body, 'detail', 'command', 'exitCode'), 0);
  });

  void it('a command that fails is a failed fault: 500 with its last line', async () => {
    const r = await req(url, 'POST', '/faults', { action: 'instance-add' });
    assert.equal(r.status, 500);
    assert.equal(at(r.body, 'code'), 'FAULT_FAILED');
    assert.equal(at(r.body, 'error'), 'fault instance-add failed: the command exited with 3: no capacity left');
  });

  void it('a partition command is in effect while it runs and over when it ends', async () => {
    const r = await req(url, 'POST', '/faults', { action: 'partition', durationMs: 1000, mode: 'cut' });
    assert.equal(r.status, 200);
    const id = at(r.body, 'id');
    assert.equal(at(r.body, 'endedAt'), null, 'answered before the command ended');
    await waitFor(
      'the partition command ended',
      async () => {
        const list = arr(at((await req(url, 'GET', '/faults')).body, 'faults'));
        return list.some((f) => at(f, 'id') === id && typeof at(f, 'endedAt') === 'number') ? true : undefined;
      },
      10_000,
      50,
    );
    assert.equal(readFileSync(join(dir, 'partitioned'), 'utf8'), 'cut\n');
  });

  void it('an action without a command is refused; the instances come from the stats command', async () => {
    const refused = await req(url, 'POST', '/faults', { action: 'consumer-crash' });
    assert.equal(refused.status, 409);
    assert.match(
      String(at(refused.body, 'error')),
      /^fault consumer-crash cannot be applied: the platform's processes are not agentload's \(BASE_URL points at your own system\): set AGENTLOAD_FAULT_CONSUMER_CRASH_CMD/,
    );
    const view = await req(url, 'GET', '/cluster');
    assert.deepEqual(view.body, { instances: [{ id: 'web-1', role: 'api', state: 'healthy', requests: 7 }] });
  });
});
