#!/usr/bin/env node
// npm run compare -- <run> --baseline <run or file> [--save-baseline NAME]
// Exit 3 when the run is more than 10 % worse than the baseline (docs/reports.md).
import { loadPrebuilt } from './prebuilt.mjs';

const { compareMain } = await loadPrebuilt('src/reporting/cli.ts');
process.exitCode = await compareMain(process.argv.slice(2));
