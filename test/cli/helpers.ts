/** Spawning the real run command (`node scripts/k6.mjs ...`, as `npm run k6` does) in a clean temp project folder. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFakeK6, type FakeK6 } from '../support/fake-k6.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
/** tsx's loader as a URL, for tests that run TypeScript drivers of their own. */
export const TSX = import.meta.resolve('tsx');
/** Preloaded first, as `npm run k6` does: a signal while Node loads the toolkit exits 105. */
export const STOP_EARLY = new URL('../../scripts/stop-early.mjs', import.meta.url).href;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Project {
  readonly dir: string;
  readonly reports: string;
  readonly build: string;
  /** Writes `<dir>/<file>` and returns its absolute path. */
  write(file: string, text: string): string;
  /** The run folders created so far. */
  runDirs(): string[];
  cleanup(): void;
}

export function makeProject(): Project {
  const dir = mkdtempSync(join(tmpdir(), 'agentload-cli-'));
  const reports = join(dir, 'reports');
  const build = join(dir, 'build');
  return {
    dir,
    reports,
    build,
    write(file, text) {
      const p = join(dir, file);
      writeFileSync(p, text);
      return p;
    },
    runDirs() {
      try {
        return readdirSync(reports)
          .map((d) => join(reports, d))
          .sort();
      } catch {
        return [];
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal environment: no BASE_URL or k6 from the developer's shell leaks into a test. */
export function cleanEnv(project: Project, extra: Record<string, string> = {}, pathPrefix?: string): Record<string, string> {
  const basePath = (process.env.PATH ?? '')
    .split(':')
    .filter((d) => {
      try {
        return !readdirSync(d).includes('k6');
      } catch {
        return true;
      }
    })
    .join(':');
  return {
    PATH: pathPrefix === undefined ? basePath : `${pathPrefix}:${basePath}`,
    HOME: process.env.HOME ?? '/tmp',
    AGENTLOAD_BUILD_DIR: project.build,
    AGENTLOAD_REPORTS_DIR: project.reports,
    NO_COLOR: '1',
    ...extra,
  };
}

export function spawnCli(args: readonly string[], opts: { cwd: string; env: Record<string, string> }): ChildProcess {
  return spawn(process.execPath, ['--import', STOP_EARLY, join(ROOT, 'scripts/k6.mjs'), ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function collect(child: ChildProcess, timeoutMs = 120_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function runCli(args: readonly string[], opts: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  return collect(spawnCli(args, opts));
}

/** Lines the toolkit printed on stderr (its own `agentload:` lines and type errors), without engine output. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '');
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** A small valid scenario (k6 types, async-first) that requests BASE_URL/health once. */
export function scenarioSource(extraImports = ''): string {
  return `import http from 'k6/http';
import { check } from 'k6';
${extraImports}
export const options = { vus: 1, iterations: 1 };
export default async function (): Promise<void> {
  const res = await http.asyncRequest('GET', \`\${__ENV.BASE_URL ?? ''}/health\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
`;
}

/** A loopback HTTP server that answers every request with `{"status":"ok"}` and counts them. */
export interface CountingServer {
  readonly port: number;
  readonly url: string;
  requests(): number;
  close(): Promise<void>;
}

export async function countingServer(): Promise<CountingServer> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${String(port)}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

/**
 * What the refusal tests share: a counting server (so "no request was sent" can be checked), a stand-in k6
 * on PATH that requests BASE_URL as a real script would, and a project folder; `close` removes all three.
 */
export interface RefusalBench {
  readonly server: CountingServer;
  readonly fake: FakeK6;
  readonly project: Project;
  close(): Promise<void>;
}

export async function refusalBench(): Promise<RefusalBench> {
  const server = await countingServer();
  const fake = makeFakeK6({ hitBaseUrl: true });
  const project = makeProject();
  return {
    server,
    fake,
    project,
    close: async () => {
      fake.cleanup();
      project.cleanup();
      await server.close();
    },
  };
}

/**
 * Pids of live processes whose environment holds `entry` (`NAME=value`, a marker a test put there); with
 * `command`, only those whose command line contains it (e.g. `target.mjs`, the bundled platform).
 */
export function pidsWithEnv(entry: string, command?: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (command !== undefined && !readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(command)) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry)) out.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}
