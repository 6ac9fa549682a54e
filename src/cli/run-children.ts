/**
 * Step 6 of the run command: the run's children, each in a process of its own and stopped with the run:
 * the Slack reply sink, what the bundled platform needs (a redis-server for `cache`), the bundled platform
 * itself or, for a fault scenario (or a cluster), the failure lab, and against your own system only the
 * fault controller. Each sets its URL in the run's environment and is recorded as a target host.
 *
 * Without the failure lab they start side by side with the checks (`startChildrenEarly`, right after the
 * target hosts are checked) and are awaited just before the load starts; the lab needs the run folder (its
 * fault log), so it starts after the checks (`startChildren`).
 */
import { performance } from 'node:perf_hooks';
import { join, relative } from 'node:path';
import { AgentloadError, EXIT_CODES, toError } from '../errors.ts';
import { say } from './io.ts';
import { fmtMs } from './phases.ts';
import { checkpoint, setEnv, type RunContext } from './run-context.ts';
import type { RunNeeds } from './run-prepare.ts';
import { redactUrl, urlHost } from '../run/allowlist.ts';
import type { SlackSink, StartedTarget } from '../run/adapters.ts';
import { RUN_FILES } from '../run/run-dir.ts';
import { startScenarioServices } from '../run/services.ts';
import { bundledTargetEnv } from '../run/target-env.ts';
import { startSlackSinkProcess } from '../run/sink-process.ts';
import { startTargetProcess } from '../run/target-process.ts';
import { startFaultLab, type LabHandle } from '../faults/launch.ts';
import type { LabPlan } from '../faults/lab.ts';

/** How a start reports: `tell` prints a line for the user, `signal` stops a start in flight. */
interface Start {
  readonly tell: (line: string) => void;
  readonly signal: AbortSignal;
}

/** Children started side by side with the checks. */
export interface EarlyChildren {
  /** Waits until they are up (their lines printed then, in order), or throws why not. */
  ready(): Promise<void>;
  /** A check failed: stops the starts in flight and waits until they have settled (what did start is in the run's group). */
  cancel(reason: unknown): Promise<void>;
}

/**
 * Starts the children now, while the checks run (no failure lab). They write into a copy of the run's
 * environment and record, copied back by `ready()`, so the checks see the same environment as when the
 * children started after them. Their lines are kept and printed by `ready()`, also when a start failed (before
 * its error, after the checks before it).
 */
export function startChildrenEarly(run: RunContext, needs: RunNeeds): EarlyChildren {
  const told: string[] = [];
  const failed = new AbortController();
  const shadow: RunContext = {
    ...run,
    env: { ...run.env },
    record: { ...run.record, targets: [...run.record.targets], setByToolkit: [...run.record.setByToolkit] },
  };
  const known = shadow.record.setByToolkit.length;
  let readyAt = 0;
  const starting = startChildren(shadow, needs, undefined, '', {
    tell: (line) => told.push(line),
    signal: AbortSignal.any([run.stop.signal, failed.signal]),
  }).then(() => {
    readyAt = performance.now();
  });
  starting.catch(() => undefined); // reported by ready(), after the checks before it
  return {
    async ready() {
      try {
        await starting;
      } finally {
        // What did start is said even when a later start failed (the Slack sink's address before the platform's error).
        for (const line of told.splice(0)) say(run.io, line);
      }
      for (const name of shadow.record.setByToolkit.slice(known)) setEnv(run, name, shadow.env[name] ?? '');
      run.record.targets = shadow.record.targets; // the checks add no target host after step 1
      run.record.targetKind = shadow.record.targetKind;
      if (needs.bundledPlatform)
        run.phases.mark('bundled platform started', `side by side with the steps above, up at ${fmtMs(readyAt)} ms`);
      checkpoint(run);
    },
    async cancel(reason) {
      failed.abort(reason);
      await starting.catch(() => undefined);
    },
  };
}

/** Starts what the run needs beside the engine, in the run folder `dir` (the fault log goes there). */
export async function startChildren(
  run: RunContext,
  needs: RunNeeds,
  lab: LabPlan | undefined,
  dir: string,
  start: Start = { tell: (line) => say(run.io, line), signal: run.stop.signal },
): Promise<void> {
  const sink = needs.slackSink ? await startSlackSink(run, start) : undefined;
  let labHandle: LabHandle | undefined;
  if (needs.bundledPlatform) {
    // The platform posts to the sink unless SLACK_API_URL says where else.
    const sinkApiUrl = sink !== undefined && (run.env.SLACK_API_URL ?? '') === '' ? sink.apiUrl : undefined;
    labHandle = await startBundledPlatform(run, lab, dir, sinkApiUrl, start);
  } else {
    start.tell(`target ${redactUrl(run.view.values.BASE_URL ?? '')}`);
    // Your own system: only the fault controller (and your fault commands) run here.
    if (lab !== undefined)
      labHandle = await startFaultLabChild(run, lab, dir, {}, () => undefined, 'cannot start the fault controller', start);
  }
  if (labHandle !== undefined) {
    setEnv(run, 'FAULTS_URL', labHandle.faultsUrl);
    run.record.targets.push({
      variable: 'FAULTS_URL',
      source: 'set by agentload',
      host: urlHost(labHandle.faultsUrl) ?? labHandle.faultsUrl,
    });
    start.tell(`fault controller at ${labHandle.faultsUrl} (faults are logged to ${relative(run.io.cwd, dir) || dir}/${RUN_FILES.faults})`);
  }
  checkpoint(run);
}

