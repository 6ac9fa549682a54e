/** What the benches read from /proc about a process they started. */
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

/** utime+stime (s) and RSS (MB) of a live process, from /proc; undefined once it is gone. */
export function procStats(pid: number): { cpu: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return { cpu, rssMb: rss?.[1] === undefined ? 0 : Number(rss[1]) / 1024 };
  } catch {
    return undefined;
  }
}
