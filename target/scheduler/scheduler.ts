/**
 * Schedules: interval (`everyMs`) and cron (croner; a seconds field is allowed) jobs. Each instant a schedule is
 * due is a run with its own `seq`; a run records the instant it was scheduled for, when it started (the knob
 * `schedulerDriftMs` delays starts, as an overloaded scheduler would) and when its simulated work ended.
 * An instant that passes while the scheduler is late is not run (it is missed, as in most cron daemons), so
 * a client can count missed and duplicate runs from the instants it expected.
 *
 *   POST   /api/schedules {"everyMs": 1000 | "cron": "*\/2 * * * * *", "name"?, "workMs"?, "timezone"?}
 *          → 201 {id, name, kind, everyMs|cron, createdAt, nextAt}
 *   GET    /api/schedules/:id/runs?after=SEQ&limit=N → {items:[{seq, scheduledAt, startedAt, finishedAt, driftMs}], next}
 *   DELETE /api/schedules/:id → {id, runs}
 *
 * Metrics: `schedule_runs_total{kind}`, `schedule_start_drift_seconds{kind}` (histogram), `schedules`.
 */
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { Counter, Gauge, Histogram } from 'prom-client';
import { TargetError } from '../errors.ts';
import { sleep } from '../sleep.ts';
import { intVar } from '../config.ts';
import { isRecord, type FeatureDeps, type Params } from '../features.ts';

export interface Run {
  seq: number;
  scheduledAt: number;
  startedAt: number;
  finishedAt: number | null;
  driftMs: number;
}

interface Schedule {
  id: string;
  name: string;
  kind: 'interval' | 'cron';
  everyMs: number | null;
  cron: string | null;
  createdAt: number;
  workMs: number;
  runs: Run[];
  seq: number;
  timer: NodeJS.Timeout | null;
  next: (after: number) => number | undefined;
}

function parseBody(body: unknown): Pick<Schedule, 'name' | 'kind' | 'everyMs' | 'cron' | 'workMs' | 'next'> {
  if (!isRecord(body))
    throw new TargetError(
      400,
      'SCHEDULE_INVALID',
      'schedule body must be a JSON object like {"everyMs": 1000} or {"cron": "*/5 * * * * *"}',
    );
  const name = typeof body.name === 'string' && body.name !== '' ? body.name : `schedule-${Date.now()}`;
  const workMs = body.workMs ?? 0;
  if (typeof workMs !== 'number' || !Number.isFinite(workMs) || workMs < 0 || workMs > 3_600_000) {
    throw new TargetError(400, 'SCHEDULE_INVALID', `workMs must be a number of milliseconds in 0..3600000, got ${JSON.stringify(workMs)}`);
  }
  if (body.everyMs !== undefined && body.cron !== undefined)
    throw new TargetError(400, 'SCHEDULE_INVALID', 'give either everyMs or cron, not both');
  if (body.everyMs !== undefined) {
    const every = body.everyMs;
    if (typeof every !== 'number' || !Number.isInteger(every) || every < 10 || every > 86_400_000) {
      throw new TargetError(400, 'SCHEDULE_INVALID', `everyMs must be an integer in 10..86400000, got ${JSON.stringify(every)}`);
    }
    return { name, kind: 'interval', everyMs: every, cron: null, workMs, next: (after) => after + every };
  }
  if (typeof body.cron !== 'string')
    throw new TargetError(400, 'SCHEDULE_INVALID', 'a schedule needs "everyMs" (interval) or "cron" (e.g. "0 */5 * * * *")');
  const tz = typeof body.timezone === 'string' ? body.timezone : undefined;
  let cron: Cron;
  try {
    cron = new Cron(body.cron, { paused: true, ...(tz !== undefined ? { timezone: tz } : {}) });
  } catch (e) {
    throw new TargetError(
      400,
      'SCHEDULE_INVALID',
      `cron ${JSON.stringify(body.cron)} is not valid (${e instanceof Error ? e.message : String(e)}): use 5 or 6 fields, e.g. "*/10 * * * * *"`,
    );
  }
  return { name, kind: 'cron', everyMs: null, cron: body.cron, workMs, next: (after) => cron.nextRun(new Date(after))?.getTime() };
}

