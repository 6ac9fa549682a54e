#!/usr/bin/env node
// npm run k6 -- scenarios/<name>.ts [toolkit flags] [k6 run flags]
// Loads the run command pre-built (scripts/prebuilt.mjs): no TypeScript is compiled at start.
import './stop-early.mjs';
import { loadPrebuilt } from './prebuilt.mjs';

const { runMain } = await loadPrebuilt('src/cli/main.ts');
process.exitCode = await runMain(process.argv.slice(2));
