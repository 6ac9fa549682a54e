/** Expected instants of interval and `*\/N`-second cron schedules, and the missed / duplicate tally. Pure. */

export interface ScheduleRef {
  readonly kind: 'interval' | 'cron';
  /** When the platform registered the schedule (its `createdAt`), epoch ms. */
  readonly createdAt: number;
}

/** Instants after `createdAt` up to `until`: intervals at createdAt + k·everyMs, cron at every multiple of cronEveryS seconds. */
export function expectedInstants(s: ScheduleRef, until: number, everyMs: number, cronEveryS: number): number[] {
  const out: number[] = [];
  if (s.kind === 'interval') {
    for (let t = s.createdAt + everyMs; t <= until; t += everyMs) out.push(t);
  } else {
    const step = cronEveryS * 1000;
    for (let t = Math.floor(s.createdAt / step) * step + step; t <= until; t += step) out.push(t);
  }
  return out;
}

/** Missed = expected instants never run; duplicated = extra runs of one instant. `seen`: instant → runs. */
export function tallyRuns(expected: readonly number[], seen: ReadonlyMap<number, number>): { missed: number; duplicated: number } {
  let missed = 0;
  for (const t of expected) if (!seen.has(t)) missed += 1;
  let duplicated = 0;
  for (const n of seen.values()) if (n > 1) duplicated += n - 1;
  return { missed, duplicated };
}
