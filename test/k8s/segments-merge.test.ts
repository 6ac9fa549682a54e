/**
 * k6-operator on one machine: N embedded-engine processes (`agentload k6 run`, one after another), each with the
 * `--execution-segment` k6-operator would give its runner, write their outputs into one folder each (as
 * runners do on the shared claim); `npm run report -- <folder>` merges them. The merged counts equal a
 * single-process run's exactly, and the thresholds are evaluated on the merged data: a threshold every
 * runner fails alone passes merged, and one every runner passes alone fails merged (exit 99).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collect, makeProject, ROOT, type CliResult } from '../cli/helpers.ts';
import { referenceServerPerFile } from '../support/reference-server.ts';

const SCRIPT = `import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
const jobs = new Counter('merge_jobs');
export const options = {
  scenarios: {
    shared: { executor: 'shared-iterations', vus: 3, iterations: 30, exec: 'hit' },
    pervu: { executor: 'per-vu-iterations', vus: 3, iterations: 5, exec: 'hit' },
  },
  thresholds: {
    iterations: [__ENV.ITERATIONS_THRESHOLD],
    http_reqs: ['count>0'],
    merge_jobs: ['count>0'],
    checks: ['rate==1'],
  },
};
export async function hit() {
  const res = await http.asyncRequest('GET', __ENV.BASE_URL + '/health');
  check(res, { 'is 200': (r) => r.status === 200 });
  jobs.add(2);
}
`;
const THIRDS = '0,1/3,2/3,1';
const SEGMENTS = ['0:1/3', '1/3:2/3', '2/3:1'];

const project = makeProject();
const script = project.write('merge.js', SCRIPT);
const server = referenceServerPerFile(() => {
  project.cleanup();
});

function node(args: string[], env: Record<string, string>): Promise<CliResult> {
  return collect(
    spawn(process.execPath, args, {
      cwd: project.dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', BASE_URL: server.url, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** One runner: `agentload k6 run` with the toolkit's outputs in `dir`. */
function runner(dir: string, threshold: string, segment?: string): Promise<CliResult> {
  mkdirSync(dir, { recursive: true });
  return node(
    [
      join(ROOT, 'bin/agentload.mjs'),
      'k6',
      'run',
      '-q',
      ...(segment === undefined ? [] : ['--execution-segment', segment, '--execution-segment-sequence', THIRDS]),
      '--out',
      `json=${join(dir, 'out.json.gz')}`,
      '--summary-export',
      join(dir, 'summary-export.json'),
      script,
    ],
    { ITERATIONS_THRESHOLD: threshold },
  );
}

/** Runs one after another (the machine has few cores and other tests run beside this one). */
async function inTurn<T>(jobs: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const job of jobs) out.push(await job());
  return out;
}

function report(dir: string): Promise<CliResult> {
  return node([join(ROOT, 'scripts/report.mjs'), dir, '--no-history'], {});
}

interface Verdict {
  verdict: string;
  exitCode: number;
  thresholds: { metric: string; expression: string; ok: boolean; observed: number | null; k6Ok?: boolean }[];
}
function verdictOf(dir: string): Verdict {
  return JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as Verdict;
}
function observed(v: Verdict, metric: string): number | null | undefined {
  return v.thresholds.find((t) => t.metric === metric)?.observed;
}
function counts(exportFile: string): Record<string, number> {
  const m = (JSON.parse(readFileSync(exportFile, 'utf8')) as { metrics: Record<string, { count?: number; passes?: number }> }).metrics;
  return {
    iterations: m.iterations?.count ?? -1,
    http_reqs: m.http_reqs?.count ?? -1,
    merge_jobs: m.merge_jobs?.count ?? -1,
    checks: m.checks?.passes ?? -1,
  };
}

void test('three segment runners merged: the same counts as one process, thresholds judged on the merged data (k6 judges each runner alone)', async () => {
  const single = join(project.dir, 'single');
  const merged = join(project.dir, 'runners');
  const one = await runner(single, 'count>=40');
  const thirds = await inTurn(
    SEGMENTS.map((seg, i) => () => runner(join(merged, `agentload-merge-${String(i + 1)}-abcde`), 'count>=40', seg)),
  );
  assert.equal(one.code, 0, one.stderr);
  // Alone, each runner has a third of the iterations and k6 fails the threshold: what k6-operator would report.
  for (const t of thirds) {
    assert.equal(t.code, 99, t.stderr);
    assert.match(t.stderr, /thresholds on metrics 'iterations' have been crossed/);
  }
  const perRunner = SEGMENTS.map((_s, i) => counts(join(merged, `agentload-merge-${String(i + 1)}-abcde`, 'summary-export.json')));
  assert.deepEqual(
    perRunner.map((c) => c.iterations),
    [15, 15, 15],
    'k6 striping: 10 shared + 5 per-VU iterations each',
  );

  const rs = await report(single);
  const rm = await report(merged);
  assert.equal(rs.code, 0, rs.stderr);
  assert.equal(rm.code, 0, `merged: the thresholds pass on the merged data\n${rm.stdout}${rm.stderr}`);
  const vs = verdictOf(single);
  const vm = verdictOf(merged);
  const expected = counts(join(single, 'summary-export.json'));
  assert.deepEqual(expected, { iterations: 45, http_reqs: 45, merge_jobs: 90, checks: 45 });
  for (const metric of ['iterations', 'http_reqs', 'merge_jobs'] as const) {
    assert.equal(observed(vm, metric), expected[metric], `merged ${metric} equals the single run's`);
    assert.equal(observed(vm, metric), observed(vs, metric), `merged ${metric} equals the single run's report`);
  }
  assert.equal(observed(vm, 'checks'), 1);
  const iter = vm.thresholds.find((t) => t.metric === 'iterations');
  assert.ok(iter !== undefined);
  assert.equal(iter.ok, true, 'ours: 45 >= 40 on the merged data');
  assert.equal(iter.k6Ok, false, "k6's own verdicts (per runner) are kept beside it");
});

void test('a threshold every runner passes alone fails on the merged data: exit 99', async () => {
  const merged = join(project.dir, 'runners-2');
  const thirds = await inTurn(SEGMENTS.map((seg, i) => () => runner(join(merged, `r${String(i)}`), 'count<=20', seg)));
  for (const t of thirds) assert.equal(t.code, 0, `alone, 15 <= 20 passes\n${t.stderr}`);
  const rm = await report(merged);
  assert.equal(rm.code, 99, rm.stdout + rm.stderr);
  const iter = verdictOf(merged).thresholds.find((t) => t.metric === 'iterations');
  assert.ok(iter !== undefined);
  assert.equal(iter.ok, false);
  assert.equal(iter.observed, 45);
});

void test('a folder of separate runs (each with run.json) is not merged: one line saying to pass one run (exit 2)', async () => {
  const runs = join(project.dir, 'reports');
  for (const name of ['api-20260101-000000', 'api-20260102-000000']) {
    mkdirSync(join(runs, name), { recursive: true });
    writeFileSync(join(runs, name, 'run.json'), '{}');
    writeFileSync(join(runs, name, 'out.json'), '');
  }
  const r = await report(runs);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^report: .*reports holds separate runs \(api-20260101-000000, api-20260102-000000\), not one run's runners: pass one run folder/m,
  );
});
