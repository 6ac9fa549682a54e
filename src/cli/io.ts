/** What a command of the toolkit is given to talk to the world: streams, environment, folders, signals. */
import type { Writable } from 'node:stream';

export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Toolkit root (package.json, tsconfig.k6.json, engine/, target/). */
  readonly root: string;
  /** Registers Ctrl+C / SIGTERM handling for the run (from its first step on); returns the unregister function. */
  readonly onSignal?: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** Ends the process at once (second Ctrl+C on the embedded engine). */
  readonly forceExit?: (code: number) => void;
}

/** One line of the toolkit's own on stderr. */
export function say(io: CliIO, line: string): void {
  io.stderr.write(`agentload: ${line}\n`);
}
