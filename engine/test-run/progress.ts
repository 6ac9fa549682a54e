/**
 * The live progress of a run: k6's per-scenario bars redrawn on a TTY stderr (log lines land above them),
 * or a plain status block every few seconds elsewhere; never with --quiet.
 */
import { Writable } from 'node:stream';
import type { Clock } from '../contracts.ts';
import { ProgressDisplay, planExecution, snapshotProgress } from '../execution/index.ts';
import type { ScenarioStats } from '../executors/types.ts';
import type { InstanceState } from './instance.ts';
import type { TestPlan } from '../runtime/test-plan.ts';

/** The run's stderr as the progress display writes to it. */
export interface ProgressStreams {
  readonly stderr: NodeJS.WritableStream;
  readonly stderrIsTTY?: boolean | undefined;
}

/** The live progress display while scenarios run (stderr on a TTY). */
export interface Screen {
  display?: ProgressDisplay | undefined;
}

/** The log's stream while bars may be on screen: each line lands above them (k6's PersistentText). */
export function logStream(stderr: NodeJS.WritableStream, screen: Screen): NodeJS.WritableStream {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb): void {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      stderr.write(screen.display?.persist(text) ?? text);
      cb();
    },
  });
}

/** Workers report their progress whenever a status is shown: redrawn bars on a TTY, plain status lines elsewhere. */
export const showsProgress = (_o: ProgressStreams, quiet: boolean): boolean => !quiet;

/** What the bars show: `stats[i]` belongs to the i-th scenario of the execution plan (`names[i]`), and the initialised VUs. */
export interface ProgressSource {
  readonly stats: readonly ScenarioStats[];
  readonly vusMax: number;
}

/** k6's per-scenario progress: bars redrawn on a TTY stderr, a plain status block every few seconds elsewhere (never with --quiet). */
export function startProgress(
  o: ProgressStreams,
  plan: TestPlan,
  clock: Clock,
  quiet: boolean,
  inst: InstanceState,
  source: (names: readonly string[]) => ProgressSource,
): ProgressDisplay | undefined {
  const execPlan = planExecution(plan.scenarios, plan.tuple);
  const names = execPlan.scenarios.map((sc) => sc.config.name);
  const stderr = o.stderr as NodeJS.WritableStream & { readonly columns?: number };
  const display = ProgressDisplay.create({
    quiet,
    out: {
      write: (text: string) => stderr.write(text),
      isTTY: o.stderrIsTTY ?? false,
      get columns() {
        return stderr.columns;
      },
    },
    source: () => {
      const now = source(names);
      return snapshotProgress(execPlan, now.stats, clock.now(), inst.started, now.vusMax);
    },
    scenarioNames: names,
    maxPossibleVUs: execPlan.maxPossibleVUs,
    maxDurationMs: execPlan.maxDuration,
  });
  display?.start();
  return display;
}
