#!/usr/bin/env node
// npm run k8s -- scenarios/<name>.ts --parallelism N [flags] [k6 run flags]   (run with: node --import tsx)
// Writes a k6-operator TestRun manifest (and applies it with --apply); see docs/scale-out.md.
import { k8sMain } from '../src/cli/main.ts';

process.exitCode = await k8sMain(process.argv.slice(2));
