#!/usr/bin/env node
// npm run k8s -- scenarios/<name>.ts --parallelism N [flags] [k6 run flags]
// Writes a k6-operator TestRun manifest (and applies it with --apply); see docs/scale-out.md.
// Loaded pre-built (scripts/prebuilt.mjs): no TypeScript is compiled at start.
import { loadPrebuilt } from './prebuilt.mjs';

const { k8sMain } = await loadPrebuilt('src/cli/main.ts');
process.exitCode = await k8sMain(process.argv.slice(2));
