/**
 * Runs a fault scenario the way a user does — `npm run k6 -- scenarios/<name>.ts` as a real process, with
 * nothing but the scenario — and watches every process below it while it runs, so a test can prove that
 * none outlives the run however the run ends (exit, Ctrl+C, kill -9).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, collect, makeProject, spawnCli, ROOT, type Project } from '../cli/helpers.ts';
import { survivors, watchStep, type ProcessId } from '../support/processes.ts';

export interface WatchedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly runDir: string | undefined;
  /** Every process seen below the run while it ran. */
  readonly seen: readonly ProcessId[];
  /** Those still running `graceMs` after the run ended (must be none). */
  readonly left: readonly ProcessId[];
  readonly project: Project;
}

export interface WatchOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Flags after the scenario. */
  readonly args?: readonly string[];
  readonly timeoutMs?: number;
  /** Called once the fault controller is up (its line is on stderr), with the run's pid. */
  readonly onReady?: (pid: number) => void;
  /** How long processes may take to go after the run ended (default 2 s; a kill -9 of the run needs more). */
  readonly graceMs?: number;
}

export async function watchFaultRun(name: string, o: WatchOptions = {}): Promise<WatchedRun> {
  const project = makeProject();
  const child = spawnCli([join(ROOT, 'scenarios', `${name}.ts`), ...(o.args ?? [])], {
    cwd: project.dir,
    env: cleanEnv(project, { ...(o.env ?? {}) }),
  });
  const pid = child.pid ?? 0;
  const seen = new Map<string, ProcessId>();
  let ready = false;
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (!ready && err.includes('agentload: fault controller at')) {
      ready = true;
      watchStep(seen, pid);
      o.onReady?.(pid);
    }
  });
  const watcher = setInterval(() => {
    watchStep(seen, pid);
  }, 250);
  let result: Awaited<ReturnType<typeof collect>>;
  try {
    result = await collect(child, o.timeoutMs ?? 480_000);
  } finally {
    clearInterval(watcher);
  }
  const all = [...seen.values()];
  const deadline = Date.now() + (o.graceMs ?? 2000);
  let left = survivors(all);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = survivors(all);
  }
  // The run folder (reports/ also gets the history page, index.html).
  const dirs = project.runDirs().filter((d) => existsSync(join(d, 'run.json')));
  return { ...result, runDir: dirs[dirs.length - 1], seen: all, left, project };
}

/** Thresholds crossed, from the run's summary export (`metric: expression`). */
export function crossed(runDir: string | undefined): string[] {
  if (runDir === undefined) return ['(no run folder)'];
  const p = join(runDir, 'summary-export.json');
  if (!existsSync(p)) return ['(no summary export)'];
  const doc = JSON.parse(readFileSync(p, 'utf8')) as { metrics: Record<string, { thresholds?: Record<string, boolean> }> };
  const out: string[] = [];
  for (const [metric, v] of Object.entries(doc.metrics))
    for (const [expr, failed] of Object.entries(v.thresholds ?? {})) if (failed) out.push(`${metric}: ${expr}`);
  return out;
}

/** The faults.jsonl lines of a run. */
export function faultLog(runDir: string | undefined): Array<Record<string, unknown>> {
  if (runDir === undefined || !existsSync(join(runDir, 'faults.jsonl'))) return [];
  return readFileSync(join(runDir, 'faults.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function describeRun(r: WatchedRun): string {
  return `exit ${String(r.code)}; crossed: ${crossed(r.runDir).join('; ') || 'none'}; left running: ${r.left.map((p) => `${p.pid} ${p.command.slice(0, 80)}`).join(' | ') || 'none'}\n--- stderr ---\n${r.stderr.slice(-4000)}\n--- stdout ---\n${r.stdout.slice(-3000)}`;
}
