/**
 * The k6 binary path: build the argument list and run it. User flags go to `k6 run` verbatim, after the
 * bundle and the toolkit's own outputs; the exit code comes back unchanged.
 */
import { spawn } from 'node:child_process';
import { AgentloadError, EXIT_CODES } from '../cli/errors.ts';

export interface K6ArgsInput {
  readonly bundle: string;
  /** Run folder for outputs; undefined for cloud runs (results stay in the cloud). */
  readonly outJson: string | undefined;
  readonly summaryExport: string | undefined;
  readonly userArgs: readonly string[];
  readonly cloud: boolean;
}

/** `run <bundle> --out json=<dir>/out.json.gz --summary-export=<dir>/summary-export.json <user flags...>` */
export function k6Args(input: K6ArgsInput): string[] {
  const head = input.cloud ? ['cloud', 'run', input.bundle] : ['run', input.bundle];
  const outputs: string[] = [];
  if (input.outJson !== undefined) outputs.push('--out', `json=${input.outJson}`);
  if (input.summaryExport !== undefined) outputs.push(`--summary-export=${input.summaryExport}`);
  return [...head, ...outputs, ...input.userArgs];
}

export interface RunK6Input {
  readonly bin: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface K6Process {
  /** Sends SIGINT to k6: the first one is k6's graceful stop (summary and outputs still written), a second one stops it at once. */
  interrupt(): void;
  /** k6's exit code (105 when it died from a signal). */
  readonly exitCode: Promise<number>;
}

/**
 * Starts k6 with the terminal attached. k6 runs in its own process group so a Ctrl+C reaches it exactly once
 * (forwarded by the run command): two SIGINTs would make k6 stop at once and skip its summary.
 */
export function startK6(input: RunK6Input): K6Process {
  const child = spawn(input.bin, input.args, { cwd: input.cwd, env: input.env, stdio: 'inherit', detached: true });
  const killOnExit = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const exitCode = new Promise<number>((resolvePromise, reject) => {
    child.on('error', (err) => {
      process.off('exit', killOnExit);
      reject(new AgentloadError('k6-failed-to-start', EXIT_CODES.usage, `cannot start ${input.bin}: ${err.message}`));
    });
    child.on('close', (code, sig) => {
      process.off('exit', killOnExit);
      if (code !== null) resolvePromise(code);
      else resolvePromise(sig === 'SIGINT' || sig === 'SIGTERM' ? EXIT_CODES.externalAbort : 1);
    });
  });
  return {
    interrupt() {
      if (child.exitCode === null) child.kill('SIGINT');
    },
    exitCode,
  };
}
