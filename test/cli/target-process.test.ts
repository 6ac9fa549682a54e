/** The bundled platform runs in its own process: reachable while running, gone after close(), clear errors. */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { startTargetProcess } from '../../src/run/target-process.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

void test('startTargetProcess: a separate process serving /health and /metrics, stopped by close()', async () => {
  const target = await startTargetProcess({ root: ROOT, env: { SEED_AGENTS: '3' } });
  try {
    assert.match(target.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${target.url}/health`);
    assert.equal(health.status, 200);
    const agents = (await (await fetch(`${target.url}/api/agents`)).json()) as { total: number };
    assert.equal(agents.total, 3, 'the platform got the variables it was given (SEED_AGENTS)');
    const metrics = await (await fetch(`${target.url}/metrics`)).text();
    assert.match(metrics, /process_resident_memory_bytes/);
  } finally {
    await target.close();
  }
  await assert.rejects(fetch(`${target.url}/health`), 'nothing listens after close()');
});

void test('startTargetProcess: a platform that cannot start rejects with its own error line', async () => {
  await assert.rejects(
    startTargetProcess({ root: ROOT, env: { DATABASE_URL: 'postgres://u:pw@127.0.0.1:1/none' }, startTimeoutMs: 60_000 }),
    (e: unknown) => e instanceof Error && /before it was ready/.test(e.message) && /target failed to start/.test(e.message),
  );
});
