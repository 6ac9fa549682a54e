/**
 * Sample rows (contracts.ts SampleRow): a request's nine http_req_* samples and an iteration's end reach the
 * aggregator as one row each, without a Sample object per value, while --out json and the other outputs
 * get the samples. These tests prove the two paths record the same thing, and that a sample dropped on
 * the row path would show: the k6 reference run's samples as rows give the aggregator the state they give
 * it one by one, and a real run's end-of-test summary (the aggregator, fed rows) equals what its --out json
 * file (fed samples) adds up to, on one thread and on two worker threads.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aggregator, MetricRegistry, addRowTo, samplesOfRow } from '../../../engine/metrics/index.ts';
import type { Sample, SampleRow, SampleSink } from '../../../engine/contracts.ts';
import { FanOut } from '../../../engine/test-run/instance.ts';
import { runSource, tempDir } from '../conformance/run-helpers.ts';
import { FIXTURE_CUSTOM_METRICS, FIXTURE_THRESHOLDS, fixtureSamples, parseJsonLines, type PointLine } from './k6-fixture.ts';

/** Consecutive samples with the same time and tags (and no metadata) as one row; the rest as they are. */
function asRows(samples: readonly Sample[]): (SampleRow | Sample)[] {
  const out: (SampleRow | Sample)[] = [];
  let row: { metrics: string[]; values: number[]; time: number; tags: Sample['tags']; key: string } | undefined;
  for (const s of samples) {
    if (s.metadata !== undefined) {
      row = undefined;
      out.push(s);
      continue;
    }
    const key = `${String(s.time)} ${JSON.stringify(s.tags)}`;
    if (row?.key !== key) {
      row = { metrics: [], values: [], time: s.time, tags: s.tags, key };
      out.push(row);
    }
    row.metrics.push(s.metric);
    row.values.push(s.value);
  }
  return out;
}

const isRow = (x: SampleRow | Sample): x is SampleRow => 'values' in x;

function fixtureAggregator(breakdown: boolean): Aggregator {
  const registry = new MetricRegistry();
  for (const m of FIXTURE_CUSTOM_METRICS) registry.define(m.name, m.type, m.contains);
  return new Aggregator(registry, { submetrics: Object.keys(FIXTURE_THRESHOLDS), breakdown });
}

/** The reference samples through `agg`: rows by addRow (a `drop`ped value left out of the row at that index), the rest by add. */
function feedRows(agg: Aggregator, parts: readonly (SampleRow | Sample)[], drop?: number): void {
  parts.forEach((p, i) => {
    if (!isRow(p)) agg.add([p]);
    else agg.addRow(i === drop ? { ...p, values: p.values.slice(0, -1) } : p);
  });
}

void describe('sample rows', () => {
  const samples = fixtureSamples();
  const parts = asRows(samples);
  const rows = parts.filter(isRow);

  void it('the reference run has rows of several samples (the grouping is not trivial)', () => {
    assert.ok(rows.some((r) => r.values.length >= 8));
    assert.ok(rows.length < samples.length / 2, `${String(rows.length)} rows of ${String(samples.length)} samples`);
  });

  void it('samplesOfRow gives back the samples a row was made of, in order', () => {
    assert.deepEqual(
      parts.flatMap((p) => (isRow(p) ? samplesOfRow(p) : [p])),
      samples,
    );
  });

  for (const breakdown of [false, true]) {
    void it(`as rows, the k6 reference run gives the aggregator the same state as sample by sample${breakdown ? ' (full summary breakdown)' : ''}`, () => {
      const one = fixtureAggregator(breakdown);
      one.add(samples);
      const byRow = fixtureAggregator(breakdown);
      feedRows(byRow, parts);
      assert.deepEqual(byRow.snapshot(), one.snapshot());
    });
  }

  void it('one value dropped from one row shows in the aggregator state (the comparison above would fail)', () => {
    const one = fixtureAggregator(false);
    one.add(samples);
    const i = parts.findIndex((p) => isRow(p) && p.values.length >= 8);
    const dropped = fixtureAggregator(false);
    feedRows(dropped, parts, i);
    assert.notDeepEqual(dropped.snapshot(), one.snapshot());
  });

  void it('the fan-out gives a row to the sinks that take rows, and its samples, built once, to the others', () => {
    const row = rows.find((r) => r.values.length >= 8);
    assert.ok(row);
    const got: { rows: SampleRow[]; samples: (readonly Sample[])[] } = { rows: [], samples: [] };
    const rowSink: SampleSink = {
      add: () => assert.fail('a sink that takes rows got samples'),
      addRow: (r) => got.rows.push(r),
    };
    const sampleSink: SampleSink = { add: (s) => got.samples.push(s) };
    const fan = new FanOut();
    fan.sinks.push(sampleSink, rowSink, sampleSink);
    fan.addRow(row);
    assert.deepEqual(got.rows, [row]);
    assert.equal(got.samples.length, 2);
    assert.equal(got.samples[0], got.samples[1]);
    assert.deepEqual(got.samples[0], samplesOfRow(row));
    // addRowTo: a plain sink gets the samples.
    const plain: Sample[] = [];
    addRowTo({ add: (s) => plain.push(...s) }, row);
    assert.deepEqual(plain, samplesOfRow(row));
  });
});

