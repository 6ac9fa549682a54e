#!/usr/bin/env node
// The `agentload` command (npx agentload run scenarios/<name>.ts ...). Runs in this process: the toolkit's
// TypeScript is loaded pre-built (scripts/prebuilt.mjs), so no loader and no second Node process are needed.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [command, ...rest] = process.argv.slice(2);
const delegated = { report: 'scripts/report.mjs', compare: 'scripts/compare.mjs', target: 'scripts/target.mjs' };
let script = root + 'scripts/agentload.mjs';
if (command !== undefined && command in delegated) {
  script = root + delegated[command];
  if (!existsSync(script)) {
    console.error(`agentload: ${command} is not available in this install (${delegated[command]} missing)`);
    process.exit(2);
  }
  // The delegated script reads its own arguments from process.argv, as when npm runs it.
  process.argv = [process.argv[0] ?? process.execPath, script, ...rest];
}
await import(pathToFileURL(script).href);
