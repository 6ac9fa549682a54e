/**
 * Starts the bundled reference platform in a process of its own (`scripts/target.mjs`), so the load
 * generator and the system under test do not share one event loop (or one core), and the platform's
 * `/metrics` (RSS, heap, event-loop lag) measure the platform alone — the soak leak verdict depends on it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { StartedTarget } from './adapters.ts';

export interface TargetProcessOptions {
  /** Toolkit root: where `scripts/target.mjs` is. */
  readonly root: string;
  /** The platform's own variables (see `bundledTargetEnv`): nothing else from the shell reaches it. */
  readonly env: Readonly<Record<string, string>>;
  /** Each line the platform writes to stderr (its errors), for the caller to show. */
  readonly onStderr?: (line: string) => void;
  readonly startTimeoutMs?: number;
}

/** Process plumbing the child needs besides the platform's variables. */
const SYSTEM_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ'] as const;
const LISTENING = /listening on (http:\/\/\S+)/;

export function startTargetProcess(o: TargetProcessOptions): Promise<StartedTarget> {
  const env: Record<string, string> = {};
  for (const name of SYSTEM_ENV) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, o.env, {
    HOST: '127.0.0.1',
    PORT: '0',
    // scripts/target.mjs loads .env for people who start it by hand; the bundled platform must not pick
    // up the user's .env (a DATABASE_URL there is meant for their own system).
    DOTENV_CONFIG_PATH: '/dev/null',
  });
  // scripts/target.mjs loads the platform pre-built: no TypeScript compiled in the child.
  const child = spawn(process.execPath, [join(o.root, 'scripts', 'target.mjs')], {
    cwd: o.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A run command that dies must not leave the platform behind.
  const killOnExit = (): void => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);

  const stderrTail: string[] = [];
  let stderrBuf = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrBuf += chunk;
    let nl = stderrBuf.indexOf('\n');
    while (nl >= 0) {
      const line = stderrBuf.slice(0, nl);
      stderrBuf = stderrBuf.slice(nl + 1);
      stderrTail.push(line);
      if (stderrTail.length > 5) stderrTail.shift();
      o.onStderr?.(line);
      nl = stderrBuf.indexOf('\n');
    }
  });

  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve(); }); });
  const close = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => { timer = setTimeout(() => { r('timeout'); }, 10_000); }),
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') child.kill('SIGKILL');
  };

  return new Promise<StartedTarget>((resolve, reject) => {
    let stdoutBuf = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void close();
      const detail = stderrTail.filter((l) => l.trim() !== '').join(' | ');
      reject(new Error(detail === '' ? why : `${why}: ${detail}`));
    };
    const timer = setTimeout(() => { fail(`no URL within ${String((o.startTimeoutMs ?? 30_000) / 1000)} s`); }, o.startTimeoutMs ?? 30_000);
    child.on('error', (e) => { fail(e.message); });
    child.once('exit', (code, signal) => { fail(`it exited (${signal ?? `code ${String(code)}`}) before listening`); });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (settled) return; // keep draining the pipe; the platform's log is not shown
      stdoutBuf += chunk;
      const m = LISTENING.exec(stdoutBuf);
      if (m?.[1] === undefined) return;
      settled = true;
      clearTimeout(timer);
      const url = m[1];
      resolve({ url, port: Number(new URL(url).port), close });
    });
  });
}
