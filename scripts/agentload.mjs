#!/usr/bin/env node
// `agentload <command>` inside Node with tsx loaded (bin/agentload.mjs starts this).
import { agentloadMain } from '../src/cli/main.ts';

process.exitCode = await agentloadMain(process.argv.slice(2));
