#!/usr/bin/env node
// npm run build [-- scenarios/<name>.ts ...]: type-check and bundle scenarios into build/   (run with: node --import tsx)
import { buildMain } from '../src/cli/main.ts';

process.exitCode = await buildMain(process.argv.slice(2));
