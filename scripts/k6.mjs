#!/usr/bin/env node
// npm run k6 -- scenarios/<name>.ts [toolkit flags] [k6 run flags]   (run with: node --import tsx)
import './stop-early.mjs';

const { runMain } = await import('../src/cli/main.ts');
process.exitCode = await runMain(process.argv.slice(2));