/** The Slack reply sink: SLACK_SINK_URL for the script. */
async function startSlackSink(run: RunContext, start: Start): Promise<SlackSink> {
  const { io, redact } = run;
  const sink: SlackSink = await startSlackSinkProcess({
    root: io.root,
    group: run.children,
    abort: start.signal,
    onStderr: (line) => {
      if (line.trim() !== '') io.stderr.write(`slack sink: ${redact(line)}\n`);
    },
  }).catch((err: unknown) => {
    checkpoint(run);
    throw new AgentloadError('target-failed', EXIT_CODES.usage, `cannot start the Slack reply sink: ${redact(toError(err).message)}`);
  });
  setEnv(run, 'SLACK_SINK_URL', sink.url);
  run.record.targets.push({ variable: 'SLACK_SINK_URL', source: 'set by agentload', host: urlHost(sink.url) ?? sink.url });
  start.tell(`Slack reply sink at ${sink.url} (a bot of your own posts replies to SLACK_API_URL=${sink.apiUrl})`);
  return sink;
}

/**
 * The bundled platform in its own process (it does not share the load generator's event loop, and its
 * /metrics, RSS for the soak leak verdict, measure the platform alone), with the services it needs; for a
 * fault scenario (or a cluster) the failure lab starts the broker, the platform's processes and the fault
 * controller (src/faults/launch.ts), itself one child of the run. Returns the lab's handle when there is one.
 */
async function startBundledPlatform(
  run: RunContext,
  lab: LabPlan | undefined,
  dir: string,
  sinkApiUrl: string | undefined,
  start: Start,
): Promise<LabHandle | undefined> {
  const { io, env, redact } = run;
  // Only the platform's own variables reach it: a DATABASE_URL meant for the user's system does not.
  const targetEnv = bundledTargetEnv(env);
  // The platform keeps its data in the scenario's SQLite file, so the scenario queries its seeded knowledge graph.
  if (
    run.record.setByToolkit.includes('DB_DSN') &&
    (env.DB_DRIVER ?? 'sqlite3') === 'sqlite3' &&
    targetEnv.DATABASE_URL === undefined &&
    targetEnv.SQLITE_PATH === undefined
  ) {
    targetEnv.SQLITE_PATH = env.DB_DSN ?? '';
  }
  if (sinkApiUrl !== undefined) targetEnv.SLACK_API_URL = sinkApiUrl;
  Object.assign(targetEnv, await startServices(run, start));
  const onStderr = (line: string): void => {
    if (line.trim() !== '') io.stderr.write(`target: ${redact(line)}\n`);
  };
  let labHandle: LabHandle | undefined;
  const target: StartedTarget =
    lab === undefined
      ? await startTargetProcess({ root: io.root, env: targetEnv, group: run.children, abort: start.signal, onStderr }).catch(
          (err: unknown) => {
            checkpoint(run);
            throw new AgentloadError(
              'target-failed',
              EXIT_CODES.usage,
              `cannot start the bundled platform: ${redact(toError(err).message)}`,
            );
          },
        )
      : (labHandle = await startFaultLabChild(run, lab, dir, targetEnv, onStderr, 'cannot start the bundled platform', start));
  setEnv(run, 'BASE_URL', target.url);
  run.record.targetKind = 'bundled';
  run.record.targets.unshift({ variable: 'BASE_URL', source: 'set by agentload', host: urlHost(target.url) ?? target.url });
  if (lab !== undefined) run.phases.mark('bundled platform started');
  start.tell(`target bundled platform at ${target.url} (set BASE_URL to test your own system)`);
  return labHandle;
}

/** What the bundled platform needs beside it (a redis-server for `cache`), children of the run as well: the platform's variables. */
async function startServices(run: RunContext, start: Start): Promise<Record<string, string>> {
  const services = await startScenarioServices(run.name, run.env, { group: run.children, abort: start.signal }).catch((err: unknown) => {
    checkpoint(run);
    throw new AgentloadError(
      'target-failed',
      EXIT_CODES.usage,
      `cannot start what the bundled platform needs: ${run.redact(toError(err).message)}`,
    );
  });
  for (const [k, v] of Object.entries(services.scriptEnv)) {
    setEnv(run, k, v);
    const host = urlHost(v);
    if (host !== undefined) run.record.targets.push({ variable: k, source: 'set by agentload', host });
  }
  for (const line of services.notes) start.tell(line);
  return services.targetEnv;
}

/** The failure lab (with the platform's processes when `platformEnv` is the bundled platform's, else the fault controller alone). */
async function startFaultLabChild(
  run: RunContext,
  lab: LabPlan,
  dir: string,
  platformEnv: Record<string, string>,
  onPlatformLine: (line: string) => void,
  failure: string,
  start: Start,
): Promise<LabHandle> {
  return startFaultLab({
    plan: lab,
    root: run.io.root,
    env: run.env,
    platformEnv,
    faultLog: join(dir, RUN_FILES.faults),
    group: run.children,
    abort: start.signal,
    say: (line) => {
      start.tell(run.redact(line));
    },
    onPlatformLine,
  }).catch((err: unknown) => {
    checkpoint(run);
    throw new AgentloadError('target-failed', EXIT_CODES.usage, `${failure}: ${run.redact(toError(err).message)}`);
  });
}
