#!/usr/bin/env node
// node scripts/engine.mjs run [flags] script.js: the embedded engine as a k6-like CLI (engine/cli.ts),
// loaded pre-built (scripts/prebuilt.mjs). engine/cli.ts reads its arguments from process.argv when loaded.
import { loadPrebuilt } from './prebuilt.mjs';

await loadPrebuilt('engine/cli.ts');