/** count, min, max and sum of the values of `points` (a trend's, counter's or rate's), for comparison with the summary. */
function stats(points: readonly PointLine[]): { count: number; min: number; max: number; sum: number; nonZero: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nonZero = 0;
  for (const p of points) {
    const v = p.data.value;
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    if (v !== 0) nonZero++;
  }
  return { count: points.length, min, max, sum, nonZero };
}

void describe('a run: the end-of-test summary (rows) equals what its --out json samples add up to', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/ok' });
        res.end();
      } else if (req.url === '/missing') {
        res.writeHead(404, { 'content-length': '7' });
        res.end('missing');
      } else {
        res.writeHead(200, { 'content-length': '2' });
        res.end('ok');
      }
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  after(() => {
    server.close();
    server.closeAllConnections();
  });

  // Redirect hops, 404s (http_req_failed passes), a group, a check, and threshold submetrics on status and group.
  const script = `import http from 'k6/http';
import { check, group } from 'k6';
export const options = {
  scenarios: { s: { executor: 'shared-iterations', vus: 4, iterations: 150 } },
  summaryTrendStats: ['count', 'min', 'max', 'avg'],
  thresholds: {
    'http_req_duration{status:404}': ['max>=0'],
    'http_req_waiting{group:::g}': ['max>=0'],
    ['http_req_failed{name:' + __ENV.BASE + '/missing}']: ['rate>=0'],
  },
};
export default async function () {
  const r = await http.get(__ENV.BASE + '/redirect');
  check(r, { ok: (x) => x.status === 200 });
  let inGroup;
  group('g', () => {
    inGroup = http.get(__ENV.BASE + (__ITER % 3 === 0 ? '/missing' : '/ok'));
  });
  await inGroup;
}
`;

  for (const workers of [1, 2]) {
    void it(`--workers ${String(workers)}: every metric and submetric of the summary, from the JSON points`, async () => {
      const dir = tempDir();
      const json = join(dir, 'out.json');
      const exported = join(dir, 'summary.json');
      const run = await runSource(
        script,
        ['-q', '--no-summary', '--workers', String(workers), '--out', `json=${json}`, '--summary-export', exported, '-e', `BASE=${base}`],
        {},
      );
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /level=(error|warning)/);
      const points = parseJsonLines(readFileSync(json, 'utf8')).filter((l): l is PointLine => l.type === 'Point');
      const summary = JSON.parse(readFileSync(exported, 'utf8')) as { metrics: Record<string, Record<string, number>> };
      const of = (metric: string, tags: Record<string, string> = {}): PointLine[] =>
        points.filter((p) => p.metric === metric && Object.entries(tags).every(([k, v]) => p.data.tags[k] === v));
      // 150 iterations: a redirect hop, its target, and one more request each.
      assert.equal(of('http_reqs').length, 450);
      const checked: [string, PointLine[]][] = [
        ['http_reqs', of('http_reqs')],
        ['iterations', of('iterations')],
        ['data_sent', of('data_sent')],
        ['data_received', of('data_received')],
        ['http_req_failed', of('http_req_failed')],
        [`http_req_failed{name:${base}/missing}`, of('http_req_failed', { name: `${base}/missing` })],
        ['checks', of('checks')],
        ['iteration_duration', of('iteration_duration')],
        ['http_req_duration{expected_response:true}', of('http_req_duration', { expected_response: 'true' })],
        ['http_req_duration{status:404}', of('http_req_duration', { status: '404' })],
        ['http_req_waiting{group:::g}', of('http_req_waiting', { group: '::g' })],
      ];
      for (const m of ['duration', 'blocked', 'connecting', 'tls_handshaking', 'sending', 'waiting', 'receiving'])
        checked.push([`http_req_${m}`, of(`http_req_${m}`)]);
      for (const [name, pts] of checked) {
        const s = summary.metrics[name];
        assert.ok(s !== undefined, `${name} is in the summary`);
        const st = stats(pts);
        assert.ok(st.count > 0, `${name} has points`);
        if ('avg' in s) {
          assert.equal(s.count, st.count, `${name} count`);
          assert.equal(s.min, st.min, `${name} min`);
          assert.equal(s.max, st.max, `${name} max`);
          assert.ok(Math.abs(s.avg - st.sum / st.count) <= 1e-9 * Math.max(1, Math.abs(st.sum / st.count)), `${name} avg`);
        } else if ('passes' in s) {
          assert.deepEqual([s.passes, s.fails], [st.nonZero, st.count - st.nonZero], `${name} passes, fails`);
        } else {
          assert.equal(s.count, st.sum, `${name} count`);
        }
      }
    });
  }
});
