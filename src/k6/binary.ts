/**
 * Finding the k6 binary, its version and its extensions (`k6 version`). `K6_BIN` wins; else the first `k6`
 * on PATH. What the version and extensions allow is decided in compat.ts.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { AgentloadError, EXIT_CODES } from '../errors.ts';

export interface K6Binary {
  readonly path: string;
  /** `0.49.0`, or undefined when `k6 version` printed nothing we recognise. */
  readonly version: string | undefined;
  /** What `k6 version` printed (first line). */
  readonly versionLine: string;
  /** The extensions `k6 version` lists (none for a stock k6). */
  readonly extensions: readonly K6Extension[];
}

function isExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The k6 to use: K6_BIN (must exist) or `k6` on PATH; undefined when there is none. */
export function findK6(env: Readonly<Record<string, string | undefined>>, cwd: string): string | undefined {
  const fromEnv = env.K6_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    const p = isAbsolute(fromEnv) || fromEnv.includes('/') ? resolve(cwd, fromEnv) : findOnPath(fromEnv, env.PATH);
    if (p === undefined || !isExecutable(p)) {
      throw new AgentloadError(
        'k6-not-found',
        EXIT_CODES.usage,
        `K6_BIN=${fromEnv} is not an executable file: point K6_BIN at a k6 binary, or unset it to use the embedded engine`,
      );
    }
    return p;
  }
  return findOnPath('k6', env.PATH);
}

/** The first executable `name` in the PATH folders, or undefined. */
export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** Parses `k6 v0.49.0 (go1.21.6, linux/amd64)` → `0.49.0`. */
export function parseK6Version(output: string): string | undefined {
  const m = /\bv?(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m === null ? undefined : `${m[1] ?? '0'}.${m[2] ?? '0'}.${m[3] ?? '0'}`;
}

/** One line of `k6 version`'s extension list: `  github.com/grafana/xk6-sql v1.0.4, k6/x/sql [js]`. */
export interface K6Extension {
  /** Go module path. */
  readonly path: string;
  readonly version: string;
  /** What scripts import (`k6/x/sql`) or the output's name. */
  readonly name: string;
  /** `js`, `output`, `secret-source`. */
  readonly type: string;
}

const EXTENSION_LINE = /^\s+(\S+)\s+(\S*),\s+(\S+)\s+\[([\w-]+)\]\s*$/;

/** The extensions `k6 version` lists after its `Extensions:` line (none for a stock k6). */
export function parseK6Extensions(versionOutput: string): K6Extension[] {
  const lines = versionOutput.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Extensions:');
  if (start === -1) return [];
  const out: K6Extension[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = EXTENSION_LINE.exec(line);
    if (m === null) {
      if (line.trim() === '') continue;
      break;
    }
    out.push({ path: m[1] ?? '', version: m[2] ?? '', name: m[3] ?? '', type: m[4] ?? '' });
  }
  return out;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export async function k6Version(bin: string, env: NodeJS.ProcessEnv): Promise<K6Binary> {
  return new Promise((resolvePromise, reject) => {
    execFile(bin, ['version'], { env, timeout: 15_000 }, (err, stdout) => {
      if (err !== null && stdout === '') {
        reject(
          new AgentloadError(
            'k6-failed-to-start',
            EXIT_CODES.usage,
            `${bin} version failed (${err.message.split('\n')[0] ?? ''}): check the binary, or use --engine node`,
          ),
        );
        return;
      }
      const versionLine = stdout.split('\n')[0]?.trim() ?? '';
      resolvePromise({ path: bin, version: parseK6Version(versionLine), versionLine, extensions: parseK6Extensions(stdout) });
    });
  });
}
