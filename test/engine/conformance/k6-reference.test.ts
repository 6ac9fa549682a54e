/**
 * The ported k6 reference scripts (test/fixtures/k6-ported) run on the embedded engine against a
 * loopback server like the one the reference was recorded against; their outputs are compared
 * with test/fixtures/k6-reference: metric set and types, HTTP tag keys, threshold verdicts, exit codes,
 * summary export / handleSummary keys, per-segment iteration counts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { downUrl, startReferenceServer, type ReferenceServer } from '../../support/reference-server.ts';
import { REFERENCE, runCli, runScript, tempDir } from './run-helpers.ts';

interface JsonLine {
  type: 'Metric' | 'Point';
  metric: string;
  data: { name?: string; type?: string; contains?: string; tags?: Record<string, string>; value?: number };
}
type Summary = {
  metrics: Record<
    string,
    { type?: string; contains?: string; values?: Record<string, number>; thresholds?: Record<string, { ok: boolean }> } & Record<
      string,
      unknown
    >
  >;
  root_group: Group;
  options?: unknown;
  state?: unknown;
};
interface Group {
  name: string;
  path: string;
  groups: Record<string, Group> | Group[];
  checks: Record<string, { name: string; passes: number; fails: number }> | { name: string }[];
}

const readLines = (file: string): JsonLine[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonLine);
const readJson = (file: string): Summary => JSON.parse(readFileSync(file, 'utf8')) as Summary;

function metricSet(lines: readonly JsonLine[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines) if (l.type === 'Metric') m.set(l.metric, `${l.data.type ?? ''}/${l.data.contains ?? ''}`);
  return m;
}

function httpTagKeySets(lines: readonly JsonLine[]): Set<string> {
  const s = new Set<string>();
  for (const l of lines)
    if (l.type === 'Point' && l.metric === 'http_req_duration')
      s.add(
        Object.keys(l.data.tags ?? {})
          .sort()
          .join(','),
      );
  return s;
}

/** Metrics that appear only when the loaded machine falls behind the arrival rate. */
const TIMING_ONLY = new Set(['dropped_iterations']);

let server: ReferenceServer;
before(async () => {
  server = await startReferenceServer();
});
after(async () => {
  await server.close();
});

void describe('fixture.js (3 scenarios, custom metrics, sub-metric thresholds, handleSummary)', () => {
  let run: { code: number; stdout: string; stderr: string };
  let dir: string;
  before(async () => {
    dir = tempDir();
    run = await runScript('fixture.js', ['--out', `json=${join(dir, 'out.json')}`, '--summary-export', join(dir, 'export.json')], {
      BASE_URL: server.url,
      SUMMARY_DATA: join(dir, 'hs.json'),
    });
  });

  void test("exits 99 (thresholds crossed) with k6's log line, handleSummary output replaces the text summary", () => {
    assert.equal(run.code, 99, run.stderr);
    assert.match(run.stderr, /level=error msg="thresholds on metrics '[^']*http_req_duration\{scenario:ramp\}[^']*' have been crossed"/);
    assert.match(run.stdout, /handleSummary ran/);
    assert.doesNotMatch(run.stdout, /http_reqs\.{3,}/, 'default summary must not print when handleSummary returns stdout');
    assert.match(run.stdout, /scenarios: \(100\.00%\) 3 scenarios, 13 max VUs, 41s max duration \(incl\. graceful stop\):/);
  });

  void test('--out json declares the same metrics with the same types and contains', () => {
    const ours = metricSet(readLines(join(dir, 'out.json')));
    const ref = metricSet(readLines(join(REFERENCE, 'fixture.out.json')));
    for (const k of TIMING_ONLY) ours.delete(k);
    assert.deepEqual(Object.fromEntries([...ours].sort()), Object.fromEntries([...ref].sort()));
  });

  void test('HTTP points carry the same tag keys', () => {
    assert.deepEqual(
      [...httpTagKeySets(readLines(join(dir, 'out.json')))].sort(),
      [...httpTagKeySets(readLines(join(REFERENCE, 'fixture.out.json')))].sort(),
    );
  });

  void test("handleSummary data has k6's keys, groups, checks and the deterministic threshold verdicts", () => {
    const ours = readJson(join(dir, 'hs.json'));
    const ref = readJson(join(REFERENCE, 'fixture.handle-summary-data.json'));
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(ref).sort());
    const metricKeys = Object.keys(ours.metrics)
      .filter((k) => !TIMING_ONLY.has(k))
      .sort();
    assert.deepEqual(metricKeys, Object.keys(ref.metrics).sort());
    for (const k of metricKeys) {
      const o = ours.metrics[k];
      const r = ref.metrics[k];
      assert.ok(o !== undefined && r !== undefined);
      assert.equal(o.type, r.type, `${k} type`);
      assert.equal(o.contains, r.contains, `${k} contains`);
      assert.deepEqual(Object.keys(o.values ?? {}).sort(), Object.keys(r.values ?? {}).sort(), `${k} value keys`);
      assert.deepEqual(Object.keys(o.thresholds ?? {}).sort(), Object.keys(r.thresholds ?? {}).sort(), `${k} thresholds`);
    }
    // Verdicts that do not depend on the machine's speed.
    const verdict = (k: string, src: string): boolean | undefined => ours.metrics[k]?.thresholds?.[src]?.ok;
    assert.equal(verdict('http_req_duration{scenario:ramp}', 'med<50'), false);
    assert.equal(verdict('http_req_failed', 'rate<0.5'), true);
    assert.equal(verdict('fixture_events', 'count>5'), true);
    assert.equal(verdict('fixture_queue_depth', 'value<100'), true);
    assert.equal(verdict('fixture_ok_rate', 'rate>0.99'), true);
    assert.equal(verdict('ws_connecting', 'p(95)<1000'), true);
    // handleSummary data lists groups and checks as arrays (the summary export uses maps).
    const shape = (g: Group): unknown => ({
      name: g.name,
      path: g.path,
      checks: (g.checks as { name: string }[]).map((c) => c.name).sort(),
      groups: (g.groups as Group[]).map(shape),
    });
    assert.deepEqual(shape(ours.root_group), shape(ref.root_group));
  });

  void test("summary export has the reference's shape", () => {
    const ours = readJson(join(dir, 'export.json'));
    const ref = readJson(join(REFERENCE, 'fixture.summary-export.json'));
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(ref).sort());
    assert.deepEqual(
      Object.keys(ours.metrics)
        .filter((k) => !TIMING_ONLY.has(k))
        .sort(),
      Object.keys(ref.metrics).sort(),
    );
    for (const k of Object.keys(ref.metrics)) {
      assert.deepEqual(Object.keys(ours.metrics[k] ?? {}).sort(), Object.keys(ref.metrics[k] ?? {}).sort(), `${k} keys`);
    }
  });
});

