#!/usr/bin/env node
// npm run target: starts the reference agent platform and prints its URL.
// Variables: HOST (127.0.0.1), PORT (0 = free port), TARGET_LOG (info|debug), and every
// knob/config variable in docs/target.md. Reads .env. The platform is loaded pre-built (scripts/prebuilt.mjs). SIGINT/SIGTERM shut it down gracefully (exit 0).
import 'dotenv/config';
import { loadPrebuilt } from './prebuilt.mjs';

/** @type {typeof import('../target/index.ts').startTarget} */
const startTarget = (await loadPrebuilt('target/index.ts')).startTarget;

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
  const force = setTimeout(() => { console.error('agentload target: shutdown timed out after 10s'); process.exit(1); }, 10_000);
  force.unref();
  target.close().then(
    () => { console.log('agentload target: stopped'); process.exitCode = 0; },
    (e) => { console.error(`agentload target: shutdown failed: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; },
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

try {
  target = await startTarget({ host: process.env.HOST || '127.0.0.1', port, env: process.env, logger: Boolean(process.env.TARGET_LOG) });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  console.error(`target failed to start: ${err.message}${'code' in err ? ` (${String(err.code)})` : ''}`);
  process.exit(1);
}
console.log(`agentload target listening on ${target.url}`);
if (stopSignal !== undefined) shutdown();
