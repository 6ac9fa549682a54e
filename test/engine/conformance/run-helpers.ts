/** Runs scripts through runEngine in-process (captured output) or through the real engine/cli.ts. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runEngine } from '../../../engine/index.ts';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const PORTED = join(ROOT, 'test/fixtures/k6-ported');
export { K6_REFERENCE_DIR as REFERENCE } from '../../support/k6-reference.ts';

export interface RunOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Writable that keeps what was written (a run's stdout/stderr). */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'agentload-engine-'));
}

/** A fresh self-signed certificate for `commonName` and its key (PEM), made by openssl, for test TLS servers. */
export function selfSignedCert(commonName = 'localhost'): { key: Buffer; cert: Buffer } {
  const dir = tempDir();
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

export async function runScript(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<RunOutcome> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runEngine({
    script: join(PORTED, script),
    args,
    env,
    cwd: tempDir(),
    stdout,
    stderr,
    handleSignals: false,
    ...(signal === undefined ? {} : { signal }),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Spawns `node --import tsx engine/cli.ts run ARGS SCRIPT`; `onStart` may signal the child. */
export async function runCli(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  onStart?: (child: ReturnType<typeof spawn>) => void,
): Promise<RunOutcome> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href,
      join(ROOT, 'engine/cli.ts'),
      'run',
      ...args,
      join(PORTED, script),
    ],
    {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  onStart?.(child);
  const code = await new Promise<number>((r) =>
    child.on('close', (c) => {
      r(c ?? -1);
    }),
  );
  return { code, stdout, stderr };
}

let sourceDir: string | undefined;
let sourceCount = 0;

/** Writes `source` to a fresh script file and runs it through runEngine in-process, output captured. */
export async function runSource(source: string, args: readonly string[], env: Record<string, string> = {}): Promise<RunOutcome> {
  sourceDir ??= tempDir();
  const script = join(sourceDir, `s${String(sourceCount++)}.js`);
  writeFileSync(script, source);
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runEngine({ script, args, env, cwd: sourceDir, stdout, stderr, handleSignals: false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
