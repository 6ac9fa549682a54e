/**
 * The bundled platform takes its settings only from variables meant for it: a DATABASE_URL in the
 * environment (for the user's own system) never reaches it, TARGET_DATABASE_URL does (as DATABASE_URL),
 * and for the `db` scenario the platform keeps its data in the scenario's SQLite file (DB_DSN).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bundledTargetEnv } from '../../src/run/target-env.ts';
import { cleanEnv, errorLines, makeProject, readJson, ROOT, runCli, scenarioSource } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

/** Nothing listens on port 1: a platform that tried this database could not start. */
const UNREACHABLE_PG = 'postgres://agentload:hunter2-secret@127.0.0.1:1/theirs';

void test('bundledTargetEnv: knobs, Slack and seed settings pass; DATABASE_URL and unrelated variables do not; TARGET_DATABASE_URL is renamed', () => {
  /** Variables the platform reads: each reaches it unchanged. */
  const platformSettings = {
    FAULT_LEAK_BYTES_PER_REQUEST: '1024',
    FAULT_ROUTE_LATENCY: '/health=10',
    TARGET_FAULTS: '{"latencyMs":5}',
    LLM_TTFT_MS: '10',
    AGENT_START_DELAY_MS: '0',
    SLACK_SIGNING_SECRET: 's3cret',
    SEED_AGENTS: '3',
    SQLITE_PATH: '/tmp/x.sqlite',
    AMQP_DELIVERY: 'at-most-once',
    BUS_DELIVERY_LOG: '*',
    TARGET_INSTANCES: '3',
    TARGET_BALANCER_HEALTH: 'off',
  };
  /** The user's own settings, the scenario's and the shell's: none of them may reach the platform. */
  const notForThePlatform = {
    DATABASE_URL: 'postgres://u:p@db.example.com/prod',
    LLM_API_KEY: 'sk-not-for-the-target',
    DB_DSN: '/tmp/scenario.sqlite',
    BASE_URL: 'http://127.0.0.1:9',
    PATH: '/usr/bin',
    HOME: '/root',
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
    FAULT_ERROR_RATE: '',
    EMPTY: undefined,
  };
  const targetDb = 'postgres://u:p@127.0.0.1:5432/target';
  const targetAmqp = 'amqp://u:p@127.0.0.1:5673';
  const out = bundledTargetEnv({ ...notForThePlatform, ...platformSettings, TARGET_DATABASE_URL: targetDb, TARGET_AMQP_URL: targetAmqp });
  assert.deepEqual(out, { ...platformSettings, DATABASE_URL: targetDb, AMQP_URL: targetAmqp });
  for (const name of Object.keys(notForThePlatform)) {
    if (name !== 'DATABASE_URL' && name !== 'AMQP_URL') assert.ok(!(name in out), `${name} is not passed`);
  }
  assert.equal('TARGET_DATABASE_URL' in out, false, 'passed under its platform name only');
  assert.equal(
    bundledTargetEnv({ AMQP_URL: 'amqp://127.0.0.1:1' }).AMQP_URL,
    undefined,
    'an AMQP_URL meant for your system does not reach it',
  );
  assert.deepEqual(bundledTargetEnv({ DATABASE_URL: UNREACHABLE_PG }), {}, 'DATABASE_URL alone gives the platform nothing');
});

void test("a DATABASE_URL meant for the user's system does not reach the bundled platform: the run passes on SQLite", async () => {
  const scenario = project.write('isolated.ts', scenarioSource());
  const r = await runCli([scenario], { cwd: project.dir, env: cleanEnv(project, { DATABASE_URL: UNREACHABLE_PG }) });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /agentload: target bundled platform at http:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(r.stdout + r.stderr, /hunter2-secret/);
  const runDir = project.runDirs().find((d) => d.includes('isolated-'));
  assert.ok(runDir !== undefined);
  const manifest = readJson(join(runDir, 'run.json')) as { exitCode: number; target: { kind: string } };
  assert.equal(manifest.target.kind, 'bundled');
  assert.equal(manifest.exitCode, 0);
});

void test('TARGET_DATABASE_URL does reach the bundled platform (as DATABASE_URL): an unreachable one stops the run, password not shown', async () => {
  const scenario = project.write('targetdb.ts', scenarioSource());
  const r = await runCli([scenario], { cwd: project.dir, env: cleanEnv(project, { TARGET_DATABASE_URL: UNREACHABLE_PG }) });
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  const lines = errorLines(r.stderr).filter((l) => l.startsWith('agentload: cannot start the bundled platform'));
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /hunter2-secret/);
});

void test('side by side start: the Slack sink started, then the platform failed: the sink\'s "at …" line is still printed, before the error', async () => {
  // A `slack…` scenario without SLACK_SINK_URL starts the sink first; SQLITE_PATH under a regular file cannot be opened.
  const scenario = project.write('slack-platform-fails.ts', scenarioSource());
  const notADir = project.write('not-a-dir.txt', 'x');
  const r = await runCli([scenario, '--no-report'], {
    cwd: project.dir,
    env: cleanEnv(project, { SQLITE_PATH: join(notADir, 'db.sqlite') }),
  });
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  const lines = errorLines(r.stderr).filter((l) => l.startsWith('agentload: '));
  const sinkAt = lines.findIndex((l) => /^agentload: Slack reply sink at http:\/\/127\.0\.0\.1:\d+ /.test(l));
  const failed = lines.findIndex((l) => l.startsWith('agentload: cannot start the bundled platform'));
  assert.ok(sinkAt >= 0, `the sink's line is printed:\n${r.stderr}`);
  assert.ok(failed > sinkAt, `the platform's error comes after it:\n${r.stderr}`);
});

/** A `db` scenario (the name turns on the run command's SQLite wiring) that checks the platform's own tables are in DB_DSN. */
const DB_PROBE = `/// <reference path="${join(ROOT, 'lib/types/xk6-sql.d.ts')}" />
import { check } from 'k6';
import sql from 'k6/x/sql';
import sqlite3 from 'k6/x/sql/driver/sqlite3';
export const options = { vus: 1, iterations: 1, thresholds: { checks: ['rate==1'] } };
const db = sql.open(sqlite3, __ENV.DB_DSN ?? '');
export default async function (): Promise<void> {
  const agents = await db.query('SELECT COUNT(*) AS n FROM agents');
  const nodes = await db.query("SELECT COUNT(*) AS n FROM knowledge_nodes WHERE id LIKE 'kn_seed_%'");
  const na = Number(agents[0]?.n ?? 0);
  const nn = Number(nodes[0]?.n ?? 0);
  console.log('probe agents=' + String(na) + ' nodes=' + String(nn));
  check(null, { 'the platform seeded agents here': () => na > 0, 'and its knowledge graph': () => nn > 0 });
}
`;

void test("db scenario on the bundled platform: DB_DSN is the platform's own SQLite file, so the scenario sees its seeded data", async () => {
  const dir = join(project.dir, 'probe');
  mkdirSync(dir, { recursive: true });
  const scenario = project.write('probe/db.ts', DB_PROBE);
  const r = await runCli([scenario], { cwd: project.dir, env: cleanEnv(project, { SEED_AGENTS: '2', SEED_KNOWLEDGE_NODES: '30' }) });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /probe agents=2 nodes=30/);
});