void test('abort.js: abortOnFail with delayAbortEval stops the 20 s run early with exit 99', async () => {
  const started = Date.now();
  const run = await runScript('abort.js', ['-q'], { BASE_URL: server.url });
  assert.equal(run.code, 99, run.stderr);
  assert.ok(Date.now() - started < 15_000, 'the run must stop long before its 20 s duration');
  assert.match(
    run.stderr,
    /thresholds on metrics 'http_req_failed' were crossed; at least one has abortOnFail enabled, stopping test prematurely/,
  );
  assert.match(run.stdout, /✗ http_req_failed\.+: 100\.00%/);
});

void test("init-error.js: an invalid threshold exits 104 before any VU starts, with k6's message", async () => {
  const run = await runScript('init-error.js', [], {});
  assert.equal(run.code, 104);
  assert.match(run.stderr, /failed parsing threshold expresion's \\"p\(95\)<<500\\" right hand side/);
  assert.doesNotMatch(run.stdout, /scenarios:/, 'no scenario header: nothing started');
  assert.doesNotMatch(run.stdout, /iterations/);
});

void test('exception.js: the exception is logged like k6 with the script position, the run goes on, exit 0', async () => {
  const dir = tempDir();
  const run = await runScript('exception.js', ['--summary-export', join(dir, 's.json')], {});
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /level=error msg="Error: boom from script\\n\\tat .*exception\.js:4:\d+\)?\\n" executor=shared-iterations scenario=default source=stacktrace/,
  );
  const s = readJson(join(dir, 's.json'));
  assert.equal(s.metrics.iterations?.count, 1);
});

void test('exception.js through the real engine/cli.ts process', async () => {
  const dir = tempDir();
  const run = await runCli('exception.js', ['--summary-export', 's.json'], {}, dir);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /execution: local/);
  assert.match(run.stdout, /iterations\.+: 1 /);
  assert.match(run.stderr, /boom from script/);
  assert.ok(existsSync(join(dir, 's.json')));
});

