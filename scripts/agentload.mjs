#!/usr/bin/env node
// `agentload <command>` inside Node with tsx loaded (bin/agentload.mjs starts this).
import './stop-early.mjs';

const { agentloadMain } = await import('../src/cli/main.ts');
process.exitCode = await agentloadMain(process.argv.slice(2));
