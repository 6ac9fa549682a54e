// A Ctrl+C or SIGTERM while Node is still loading the toolkit (tsx, TypeScript: about a second) stops at
// once with k6's code for an external stop (105): nothing has started yet. `npm run k6` and the agentload
// binary preload this before tsx (`node --import ./scripts/stop-early.mjs --import tsx ...`); the entry
// scripts import it too. The run command takes signals over from its first step (processIO in
// src/cli/main.ts removes these handlers, found through the global symbol below).
const KEY = Symbol.for('agentload.stopEarly');
if (globalThis[KEY] === undefined) {
  const stopEarly = (signal) => {
    process.stderr.write(`agentload: ${signal} while starting: nothing was run\n`);
    process.exit(105);
  };
  globalThis[KEY] = stopEarly;
  process.on('SIGINT', stopEarly);
  process.on('SIGTERM', stopEarly);
}
