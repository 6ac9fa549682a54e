// Real browser: Debian's chromium (apt-get install -y chromium) driven by playwright-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { buildReport } from '../../src/reporting/index.ts';
import { FIXTURE_HANDLE, FIXTURE_OUT, FIXTURE_SUMMARY, httpRun, metricLine, pointLine, ROOT, tmp } from './helpers.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts');
let browser: Browser;

// Page-side code is passed as strings: the Node-side tsconfig has no DOM types.
const CHARTS_READY = "document.documentElement.hasAttribute('data-charts')";
const INKED_PIXELS = `[...document.querySelectorAll('canvas')].map((c) => {
  const ctx = c.getContext('2d');
  if (!ctx || c.width === 0 || c.height === 0) return 0;
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
  return n;
})`;
/** Pixels per canvas in the first series' colour (#0969da): the axes and labels are grey, so this is the data drawn. */
const SERIES_PIXELS = `[...document.querySelectorAll('canvas')].map((c) => {
  const ctx = c.getContext('2d');
  if (!ctx || c.width === 0 || c.height === 0) return 0;
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && px[i + 2] > 150 && px[i] < 90 && px[i + 1] > 60 && px[i + 1] < 150) n++;
  return n;
})`;
const PAGE_OVERFLOW = 'document.documentElement.scrollWidth - window.innerWidth';
const parseXml = (text: string): string => `(() => {
  const doc = new DOMParser().parseFromString(${JSON.stringify(text)}, 'application/xml');
  return {
    error: doc.getElementsByTagName('parsererror').length,
    cases: [...doc.getElementsByTagName('testcase')].map((c) => ({ classname: c.getAttribute('classname'), name: c.getAttribute('name'), failed: c.getElementsByTagName('failure').length })),
    tests: doc.documentElement.getAttribute('tests'),
  };
})()`;

interface Parsed {
  error: number;
  cases: { classname: string | null; name: string | null; failed: number }[];
  tests: string | null;
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
});
after(async () => {
  await browser.close();
});

function fixtureRun(): string {
  const dir = join(tmp(), 'fixture-20261123T155814Z');
  mkdirSync(dir);
  writeFileSync(join(dir, 'out.json.gz'), gzipSync(readFileSync(FIXTURE_OUT)));
  copyFileSync(FIXTURE_SUMMARY, join(dir, 'summary-export.json'));
  copyFileSync(FIXTURE_HANDLE, join(dir, 'handle-summary-data.json'));
  return dir;
}

void test('report.html opens from disk: no console errors, no network, charts drawn, readable on desktop, phone and paper', async () => {
  const dir = fixtureRun();
  await buildReport({ runDir: dir, historyDir: false });
  const url = pathToFileURL(join(dir, 'report.html')).href;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  await page.waitForFunction(CHARTS_READY);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [url], 'the only request is the file itself');
  const charts = Number(await page.getAttribute('html', 'data-charts'));
  assert.ok(charts >= 5, `${charts} charts`);
  const inked = await page.evaluate<number[]>(INKED_PIXELS);
  assert.ok(inked.length >= 5, `${inked.length} canvases`);
  assert.ok(
    inked.every((n) => n > 200),
    `every canvas has drawn pixels: ${inked.join(',')}`,
  );
  assert.equal(await page.textContent('.banner .v'), 'FAIL');
  assert.equal(await page.locator('section:has(h2:text("Thresholds")) tbody tr').count(), 14);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(url);
  await phone.waitForFunction(CHARTS_READY);
  const overflow = await phone.evaluate<number>(PAGE_OVERFLOW);
  assert.ok(overflow <= 1, `no sideways scrolling of the page on a phone (overflow ${overflow}px)`);
  await phone.screenshot({ path: join(ARTIFACTS, 'report-phone.png') });

  await page.emulateMedia({ media: 'print' });
  const pdf = join(ARTIFACTS, 'report.pdf');
  await page.pdf({ path: pdf, format: 'A4', printBackground: true });
  assert.ok(statSync(pdf).size > 20000);
  await page.close();
  await phone.close();
});

