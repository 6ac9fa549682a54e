#!/usr/bin/env node
// npm run build [-- scenarios/<name>.ts ...]: type-check and bundle scenarios into build/
import { loadPrebuilt } from './prebuilt.mjs';

const { buildMain } = await loadPrebuilt('src/cli/main.ts');
process.exitCode = await buildMain(process.argv.slice(2));
