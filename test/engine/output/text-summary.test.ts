import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { humanizeValue, textSummary, type SummaryData } from '../../../engine/output/index.ts';
import { readReference, readReferenceJson } from '../metrics/k6-fixture.ts';

/** The summary block of the default end-of-test output (fixture-default-summary.stdout.txt). */
function referenceSummaryLines(): string[] {
  const lines = readReference('fixture-default-summary.stdout.txt').split('\n');
  const start = lines.findIndex((l) => l.includes('✓ health is 200'));
  const end = lines.findIndex((l) => l.startsWith('     ws_sessions'));
  assert.ok(start > 0 && end > start);
  return lines.slice(start, end + 1);
}

/** handleSummary data of the fixture run, with fixture_ttft's verdict as in the default-summary run (it passed there). */
function referenceData(): SummaryData {
  const data = readReferenceJson('fixture.handle-summary-data.json') as SummaryData;
  const ttft = data.metrics.fixture_ttft;
  if (ttft?.thresholds !== undefined) ttft.thresholds = { 'avg<1': { ok: true }, 'p(90)<5000': { ok: true } };
  return data;
}

/** Masks numbers and units, collapses spaces: what stays is the layout. */
function shape(line: string): string {
  return line
    .replace(/\d+(\.\d+)?(ns|µs|ms|s|m|h|%| kB| MB| B)?/g, '#')
    .replace(/#(\/s)?/g, '#')
    .replace(/ +/g, ' ')
    .trimEnd();
}

void describe('textSummary', () => {
  void it('renders the same lines as k6 for the same metrics (names, order, marks, dot leaders, columns)', () => {
    const ref = referenceSummaryLines();
    const ours = textSummary(referenceData(), { indent: ' ', enableColors: false }).split('\n');
    assert.equal(ours.length, ref.length, ours.join('\n'));
    ref.forEach((r, i) => {
      const o = ours[i] ?? '';
      const colon = r.indexOf(':');
      if (colon > 0 && r.includes('..')) assert.equal(o.slice(0, o.indexOf(':') + 1), r.slice(0, colon + 1), `line ${i + 1} prefix`);
      assert.equal(shape(o), shape(r), `line ${i + 1}:\nours: ${o}\nk6:   ${r}`);
    });
    // Lines whose values are the same in both runs are identical to the byte, padding included.
    for (const prefix of ['     vus...', '     vus_max...', '     ✓ health is 200', '       ✗ slow under 50ms']) {
      const r = ref.find((l) => l.startsWith(prefix));
      assert.ok(r, prefix);
      assert.ok(ours.includes(r), `missing exact line: ${r}`);
    }
  });

  void it('fails the structure comparison when a threshold verdict differs (the test can fail)', () => {
    const data = referenceData();
    const m = data.metrics.http_req_failed;
    if (m?.thresholds !== undefined) m.thresholds = { 'rate<0.5': { ok: false } };
    const ours = textSummary(data, { enableColors: false }).split('\n');
    const ref = referenceSummaryLines();
    assert.ok(ours.some((l, i) => shape(l) !== shape(ref[i] ?? '')));
    assert.ok(ours.some((l) => l.startsWith('   ✗ http_req_failed...')));
  });

  void it('colours marks and values with ANSI codes when enabled', () => {
    const text = textSummary(referenceData(), { enableColors: true });
    assert.ok(text.includes('\x1b[32m     ✓ health is 200\x1b[0m'));
    assert.ok(text.includes('\x1b[31m✗\x1b[0m checks'));
    assert.ok(text.includes('\x1b[36m'));
    assert.ok(text.includes('\x1b[2m.'));
  });

  void it('humanizes values like k6 (rates truncated, bytes, durations, time units)', () => {
    const trend = { type: 'trend', contains: 'time' } as const;
    const cases: [
      number,
      { type: 'rate' | 'counter' | 'trend' | 'gauge'; contains: 'default' | 'time' | 'data' },
      string | undefined,
      string,
    ][] = [
      [0.8932038834951457, { type: 'rate', contains: 'default' }, undefined, '89.32%'],
      [0.03296703296703297, { type: 'rate', contains: 'default' }, undefined, '3.29%'],
      [1, { type: 'rate', contains: 'default' }, undefined, '100.00%'],
      [68242, { type: 'counter', contains: 'data' }, undefined, '68 kB'],
      [9635.702948519205, { type: 'counter', contains: 'data' }, undefined, '9.6 kB'],
      [2_200_000, { type: 'counter', contains: 'data' }, undefined, '2.2 MB'],
      [7, { type: 'counter', contains: 'data' }, undefined, '7 B'],
      [18.852476123, { type: 'counter', contains: 'default' }, undefined, '18.852476'],
      [0, trend, undefined, '0s'],
      [0.000044, trend, undefined, '44ns'],
      [0.5765, trend, undefined, '576.5µs'],
      [1.97, trend, undefined, '1.97ms'],
      [101.4, trend, undefined, '101.4ms'],
      [100, trend, undefined, '100ms'],
      [4019.115, trend, undefined, '4.01s'],
      [125_000, trend, undefined, '2m5s'],
      [3_725_000, trend, undefined, '1h2m5s'],
      [1.5, trend, 'ms', '1.50ms'],
      [1.5, trend, 's', '0.00s'],
      [1.5, trend, 'us', '1500.00µs'],
    ];
    for (const [v, m, unit, want] of cases) assert.equal(humanizeValue(v, m, unit), want, `${v} ${m.contains} ${String(unit)}`);
  });

  void it('imports no Node API (it is bundled into k6 scripts)', () => {
    for (const f of ['text-summary.ts', 'summary-types.ts']) {
      const src = readFileSync(fileURLToPath(new URL(`../../../engine/output/${f}`, import.meta.url)), 'utf8');
      const imports = [...src.matchAll(/^import .* from '([^']+)';/gm)].map((m) => m[1]);
      // shared/ is Node-free too (the boundary check holds it to the in-script rule).
      for (const spec of imports)
        assert.ok(spec === './summary-types.ts' || /^\.\.\/\.\.\/shared\/[\w-]+\.ts$/.test(spec ?? ''), `${f} imports ${String(spec)}`);
    }
  });
});
