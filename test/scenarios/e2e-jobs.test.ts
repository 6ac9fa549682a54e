/** The job platform's scenarios (seed 001): provisioning, the concurrency sweep and artifact uploads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCrossed, assertPassed, runHealthy, runScenario } from './helpers.ts';

void test('provisioning passes at smoke size: spawn-to-ready within seed 001 scaled by 0.02, every phase timed', async () => {
  const r = await runHealthy('provisioning', { env: { JOBS: '9', PARALLEL: '3' } });
  assertPassed(r);
  const keys = Object.keys(r.summary?.metrics ?? {});
  assert.ok(keys.includes('job_ready_time'));
  assert.ok(keys.includes('job_phase_duration'));
});

void test('provisioning fails (99) on job_ready_time when provisioning gets 3x slower', async () => {
  const r = await runScenario('provisioning', { env: { JOBS: '9', PARALLEL: '3' }, targetEnv: { FAULT_JOB_PROVISION_SLOWDOWN: '3' } });
  assertCrossed(r, 'job_ready_time');
});

void test('jobs sweep passes at smoke size and writes its table and chart beside the run outputs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-sweep-'));
  try {
    const r = await runHealthy('jobs', {
      env: { LEVELS: '1,3', LEVEL_DURATION: '3s', AGENTLOAD_HANDLE_SUMMARY_PATH: join(dir, 'handle-summary-data.json') },
    });
    assertPassed(r);
    assert.match(r.stdout, /concurrency sweep \(jobs\/h, real time\):\n\s+c= 1 #+\s+\d+ jobs\/h, 100\.0 % ok\n\s+c= 3 #+/);
    const md = readFileSync(join(dir, 'jobs-sweep.md'), 'utf8');
    assert.match(md, /\| 1 \| \d+ \| \d+ \| 30 \| 100\.0 % \|\n\| 3 \| \d+ \| \d+ \| 90 \| 100\.0 % \|/);
    const svg = readFileSync(join(dir, 'jobs-sweep.svg'), 'utf8');
    assert.equal((svg.match(/<rect /g) ?? []).length, 2, 'one bar per level');
    assert.match(svg, /<polyline points=/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('jobs sweep fails (99) on the success rate when half the jobs fail', async () => {
  const r = await runScenario('jobs', { env: { LEVELS: '2', LEVEL_DURATION: '3s' }, targetEnv: { FAULT_JOB_FAILURE_RATE: '0.5' } });
  assertCrossed(r, 'job_succeeded{concurrency:2}');
});

void test('artifacts: 1, 10 and 256 MB uploads in 8 MB parts without holding an artifact in memory; over 256 MB is refused', async () => {
  let peak = 0;
  const base = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss - base);
  }, 50);
  let r;
  try {
    r = await runHealthy('artifacts', { env: { SIZES: '1MB,10MB,256MB', REPEAT: '1' } });
  } finally {
    clearInterval(timer);
  }
  assertPassed(r);
  assert.ok(r.summary?.metrics['artifact_upload_mbps{size:256MB}'] !== undefined, 'the 256 MB upload was timed');
  // The engine runs in this process: a 256 MB upload held whole would add at least that much.
  assert.ok(peak < 160 * 1024 * 1024, `load generator memory grew by ${Math.round(peak / 1024 / 1024)} MB during the uploads`);
});

void test('artifacts fails (99) on the MB/s objective when every part waits 300 ms', async () => {
  const r = await runScenario('artifacts', {
    env: { SIZES: '10MB', REPEAT: '1', PART_MB: '1', OVERSIZE: 'false' },
    targetEnv: { FAULT_ROUTE_LATENCY: 'PUT /api/artifacts/uploads/:id/parts/:n=300' },
  });
  assertCrossed(r, 'artifact_upload_mbps{size:10MB}');
});
