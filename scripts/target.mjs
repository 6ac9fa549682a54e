#!/usr/bin/env node
// npm run target: starts the reference agent platform and prints its URL.
// Variables: HOST (127.0.0.1), PORT (0 = free port), TARGET_LOG (info|debug), and every
// knob/config variable in docs/target.md. Reads .env. SIGINT/SIGTERM shut it down gracefully (exit 0).
// With TARGET_INSTANCES > 1 or TARGET_WORKERS > 0 it starts the platform as several processes behind a
// loopback balancer and prints the balancer's URL. Started with an IPC channel (by the run command or the
// cluster supervisor), it also shuts down when that channel closes: it never outlives its parent.
// The platform is loaded pre-built (scripts/prebuilt.mjs): no TypeScript is compiled at start.
import 'dotenv/config';
import { loadPrebuilt } from './prebuilt.mjs';

/** @type {typeof import('../target/index.ts')} */
const { startTarget, readClusterConfig, startCluster, toError } = await loadPrebuilt('target/index.ts');

const HELP = `Usage: npm run target [-- --help]   (or: agentload target)

Starts the bundled reference agent platform on a loopback port and prints its URL; Ctrl+C stops it (exit 0).
It takes no arguments: it is configured by variables (also read from .env):
  HOST              address to listen on (default 127.0.0.1)
  PORT              port (default 0: a free port)
  TARGET_LOG        set to log each request
  TARGET_INSTANCES  API instances behind a loopback balancer (default 1)
  TARGET_WORKERS    consumer worker processes (default 0)
  and every knob and fault variable in docs/target.md (FAULT_LATENCY_MS, FAULT_ERROR_RATE, ...).
Exit codes: 0 stopped by Ctrl+C/SIGTERM, 1 failed to start or to stop, 2 bad argument or variable.`;
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
if (argv.length > 0) {
  console.error(
    `agentload target: unexpected argument ${JSON.stringify(argv[0])}: the platform is configured by variables (HOST, PORT, ...), not flags; see npm run target -- --help`,
  );
  process.exit(2);
}

const port = Number(process.env.PORT ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be an integer in 0..65535, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

/** @type {import('../target/index.ts').RunningTarget | undefined} */
let target;
/** @type {string | undefined} */
let stopSignal;

function shutdown() {
  if (target === undefined) return; // still starting: shut down as soon as it is up
  console.log(`agentload target: ${stopSignal}, shutting down`);
  const force = setTimeout(() => {
    console.error('agentload target: shutdown timed out after 10s');
    process.exit(1);
  }, 10_000);
  force.unref();
  target.close().then(
    () => {
      console.log('agentload target: stopped');
      process.exitCode = 0;
      if (process.connected) process.disconnect(); // an open IPC channel would keep the process alive
    },
    (e) => {
      console.error(`agentload target: shutdown failed: ${toError(e).message}`);
      process.exitCode = 1;
    },
  );
}

// Handlers go in before the URL is printed, so whoever reads the URL can signal at once.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopSignal !== undefined) return;
    stopSignal = sig;
    shutdown();
  });
}
if (typeof process.send === 'function') {
  process.on('disconnect', () => {
    if (stopSignal !== undefined) return;
    stopSignal = 'parent gone';
    if (target === undefined) process.exit(1); // still starting: nothing to close gracefully yet
    shutdown();
  });
}

try {
  const cluster = readClusterConfig(process.env);
  const host = process.env.HOST || '127.0.0.1';
  target =
    cluster === undefined
      ? await startTarget({ host, port, env: process.env, logger: Boolean(process.env.TARGET_LOG) })
      : await startCluster({ cfg: cluster, env: process.env, host, port });
  if (cluster !== undefined)
    console.log(
      `agentload target: cluster of ${cluster.instances} API instance(s) and ${cluster.workers} consumer worker(s) behind a balancer`,
    );
} catch (e) {
  const err = toError(e);
  console.error(`target failed to start: ${err.message}${'code' in err ? ` (${String(err.code)})` : ''}`);
  process.exit(1);
}
console.log(`agentload target listening on ${target.url}`);
if (stopSignal !== undefined) shutdown();
