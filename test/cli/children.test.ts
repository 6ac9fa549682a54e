/**
 * ChildGroup (src/run/children.ts): N children, Node scripts and other commands alike, each in its own
 * process group, all reaped by stopAll() (their own children too), and all gone when the process that
 * started them is SIGKILLed (the parent-death check in each child). Real processes; pids are checked
 * with kill(pid, 0).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChildGroup, SYSTEM_ENV } from '../../src/run/children.ts';
import { TSX } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-children-'));
/** A Node child that starts a grandchild (`sleep`), says so, and runs until stopped. */
const NODE_CHILD = join(dir, 'child.mjs');
writeFileSync(
  NODE_CHILD,
  `import { spawn } from 'node:child_process';
const grandchild = spawn('sleep', ['300'], { stdio: 'ignore' });
console.log('ready ' + process.pid + ' ' + grandchild.pid);
setInterval(() => {}, 1000);
`,
);

const env = (): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const n of SYSTEM_ENV) {
    const v = process.env[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pids: readonly number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(alive);
  }
  return left;
}

/** The process group of a pid (/proc/PID/stat, the field after the parent pid). */
function pgidOf(pid: number): number {
  const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return Number(fields[2]);
}

void test('stopAll: three children (two Node scripts, one command) in groups of their own, reaped with their own children', async () => {
  const group = new ChildGroup();
  const ready = /^ready (\d+) (\d+)/;
  const a = await group.start({ name: 'a', node: true, command: NODE_CHILD, args: [], cwd: dir, env: env(), ready });
  const b = await group.start({ name: 'b', node: true, command: NODE_CHILD, args: [], cwd: dir, env: env(), ready });
  const c = await group.start({ name: 'c', command: 'sleep', args: ['300'], cwd: dir, env: env() });
  const pids = [a.pid, Number(a.ready?.[2]), b.pid, Number(b.ready?.[2]), c.pid];
  assert.ok(
    pids.every((p) => Number.isInteger(p) && p > 0 && alive(p)),
    `all running: ${pids.join(' ')}`,
  );
  assert.equal(group.size, 3);
  for (const child of [a, b, c])
    assert.equal(pgidOf(child.pid), child.pid, `${child.name} leads its own process group (a terminal Ctrl+C does not reach it)`);
  assert.notEqual(pgidOf(a.pid), pgidOf(process.pid));
  await group.stopAll();
  assert.deepEqual(await gone(pids, 5000), [], 'every child and grandchild is gone');
  assert.equal(group.size, 0);
});

void test('the starting process is SIGKILLed: every child it started stops by itself (parent-death check)', async () => {
  const driver = join(dir, 'driver.mts');
  writeFileSync(
    driver,
    `import { ChildGroup } from ${JSON.stringify(new URL('../../src/run/children.ts', import.meta.url).href)};
const group = new ChildGroup();
const env = { PATH: process.env.PATH ?? '', AGENTLOAD_CHILD_GRACE_MS: '2000' };
const ready = /^ready (\\d+) (\\d+)/;
const a = await group.start({ name: 'a', node: true, command: ${JSON.stringify(NODE_CHILD)}, args: [], cwd: ${JSON.stringify(dir)}, env, ready });
const b = await group.start({ name: 'b', node: true, command: ${JSON.stringify(NODE_CHILD)}, args: [], cwd: ${JSON.stringify(dir)}, env, ready });
const c = await group.start({ name: 'c', command: 'sleep', args: ['300'], cwd: ${JSON.stringify(dir)}, env });
console.log('pids ' + [a.pid, a.ready?.[2], b.pid, b.ready?.[2], c.pid].join(' '));
setInterval(() => {}, 1000);
`,
  );
  const proc = spawn(process.execPath, ['--import', TSX, driver], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`driver did not start its children: ${out}`));
    }, 60_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`driver exited (${String(code)}): ${out}`));
    });
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /pids ([\d ]+)\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve((m[1] ?? '').trim().split(' ').map(Number));
      }
    });
  });
  assert.equal(pids.length, 5);
  assert.ok(pids.every(alive));
  proc.kill('SIGKILL');
  assert.deepEqual(await gone(pids, 10_000), [], 'children and grandchildren stopped after their parent was killed');
});

void test('a child that cannot start rejects with its own words; a start aborted by a signal stops the child', async () => {
  const group = new ChildGroup();
  const failing = join(dir, 'fails.mjs');
  writeFileSync(failing, "console.error('cannot bind: port taken'); process.exit(3);\n");
  await assert.rejects(
    group.start({ name: 'f', node: true, command: failing, args: [], cwd: dir, env: env(), ready: /never/ }),
    (e: unknown) => e instanceof Error && /exited \(code 3\) before it was ready: cannot bind: port taken/.test(e.message),
  );
  const slow = join(dir, 'slow.mjs');
  writeFileSync(slow, "setTimeout(() => console.log('ready'), 60000);\nsetInterval(() => {}, 1000);\n");
  const abort = new AbortController();
  const starting = group.start({ name: 's', node: true, command: slow, args: [], cwd: dir, env: env(), ready: /^ready/ }, abort.signal);
  setTimeout(() => {
    abort.abort(new Error('SIGINT'));
  }, 500);
  await assert.rejects(starting, /stopped while starting/);
  await group.stopAll();
  assert.equal(group.size, 0);
});

void test('Node children start without compiling TypeScript: a .ts command and the watch run from their cached bundles; AGENTLOAD_PREBUILT=0 goes through tsx', async () => {
  const tsChild = join(dir, 'typed-child.ts');
  writeFileSync(
    tsChild,
    `const say = (what: string): void => { console.log('ready ' + what); };
say(JSON.stringify({ script: process.argv[1], execArgv: process.execArgv, prebuilt: process.env.AGENTLOAD_PREBUILT ?? null }));
setInterval(() => {}, 1000);
`,
  );
  const group = new ChildGroup();
  const seen = async (): Promise<{ script: string; execArgv: string[]; prebuilt: string | null }> => {
    const c = await group.start({ name: 't', node: true, command: tsChild, args: [], cwd: dir, env: env(), ready: /^ready (.*)$/ });
    return JSON.parse(c.ready?.[1] ?? '{}') as { script: string; execArgv: string[]; prebuilt: string | null };
  };
  try {
    const bundled = await seen();
    assert.match(bundled.script, /typed-child-[0-9a-f]{12}-[0-9a-f]{24}\.cjs$/, 'the command is its bundle');
    assert.equal(bundled.execArgv[0], '--require');
    assert.match(bundled.execArgv[1] ?? '', /child-preload-[0-9a-f]{12}-[0-9a-f]{24}\.cjs$/, 'the watch is preloaded from its bundle');
    assert.ok(!bundled.execArgv.some((a) => a.includes('tsx')), `no tsx: ${bundled.execArgv.join(' ')}`);

    process.env.AGENTLOAD_PREBUILT = '0';
    const viaTsx = await seen();
    assert.equal(viaTsx.script, tsChild);
    assert.ok(
      viaTsx.execArgv.some((a) => a.includes('tsx')),
      `tsx: ${viaTsx.execArgv.join(' ')}`,
    );
    assert.equal(viaTsx.prebuilt, '0', 'the child is told too (scripts/prebuilt.mjs reads it there)');
  } finally {
    delete process.env.AGENTLOAD_PREBUILT;
    await group.stopAll();
  }
});