const NASTY = `a<b & "c" 'd' ]]> \u0001\u0008 \uFFFE end`;
const NASTY_CLEAN = `a<b & "c" 'd' ]]>   end`;

void test('junit.xml is well-formed XML (parsed back by the browser) and escapes nasty names', async () => {
  const d = tmp();
  const t0 = Date.UTC(2026, 0, 1);
  const name = `http://127.0.0.1:1/x?q=${NASTY}`;
  const lines = [
    metricLine('http_reqs', 'counter'),
    metricLine(
      'http_req_duration',
      'trend',
      'time',
      ['p(95)<1'],
      [{ name: `http_req_duration{name:${name}}`, suffix: `name:${name}`, tags: { name } }],
    ),
    metricLine('checks', 'rate'),
  ];
  for (let i = 0; i < 40; i++) {
    const tags = { method: 'GET', name, status: '200', check: NASTY };
    lines.push(
      pointLine('http_reqs', t0 + i, 1, tags),
      pointLine('http_req_duration', t0 + i, 5 + i, tags),
      pointLine('checks', t0 + i, i % 2, tags),
    );
  }
  writeFileSync(join(d, 'out.json'), lines.join('\n') + '\n');
  writeFileSync(
    join(d, 'summary-export.json'),
    JSON.stringify({ metrics: { [`http_req_duration{name:${name}}`]: { thresholds: { 'p(95)<1': true } } } }),
  );
  const res = await buildReport({ runDir: d, historyDir: false });
  assert.equal(res.exitCode, 99);
  const xml = readFileSync(join(d, 'junit.xml'), 'utf8');
  for (const bad of ['\u0001', '\u0008', '\uFFFE']) assert.ok(!xml.includes(bad), `no ${JSON.stringify(bad)} in junit.xml`);
  const page = await browser.newPage();
  const parsed = await page.evaluate<Parsed>(parseXml(xml));
  await page.close();
  assert.equal(parsed.error, 0);
  assert.equal(parsed.tests, String(parsed.cases.length));
  const sub = parsed.cases.find((c) => c.classname === `thresholds.http_req_duration{name:http://127.0.0.1:1/x?q=${NASTY_CLEAN}}`);
  assert.ok(sub, JSON.stringify(parsed.cases.map((c) => c.classname)));
  assert.equal(sub.failed, 1);
  const endpoint = parsed.cases.find((c) => c.classname === 'endpoints');
  assert.match(endpoint?.name ?? '', /^GET \/x\?q=/);
  assert.equal(endpoint?.failed, 1, 'the endpoint SLO fails with its threshold');
  // And the well-formedness check is real: a raw "<" is rejected by the same parser.
  const page2 = await browser.newPage();
  const broken = (await page2.evaluate<Parsed>(parseXml('<a name="x<y"/>'))).error;
  await page2.close();
  assert.ok(broken > 0);
  // summary.md keeps the table intact: names with pipes would not split cells.
  assert.match(readFileSync(join(d, 'summary.md'), 'utf8'), /\| ❌ \| `http_req_duration\{name:/);
});

/** Opens a report.html; returns the page's console errors, the chart count and the inked pixels per canvas. */
async function openReport(
  dir: string,
): Promise<{ errors: string[]; inked: number[]; series: number[]; text: (sel: string) => Promise<string>; close: () => Promise<void> }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(join(dir, 'report.html')).href);
  await page.waitForFunction(CHARTS_READY);
  const inked = await page.evaluate<number[]>(INKED_PIXELS);
  const series = await page.evaluate<number[]>(SERIES_PIXELS);
  return { errors, inked, series, text: async (sel) => (await page.locator(sel).allTextContents()).join(' '), close: () => page.close() };
}

void test('report.html: latency per endpoint, threshold lines and the baseline drawn on the charts', async () => {
  const d = tmp();
  const write = (name: string, scale: number): string => {
    const dir = join(d, name);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'out.json'),
      httpRun({ n: 400, spacingMs: 50, thresholds: ['p(95)<60'], latency: (i) => (20 + (i % 20)) * scale }),
    );
    return dir;
  };
  const base = write('base', 1);
  const cur = write('cur', 1.3);
  await buildReport({ runDir: cur, baseline: base, historyDir: false });
  const r = await openReport(cur);
  try {
    assert.deepEqual(r.errors, []);
    assert.ok(
      r.inked.every((n) => n > 200),
      `every canvas has drawn pixels: ${r.inked.join(',')}`,
    );
    const endpointCharts = await r.text('#charts-endpoints .chart h3');
    assert.match(endpointCharts, /GET \/api\/agents \(ms\)/, 'a latency chart per endpoint');
    assert.match(await r.text('#charts-endpoints .u-legend'), /baseline p95.*baseline p99/s, 'the baseline overlaid on the endpoint chart');
    const main = await r.text('#charts-main .chart:first-child .u-legend');
    assert.match(main, /p\(95\)<60/, 'the threshold drawn as a line on the latency chart');
    assert.match(main, /baseline p95/);
  } finally {
    await r.close();
  }
  // Without a baseline there is no baseline line.
  const alone = write('alone', 1);
  await buildReport({ runDir: alone, historyDir: false });
  const a = await openReport(alone);
  try {
    assert.doesNotMatch(await a.text('.u-legend'), /baseline/);
  } finally {
    await a.close();
  }
});

void test('report.html: a run whose samples all fall in one second still draws its charts', async () => {
  const dir = join(tmp(), 'one-second');
  mkdirSync(dir);
  writeFileSync(join(dir, 'out.json'), httpRun({ n: 5, spacingMs: 10, latency: (i) => 10 + i }));
  await buildReport({ runDir: dir, historyDir: false });
  const r = await openReport(dir);
  try {
    assert.deepEqual(r.errors, []);
    assert.ok(r.inked.length >= 2, `${r.inked.length} canvases`);
    // uPlot draws axes even when it cannot scale one x value: count the first series' own colour.
    assert.ok(
      r.series.every((n) => n > 20),
      `every chart draws its first series: ${r.series.join(',')} pixels`,
    );
  } finally {
    await r.close();
  }
});

/**
 * An arrival-rate run of 20 s over two endpoints: the vus gauge (sampled once a second) reads 0 between
 * iterations, the iterations themselves keep ~2 VUs busy; data and rate metrics for units.
 */
function arrivalRateRun(dir: string): void {
  const start = Date.UTC(2026, 0, 1, 12, 0, 0);
  const lines = [
    metricLine('http_reqs', 'counter'),
    metricLine('http_req_duration', 'trend', 'time', ['p(95)<30']),
    metricLine('http_req_failed', 'rate', 'default', ['rate<0.05']),
    metricLine('iterations', 'counter'),
    metricLine('iteration_duration', 'trend'),
    metricLine('vus', 'gauge'),
    metricLine('vus_max', 'gauge'),
    metricLine('data_received', 'counter', 'data'),
  ];
  for (let i = 0; i < 400; i++) {
    const t = start + i * 50;
    const name = i % 2 === 0 ? 'http://127.0.0.1:1/api/agents' : 'http://127.0.0.1:1/health';
    const tags = {
      method: 'GET',
      name,
      scenario: 'api',
      status: '200',
      expected_response: 'true',
      group: '',
      endpoint: i % 2 === 0 ? 'agents' : 'health',
    };
    const ms = (i % 2 === 0 ? 20 : 5) + (i % 10) + Math.floor(i / 40);
    lines.push(
      pointLine('http_reqs', t, 1, tags),
      pointLine('http_req_duration', t, ms, tags),
      pointLine('http_req_failed', t, 0, tags),
      pointLine('data_received', t, 1234, tags),
    );
    lines.push(
      pointLine('iterations', t, 1, { scenario: 'api', group: '' }),
      pointLine('iteration_duration', t, 100, { scenario: 'api', group: '' }),
    );
  }
  for (let s = 0; s < 20; s++) lines.push(pointLine('vus', start + s * 1000, 0, {}), pointLine('vus_max', start + s * 1000, 10, {}));
  writeFileSync(join(dir, 'out.json'), lines.join('\n') + '\n');
  // k6 lists a tagged threshold in its summary export (false: not crossed).
  writeFileSync(
    join(dir, 'summary-export.json'),
    JSON.stringify({ metrics: { 'http_req_duration{endpoint:agents}': { thresholds: { 'p(99)<45': false } } } }),
  );
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      schema: 'agentload.run/1',
      scenario: { name: 'api-latency' },
      engineExitCode: 0,
      exitCode: 0,
      args: ['scenarios/api-latency.ts', '--vus', '2', '-e', 'TOKEN=secret-value', '--summary-mode', 'full'],
      settings: { SIZE: 'full', PROFILE: 'production' },
      target: { kind: 'external', url: 'http://staging.example:8080', hosts: [] },
    }),
  );
}

void test('report.html: a header (host, size, profile, load, flags), units on observed values, a latency distribution per endpoint, latency against rate, busy VUs of an arrival-rate run', async () => {
  const dir = join(tmp(), 'arrival');
  mkdirSync(dir);
  arrivalRateRun(dir);
  await buildReport({ runDir: dir, historyDir: false });
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.ok(!html.includes('secret-value'), 'flag values of -e are masked');
  const r = await openReport(dir);
  try {
    assert.deepEqual(r.errors, []);
    assert.ok(
      r.inked.every((n) => n > 200),
      `every canvas has drawn pixels: ${r.inked.join(',')}`,
    );
    const header = await r.text('#run-header');
    assert.match(header, /targetstaging\.example:8080/);
    assert.match(header, /sizefull/);
    assert.match(header, /profileproduction/);
    assert.match(header, /load0 active \/ 10 max VUs, 20\.\d\d req\/s, 20\.\d\d iterations\/s/);
    assert.match(header, /flags--vus 2 -e TOKEN=\*\*\* --summary-mode full/);
    // Units on every observed value, counts as integers.
    const thresholds = await r.text('section:has(> h2:text("Thresholds")) td');
    assert.match(thresholds, /\d+\.\d\d ms/, 'a latency threshold observed in ms');
    assert.match(thresholds, /0\.00 %/, 'a rate threshold observed as a percentage');
    const metrics = await r.text('section:has(> h2:text("All metrics")) td');
    assert.match(metrics, /http_reqs.*count=400 {2}rate=20\.\d\d\/s/s);
    assert.match(metrics, /data_received.*count=493\.6 kB/s);
    assert.doesNotMatch(metrics, /count=400\.000/);
    // One latency distribution per endpoint, with the endpoint's thresholds; latency against request rate.
    const dists = await r.text('#charts-endpoints .chart[data-kind="endpoint-distribution"] h3');
    assert.match(dists, /GET \/api\/agents \[agents\]: latency distribution/);
    assert.match(dists, /GET \/health \[health\]: latency distribution/);
    assert.match(
      await r.text('#charts-endpoints .chart[data-kind="endpoint-distribution"]:has(h3:text("agents")) .u-legend'),
      /p\(99\)<45/,
      "the endpoint's threshold drawn on its distribution",
    );
    assert.match(await r.text('#charts-main .chart[data-kind="rate-latency"] h3'), /Latency against request rate/);
    // Busy VUs: 20 iterations/s × 100 ms = 2 VUs on average, where the sampled gauge reads 0.
    const vus = await r.text('#charts-main .chart[data-kind="vus"] .u-legend');
    assert.match(vus, /busy VUs \(avg\)/);
  } finally {
    await r.close();
  }
});
