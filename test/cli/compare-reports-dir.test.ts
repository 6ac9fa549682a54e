/**
 * `npm run compare -- … --reports-dir DIR` finds and saves baselines by name in DIR/baselines, where the run
 * command's `--reports-dir DIR --save-baseline NAME` puts them; without the flag it looks in reports/ of the
 * working directory (AGENTLOAD_REPORTS_DIR), and AGENTLOAD_BASELINES_DIR still wins over both.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpRun, tmp } from '../reporting/helpers.ts';
import { ROOT } from './helpers.ts';

/** A run folder of 400 requests over 20 s, latencies scaled by `scale`. */
function run(dir: string, scale: number): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'out.json'), httpRun({ n: 400, spacingMs: 50, latency: (i) => (20 + (i % 20)) * scale }));
  return dir;
}

/** The compare command from `cwd`, with no reports or baselines folder set in the environment unless `env` sets one. */
function compare(args: string[], cwd: string, env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'AGENTLOAD_REPORTS_DIR' && k !== 'AGENTLOAD_BASELINES_DIR'),
  ) as Record<string, string>;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/compare.mjs'), ...args], { cwd, encoding: 'utf8', env: { ...base, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

void test('compare --reports-dir DIR: saves NAME to DIR/baselines/NAME.json and finds it there by name', () => {
  const d = tmp();
  const reports = join(d, 'my-reports');
  const cwd = join(d, 'elsewhere');
  mkdirSync(cwd);
  const saved = compare([run(join(d, 'a'), 1), '--save-baseline', 'main', '--reports-dir', reports], cwd);
  assert.equal(saved.code, 0, saved.err);
  assert.ok(existsSync(join(reports, 'baselines', 'main.json')), saved.out);
  assert.ok(!existsSync(join(cwd, 'reports')), 'nothing saved under the working directory');

  const slow = compare([run(join(d, 'b'), 1.3), '--baseline', 'main', '--reports-dir', reports], cwd);
  assert.equal(slow.code, 3, slow.out + slow.err);
  assert.match(slow.out, /FAIL/);
  assert.equal(compare([run(join(d, 'c'), 1), '--baseline', 'main', '--reports-dir', reports], cwd).code, 0);

  // Without the flag the name is looked up in reports/ of the working directory: not found (exit 2, usage).
  const missing = compare([join(d, 'c'), '--baseline', 'main'], cwd);
  assert.equal(missing.code, 2, missing.out + missing.err);
  // AGENTLOAD_BASELINES_DIR names the baselines folder itself and wins over --reports-dir, as in the run command.
  const other = join(d, 'other-baselines');
  const viaEnv = compare([join(d, 'c'), '--save-baseline', 'env', '--reports-dir', reports], cwd, { AGENTLOAD_BASELINES_DIR: other });
  assert.equal(viaEnv.code, 0, viaEnv.err);
  assert.ok(existsSync(join(other, 'env.json')));
  assert.ok(!existsSync(join(reports, 'baselines', 'env.json')));
});
