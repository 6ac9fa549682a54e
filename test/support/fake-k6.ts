/**
 * A stand-in `k6` executable for CLI tests: a small Node script written into a temp folder (put it first on
 * PATH, or point K6_BIN at it). It answers `k6 version` with the chosen version and extensions (k6's format:
 * `Extensions:` then `  <go module> <version>, <name> [js]` per line), records every other call's
 * arguments (and a few env values) as one JSON line, writes the outputs it was asked for from the real k6
 * v0.49 reference files (so the report pipeline has real k6 output to read), and exits with the chosen code.
 * With `waitForSignal`, it waits for SIGINT (as k6 does during a test), records it and exits 105.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeK6Options {
  readonly version?: string;
  readonly exitCode?: number;
  readonly waitForSignal?: boolean;
  /** Sends one `GET ${'$'}{BASE_URL}/health` before exiting (to prove a test's request counter works). */
  readonly hitBaseUrl?: boolean;
  /** false: exits without writing any output, as a run that recorded nothing (default true). */
  readonly writesOutputs?: boolean;
  /** JavaScript extensions `k6 version` lists, e.g. `k6/x/sql` (default none: a stock k6). */
  readonly extensions?: readonly string[];
  /** Lines written to stderr before it exits (e.g. k6's logfmt, as k6 writes it when stderr is not a terminal). */
  readonly stderrLines?: readonly string[];
  /** Text written to stdout before it exits. */
  readonly stdoutText?: string;
}

export interface FakeK6Call {
  readonly args: string[];
  readonly env: Record<string, string | null>;
  /** Whether its stdout and stderr were terminals (a child given pipes loses k6's colours). */
  readonly tty: { readonly stdout: boolean; readonly stderr: boolean };
  readonly signal?: string;
}

export interface FakeK6 {
  readonly dir: string;
  readonly bin: string;
  readonly log: string;
  /** The recorded calls (not counting `k6 version`). */
  calls(): FakeK6Call[];
  cleanup(): void;
}

/** Real k6 v0.49 outputs (from test/fixtures/k6-reference: fixture.out.json gzipped, summary export, handleSummary data). */
export const K6_FIXTURES = new URL('../cli/fixtures/k6-v0.49/', import.meta.url).pathname;

/** Env values the fake records (names chosen by the tests). */
const RECORDED_ENV = [
  'BASE_URL',
  'AGENTLOAD_HANDLE_SUMMARY_PATH',
  'FAKE_SECRET_TOKEN',
  'SLACK_BOT_TOKEN',
  'FROM_DOTENV',
  'K6_BLACKLIST_IPS',
  'AGENTLOAD_SUMMARY_COLORS',
];

/** What the stand-in prints for `k6 version`. */
function versionText(opts: FakeK6Options): string {
  const head = `k6 v${opts.version ?? '0.49.0'} (go1.21.6, linux/amd64)\n`;
  const exts = opts.extensions ?? [];
  if (exts.length === 0) return head;
  return `${head}Extensions:\n${exts.map((name) => `  github.com/example/xk6-${name.replace(/\//g, '-')} v0.1.0, ${name} [js]\n`).join('')}`;
}

export function makeFakeK6(opts: FakeK6Options = {}): FakeK6 {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-fake-k6-'));
  const bin = join(dir, 'k6');
  const log = join(dir, 'calls.jsonl');
  const script = `#!/usr/bin/env node
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const REF = ${JSON.stringify(K6_FIXTURES)};
const args = process.argv.slice(2);
if (args[0] === 'version') {
  process.stdout.write(${JSON.stringify(versionText(opts))});
  process.exit(0);
}
const env = {};
for (const name of ${JSON.stringify(RECORDED_ENV)}) env[name] = process.env[name] === undefined ? null : process.env[name];
function record(extra) {
  const tty = { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true };
  fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(Object.assign({ args: args, env: env, tty: tty }, extra)) + '\\n');
}
function writeOutputs() {
  if (!${opts.writesOutputs === false ? 'false' : 'true'}) return;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const out = a === '--out' ? args[i + 1] : a.startsWith('--out=') ? a.slice(6) : undefined;
    if (out !== undefined && out.startsWith('json=')) {
      fs.copyFileSync(path.join(REF, 'out.json.gz'), out.slice(5));
    }
    if (a.startsWith('--summary-export=')) {
      fs.copyFileSync(path.join(REF, 'summary-export.json'), a.slice('--summary-export='.length));
    }
  }
  const hs = process.env.AGENTLOAD_HANDLE_SUMMARY_PATH;
  if (hs) fs.copyFileSync(path.join(REF, 'handle-summary-data.json'), hs);
}
if (${opts.waitForSignal === true ? 'true' : 'false'}) {
  record({ signal: 'waiting' });
  process.on('SIGINT', () => { record({ signal: 'SIGINT' }); writeOutputs(); process.exit(105); });
  setTimeout(() => { record({ signal: 'timeout' }); process.exit(1); }, 30000);
} else {
  record({});
  writeOutputs();
  process.stdout.write(${JSON.stringify(opts.stdoutText ?? '')});
  for (const line of ${JSON.stringify(opts.stderrLines ?? [])}) process.stderr.write(line + '\\n');
  const done = () => process.exit(${String(opts.exitCode ?? 0)});
  if (${opts.hitBaseUrl === true ? 'true' : 'false'} && process.env.BASE_URL) {
    http.get(process.env.BASE_URL + '/health', (res) => { res.resume(); res.on('end', done); }).on('error', done);
  } else done();
}
`;
  writeFileSync(bin, script);
  chmodSync(bin, 0o755);
  return {
    dir,
    bin,
    log,
    calls() {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as FakeK6Call);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