export function registerScheduler(d: FeatureDeps): void {
  const history = intVar(d.env, 'SCHEDULE_HISTORY', 100_000, 10, 10_000_000);
  const registers = [d.registry];
  const runsTotal = new Counter({
    name: 'schedule_runs_total',
    help: 'Scheduled runs started, by schedule kind',
    labelNames: ['kind'],
    registers,
  });
  const drift = new Histogram({
    name: 'schedule_start_drift_seconds',
    help: 'Start of a run minus the instant it was scheduled for',
    labelNames: ['kind'],
    registers,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const schedules = new Map<string, Schedule>();
  new Gauge({
    name: 'schedules',
    help: 'Registered schedules',
    registers,
    collect() {
      this.set(schedules.size);
    },
  });
  let closed = false;

  function arm(s: Schedule, after: number): void {
    // The next instant strictly after `after` and not in the past: instants the scheduler slept through are missed.
    let at = s.next(after);
    const now = Date.now();
    while (at !== undefined && at <= now - 1) at = s.next(at);
    if (at === undefined || closed) return;
    const due = at;
    s.timer = setTimeout(
      () => {
        fire(s, due);
      },
      Math.max(0, due - Date.now()),
    );
  }

  function fire(s: Schedule, scheduledAt: number): void {
    if (closed || !schedules.has(s.id)) return;
    arm(s, scheduledAt);
    void (async () => {
      const delay = d.knobs().schedulerDriftMs;
      if (delay > 0) await sleep(delay);
      const startedAt = Date.now();
      s.seq += 1;
      const run: Run = { seq: s.seq, scheduledAt, startedAt, finishedAt: null, driftMs: startedAt - scheduledAt };
      s.runs.push(run);
      if (s.runs.length > history) s.runs.splice(0, s.runs.length - history);
      runsTotal.inc({ kind: s.kind });
      drift.observe({ kind: s.kind }, Math.max(0, run.driftMs) / 1000);
      if (s.workMs > 0) await sleep(s.workMs);
      run.finishedAt = Date.now();
    })().catch(d.logError);
  }

  function get(req: { params: unknown }): Schedule {
    const id = (req.params as Params).id ?? '';
    const s = schedules.get(id);
    if (s === undefined)
      throw new TargetError(
        404,
        'SCHEDULE_NOT_FOUND',
        `schedule ${JSON.stringify(id)} does not exist: create one with POST /api/schedules`,
      );
    return s;
  }

  d.app.post('/api/schedules', async (req, reply) => {
    const b = parseBody(req.body);
    const createdAt = Date.now();
    const s: Schedule = { id: `sch_${randomUUID()}`, ...b, createdAt, runs: [], seq: 0, timer: null };
    schedules.set(s.id, s);
    arm(s, createdAt);
    return reply.code(201).send({
      id: s.id,
      name: s.name,
      kind: s.kind,
      everyMs: s.everyMs,
      cron: s.cron,
      workMs: s.workMs,
      createdAt,
      nextAt: s.next(createdAt) ?? null,
    });
  });
  d.app.get('/api/schedules/:id/runs', (req) => {
    const s = get(req);
    const q = req.query as Record<string, string | undefined>;
    const after = Number(q.after ?? 0);
    const limit = Math.min(10_000, Math.max(1, Number(q.limit ?? 1000) || 1000));
    const items = s.runs.filter((r) => r.seq > after).slice(0, limit);
    return { id: s.id, items, next: items.length > 0 ? (items[items.length - 1]?.seq ?? after) : after };
  });
  d.app.delete('/api/schedules/:id', (req) => {
    const s = get(req);
    if (s.timer !== null) clearTimeout(s.timer);
    schedules.delete(s.id);
    return { id: s.id, runs: s.seq };
  });
  d.app.addHook('onClose', async () => {
    closed = true;
    for (const s of schedules.values()) if (s.timer !== null) clearTimeout(s.timer);
    await Promise.resolve();
  });
}
