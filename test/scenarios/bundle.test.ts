/**
 * Every scenario bundles into a valid k6 script (ESM, only `k6`/`k6/*` imports, no Node built-ins, no
 * secrets from the environment inlined) and the load-script code type-checks with k6's types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT, bundleOne } from './helpers.ts';

export const SCENARIOS = [
  'api-latency',
  'websocket-fanout',
  'slack-to-response',
  'eventbus',
  'db',
  'llm',
  'agent-scaling',
  'tasks',
  'soak',
  'load-profiles',
  'cache',
  'scheduler',
  'state-store',
  'provisioning',
  'jobs',
  'artifacts',
  'bus-durability',
  'failover',
] as const;

interface ImportRef {
  readonly path: string;
  readonly kind: string;
}

/** Every module a bundle imports (static, dynamic, require), read by esbuild from the bundle itself. */
async function importsOf(file: string): Promise<ImportRef[]> {
  const found: ImportRef[] = [];
  await esbuild.build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
    plugins: [
      {
        name: 'record-imports',
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            found.push({ path: args.path, kind: args.kind });
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return found;
}

/** What a k6 script may import: `k6` and `k6/...` only. */
function foreignImports(refs: readonly ImportRef[]): string[] {
  return refs.filter((r) => r.path !== 'k6' && !r.path.startsWith('k6/')).map((r) => `${r.kind} ${r.path}`);
}

void test('the import scanner flags Node built-ins and bare packages (so the check below can fail)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-scan-'));
  try {
    const f = join(dir, 'bad.js');
    writeFileSync(
      f,
      "import fs from 'node:fs';\nimport http from 'k6/http';\nconst os = require('os');\nexport default () => [fs, http, os, import('path')];\n",
    );
    const bad = foreignImports(await importsOf(f));
    assert.deepEqual(bad.sort(), ['dynamic-import path', 'import-statement node:fs', 'require-call os'].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('every scenario bundles to a k6 script that imports only k6 modules and inlines no secret', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-bundles-'));
  const secret = 'sekrit-from-the-environment-7c1e';
  const before = process.env.SLACK_SIGNING_SECRET;
  process.env.SLACK_SIGNING_SECRET = secret;
  try {
    const present = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.ts'));
    for (const name of SCENARIOS) assert.ok(present.includes(`${name}.ts`), `scenarios/${name}.ts exists`);
    for (const name of SCENARIOS) {
      const b = await bundleOne(name, dir);
      const refs = await importsOf(b.outfile);
      assert.deepEqual(foreignImports(refs), [], `${name}: only k6 and k6/* imports`);
      assert.ok(
        refs.some((r) => r.path === 'k6/metrics' || r.path === 'k6/http'),
        `${name}: imports k6 modules`,
      );
      const text = readFileSync(b.outfile, 'utf8');
      assert.ok(!text.includes(secret), `${name}: no value from the environment inlined`);
      assert.ok(!text.includes('agentload-dev-signing-secret'), `${name}: no default signing secret inlined`);
      assert.ok(
        !/\?\.|\?\?/.test(text.replace(/\/\/.*$/gm, '').replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '')),
        `${name}: lowered to ES2017 (no ?. or ??)`,
      );
      // Faker only where payloads need it, and per locale (the bundler refuses the whole package).
      assert.ok(b.bytes < 600 * 1024, `${name}: bundle ${b.bytes} bytes under 600 KB`);
    }
  } finally {
    if (before === undefined) delete process.env.SLACK_SIGNING_SECRET;
    else process.env.SLACK_SIGNING_SECRET = before;
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('every scenario is async-first: the embedded engine runs it in its async VU mode (no blocking call left unawaited)', async () => {
  const { loadScript } = await import('../../engine/runtime/loader.ts');
  const dir = mkdtempSync(join(tmpdir(), 'agentload-bundles-'));
  try {
    for (const name of [...SCENARIOS, 'smoke']) {
      const b = await bundleOne(name, dir);
      const loaded = await loadScript(b.outfile);
      assert.deepEqual(
        loaded.syncReasons.map((r) => `${r.call} at ${r.site}`),
        [],
        `${name}: these calls would put its VUs on threads (docs/engine-sync.md)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('scenarios, lib and thresholds type-check with k6 types only (tsconfig.k6.json)', () => {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', join(ROOT, 'tsconfig.k6.json')],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  const own = r.stdout.split('\n').filter((l) => /^(scenarios|lib|thresholds)\//.test(l));
  assert.deepEqual(own, [], 'no type errors in scenarios/, lib/, objectives/');
});

void test('the failure scenarios use only modules k6 v0.49 already has (no k6/timers, which arrived in v0.50; no websockets)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-bundles-'));
  try {
    for (const name of ['bus-durability', 'failover']) {
      const refs = await importsOf((await bundleOne(name, dir)).outfile);
      const modules = [...new Set(refs.map((r) => r.path))].sort();
      assert.deepEqual(
        modules.filter((m) => !['k6', 'k6/http', 'k6/metrics'].includes(m)),
        [],
        `${name}: ${modules.join(', ')}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
