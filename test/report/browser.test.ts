// Real browser: Debian's chromium (apt-get install -y chromium) driven by playwright-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { buildReport } from '../../src/report/index.ts';
import { FIXTURE_HANDLE, FIXTURE_OUT, FIXTURE_SUMMARY, metricLine, pointLine, ROOT, tmp } from './helpers.ts';

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
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
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
  assert.ok(inked.every((n) => n > 200), `every canvas has drawn pixels: ${inked.join(',')}`);
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
  const lines = [metricLine('http_reqs', 'counter'), metricLine('http_req_duration', 'trend', 'time', ['p(95)<1'], [{ name: `http_req_duration{name:${name}}`, suffix: `name:${name}`, tags: { name } }]), metricLine('checks', 'rate')];
  for (let i = 0; i < 40; i++) {
    const tags = { method: 'GET', name, status: '200', check: NASTY };
    lines.push(pointLine('http_reqs', t0 + i, 1, tags), pointLine('http_req_duration', t0 + i, 5 + i, tags), pointLine('checks', t0 + i, i % 2, tags));
  }
  writeFileSync(join(d, 'out.json'), lines.join('\n') + '\n');
  writeFileSync(join(d, 'summary-export.json'), JSON.stringify({ metrics: { [`http_req_duration{name:${name}}`]: { thresholds: { 'p(95)<1': true } } } }));
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
