/**
 * The run command's pre-flight allowlist: every target variable is checked wherever it comes from
 * (environment, .env, every -e/--env form), parsed the way its consumer parses it (URLs; PostgreSQL DSNs with
 * pg's parser: `?host=`, `key=value`, pg's PGHOST/localhost default; SLACK_SINK_URL; k6's K6_HOSTS), and
 * run.json records where the load really went (hosts only). A k6 binary also gets K6_BLACKLIST_IPS when the
 * allowlist can be said as IP ranges. A stand-in k6 on PATH proves "nothing started": it records every call.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkTargets, k6BlockedRanges, OUTPUT_URL_VARS, TARGET_VARS } from '../../src/run/allowlist.ts';
import { envView } from '../../src/run/env.ts';
import type { FakeK6 } from '../support/fake-k6.ts';
import {
  cleanEnv,
  errorLines,
  readJson,
  runCli,
  scenarioSource,
  refusalBench,
  type CountingServer,
  type Project,
  type RefusalBench,
} from './helpers.ts';

let server: CountingServer;
let port = 0;
let fake: FakeK6;
let project: Project;
let bench: RefusalBench;

before(async () => {
  bench = await refusalBench();
  ({ server, fake, project } = bench);
  port = server.port;
});

after(() => bench.close());

const view = (
  values: Record<string, string>,
  args: readonly string[] = [],
  dotenv: Record<string, string> = {},
): ReturnType<typeof envView> =>
  envView({ env: { ...dotenv, ...values }, dotenvNames: Object.keys(dotenv), dotenvPath: undefined }, values, args);

void test('envView: every -e/--env form wins over the environment, which wins over .env; sources recorded', () => {
  const v = view(
    { BASE_URL: 'http://127.0.0.1:1' },
    ['-e', 'BASE_URL=http://a:1', '--env', 'WS_URL=ws://b', '--env=LLM_URL=http://c', '-eMETRICS_URL=http://d', '--vus', '2'],
    { DB_DSN: '/tmp/x.db' },
  );
  assert.deepEqual(
    [v.values.BASE_URL, v.values.WS_URL, v.values.LLM_URL, v.values.METRICS_URL, v.values.DB_DSN],
    ['http://a:1', 'ws://b', 'http://c', 'http://d', '/tmp/x.db'],
  );
  assert.deepEqual([v.sources.BASE_URL, v.sources.WS_URL, v.sources.DB_DSN], ['-e flag', '-e flag', '.env']);
  assert.equal(view({}, ['-e', 'X=a', '-e', 'X=b']).values.X, 'b', 'the last -e wins, as in k6');
});

void test('checkTargets: URLs, DSN forms, K6_HOSTS; refusals name the variable, where it came from and the host', () => {
  const refused = (values: Record<string, string>, args: readonly string[] = []): string => {
    try {
      checkTargets(view(values, args));
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'host-not-allowed', String(e));
      return (e as Error).message;
    }
    return 'allowed';
  };
  assert.equal(
    refused({}, ['-e', 'BASE_URL=http://0.0.0.0:9']),
    'BASE_URL (from -e flag) host "0.0.0.0" is not loopback and not in AGENTLOAD_ALLOWED_HOSTS: to load-test it on purpose, set AGENTLOAD_ALLOWED_HOSTS=0.0.0.0',
  );
  for (const name of ['WS_URL', 'LLM_URL', 'METRICS_URL', 'SLACK_SINK_URL', 'SLACK_API_URL', 'AMQP_URL']) {
    assert.match(
      refused({}, [`--env=${name}=${name === 'WS_URL' ? 'ws' : name === 'AMQP_URL' ? 'amqp' : 'http'}://far.example.test`]),
      new RegExp(`^${name} \\(from -e flag\\) host "far\\.example\\.test"`),
    );
  }
  // PostgreSQL DSNs as pg reads them: every host they may connect to.
  assert.match(refused({ DB_DSN: 'host=0.0.0.0 port=9 user=x dbname=y' }), /^DB_DSN host "0\.0\.0\.0"/);
  assert.match(refused({ DB_DSN: 'postgres://u:pw@127.0.0.1:5432/db?host=10.0.0.7' }), /^DB_DSN host "10\.0\.0\.7"/);
  assert.match(
    refused({ DB_DSN: 'postgres://u:pw@/db', PGHOST: 'db.example.test' }),
    /^DB_DSN host "db\.example\.test"/,
    'no host: pg takes PGHOST',
  );
  assert.match(refused({ DATABASE_URL: 'user=x host=127.0.0.1,10.9.9.9' }), /^DATABASE_URL host "10\.9\.9\.9"/, 'a host list: each host');
  assert.match(refused({ TARGET_DATABASE_URL: 'postgresql://u@10.0.0.8/platform' }), /^TARGET_DATABASE_URL host "10\.0\.0\.8"/);
  assert.match(refused({ K6_HOSTS: 'api.local:10.2.3.4:8080' }), /^K6_HOSTS host "10\.2\.3\.4"/, "k6's DNS overrides");
  assert.match(refused({ K6_HOSTS: '{"localhost":"10.2.3.5"}' }), /^K6_HOSTS host "10\.2\.3\.5"/);
  // Allowed: loopback in DSNs and files, sockets, listed hosts.
  const allowedCases: Record<string, string>[] = [
    { DB_DSN: '/tmp/data.sqlite' },
    { DB_DSN: 'relative/data.db' },
    { DB_DSN: 'postgres://u@/db' },
    { DB_DSN: 'postgres:///db?host=/var/run/postgresql' },
    { DB_DSN: 'host=localhost user=x' },
    { K6_HOSTS: 'api.local:127.0.0.1' },
    { BASE_URL: 'http://10.0.0.7', AGENTLOAD_ALLOWED_HOSTS: '10.0.0.7' },
  ];
  for (const values of allowedCases) assert.equal(refused(values), 'allowed', JSON.stringify(values));
  assert.throws(() => checkTargets(view({ BASE_URL: 'not a url' })), { code: 'invalid-url' });
  assert.throws(() => checkTargets(view({ DB_DSN: 'postgres://u@h1:5432,h2:5432/db' })), { code: 'invalid-url' });
});

void test('every *_URL / *_DSN variable the scenarios, lib/ and .env.example use is a checked target', () => {
  const root = new URL('../../', import.meta.url).pathname;
  const names = new Set<string>();
  const scan = (text: string): void => {
    for (const m of text.matchAll(/\b([A-Z][A-Z0-9_]*_(?:URL|DSN))\b/g)) names.add(m[1] ?? '');
  };
  for (const d of ['scenarios', 'lib'])
    for (const f of readdirSync(join(root, d))) if (f.endsWith('.ts')) scan(readFileSync(join(root, d, f), 'utf8'));
  scan(readFileSync(join(root, '.env.example'), 'utf8'));
  for (const name of names)
    assert.ok(
      TARGET_VARS.includes(name) || OUTPUT_URL_VARS.includes(name),
      `${name} is read by a scenario or documented but not checked by the allowlist`,
    );
});

void test('k6BlockedRanges: everything but loopback and the listed addresses; none for a listed name', () => {
  const toBig = (ip: string): bigint => {
    if (isIP(ip) === 4) return ip.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n);
    const [h = '', t] = ip.split('::');
    const g = (s: string): number[] => (s === '' ? [] : s.split(':').map((x) => parseInt(x, 16)));
    const a = g(h);
    const b = t === undefined ? [] : g(t);
    return [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b].reduce((acc, x) => (acc << 16n) | BigInt(x), 0n);
  };
  const blocked = (ranges: readonly string[], ip: string): boolean =>
    ranges.some((r) => {
      const [net = '', len = '0'] = r.split('/');
      if (isIP(net) !== isIP(ip)) return false;
      const bits = isIP(ip) === 4 ? 32n : 128n;
      const shift = bits - BigInt(len);
      return toBig(net) >> shift === toBig(ip) >> shift;
    });
  const none = k6BlockedRanges(undefined);
  assert.ok(none !== undefined);
  for (const ip of ['127.0.0.1', '127.255.255.254', '::1']) assert.ok(!blocked(none, ip), `${ip} stays open`);
  for (const ip of ['0.0.0.0', '10.0.0.1', '126.255.255.255', '128.0.0.0', '255.255.255.255', '::', '::2', 'fe80::1', '2001:db8::1'])
    assert.ok(blocked(none, ip), `${ip} is blocked`);
  const some = k6BlockedRanges('10.0.0.7, 2001:db8::5');
  assert.ok(some !== undefined);
  for (const ip of ['10.0.0.7', '2001:db8::5', '127.0.0.1']) assert.ok(!blocked(some, ip), `${ip} stays open`);
  for (const ip of ['10.0.0.6', '10.0.0.8', '2001:db8::4']) assert.ok(blocked(some, ip), `${ip} is blocked`);
  assert.equal(k6BlockedRanges('staging.example.com'), undefined, 'a listed name resolves to unknown addresses: no IP block list');
});

void test('-e BASE_URL (and --env=, -e for WS_URL, LLM_URL, METRICS_URL) to a host not allowed: 104, nothing started', async () => {
  const scenario = project.write('flagged.ts', scenarioSource());
  const calls = fake.calls().length;
  const before = server.requests();
  for (const [args, re] of [
    [['-e', `BASE_URL=http://0.0.0.0:${String(port)}`], /^agentload: BASE_URL \(from -e flag\) host "0\.0\.0\.0" is not loopback/],
    [[`--env=WS_URL=ws://0.0.0.0:${String(port)}`], /^agentload: WS_URL \(from -e flag\) host "0\.0\.0\.0"/],
    [['-e', 'LLM_URL=http://llm.example.test'], /^agentload: LLM_URL \(from -e flag\) host "llm\.example\.test"/],
    [['--env', 'METRICS_URL=http://10.0.0.9/metrics'], /^agentload: METRICS_URL \(from -e flag\) host "10\.0\.0\.9"/],
  ] as const) {
    const r = await runCli([scenario, ...args], { cwd: project.dir, env: cleanEnv(project, {}, fake.dir) });
    assert.equal(r.code, 104, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
  assert.equal(fake.calls().length, calls, 'k6 was never started');
  assert.equal(server.requests() - before, 0, 'nothing reached the server behind 0.0.0.0');
});

void test('.env, DB_DSN forms and SLACK_SINK_URL are checked too', async () => {
  const scenario = project.write('fromfile.ts', scenarioSource());
  const env = (extra: Record<string, string>): Record<string, string> =>
    cleanEnv(project, { BASE_URL: `http://127.0.0.1:${String(port)}`, ...extra }, fake.dir);
  project.write('.env', 'METRICS_URL=http://metrics.example.test/m\n');
  const dotenv = await runCli([scenario], { cwd: project.dir, env: env({}) });
  project.write('.env', '');
  assert.equal(dotenv.code, 104, dotenv.stderr);
  assert.match(dotenv.stderr, /^agentload: METRICS_URL \(from \.env\) host "metrics\.example\.test"/);
  for (const [extra, re] of [
    [{ DB_DSN: 'host=0.0.0.0 port=9 user=u dbname=d' }, /^agentload: DB_DSN host "0\.0\.0\.0"/],
    [{ DB_DSN: 'postgres://u@127.0.0.1:5432/d?host=0.0.0.0' }, /^agentload: DB_DSN host "0\.0\.0\.0"/],
    [{ DB_DSN: 'postgres://u@/d', PGHOST: '0.0.0.0' }, /^agentload: DB_DSN host "0\.0\.0\.0"/],
    [{ SLACK_SINK_URL: 'http://sink.example.test' }, /^agentload: SLACK_SINK_URL host "sink\.example\.test"/],
  ] as const) {
    const r = await runCli([scenario], { cwd: project.dir, env: env(extra) });
    assert.equal(r.code, 104, `${JSON.stringify(extra)}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

void test('run.json records where the load went: a BASE_URL given with -e is the target (no bundled platform), host only', async () => {
  const scenario = project.write('external.ts', scenarioSource());
  const calls = fake.calls().length;
  const before = server.requests();
  const r = await runCli([scenario, '--no-report', '-e', `BASE_URL=http://user:pw@127.0.0.1:${String(port)}/base?token=abc`], {
    cwd: project.dir,
    env: cleanEnv(project, {}, fake.dir),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /bundled platform/, 'no platform was started');
  assert.equal(fake.calls().length, calls + 1);
  assert.equal(fake.calls().at(-1)?.env.BASE_URL, null, 'the toolkit set no BASE_URL of its own');
  assert.equal(server.requests() - before, 0, 'the stand-in k6 sends to the environment BASE_URL only; the -e one reaches the script');
  const runDir = project.runDirs().find((d) => d.includes('external-'));
  assert.ok(runDir !== undefined);
  const manifest = readJson(join(runDir, 'run.json')) as {
    target: { kind: string; url: string; hosts: { variable: string; source: string; host: string }[] };
  };
  assert.equal(manifest.target.kind, 'external');
  assert.equal(manifest.target.url, `http://127.0.0.1:${String(port)}`, 'origin only: no credentials, path or query');
  assert.deepEqual(manifest.target.hosts, [{ variable: 'BASE_URL', source: '-e flag', host: `127.0.0.1:${String(port)}` }]);
  assert.doesNotMatch(readFileSync(join(runDir, 'run.json'), 'utf8'), /token=abc|user:pw/);
});

void test('a k6 binary gets K6_BLACKLIST_IPS: everything but loopback and listed addresses (none when a name is listed)', async () => {
  const scenario = project.write('blocklist.ts', scenarioSource());
  const base = `http://127.0.0.1:${String(port)}`;
  const r = await runCli([scenario, '--no-report'], { cwd: project.dir, env: cleanEnv(project, { BASE_URL: base }, fake.dir) });
  assert.equal(r.code, 0, r.stderr);
  const ranges = fake.calls().at(-1)?.env.K6_BLACKLIST_IPS ?? '';
  assert.match(
    ranges,
    /^0\.0\.0\.0\/2,64\.0\.0\.0\/3,96\.0\.0\.0\/4,112\.0\.0\.0\/5,120\.0\.0\.0\/6,124\.0\.0\.0\/7,126\.0\.0\.0\/8,128\.0\.0\.0\/1,0:0:0:0:0:0:0:0\/128,0:0:0:0:0:0:0:2\/127,/,
  );
  const named = await runCli([scenario, '--no-report'], {
    cwd: project.dir,
    env: cleanEnv(project, { BASE_URL: base, AGENTLOAD_ALLOWED_HOSTS: 'staging.example.test' }, fake.dir),
  });
  assert.equal(named.code, 0, named.stderr);
  assert.equal(fake.calls().at(-1)?.env.K6_BLACKLIST_IPS, null);
});
