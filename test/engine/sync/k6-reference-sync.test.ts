/**
 * The k6 reference scripts exactly as k6 v0.49 ran them (test/fixtures/k6-reference/*.js: synchronous
 * `http.get`, `group()` around requests, `sleep()`), run unchanged on the embedded engine — which
 * picks its synchronous VU mode for them — and compared with what k6 recorded: metric set and types,
 * HTTP tag keys, the group and check tree, threshold verdicts, exit codes.
 * (test/engine/conformance/k6-reference.test.ts compares the async-first ports of the same scripts.)
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runEngine } from '../../../engine/index.ts';
import { startReferenceServer, type ReferenceServer } from '../../support/reference-server.ts';
import { Capture, REFERENCE, tempDir } from '../conformance/run-helpers.ts';

interface JsonLine {
  type: 'Metric' | 'Point';
  metric: string;
  data: { type?: string; contains?: string; tags?: Record<string, string>; value?: number };
}
interface Group {
  name: string;
  path: string;
  groups: Group[];
  checks: { name: string; passes: number; fails: number }[];
}
interface Summary {
  metrics: Record<
    string,
    { type?: string; contains?: string; values?: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }
  >;
  root_group: Group;
}

const lines = (file: string): JsonLine[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonLine);
const metricSet = (ls: readonly JsonLine[]): Record<string, string> =>
  Object.fromEntries(
    ls
      .filter((l) => l.type === 'Metric')
      .map((l) => [l.metric, `${l.data.type ?? ''}/${l.data.contains ?? ''}`] as const)
      .sort(),
  );

/** Runs a copy of a reference script (so its folder is a temporary one) and returns the outcome. */
async function runReference(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string; dir: string }> {
  const dir = tempDir();
  const script = join(dir, name);
  copyFileSync(join(REFERENCE, name), script);
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runEngine({ script, args, env, cwd: dir, stdout, stderr, handleSignals: false });
  return { code, stdout: stdout.text, stderr: stderr.text, dir };
}

let server: ReferenceServer;
before(async () => {
  server = await startReferenceServer();
});
after(async () => {
  await server.close();
});

void describe('fixture.js as k6 ran it (sync http.get, group around a request, sleep)', () => {
  let run: Awaited<ReturnType<typeof runReference>>;
  before(async () => {
    run = await runReference('fixture.js', ['--out', 'json=out.json', '--summary-export', 'export.json'], {
      BASE_URL: server.url,
      SUMMARY_DATA: 'hs.json',
    });
  });

  void test('runs in the synchronous VU mode, says why in the header, exits 99 like k6', () => {
    assert.equal(run.code, 99, run.stderr);
    assert.match(run.stdout, /vu mode: sync \(auto: http\.get\(\.\.\.\) not awaited at file:\/\/\/.*fixture\.js:\d+:\d+/);
    assert.match(run.stderr, /thresholds on metrics '[^']*http_req_duration\{scenario:ramp\}[^']*' have been crossed/);
    assert.doesNotMatch(run.stderr, /add await/);
  });

  void test('the same metrics with the same types as k6 recorded', () => {
    const ours = metricSet(lines(join(run.dir, 'out.json')));
    delete ours.dropped_iterations;
    assert.deepEqual(ours, metricSet(lines(join(REFERENCE, 'fixture.out.json'))));
  });

  void test("every check passes where k6's passed: the responses were used on the next line", () => {
    const hs = JSON.parse(readFileSync(join(run.dir, 'hs.json'), 'utf8')) as Summary;
    const ref = JSON.parse(readFileSync(join(REFERENCE, 'fixture.handle-summary-data.json'), 'utf8')) as Summary;
    const checks = (g: Group): Record<string, boolean> =>
      Object.fromEntries([...g.checks.map((c) => [c.name, c.fails === 0] as const), ...g.groups.flatMap((x) => Object.entries(checks(x)))]);
    const ours = checks(hs.root_group);
    const theirs = checks(ref.root_group);
    // 'slow under 50ms' fails on both (the endpoint takes 100 ms); the others pass on both.
    assert.deepEqual(ours, theirs);
    assert.equal(hs.metrics.checks?.values?.fails, ref.metrics.checks?.values?.fails === 0 ? 0 : hs.metrics.checks?.values?.fails);
    assert.ok((hs.metrics.checks?.values?.passes ?? 0) > 0);
  });

  void test("the group tree is k6's and group_duration covers the request made inside the group", () => {
    const hs = JSON.parse(readFileSync(join(run.dir, 'hs.json'), 'utf8')) as Summary;
    const ref = JSON.parse(readFileSync(join(REFERENCE, 'fixture.handle-summary-data.json'), 'utf8')) as Summary;
    const shape = (g: Group): unknown => ({
      name: g.name,
      path: g.path,
      checks: g.checks.map((c) => c.name).sort(),
      groups: g.groups.map(shape),
    });
    assert.deepEqual(shape(hs.root_group), shape(ref.root_group));
    // /slow answers after 100 ms: the group's duration includes it (on the async engine it was ~0).
    assert.ok((hs.metrics.group_duration?.values?.min ?? 0) >= 95, `group_duration min ${String(hs.metrics.group_duration?.values?.min)}`);
    const slow = lines(join(run.dir, 'out.json')).filter(
      (l) => l.type === 'Point' && l.metric === 'http_reqs' && l.data.tags?.endpoint === 'slow',
    );
    assert.ok(slow.length > 0);
    for (const p of slow) assert.equal(p.data.tags?.group, '::slow group');
  });

  void test("HTTP samples carry k6's tag keys", () => {
    const keys = (ls: readonly JsonLine[]): string[] =>
      [
        ...new Set(
          ls
            .filter((l) => l.type === 'Point' && l.metric === 'http_req_duration')
            .map((l) =>
              Object.keys(l.data.tags ?? {})
                .sort()
                .join(','),
            ),
        ),
      ].sort();
    assert.deepEqual(keys(lines(join(run.dir, 'out.json'))), keys(lines(join(REFERENCE, 'fixture.out.json'))));
  });
});

void test('abort.js as k6 ran it: abortOnFail stops the run early, exit 99', async () => {
  const started = Date.now();
  const run = await runReference('abort.js', ['-q'], { BASE_URL: server.url });
  assert.equal(run.code, 99, run.stderr);
  assert.ok(Date.now() - started < 15_000);
  assert.match(run.stderr, /at least one has abortOnFail enabled, stopping test prematurely/);
});

void test('exception.js as k6 ran it: logged with its position, exit 0, the iteration counted', async () => {
  const run = await runReference('exception.js', ['--summary-export', 'e.json'], {});
  assert.equal(run.code, 0, run.stderr);
  // k6: `at file:///k6-reference/exception.js:3:35(3)`: the anonymous default function has no name.
  assert.match(
    run.stderr,
    /level=error msg="Error: boom from script\\n\\tat file:\/\/\/[^ ]*exception\.js:3:\d+\\n" executor=shared-iterations scenario=default source=stacktrace/,
  );
  const s = JSON.parse(readFileSync(join(run.dir, 'e.json'), 'utf8')) as { metrics: Record<string, { count?: number }> };
  assert.equal(s.metrics.iterations?.count, 1);
});
