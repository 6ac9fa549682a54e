/** Correlation ids: unique per event across VUs and iterations, readable in logs. Pure. */

/** `random` returns [0, 1) (Math.random in scripts; a seeded one in tests). */
export function correlationId(prefix: string, vu: number, iteration: number, random: () => number = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 8; i++) suffix += Math.floor(random() * 36).toString(36);
  return `${prefix}-${vu}-${iteration}-${suffix}`;
}

/** A Slack-style message timestamp ("seconds.micro") unique per (vu, iteration) within a second. */
export function slackTs(nowMs: number, vu: number, iteration: number): string {
  const sec = Math.floor(nowMs / 1000);
  const micro = ((vu * 7919 + iteration) % 1_000_000).toString().padStart(6, '0');
  return `${sec}.${micro}`;
}

/** A run id like `bus-lq3x9a-4k2`: tells this run's messages apart from others on shared topics/channels. */
export function runId(prefix: string, nowMs: number = Date.now(), random: () => number = Math.random): string {
  return `${prefix}-${nowMs.toString(36)}-${Math.floor(random() * 1e6).toString(36)}`;
}
