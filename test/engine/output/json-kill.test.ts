/**
 * `--out json=FILE.gz` of a run that is killed (SIGKILL: no shutdown code runs) still holds the samples up
 * to about a second before the kill: the gzip stream is sync-flushed at least every second, as k6 flushes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { constants, gunzipSync } from 'node:zlib';
import { ROOT } from '../conformance/run-helpers.ts';

const SCRIPT = `import { sleep } from 'k6';
import { Counter } from 'k6/metrics';
const ticks = new Counter('ticks');
export const options = { vus: 1, duration: '60s' };
export default async function () {
  ticks.add(1);
  await sleep(0.1);
}
`;

void test('SIGKILL: the gzip output holds the samples up to about a second before the kill', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-json-kill-'));
  const script = join(dir, 'ticks.js');
  writeFileSync(script, SCRIPT);
  const out = join(dir, 'out.json.gz');
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href,
      join(ROOT, 'engine/cli.ts'),
      'run',
      '-q',
      '--out',
      `json=${out}`,
      script,
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const exited = new Promise<void>((r) =>
    child.on('exit', () => {
      r();
    }),
  );
  try {
    // Wait until the run is well under way (the file exists and has grown past its gzip header), then 3 s more.
    const deadline = Date.now() + 60_000;
    while (!existsSync(out) || statSync(out).size < 100) {
      if (Date.now() > deadline) throw new Error(`the run never wrote samples:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    child.kill('SIGKILL');
  }
  const killedAt = Date.now();
  await exited;
  // A killed gzip stream has no end: decode what is there.
  const text = gunzipSync(readFileSync(out), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  const times = text
    .split('\n')
    .filter((l) => l.includes('"metric":"ticks","type":"Point"'))
    .map((l) => Date.parse((JSON.parse(l) as { data: { time: string } }).data.time));
  assert.ok(times.length >= 20, `ticks samples in the file: ${String(times.length)}`);
  const last = Math.max(...times);
  assert.ok(killedAt - last < 2500, `the last sample in the file is ${String(killedAt - last)} ms older than the kill`);
});
