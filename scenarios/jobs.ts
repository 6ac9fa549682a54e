/**
 * jobs — a concurrency sweep over the job platform: jobs per hour and success rate at 1…10 jobs in flight (seed 001).
 *
 * Proves: per concurrency level c (tag `concurrency`), jobs finished `done` (`job_completed{concurrency:c}`,
 * gated at the expected range's floor: profile jobs/h per slot × c × the level's length in real hours) and the
 * success rate (`job_succeeded{concurrency:c}`), plus spawn → finished time (`job_total_time`). The summary adds
 * a table (concurrency, jobs, jobs/h, success) and writes `jobs-sweep.md` and a chart `jobs-sweep.svg` beside
 * the run's outputs. Jobs/h are real-time equivalents: measured ÷ JOB_TIME_SCALE.
 *
 * Time factor: as in `provisioning`, JOB_TIME_SCALE (smoke 0.02, full 1) is sent with each job and scales the
 * level's real-time length, so a smoke sweep covers minutes of platform time in seconds.
 *
 * Needs from the system: `POST /api/jobs` and `GET /api/jobs/:id` as in `provisioning`, with a concurrency
 * limit of at least the largest level (the bundled platform: JOB_CONCURRENCY, default 10).
 *
 * Variables:
 *   BASE_URL
 *   SIZE            smoke (default: levels 1,2,4, 4 s each, × 0.02) | full (1…10, 10 min each, real time)
 *   LEVELS          comma list of concurrency levels
 *   STEP_DURATION   length of each level (LEVEL_DURATION, its older name, too)
 *   WORK_MS, ARTIFACT_MB   each job's simulated work and artifact (defaults 30000 ms, 50 MB)
 *   JOB_TIME_SCALE  simulated-time factor (0.001..1)
 *   PROFILE         mvp (default) | production
 */
import { check } from 'k6';
import { bySize, duration, durationMs, int, list, num, size, sizeVar, target } from '../lib/config.ts';
import { runJob } from '../lib/jobs.ts';
import { jobMetrics, M } from '../lib/metrics.ts';
import { secs, type ScriptOptions } from '../lib/scenario.ts';
import { jobSweepThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const profile = selectProfile(env);
const LEVELS = list(env, 'LEVELS', bySize(sz, { smoke: ['1', '2', '4'], full: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] })).map(
  (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`LEVELS must list integers 1..1000, got "${s}": e.g. LEVELS=1,2,5,10`);
    return n;
  },
);
const LEVEL_DURATION = duration(env, sizeVar(env, 'STEP_DURATION', 'LEVEL_DURATION'), bySize(sz, { smoke: '4s', full: '10m' }));
const SCALE = num(env, 'JOB_TIME_SCALE', bySize(sz, { smoke: 0.02, full: 1 }), { min: 0.001, max: 1 });
const WORK_MS = int(env, 'WORK_MS', 30_000, { min: 0 });
const ARTIFACT_MB = int(env, 'ARTIFACT_MB', 50, { min: 0 });
const levelS = durationMs(LEVEL_DURATION) / 1000;
/** A job's own bound: provisioning's P99 objective × 3 plus its work and upload, in scaled time. */
const JOB_TIMEOUT_MS = (3 * profile.jobs.readyP99Ms + WORK_MS + (ARTIFACT_MB / 10) * 1000) * SCALE + 5000;
/** Time between levels for the last jobs of a level to finish (they count toward their own level). */
const GAP_S = Math.ceil(JOB_TIMEOUT_MS / 1000) + 1;

const scenarios: ScriptOptions['scenarios'] = {};
LEVELS.forEach((c, i) => {
  scenarios[`c${c}`] = {
    executor: 'constant-vus',
    exec: 'job',
    vus: c,
    duration: LEVEL_DURATION,
    startTime: secs(i * (levelS + GAP_S)),
    gracefulStop: secs(GAP_S),
    tags: { concurrency: String(c) },
  };
});

