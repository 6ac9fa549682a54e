#!/usr/bin/env node
// The `agentload` command (npx agentload run scenarios/<name>.ts ...). The toolkit is TypeScript run through
// tsx, so this re-runs Node with `--import tsx` (worker threads inherit it) and passes the exit code back.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [command, ...rest] = process.argv.slice(2);
const delegated = { report: 'scripts/report.mjs', compare: 'scripts/compare.mjs', target: 'scripts/target.mjs' };
let args;
if (command !== undefined && command in delegated) {
  const script = root + delegated[command];
  if (!existsSync(script)) {
    console.error(`agentload: ${command} is not available in this install (${delegated[command]} missing)`);
    process.exit(2);
  }
  args = [script, ...rest];
} else {
  args = [root + 'scripts/agentload.mjs', ...process.argv.slice(2)];
}
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), ...args], { stdio: 'inherit', cwd: process.cwd() });
// The child handles Ctrl+C itself (it is in our process group); stay alive until it is done.
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { if (s === 'SIGTERM') child.kill('SIGTERM'); });
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 105 : 1);
});
