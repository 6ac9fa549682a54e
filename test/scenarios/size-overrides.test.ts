/**
 * One way to override size in every scenario (lib/config.ts SIZE_OVERRIDES): each scenario reads the common
 * names its load shape has (DURATION, RATE, VUS, ITERATIONS, LEVELS, STEP_DURATION), its older names still work
 * as aliases, the common name wins over an alias, and docs/scenarios.md's table says the same.
 *
 * Each scenario is bundled once; its init code runs in the embedded engine's `inspect` (no load, no target):
 * a bad value in a variable the scenario reads stops init naming it, and the resulting options show the size.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { inspectScript } from '../../engine/index.ts';
import { SIZE_ALIASES } from '../../lib/config.ts';
import { bundleOne, ROOT } from './helpers.ts';

/** scenario → the common size variables it reads, each with its older aliases. */
const OVERRIDES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'api-latency': { DURATION: [], RATE: [] },
  cache: { DURATION: [], RATE: [] },
  eventbus: { DURATION: [], RATE: [] },
  'slack-to-response': { DURATION: [], RATE: [] },
  tasks: { DURATION: [], RATE: [] },
  scheduler: { DURATION: [] },
  soak: { DURATION: ['SOAK_DURATION'], RATE: ['SOAK_RATE'] },
  llm: { DURATION: [], VUS: ['LLM_CONCURRENCY'] },
  'bus-durability': { DURATION: [], RATE: [], VUS: ['PUBLISHERS'] },
  failover: { DURATION: [], RATE: [], VUS: ['TASK_SUBMITTERS'] },
  'state-store': { DURATION: ['WRITE_DURATION'], RATE: [], VUS: ['RAMP_TO'], STEP_DURATION: ['RAMP_DURATION'] },
  'websocket-fanout': { RATE: ['PUBLISH_RATE'], VUS: ['WS_CLIENTS'], ITERATIONS: ['WS_MESSAGES'] },
  provisioning: { VUS: ['PARALLEL'], ITERATIONS: ['JOBS'] },
  artifacts: { ITERATIONS: ['REPEAT'] },
  jobs: { LEVELS: [], STEP_DURATION: ['LEVEL_DURATION'] },
  'load-profiles': { LEVELS: [], STEP_DURATION: ['STAGE_DURATION'] },
  'agent-scaling': { LEVELS: ['AGENT_COUNTS'] },
};

const BASE_ENV: Readonly<Record<string, string>> = {
  BASE_URL: 'http://127.0.0.1:9',
  SLACK_SIGNING_SECRET: 'size-override-test-secret',
  SLACK_SINK_URL: 'http://127.0.0.1:9',
};

