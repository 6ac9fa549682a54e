/**
 * The run command's --save-baseline and --baseline NAME: a baseline saved by name is found again, holds
 * no absolute path, unchanged code passes against it and a real slowdown fails with exit 3, the
 * regression named worst first with units and changes on the last lines.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, makeProject, ROOT, runCli } from './helpers.ts';

/** A loopback server answering /api/items after `delayMs` (changed by the test between runs). */
async function slowServer(): Promise<{ url: string; setDelay: (ms: number) => void; close: () => Promise<void> }> {
  let delayMs = 5;
  const server: Server = createServer((_req, res) => {
    setTimeout(() => res.end('{"ok":true}'), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setDelay: (ms) => (delayMs = ms),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const SCENARIO = `import http from 'k6/http';
export const options = {
  scenarios: { items: { executor: 'constant-arrival-rate', rate: 40, timeUnit: '1s', duration: '6s', preAllocatedVUs: 30 } },
  thresholds: { http_req_failed: ['rate<0.5'] },
};
export default async function (): Promise<void> {
  await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}/api/items\`, null, { tags: { name: '/api/items' } });
}
`;

void test('run command: --save-baseline NAME then --baseline NAME (also found by npm run compare): unchanged passes, 5 → 250 ms fails with exit 3 and says why', async () => {
  const project = makeProject();
  const target = await slowServer();
  try {
    const scenario = project.write('items.ts', SCENARIO);
    const env = cleanEnv(project, { BASE_URL: target.url });
    for (let i = 1; i <= 2; i++) {
      const saved = await runCli([scenario, '--engine', 'node', '--save-baseline', 'main'], { cwd: project.dir, env });
      assert.equal(saved.code, 0, saved.stdout + saved.stderr);
      assert.match(
        saved.stdout + saved.stderr,
        new RegExp(`baseline "main" saved to reports/baselines/main\\.json${i === 2 ? ', now the median of 2 runs' : ''}`),
      );
    }
    const file = join(project.reports, 'baselines', 'main.json');
    assert.ok(existsSync(file));
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(project.dir) && !text.includes('/tmp/'), 'the saved baseline holds no absolute path');
    assert.equal((JSON.parse(text) as { runs?: number }).runs, 2);

    const same = await runCli([scenario, '--engine', 'node', '--baseline', 'main'], { cwd: project.dir, env });
    assert.notEqual(same.code, 3, `unchanged code against its own baseline: ${same.stdout}`);

    // npm run compare finds what the run command saved: from the checkout with the same AGENTLOAD_REPORTS_DIR (as
    // `npm run` runs it), and from the project folder with none (as `agentload compare` there, beside `agentload run`).
    const lastRun = project.runDirs().at(-1) ?? '';
    const withoutDir = Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'AGENTLOAD_REPORTS_DIR'));
    for (const [cwd, compareEnv] of [
      [ROOT, env],
      [project.dir, withoutDir],
    ] as const) {
      const compared = spawnSync(process.execPath, [join(ROOT, 'scripts/compare.mjs'), lastRun, '--baseline', 'main'], {
        cwd,
        env: compareEnv,
        encoding: 'utf8',
      });
      assert.notEqual(compared.status, 2, `compare from ${cwd} finds the saved baseline: ${compared.stderr}`);
      assert.match(compared.stdout, /judged figures within the gate/);
    }

    // A slowdown far beyond what a loaded shared machine does to a 5 ms answer between runs.
    target.setDelay(250);
    const slow = await runCli([scenario, '--engine', 'node', '--baseline', 'main'], { cwd: project.dir, env });
    assert.equal(slow.code, 3, slow.stdout + slow.stderr);
    const tail = slow.stdout.slice(slow.stdout.lastIndexOf('results:'));
    assert.match(tail, /^results: verdict fail, exit code 3/);
    assert.match(tail, /figure\(s\) worse than the baseline \(> 10 %, p < 0\.01\): \S.* p95 [\d.]+ → [\d.]+ ms \(\+[\d.]+ ms, \+\d+ %\)/);
    const runs = project.runDirs().length;
    const missing = await runCli([scenario, '--engine', 'node', '--baseline', 'nope'], { cwd: project.dir, env });
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /--baseline nope: no such run folder or file, and no saved baseline reports\/baselines\/nope\.json; save one first with --save-baseline nope/,
    );
    assert.equal(project.runDirs().length, runs, 'nothing ran');
  } finally {
    await target.close();
    project.cleanup();
  }
});
