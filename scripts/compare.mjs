#!/usr/bin/env node
// npm run compare -- <run> --baseline <run or file> [--save-baseline NAME]   (run with: node --import tsx)
// Exit 3 when the run is more than 10 % worse than the baseline (docs/reports.md).
import { compareMain } from '../src/report/cli.ts';

process.exitCode = await compareMain(process.argv.slice(2));
