#!/usr/bin/env node
// `agentload <command>` (bin/agentload.mjs starts this), loaded pre-built (scripts/prebuilt.mjs).
import './stop-early.mjs';
import { loadPrebuilt } from './prebuilt.mjs';

const { agentloadMain } = await loadPrebuilt('src/cli/main.ts');
process.exitCode = await agentloadMain(process.argv.slice(2));