export const options: ScriptOptions = {
  scenarios,
  thresholds: jobSweepThresholds(profile, LEVELS, levelS, SCALE),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = jobMetrics();

export async function job(): Promise<void> {
  const j = await runJob(
    baseUrl,
    { name: 'agentload-sweep', workMs: WORK_MS, artifactBytes: ARTIFACT_MB * 1024 * 1024, timeScale: SCALE },
    {
      until: 'finished',
      pollMs: Math.max(20, 1000 * SCALE * 5),
      timeoutMs: JOB_TIMEOUT_MS,
      tags: {},
    },
  );
  const good = j.status === 'done';
  check(j, { 'job done': () => good });
  m.succeeded.add(good);
  m.completed.add(good ? 1 : 0);
  if (good && j.finishedAt !== undefined && j.createdAt !== undefined) m.total.add(j.finishedAt - j.createdAt);
}

interface SweepRow {
  readonly concurrency: number;
  readonly jobs: number;
  readonly jobsPerHour: number;
  readonly success: number | undefined;
  readonly floor: number;
}

type SummaryMetrics = Record<string, { values?: Record<string, number> } | undefined>;

/** Per level, from the summary's sub-metrics (they exist because each has a threshold). */
export function sweepRows(metrics: SummaryMetrics): SweepRow[] {
  return LEVELS.map((c) => {
    const jobs = metrics[`${M.jobCompleted}{concurrency:${c}}`]?.values?.count ?? 0;
    const success = metrics[`${M.jobSucceeded}{concurrency:${c}}`]?.values?.rate;
    return { concurrency: c, jobs, jobsPerHour: (jobs / levelS) * 3600 * SCALE, success, floor: profile.jobs.minJobsPerHourPerSlot * c };
  });
}

function pct(x: number | undefined): string {
  return x === undefined ? 'n/a' : `${(x * 100).toFixed(1)} %`;
}

/** A bar chart of jobs/h per concurrency level with the expected floor as a line, as one SVG document. */
export function sweepSvg(rows: readonly SweepRow[]): string {
  const w = 640;
  const h = 320;
  const pad = 48;
  const top = Math.max(1, ...rows.map((r) => Math.max(r.jobsPerHour, r.floor))) * 1.1;
  const bw = (w - 2 * pad) / Math.max(1, rows.length);
  const y = (v: number): number => h - pad - (v / top) * (h - 2 * pad);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<text x="${w / 2}" y="18" text-anchor="middle">jobs per hour by concurrency (bars) and the expected floor (line)</text>`,
    `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/>`,
  ];
  rows.forEach((r, i) => {
    const x = pad + i * bw;
    parts.push(
      `<rect x="${(x + bw * 0.15).toFixed(1)}" y="${y(r.jobsPerHour).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${(h - pad - y(r.jobsPerHour)).toFixed(1)}" fill="${r.jobsPerHour >= r.floor ? '#3b82f6' : '#dc2626'}"/>`,
    );
    parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${h - pad + 16}" text-anchor="middle">${r.concurrency}</text>`);
    parts.push(
      `<text x="${(x + bw / 2).toFixed(1)}" y="${(y(r.jobsPerHour) - 4).toFixed(1)}" text-anchor="middle">${Math.round(r.jobsPerHour)}</text>`,
    );
  });
  const pts = rows.map((r, i) => `${(pad + i * bw + bw / 2).toFixed(1)},${y(r.floor).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${pts}" fill="none" stroke="#f59e0b" stroke-width="2" stroke-dasharray="6 4"/>`, '</svg>');
  return parts.join('\n');
}

export function summaryExtras(data: { metrics: SummaryMetrics }): Record<string, string> {
  const rows = sweepRows(data.metrics);
  const lines = ['| concurrency | jobs done | jobs/h (real time) | expected ≥ | success |', '|---:|---:|---:|---:|---:|'];
  for (const r of rows)
    lines.push(`| ${r.concurrency} | ${r.jobs} | ${Math.round(r.jobsPerHour)} | ${Math.round(r.floor)} | ${pct(r.success)} |`);
  const md = `# jobs: concurrency sweep\n\nLevel length ${LEVEL_DURATION} at time scale ${SCALE} (${Math.round(levelS / SCALE)} s of platform time per level).\n\n${lines.join('\n')}\n\n![jobs per hour](jobs-sweep.svg)\n`;
  const widest = Math.max(1, ...rows.map((r) => r.jobsPerHour));
  const text = rows
    .map(
      (r) =>
        `   c=${String(r.concurrency).padStart(2)} ${'#'.repeat(Math.round((r.jobsPerHour / widest) * 40)).padEnd(40)} ${Math.round(r.jobsPerHour)} jobs/h, ${pct(r.success)} ok`,
    )
    .join('\n');
  const out: Record<string, string> = { stdout: `     concurrency sweep (jobs/h, real time):\n${text}\n\n` };
  const at = __ENV.AGENTLOAD_HANDLE_SUMMARY_PATH;
  if (at !== undefined && at !== '') {
    const dir = at.replace(/[/\\][^/\\]*$/, '');
    out[`${dir}/jobs-sweep.md`] = md;
    out[`${dir}/jobs-sweep.svg`] = sweepSvg(rows);
  }
  return out;
}