void describe('segments.js: iterations per execution segment equal the reference', () => {
  const cases: [string, string[]][] = [
    ['full', []],
    ['0_1-2', ['--execution-segment', '0:1/2']],
    ['1-2_1', ['--execution-segment', '1/2:1']],
    ['0_1-3', ['--execution-segment', '0:1/3', '--execution-segment-sequence', '0,1/3,2/3,1']],
    ['1-3_2-3', ['--execution-segment', '1/3:2/3', '--execution-segment-sequence', '0,1/3,2/3,1']],
    ['2-3_1', ['--execution-segment', '2/3:1', '--execution-segment-sequence', '0,1/3,2/3,1']],
  ];
  for (const [name, flags] of cases) {
    void test(`segment ${name}`, async () => {
      const dir = tempDir();
      const run = await runScript('segments.js', ['-q', '--no-summary', '--summary-export', join(dir, 's.json'), ...flags], {
        BASE_URL: server.url,
      });
      assert.equal(run.code, 0, run.stderr);
      const ours = readJson(join(dir, 's.json')).metrics;
      const ref = readJson(join(REFERENCE, `segments.${name}.summary-export.json`)).metrics;
      const dropped = Number(ours.dropped_iterations?.count ?? 0);
      // Iteration executors are exact; the arrival-rate part may differ by one (and by dropped ones on a loaded machine).
      const diff = Math.abs(Number(ours.iterations?.count) + dropped - Number(ref.iterations?.count));
      assert.ok(
        diff <= 1,
        `iterations ${String(ours.iterations?.count)} (+${String(dropped)} dropped) vs reference ${String(ref.iterations?.count)}`,
      );
      assert.deepEqual(ours.vus_max, ref.vus_max);
    });
  }
});

void test('a forgotten await is reported once per call site with the fix', async () => {
  const run = await runScript('forgot-await.js', ['-q'], { BASE_URL: server.url });
  assert.equal(run.code, 0, run.stderr);
  const http = run.stderr.match(/add await: `await http\.get\(\.\.\.\)`/g) ?? [];
  const sleep = run.stderr.match(/add await: `await sleep\(0\.01\)`/g) ?? [];
  assert.equal(http.length, 1, run.stderr);
  assert.equal(sleep.length, 1, run.stderr);
  assert.match(run.stderr, /forgot-await\.js:\d+:\d+/);
});

void test('a script that awaits gets no await warning', async () => {
  const run = await runScript('exception.js', ['-q'], {});
  assert.doesNotMatch(run.stderr, /add await/);
});

void test('a down target is measured as error samples (status 0, error_code 1212), never a crash', async () => {
  const dir = tempDir();
  const run = await runScript('down.js', ['-q', '--out', `json=${join(dir, 'o.json')}`, '--summary-export', join(dir, 's.json')], {
    BASE_URL: await downUrl(),
  });
  assert.equal(run.code, 0, run.stderr);
  const s = readJson(join(dir, 's.json')).metrics;
  assert.equal(s.http_reqs?.count, 3);
  assert.equal(s.http_req_failed?.passes, 3, "k6 counts failed requests as the rate's passes");
  assert.equal(s.checks?.fails, 0);
  const points = readLines(join(dir, 'o.json')).filter((l) => l.type === 'Point' && l.metric === 'http_reqs');
  assert.equal(points.length, 3);
  for (const p of points) {
    const tags = p.data.tags ?? {};
    assert.equal(tags.status, '0');
    assert.equal(tags.error_code, '1212');
    assert.match(tags.error ?? 'missing', /connection refused/);
  }
});

void test('an unsupported flag exits 104 naming it and listing the supported ones', async () => {
  const run = await runScript('exception.js', ['--address', 'localhost:6565'], {});
  assert.equal(run.code, 104);
  assert.match(run.stderr, /flag --address is not supported by the embedded engine; use one of: --vus, --duration/);
});

void test('SIGTERM stops the CLI gracefully: teardown, summary, outputs flushed, exit 105', async () => {
  const dir = tempDir();
  const run = await runCli('long.js', ['--out', 'json=o.json.gz', '--summary-export', 's.json'], { BASE_URL: server.url }, dir, (child) => {
    // Signal once the run has started (the header is printed after options were validated).
    let sent = false;
    child.stdout?.on('data', (c: Buffer) => {
      if (!sent && c.toString('utf8').includes('* default:')) {
        sent = true;
        setTimeout(() => {
          child.kill('SIGTERM');
        }, 1500);
      }
    });
  });
  assert.equal(run.code, 105, run.stderr);
  assert.match(run.stderr, /teardown ran/);
  assert.match(run.stdout, /http_reqs\.+: \d+/);
  const s = readJson(join(dir, 's.json')).metrics;
  assert.ok(Number(s.http_reqs?.count) > 0);
  const { gunzipSync } = await import('node:zlib');
  const lines = gunzipSync(readFileSync(join(dir, 'o.json.gz')))
    .toString('utf8')
    .trim()
    .split('\n');
  assert.ok(lines.length > 2);
  for (const l of lines) JSON.parse(l);
});

void test('an external abort signal stops runEngine with exit 105', async () => {
  const ctl = new AbortController();
  setTimeout(() => {
    ctl.abort();
  }, 1500);
  const run = await runScript('long.js', ['-q'], { BASE_URL: server.url }, ctl.signal);
  assert.equal(run.code, 105, run.stderr);
  assert.match(run.stderr, /teardown ran/);
});
