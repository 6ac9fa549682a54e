import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { Aggregator, MetricRegistry } from '../../../engine/metrics/index.ts';
import { parseThresholds } from '../../../engine/thresholds/index.ts';
import { JsonOutput, formatRfc3339Nano, goJsonString } from '../../../engine/output/index.ts';
import type { Sample } from '../../../engine/contracts.ts';
import { FIXTURE_CUSTOM_METRICS, FIXTURE_THRESHOLDS, fixtureSamples, parseRfc3339Nano, readReference } from '../metrics/k6-fixture.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'agentload-json-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function writeFixture(file: string, samples: readonly Sample[], batch = 37): Promise<string> {
  const registry = new MetricRegistry();
  for (const m of FIXTURE_CUSTOM_METRICS) registry.define(m.name, m.type, m.contains);
  const { set } = parseThresholds(FIXTURE_THRESHOLDS, registry);
  const agg = new Aggregator(registry, { submetrics: set.keys() });
  const out = new JsonOutput({
    path: file,
    registry,
    thresholds: set.sourcesByKey(),
    submetrics: (m) => agg.submetricsOf(m),
    bufferBytes: 4096,
  });
  for (let i = 0; i < samples.length; i += batch) out.add(samples.slice(i, i + batch));
  await out.close();
  return file;
}

const TIME_RE = /"time":"([^"]+)"/;

void describe('JsonOutput', () => {
  void it('writes the reference run line for line like k6 (Metric lines, key order, tags, times to the µs)', async () => {
    const file = await writeFixture(path.join(dir, 'out.json'), fixtureSamples());
    const ours = readFileSync(file, 'utf8').split('\n');
    const ref = readReference('fixture.out.json').split('\n');
    assert.equal(ours.length, ref.length);
    ref.forEach((refLine, i) => {
      const ourLine = ours[i] ?? '';
      const rt = TIME_RE.exec(refLine);
      const ot = TIME_RE.exec(ourLine);
      if (rt === null) {
        assert.equal(ourLine, refLine, `line ${i + 1}`);
        return;
      }
      assert.ok(ot, `line ${i + 1}`);
      assert.match(ot[1] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
      assert.ok(Math.abs(parseRfc3339Nano(ot[1] ?? '') - parseRfc3339Nano(rt[1] ?? '')) < 0.001, `line ${i + 1} time`);
      assert.equal(ourLine.replace(TIME_RE, ''), refLine.replace(TIME_RE, ''), `line ${i + 1}`);
    });
  });

  void it('gzips when the name ends in .gz (round trip equals the plain file)', async () => {
    const samples = fixtureSamples();
    const plain = readFileSync(await writeFixture(path.join(dir, 'plain.json'), samples), 'utf8');
    const gz = readFileSync(await writeFixture(path.join(dir, 'out.json.gz'), samples));
    assert.equal(gz[0], 0x1f);
    assert.equal(gz[1], 0x8b);
    assert.equal(gunzipSync(gz).toString('utf8'), plain);
  });

  void it('writes metadata (vu, iter) after tags, sorts tags, escapes like Go', async () => {
    const registry = new MetricRegistry();
    const file = path.join(dir, 'meta.json');
    const out = new JsonOutput({ path: file, registry });
    out.add([
      {
        metric: 'iterations',
        time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
        value: 1,
        tags: { z: 'a&b<c>', a: '1' },
        metadata: { vu: '3', iter: '7' },
      },
      { metric: 'iterations', time: Date.UTC(2026, 0, 2, 3, 4, 6), value: 2.5, tags: {}, metadata: {} },
    ]);
    await out.close();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines, [
      '{"type":"Metric","data":{"name":"iterations","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"iterations"}',
      '{"metric":"iterations","type":"Point","data":{"time":"2026-01-02T03:04:05.006Z","value":1,"tags":{"a":"1","z":"a\\u0026b\\u003cc\\u003e"},"metadata":{"iter":"7","vu":"3"}}}',
      '{"metric":"iterations","type":"Point","data":{"time":"2026-01-02T03:04:06Z","value":2.5,"tags":{}}}',
    ]);
    const parsed = JSON.parse(lines[1] ?? '') as { data: { tags: Record<string, string> } };
    assert.equal(parsed.data.tags.z, 'a&b<c>');
  });

  void it('flushes on a timer while a run is going, and rejects close() when the file cannot be written', async () => {
    const file = path.join(dir, 'timer.json');
    const out = new JsonOutput({ path: file, registry: new MetricRegistry(), flushIntervalMs: 20 });
    out.add([{ metric: 'vus', time: 0, value: 1, tags: {} }]);
    await new Promise((r) => setTimeout(r, 200));
    assert.match(readFileSync(file, 'utf8'), /"metric":"vus","type":"Point"/);
    await out.close();
    const bad = new JsonOutput({ path: path.join(dir, 'missing-dir', 'x.json'), registry: new MetricRegistry() });
    bad.add([{ metric: 'vus', time: 0, value: 1, tags: {} }]);
    await assert.rejects(bad.close(), /--out json: writing .*x\.json failed/);
  });

  void it('writes to a stdout stream for "-" (k6 --out json without a file) and leaves it open', async () => {
    const chunks: string[] = [];
    const stdout = new PassThrough();
    stdout.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const out = new JsonOutput({ path: '-', registry: new MetricRegistry(), stdout });
    out.add([{ metric: 'vus', time: Date.UTC(2026, 0, 1), value: 2, tags: {} }]);
    await out.close();
    await new Promise((r) => setImmediate(r));
    assert.equal(
      chunks.join('').split('\n')[1],
      '{"metric":"vus","type":"Point","data":{"time":"2026-01-01T00:00:00Z","value":2,"tags":{}}}',
    );
    assert.equal(stdout.writableEnded, false);
  });

  void it('writes abortOnFail thresholds in Metric lines as k6 does', async () => {
    const registry = new MetricRegistry();
    const { set } = parseThresholds({ http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '1s' }] }, registry);
    const file = path.join(dir, 'abort.json');
    const out = new JsonOutput({ path: file, registry, thresholds: set.jsonConfigByKey() });
    out.add([{ metric: 'http_req_failed', time: 0, value: 1, tags: {} }]);
    await out.close();
    assert.equal(
      readFileSync(file, 'utf8').split('\n')[0],
      '{"type":"Metric","data":{"name":"http_req_failed","type":"rate","contains":"default","thresholds":[{"threshold":"rate<0.1","abortOnFail":true,"delayAbortEval":"1s"}],"submetrics":null},"metric":"http_req_failed"}',
    );
  });

  void it('formats RFC 3339 times with nanosecond digits, trailing zeros dropped', () => {
    const t = Date.UTC(2026, 10, 23, 15, 58, 14);
    assert.equal(formatRfc3339Nano(t), '2026-11-23T15:58:14Z');
    assert.equal(formatRfc3339Nano(t + 0.5), '2026-11-23T15:58:14.0005Z');
    assert.equal(formatRfc3339Nano(t + 169.25), '2026-11-23T15:58:14.16925Z');
    assert.equal(formatRfc3339Nano(t + 999.9999999), '2026-11-23T15:58:15Z');
    assert.equal(goJsonString('\u2028'), '"\\u2028"');
  });
});
