/**
 * Process checks for tests that must prove a process is really gone (a crash, a kill) or that nothing a
 * run started outlives it: liveness by pid, and every descendant of a pid (walking /proc parent links).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A process as seen at one moment: its pid and start time (so a reused pid is not mistaken for it). */
export interface ProcessId {
  readonly pid: number;
  readonly start: string;
  readonly command: string;
}

function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Every process below `root` now, with its identity. */
export function snapshot(root: number): ProcessId[] {
  return descendants(root).flatMap((pid) => {
    const start = startOf(pid);
    return start === undefined ? [] : [{ pid, start, command: commandOf(pid) }];
  });
}

/**
 * Adds what `snapshot(root)` sees now to `seen` (keyed by pid and start time). A process keeps the last
 * command line it was seen with that is not empty: a process that has exited but is not yet reaped (a
 * zombie, common on a loaded machine while a run shuts down) reads as an empty command line, and must
 * not lose the one it ran with.
 */
export function watchStep(seen: Map<string, ProcessId>, root: number): void {
  for (const p of snapshot(root)) {
    const key = `${p.pid}:${p.start}`;
    const before = seen.get(key);
    seen.set(key, p.command === '' && before !== undefined ? before : p);
  }
}

/** Those of `ids` still running (same pid and start time, not a zombie). */
export function survivors(ids: readonly ProcessId[]): ProcessId[] {
  return ids.filter((p) => alive(p.pid) && startOf(p.pid) === p.start);
}

/** True while `pid` exists (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** Every process below `root` right now (children, grandchildren, ...). */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ppid = parentOf(pid);
    if (ppid !== undefined) parents.set(pid, ppid);
  }
  const out: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop();
    for (const [pid, ppid] of parents) {
      if (ppid === p) {
        out.push(pid);
        frontier.push(pid);
      }
    }
  }
  return out;
}

/** Waits until none of `pids` is alive; resolves with those still alive after `timeoutMs`. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The command line of `pid`, for failure messages. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '?';
  }
}
