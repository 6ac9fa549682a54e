/**
 * `node --import tsx child-guard.ts <command> [args...]`: runs a command that is not a Node script (the
 * k6 binary, a broker, a database server) so that it dies with the run like every other child
 * (children.ts). The guard shares its terminal and pipes with the command, passes each SIGINT/SIGTERM/
 * SIGHUP it gets to the command exactly once, and ends the way the command ended (same code, or the
 * same signal raised again). When the run is gone it sends the command SIGTERM, then kills whatever is
 * left of its process group after the grace period.
 */
import { spawn } from 'node:child_process';
import { PARENT_PID_VAR, signalOwnGroup, watchParent } from './parent-watch.ts';

const GRACE_MS = Number(process.env.AGENTLOAD_CHILD_GRACE_MS ?? '5000');
const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('child-guard: no command given: child-guard.ts <command> [args...]\n');
  process.exit(2);
}

const parentPid = Number(process.env[PARENT_PID_VAR] ?? process.ppid);
const env = { ...process.env };
Reflect.deleteProperty(env, PARENT_PID_VAR); // the command's parent is this guard, which watches the run for it
delete env.AGENTLOAD_CHILD_GRACE_MS;
const child = spawn(command, args, { stdio: 'inherit', env });
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const forward = (signal: NodeJS.Signals): void => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const s of FORWARDED) process.on(s, forward);

const stopWatching = watchParent(() => {
  setTimeout(() => {
    signalOwnGroup('SIGKILL');
  }, GRACE_MS).unref();
  forward('SIGTERM');
}, parentPid);

child.on('error', (err) => {
  process.stderr.write(`child-guard: cannot start ${command}: ${err.message}\n`);
  process.exitCode = 127;
  stopWatching();
});
child.on('exit', (code, signal) => {
  stopWatching();
  if (signal !== null) {
    for (const s of FORWARDED) process.off(s, forward);
    process.kill(process.pid, signal);
    return;
  }
  process.exitCode = code ?? 1;
});
