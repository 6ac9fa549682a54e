/**
 * `--verbose`: how long each phase of the run command took, one line on stderr as each ends, with the
 * time since the process started (Node's own start-up included), so the line before the load starts
 * tells the time from command to first request.
 */
import { performance } from 'node:perf_hooks';

export class Phases {
  #last: number;
  constructor(private readonly write: ((line: string) => void) | undefined) {
    // performance.now() counts from the process's start.
    this.#last = performance.now();
    write?.(`agentload: [phase] node and the run command loaded at ${fmtMs(this.#last)} ms`);
  }

  /** Ends a phase: `name` took the time since the previous mark. */
  mark(name: string, note?: string): void {
    const now = performance.now();
    this.write?.(`agentload: [phase] ${name}: ${fmtMs(now - this.#last)} ms${note === undefined ? '' : ` (${note})`}, at ${fmtMs(now)} ms`);
    this.#last = now;
  }

  /** Milliseconds since the last mark (for work that overlaps another inside one phase). */
  since(): number {
    return performance.now() - this.#last;
  }

  get enabled(): boolean {
    return this.write !== undefined;
  }
}

export const fmtMs = (ms: number): string => ms.toFixed(0);
