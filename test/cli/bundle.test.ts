/**
 * Bundling, in process: the generated entry (re-exports, handleSummary wrapper that saves the data and
 * calls the scenario's own handleSummary or prints the default text summary), syntax target, faker per
 * locale, size budget, nothing from the environment inlined. Bundles without k6 imports are imported
 * into Node and their handleSummary called for real.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { bundleScenario } from '../../src/bundle/bundle.ts';
import { AgentloadError } from '../../src/errors.ts';
import { K6_FIXTURES } from '../support/fake-k6.ts';
import { ROOT } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const summaryData = JSON.parse(readFileSync(join(K6_FIXTURES, 'handle-summary-data.json'), 'utf8')) as unknown;

interface Bundled {
  handleSummary: (data: unknown) => Record<string, string> | Promise<Record<string, string>>;
  default?: unknown;
  options?: unknown;
  setup?: unknown;
}

async function build(
  name: string,
  source: string,
  opts: { target?: string; budgetKb?: number } = {},
): Promise<{ file: string; text: string }> {
  const scenario = join(dir, `${name}.ts`);
  writeFileSync(scenario, source);
  const r = await bundleScenario(scenario, { root: ROOT, outDir: join(dir, 'build'), cwd: dir, ...opts });
  return { file: r.outfile, text: readFileSync(r.outfile, 'utf8') };
}

async function load(file: string, env: Record<string, string>): Promise<Bundled> {
  (globalThis as { __ENV?: Record<string, string> }).__ENV = env;
  return (await import(`${pathToFileURL(file).href}?${String(Date.now())}`)) as Bundled;
}

void test('no handleSummary in the scenario: default text summary on stdout, data saved at the run-folder path', async () => {
  const { file } = await build(
    'plain',
    'export const options = { vus: 1 };\nexport default async function (): Promise<void> {}\nexport function setup(): number { return 1; }\n',
  );
  const mod = await load(file, { AGENTLOAD_HANDLE_SUMMARY_PATH: '/run/handle-summary-data.json' });
  assert.deepEqual(mod.options, { vus: 1 });
  assert.equal(typeof mod.default, 'function');
  assert.equal(typeof mod.setup, 'function');
  const out = await mod.handleSummary(summaryData);
  assert.deepEqual(Object.keys(out).sort(), ['/run/handle-summary-data.json', 'stdout']);
  assert.deepEqual(JSON.parse(out['/run/handle-summary-data.json'] ?? ''), summaryData);
  assert.match(out.stdout ?? '', /http_reqs\.+: \d+/);
  assert.match(out.stdout ?? '', /checks/);
});

void test("the scenario's own handleSummary is called, its files kept, and the data still saved", async () => {
  const { file } = await build(
    'custom',
    "export default function (): void {}\nexport function handleSummary(data: { metrics: object }): Record<string, string> {\n  return { stdout: 'CUSTOM ' + String(Object.keys(data.metrics).length), 'mine.json': '{}' };\n}\n",
  );
  const mod = await load(file, { AGENTLOAD_HANDLE_SUMMARY_PATH: '/run/hs.json' });
  const out = await mod.handleSummary(summaryData);
  assert.match(out.stdout ?? '', /^CUSTOM \d+$/);
  assert.equal(out['mine.json'], '{}');
  assert.deepEqual(JSON.parse(out['/run/hs.json'] ?? ''), summaryData);
});

void test('an async handleSummary works too; without the path variable nothing extra is written', async () => {
  const { file } = await build(
    'asyncsum',
    "export default function (): void {}\nexport async function handleSummary(): Promise<Record<string, string>> { return { stdout: 'A' }; }\n",
  );
  const mod = await load(file, {});
  assert.deepEqual(await mod.handleSummary(summaryData), { stdout: 'A' });
});

void test('a scenario without a default export does not get one (k6 would reject an undefined default)', async () => {
  const { file, text } = await build('nodefault', 'export const options = {};\nexport function api(): void {}\n');
  assert.doesNotMatch(text, /as default/);
  const mod = await load(file, {});
  assert.equal(mod.default, undefined);
  assert.ok('api' in mod);
});

void test('syntax target: es2017 lowers optional chaining, es2020 keeps it', async () => {
  const src = 'export default function (): void { const o: { a?: { b: number } } = {}; console.log(o.a?.b); }\n';
  const old = await build('lowered', src);
  assert.doesNotMatch(old.text, /\?\./);
  const modern = await build('modern', src, { target: 'es2020' });
  assert.match(modern.text, /\?\./);
});

void test('k6, k6/* and remote modules stay external', async () => {
  const { text } = await build(
    'externals',
    "import http from 'k6/http';\nimport { sleep } from 'k6';\n// @ts-expect-error remote module\nimport { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';\nexport default async function (): Promise<void> { await http.asyncRequest('GET', String(uuidv4())); sleep(0); }\n",
  );
  assert.match(text, /from "k6\/http"/);
  assert.match(text, /from "k6"/);
  assert.match(text, /from "https:\/\/jslib\.k6\.io\/k6-utils\/1\.4\.0\/index\.js"/);
});

void test('whole-faker imports are refused with one line saying to import per locale (107)', async () => {
  await assert.rejects(
    build(
      'wholefaker',
      "import { faker } from '@faker-js/faker';\nexport default function (): void { console.log(faker.person.firstName()); }\n",
    ),
    (err: unknown) => {
      assert.ok(err instanceof AgentloadError);
      assert.equal(err.code, 'bundle-error');
      assert.equal(err.exitCode, 107);
      assert.match(
        err.message,
        /^wholefaker\.ts:1:\d+ import faker per locale, not whole: import \{ faker \} from '@faker-js\/faker\/locale\/en'$/,
      );
      return true;
    },
  );
  const { text } = await build(
    'localefaker',
    "import { faker } from '@faker-js/faker/locale/en';\nexport default function (): void { console.log(faker.person.firstName()); }\n",
  );
  assert.ok(text.length > 1000);
});

void test('a bundle over the size budget fails with code 120; under it passes', async () => {
  const src = "export default function (): void { console.log('x'); }\n";
  await assert.rejects(build('overbudget', src, { budgetKb: 0.01 }), (err: unknown) => {
    assert.ok(err instanceof AgentloadError);
    assert.equal(err.code, 'bundle-over-budget');
    assert.equal(err.exitCode, 120);
    return true;
  });
  await build('underbudget', src, { budgetKb: 1000 });
});

void test('environment values are never inlined into a bundle', async () => {
  process.env.AGENTLOAD_TEST_SECRET = 'inline-me-not-8c7b';
  try {
    const { text } = await build('noinline', 'export default function (): void { console.log(__ENV.AGENTLOAD_TEST_SECRET); }\n');
    assert.ok(!text.includes('inline-me-not-8c7b'));
    assert.match(text, /__ENV\.AGENTLOAD_TEST_SECRET/);
  } finally {
    delete process.env.AGENTLOAD_TEST_SECRET;
  }
});

void test('bundle errors name the file relative to the project wherever the project and the toolkit sit (deep folders too)', async () => {
  // esbuild reports locations relative to its working folder; resolving them against another folder only
  // worked by accident for some depths (a clone under /tmp got absolute paths like /agentload-bundle-x/...).
  const deep = join(dir, 'a', 'b', 'c', 'd', 'e', 'f');
  mkdirSync(deep, { recursive: true });
  const scenario = join(deep, 'deepfaker.ts');
  writeFileSync(
    scenario,
    "import { faker } from '@faker-js/faker';\nexport default function (): void { console.log(faker.person.firstName()); }\n",
  );
  for (const cwd of [deep, dir]) {
    await assert.rejects(bundleScenario(scenario, { root: ROOT, outDir: join(dir, 'build'), cwd }), (err: unknown) => {
      assert.ok(err instanceof AgentloadError);
      const shown = cwd === deep ? 'deepfaker.ts' : 'a/b/c/d/e/f/deepfaker.ts';
      assert.ok(err.message.startsWith(`${shown}:1:`), `message names ${shown}: ${err.message}`);
      return true;
    });
  }
});
