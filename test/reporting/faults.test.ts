/**
 * Faults in the report: faults.jsonl (the fault controller's log) merged into one row per fault, a
 * "Faults" table in report.html, summary.md and verdict.json, and a mark per fault on every time chart,
 * checked in a real browser (the marks are drawn pixels, so the test looks at the canvas).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { parseFaultLog } from '../../src/reporting/faults.ts';
import { buildReport } from '../../src/reporting/index.ts';
import { httpRun, tmp } from './helpers.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const LOG = [
  {
    kind: 'fault',
    id: 'f1',
    action: 'consumer-crash',
    params: { durationMs: 0 },
    at: T0 + 5000,
    appliedAt: T0 + 5200,
    endedAt: null,
    ok: true,
    detail: { instance: 'worker-1', held: { seq: 85 } },
  },
  { kind: 'recovery', id: 'f1', recoveryMs: 177, at: T0 + 5400 },
  { kind: 'end', id: 'f1', endedAt: T0 + 9000, detail: { instance: 'worker-1', restartedAt: T0 + 8900 } },
  {
    kind: 'fault',
    id: 'f2',
    action: 'partition',
    params: { durationMs: 4000, mode: 'blackhole' },
    at: T0 + 12_000,
    appliedAt: T0 + 12_000,
    endedAt: null,
    ok: true,
    detail: {},
  },
  { kind: 'end', id: 'f2', endedAt: T0 + 16_000, detail: { bytesDropped: 1748, refused: 0 } },
  { kind: 'recovery', id: 'f2', recoveryMs: 4487, at: T0 + 16_600 },
  { kind: 'refused', action: 'explode', at: T0 + 13_000, error: 'unknown action' },
];
const TEXT = `${LOG.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`;

void describe('faults.jsonl', () => {
  void it('merges fault, end and recovery lines per fault; refusals are rows with their error; bad lines are skipped', () => {
    assert.deepEqual(parseFaultLog(TEXT), [
      {
        id: 'f1',
        action: 'consumer-crash',
        at: T0 + 5000,
        appliedAt: T0 + 5200,
        endedAt: T0 + 9000,
        recoveryMs: 177,
        note: 'worker-1, mid-message (seq 85)',
        error: null,
      },
      {
        id: 'f2',
        action: 'partition',
        at: T0 + 12_000,
        appliedAt: T0 + 12_000,
        endedAt: T0 + 16_000,
        recoveryMs: 4487,
        note: '4000 ms, blackhole, 1748 bytes dropped',
        error: null,
      },
      { id: '–', action: 'explode', at: T0 + 13_000, appliedAt: null, endedAt: null, recoveryMs: null, note: '', error: 'unknown action' },
    ]);
  });
});

void describe('faults in the report', () => {
  let browser: Browser;
  let dir = '';
  before(async () => {
    dir = join(tmp(), 'bus-durability-20260101-120000');
    mkdirSync(dir);
    writeFileSync(join(dir, 'out.json'), httpRun({ n: 2000, latency: (i) => 5 + (i % 50), spacingMs: 10, start: T0 }));
    writeFileSync(join(dir, 'faults.jsonl'), TEXT);
    await buildReport({ runDir: dir, historyDir: false });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    });
  });
  after(async () => {
    await browser.close();
  });

  void it('report.html, summary.md and verdict.json list every fault with its time and recovery', () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const table = /<table id="faults">(.*?)<\/table>/s.exec(html)?.[1] ?? '';
    assert.match(table, /consumer-crash<\/td><td>\+5\.0 s<\/td>.*?<td>177\.00 ms<\/td>/s);
    assert.match(table, /partition<\/td><td>\+12\.0 s<\/td>.*?<td>4\.00 s<\/td><td>4\.49 s<\/td>/s);
    assert.match(table, /explode.*unknown action/s);
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    assert.match(md, /\| consumer-crash \| \+5\.0 s \| 177\.00 ms \| worker-1, mid-message \(seq 85\) \|/);
    const verdict = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as { faults: Array<{ action: string }> };
    assert.deepEqual(
      verdict.faults.map((f) => f.action),
      ['consumer-crash', 'partition', 'explode'],
    );
  });

  void it('every time chart carries a mark per applied fault, drawn on the canvas', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    await page.waitForFunction("document.documentElement.hasAttribute('data-charts')");
    assert.deepEqual(errors, []);
    // Time charts only: a latency distribution or latency against rate has no time axis to mark.
    const charts = await page.evaluate<number>(
      "document.querySelectorAll('.chart:not([data-kind=endpoint-distribution]):not([data-kind=rate-latency])').length",
    );
    const marks = await page.evaluate<string[]>(
      "[...document.querySelectorAll('.chart [data-fault-marks]')].map((e) => e.getAttribute('data-fault-marks'))",
    );
    assert.equal(marks.length, charts, 'every chart draws marks');
    assert.ok(
      marks.every((m) => m === '2'),
      `two applied faults on each chart: ${marks.join(',')}`,
    );
    // The mark colour (#9a6700) is on the first chart's canvas at the consumer-crash time.
    const inked = await page.evaluate<number>(`(() => {
      const c = document.querySelector('#charts-main canvas'); const ctx = c.getContext('2d');
      const px = ctx.getImageData(0, 0, c.width, c.height).data; let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] === 0x9a && px[i + 1] === 0x67 && px[i + 2] === 0x00) n++;
      return n;
    })()`);
    assert.ok(inked > 50, `mark pixels on the canvas: ${inked}`);
    await page.close();
  });
});
