/**
 * `node --import tsx engine/cli.ts run [flags] script.js` — the embedded engine as a k6-like CLI
 * (tests, benchmarks; users get it as `agentload k6 ...`). Sets process.exitCode instead of exiting
 * mid-run so output flushes. The commands are in cli-main.ts.
 */
import process from 'node:process';
import { EXIT_CODES } from '../shared/exit-codes.ts';
import { engineCliMain } from './cli-main.ts';

engineCliMain(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTTY: process.stdout.isTTY,
  stderrIsTTY: process.stderr.isTTY,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT_CODES.genericEngine;
  },
);
