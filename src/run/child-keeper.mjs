#!/usr/bin/env node
// Holds a child process that cannot watch its own parent (RabbitMQ's Erlang VM, epmd) and makes sure it
// dies with whoever started it, however that one ends.
//
//   node src/run/child-keeper.mjs <command> [args...]     (spawned with an IPC channel)
//
// The command runs in a process group of its own. The keeper reports {type:'spawned', pid} and, when the
// command ends, {type:'exit', code, signal}, kills what is left of the group and exits. A message
// {type:'signal', signal} is sent to the whole group (SIGTERM for a graceful stop, SIGKILL for a crash).
// When the parent goes away (IPC channel closed, or the parent process changed), the group gets SIGTERM,
// then SIGKILL after a grace period, and the keeper exits. Plain JavaScript: it starts in milliseconds.
import { spawn } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
if (cmd === undefined || typeof process.send !== 'function') {
  console.error('child-keeper: usage: spawn `node child-keeper.mjs <command> [args...]` with an IPC channel');
  process.exit(2);
}

const GRACE_MS = Number(process.env.AGENTLOAD_KEEPER_GRACE_MS ?? '5000');
const parent = process.ppid;
const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
let ending = false;

function signalGroup(signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function send(msg) {
  try {
    if (process.connected) process.send(msg);
  } catch {
    /* parent gone */
  }
}

function abandon() {
  if (ending) return;
  ending = true;
  signalGroup('SIGTERM');
  const t = setTimeout(() => {
    signalGroup('SIGKILL');
    process.exit(0);
  }, GRACE_MS);
  t.unref();
  child.once('exit', () => {
    signalGroup('SIGKILL');
    process.exit(0);
  });
}

child.on('error', (e) => {
  send({ type: 'error', message: e.message });
  process.exit(1);
});
child.on('spawn', () => {
  send({ type: 'spawned', pid: child.pid });
});
child.on('exit', (code, signal) => {
  send({ type: 'exit', code, signal });
  signalGroup('SIGKILL'); // helpers the command left behind in its group
  if (!ending) setTimeout(() => process.exit(0), 50).unref();
});
process.on('message', (msg) => {
  if (msg !== null && typeof msg === 'object' && msg.type === 'signal' && typeof msg.signal === 'string') signalGroup(msg.signal);
});
process.on('disconnect', abandon);
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, abandon);
setInterval(() => {
  if (process.ppid !== parent) abandon();
}, 500).unref();
// Keep the event loop alive while the child runs (the IPC channel is unref'd once connected).
const alive = setInterval(() => undefined, 60_000);
child.once('exit', () => {
  clearInterval(alive);
});