const dir = mkdtempSync(join(tmpdir(), 'agentload-sizes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bundles = new Map<string, Promise<string>>();

function bundled(name: string): Promise<string> {
  let b = bundles.get(name);
  if (b === undefined) {
    b = bundleOne(name, join(dir, name)).then((r) => r.outfile);
    bundles.set(name, b);
  }
  return b;
}

async function inspect(name: string, env: Readonly<Record<string, string>>): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const code = await inspectScript({
    script: await bundled(name),
    args: [],
    env: { ...BASE_ENV, ...env },
    cwd: dir,
    stdout: out,
    stderr: err,
  });
  return { code, out: Buffer.concat(o).toString('utf8'), err: Buffer.concat(e).toString('utf8') };
}

async function refusedNaming(name: string, variable: string, env: Readonly<Record<string, string>>): Promise<void> {
  const r = await inspect(name, env);
  assert.equal(r.code, 107, `${name}: ${variable}=banana must stop init (exit 107): ${r.err}`);
  assert.match(r.err, new RegExp(`${variable} must[^\\n]*banana`), `${name}: the error names ${variable}`);
}

for (const [name, vars] of Object.entries(OVERRIDES)) {
  void test(`${name} reads ${Object.keys(vars).join(', ')} (and the older names as aliases)`, async () => {
    for (const [variable, aliases] of Object.entries(vars)) {
      await refusedNaming(name, variable, { [variable]: 'banana' });
      for (const alias of aliases) {
        await refusedNaming(name, alias, { [alias]: 'banana' });
        // The common name wins when both are set: a good alias does not hide a bad common value.
        await refusedNaming(name, variable, { [variable]: 'banana', [alias]: variable.includes('DURATION') ? '3s' : '2' });
      }
    }
  });
}

interface Options {
  readonly scenarios: Record<string, Record<string, unknown>>;
}

async function options(name: string, env: Readonly<Record<string, string>>): Promise<Options> {
  const r = await inspect(name, env);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Options;
}

void test('the overrides size the scenario: the common name and its alias give the same options, and differ from the default', async () => {
  const cases: readonly [string, Record<string, string>, Record<string, string>][] = [
    ['soak', { DURATION: '7s', RATE: '3' }, { SOAK_DURATION: '7s', SOAK_RATE: '3' }],
    ['state-store', { DURATION: '3s', VUS: '7', STEP_DURATION: '4s' }, { WRITE_DURATION: '3s', RAMP_TO: '7', RAMP_DURATION: '4s' }],
    ['jobs', { LEVELS: '2,3', STEP_DURATION: '3s' }, { LEVELS: '2,3', LEVEL_DURATION: '3s' }],
    ['load-profiles', { LEVELS: '4,8,12', STEP_DURATION: '3s' }, { LEVELS: '4,8,12', STAGE_DURATION: '3s' }],
    ['websocket-fanout', { VUS: '5', RATE: '4', ITERATIONS: '6' }, { WS_CLIENTS: '5', PUBLISH_RATE: '4', WS_MESSAGES: '6' }],
    ['provisioning', { VUS: '2', ITERATIONS: '4' }, { PARALLEL: '2', JOBS: '4' }],
    ['llm', { VUS: '2' }, { LLM_CONCURRENCY: '2' }],
  ];
  for (const [name, common, old] of cases) {
    const a = await options(name, common);
    assert.deepEqual(await options(name, old), a, `${name}: aliases give the same options`);
    assert.notDeepEqual(await options(name, {}), a, `${name}: the override changed the options`);
  }
  const steps = (await options('load-profiles', { LEVELS: '4,8,12', STEP_DURATION: '3s' })).scenarios;
  assert.deepEqual(
    Object.values(steps).map((s) => [s.maxVUs, s.duration]),
    [
      [4, '3s'],
      [8, '3s'],
      [12, '3s'],
    ],
    'load-profiles: one step per level, of STEP_DURATION',
  );
  const ramp = (await options('state-store', { VUS: '7', STEP_DURATION: '4s' })).scenarios.ramp;
  assert.deepEqual(ramp?.stages, [{ duration: '4s', target: 7 }]);
});

void test("docs/scenarios.md's size-override table lists what each scenario reads", () => {
  const doc = readFileSync(join(ROOT, 'docs/scenarios.md'), 'utf8');
  const start = doc.indexOf('## Size overrides');
  assert.ok(start >= 0, 'docs/scenarios.md has a "Size overrides" section');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  for (const [name, vars] of Object.entries(OVERRIDES)) {
    const row = section.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(row !== undefined, `the size-override table has a row for ${name}`);
    const cells = row.split('|').map((c) => c.trim());
    const names = (cell: string | undefined): string[] => [...(cell ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] ?? '').sort();
    assert.deepEqual(names(cells[2]), Object.keys(vars).sort(), `${name}: the common variables`);
    assert.deepEqual(names(cells[3]), Object.values(vars).flat().sort(), `${name}: the older names`);
  }
});

void test('lib/config SIZE_ALIASES lists every older name a scenario reads (the unused-variable warning knows them)', () => {
  const used = new Map<string, Set<string>>();
  for (const vars of Object.values(OVERRIDES))
    for (const [variable, aliases] of Object.entries(vars))
      for (const a of aliases) (used.get(variable) ?? used.set(variable, new Set()).get(variable))?.add(a);
  for (const [variable, aliases] of Object.entries(SIZE_ALIASES))
    assert.deepEqual([...aliases].sort(), [...(used.get(variable) ?? [])].sort(), `${variable}'s aliases`);
});

void test("api-latency: the endpoints' arrivals start staggered over the shortest period, so no two fall on the same instants", async () => {
  for (const [rate, step] of [
    ['20', 40],
    ['200', 4],
  ] as const) {
    const s = (await options('api-latency', { RATE: rate })).scenarios;
    assert.deepEqual(
      Object.values(s).map((x) => x.startTime ?? '0s'),
      ['0s', `${step}ms`, `${2 * step}ms`, `${3 * step}ms`, `${4 * step}ms`],
      `RATE=${rate}`,
    );
  }
});
