#!/usr/bin/env node
// The `agentload` command (npx agentload run scenarios/<name>.ts ...): re-runs Node with the parent watch
// preloaded (below) on the command's script, which loads the toolkit pre-built (scripts/prebuilt.mjs), and
// passes the exit code back. The watch is preloaded from its cached bundle too, so no TypeScript is compiled
// at start; tsx only when bundles are off (AGENTLOAD_PREBUILT=0) or cannot be built.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleOf } from '../scripts/prebuilt.mjs';
import { youngGenerationFlags } from '../scripts/young-generation.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const [command, ...rest] = process.argv.slice(2);
const delegated = { report: 'scripts/report.mjs', compare: 'scripts/compare.mjs', target: 'scripts/target.mjs' };
let args;
if (command !== undefined && command in delegated) {
  const script = root + delegated[command];
  if (!existsSync(script)) {
    console.error(`agentload: ${command} is not available in this install (${delegated[command]} missing)`);
    process.exit(2); // EXIT_CODES.usage (shared/exit-codes.ts: this file runs before tsx, so it cannot import it)
  }
  args = [script, ...rest];
} else {
  args = [root + 'scripts/agentload.mjs', ...process.argv.slice(2)];
}
// The child watches this process (src/run/child-preload.ts): if this wrapper is killed, the run still stops
// (gracefully: SIGTERM, then its own children) instead of running on without anyone waiting for it.
const watch = await bundleOf('src/run/child-preload.ts').catch(() => undefined);
// The run's own young generation fixed from the start (scripts/young-generation.mjs), then the preloads.
const preload = [
  ...youngGenerationFlags(process.env),
  '--import',
  import.meta.resolve('../scripts/stop-early.mjs'),
  ...(watch !== undefined
    ? ['--require', watch]
    : ['--import', import.meta.resolve('tsx'), '--import', import.meta.resolve('../src/run/child-preload.ts')]),
];
const child = spawn(process.execPath, [...preload, ...args], {
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  cwd: process.cwd(),
  env: { ...process.env, AGENTLOAD_PARENT_PID: String(process.pid), AGENTLOAD_CHILD_GRACE_MS: '120000' },
});
child.channel?.unref();
// The child handles Ctrl+C itself (it is in our process group); stay alive until it is done.
for (const s of ['SIGINT', 'SIGTERM'])
  process.on(s, () => {
    if (s === 'SIGTERM') child.kill('SIGTERM');
  });
child.on('close', (code, signal) => {
  // 105: EXIT_CODES.externalAbort (shared/exit-codes.ts; test/static/exit-codes.test.ts checks these literals)
  process.exitCode = code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 105 : 1);
});
