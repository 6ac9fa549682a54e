/**
 * The k6 binary path: build the argument list and run it. User flags go to `k6 run` verbatim, after the
 * bundle and the toolkit's own outputs; the exit code comes back unchanged.
 */
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import type { Child, ChildGroup } from '../run/children.ts';
import { readableLogLine } from '../run/log-lines.ts';

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
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The run's children: k6 is one of them, so it dies with the run (children.ts). */
  readonly group: ChildGroup;
  /**
   * Where each of k6's streams goes when it is not a terminal (CI logs, `2>log`), decided per stream as k6 decides
   * itself (`k6Terminal`): there k6 writes logfmt (`time=… level=error msg="…\n\tat …"`), made readable line by
   * line (log-lines.ts). A stream not given is the terminal, which k6 writes to itself (its colours, its progress bar).
   */
  readonly piped?: { readonly stdout?: NodeJS.WritableStream; readonly stderr?: NodeJS.WritableStream };
}

export interface K6Process {
  /** Sends SIGINT to k6: the first one is k6's graceful stop (summary and outputs still written), a second one stops it at once. */
  interrupt(): void;
  /** k6's exit code (105 when it died from a signal). */
  readonly exitCode: Promise<number>;
}

/**
 * Starts k6 with the terminal attached (or its output made readable, `piped`), as a child of the run (children.ts: under the guard that stops
 * it when the run is gone, SIGKILL included). It runs in a process group of its own, so a Ctrl+C reaches
 * it exactly once (forwarded by the run command): two SIGINTs would make k6 stop at once and skip its summary.
 */
export async function startK6(input: RunK6Input): Promise<K6Process> {
  let child: Child;
  const out = input.piped?.stdout;
  const err = input.piped?.stderr;
  const startedAt = Date.now();
  try {
    child = await input.group.start({
      name: 'k6',
      command: input.bin,
      args: input.args,
      cwd: input.cwd,
      env: input.env,
      stdio: { stdout: out === undefined ? 'inherit' : 'pipe', stderr: err === undefined ? 'inherit' : 'pipe' },
      ...(out === undefined ? {} : { onStdout: (line: string) => out.write(`${line}\n`) }),
      ...(err === undefined ? {} : { onStderr: (line: string) => err.write(`${readableLogLine(line, startedAt)}\n`) }),
    });
  } catch (e: unknown) {
    throw new AgentloadError(
      'k6-failed-to-start',
      EXIT_CODES.usage,
      `cannot start ${input.bin}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const exitCode = child.exited.then(async ({ code, signal }) => {
    if (out !== undefined || err !== undefined) await child.drained;
    if (code === 127) throw new AgentloadError('k6-failed-to-start', EXIT_CODES.usage, `cannot start ${input.bin} (see the line above)`);
    if (code !== null) return code;
    return signal === 'SIGINT' || signal === 'SIGTERM' ? EXIT_CODES.externalAbort : 1;
  });
  return {
    interrupt() {
      child.signal('SIGINT');
    },
    exitCode,
  };
}

/** What k6 (cmd/state) sees of its terminal: each stream a terminal or not (none with TERM=dumb), and whether it colours. */
export interface K6Terminal {
  readonly stdout: boolean;
  readonly stderr: boolean;
  /** The end-of-test summary's colours: stdout a terminal, and no NO_COLOR (even empty), K6_NO_COLOR or --no-color. */
  readonly colors: boolean;
}

/** k6's own rule, so a k6 child given this process's terminal streams colours exactly where k6 alone would. */
export function k6Terminal(
  tty: { readonly stdout: boolean; readonly stderr: boolean },
  env: Readonly<Record<string, string | undefined>>,
  args: readonly string[],
): K6Terminal {
  const dumb = env.TERM === 'dumb';
  const stdout = tty.stdout && !dumb;
  const noColor = env.NO_COLOR !== undefined || (env.K6_NO_COLOR ?? '') !== '' || args.includes('--no-color');
  return { stdout, stderr: tty.stderr && !dumb, colors: stdout && !noColor };
}
