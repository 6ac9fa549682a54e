#!/usr/bin/env node
// npm run report -- <run dir | k6 JSON output(s)> [--baseline X] [--out DIR] [soak budget flags]
// Regenerates report.html, junit.xml, summary.md, verdict.json (and reports/index.html) from k6 outputs.
import { loadPrebuilt } from './prebuilt.mjs';

const { reportMain } = await loadPrebuilt('src/reporting/cli.ts');
process.exitCode = await reportMain(process.argv.slice(2));
