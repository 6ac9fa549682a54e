/**
 * Finding the k6 binary and its version. `K6_BIN` wins; else the first `k6` on PATH.
 * The version decides whether `k6/websockets` must be aliased to `k6/experimental/websockets`.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { AgentloadError, EXIT_CODES } from '../cli/errors.ts';

export interface K6Binary {
  readonly path: string;
  /** `0.49.0`, or undefined when `k6 version` printed nothing we recognise. */
  readonly version: string | undefined;
  /** What `k6 version` printed (first line). */
  readonly versionLine: string;
}

/**
 * The first k6 release with the stable `k6/websockets` module (v1.6.0, grafana/k6#5579/#5586: the module
 * graduated from `k6/experimental/websockets` with the same API). Older binaries only know the experimental path.
 */
export const STABLE_WEBSOCKETS_VERSION = '1.6.0';

/**
 * The first k6 release without the built-in `k6/experimental/redis` (v2.0.0, grafana/k6#5776 after the
 * deprecation in #5237): the same API is the `k6/x/redis` extension, which k6 v2 resolves automatically.
 */
export const REDIS_EXTENSION_VERSION = '2.0.0';

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

function findOnPath(name: string, pathVar: string | undefined): string | undefined {
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

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** True when the binary predates the stable `k6/websockets` module. Unknown versions are assumed current. */
export function needsWebsocketsAlias(version: string | undefined): boolean {
  return version !== undefined && compareVersions(version, STABLE_WEBSOCKETS_VERSION) < 0;
}

/** True when the binary no longer has `k6/experimental/redis` (v2.0.0 and later). Unknown versions are assumed current. */
export function needsRedisAlias(version: string | undefined): boolean {
  return version === undefined || compareVersions(version, REDIS_EXTENSION_VERSION) >= 0;
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
      resolvePromise({ path: bin, version: parseK6Version(versionLine), versionLine });
    });
  });
}
