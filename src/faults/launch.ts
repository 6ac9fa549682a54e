/**
 * The run command's side of the failure lab: starts src/faults/main.ts as a child of the run
 * (src/run/children.ts: its own process group, stopped when the run ends however it ends), waits for
 * it to be ready and hands back the URLs. The lab reports on its stdout, one line each:
 * `say <text>` (progress), `platform <text>` (a platform process's error output) and, once everything is
 * up, `ready <json>`; `close()` (SIGTERM) shuts the lab down with everything it started.
 */
import { join } from 'node:path';
import type { StartedTarget } from '../run/adapters.ts';
import { ChildGroup } from '../run/children.ts';
import type { availability } from './actions.ts';
import type { LabPlan } from './lab.ts';

export interface LabHandle extends StartedTarget {
  readonly faultsUrl: string;
  /** Whether `url` is a platform the lab started (else it is empty: your own system). */
  readonly bundled: boolean;
  readonly actions: ReturnType<typeof availability>;
}

export interface LaunchOptions {
  readonly plan: LabPlan;
  readonly root: string;
  /** The run's environment: the lab runs your fault commands with it. */
  readonly env: Readonly<Record<string, string>>;
  /** The bundled platform's own variables. */
  readonly platformEnv: Readonly<Record<string, string>>;
  readonly faultLog: string;
  readonly say: (line: string) => void;
  readonly onPlatformLine: (line: string) => void;
  /** The run's children (the lab is stopped with them); a group of its own when not given. */
  readonly group?: ChildGroup;
  /** Stops the lab while it is starting (Ctrl+C). */
  readonly abort?: AbortSignal;
  readonly startTimeoutMs?: number;
}

/** The line main.ts prints once the lab is up. */
const READY = /^ready (\{.*\})$/;

export async function startFaultLab(o: LaunchOptions): Promise<LabHandle> {
  // The lab reads the fault commands from its own environment (`env` below), not from the JSON request.
  const setup: Record<string, unknown> = { ...o.plan.setup };
  delete setup.env;
  const request = { plan: { ...o.plan, setup }, root: o.root, platformEnv: o.platformEnv, faultLog: o.faultLog };
  const group = o.group ?? new ChildGroup();
  const child = await group.start(
    {
      name: 'the failure lab',
      node: true,
      command: join(o.root, 'src', 'faults', 'main.ts'),
      args: [],
      cwd: o.root,
      // When the run is gone the lab gets SIGTERM and this long to stop its platform and broker before its
      // group is killed (the broker's keeper, in that group, needs its own few seconds to stop the broker).
      env: { ...o.env, AGENTLOAD_LAB: JSON.stringify(request), AGENTLOAD_CHILD_GRACE_MS: '30000' },
      ready: READY,
      startTimeoutMs: o.startTimeoutMs ?? 240_000,
      // The lab stops its broker and platform processes in order; a broker takes a while to stop.
      stopTimeoutMs: 70_000,
      onStdout: (line) => {
        if (line.startsWith('say ')) o.say(line.slice(4));
        else if (line.startsWith('platform ')) o.onPlatformLine(line.slice(9));
      },
    },
    o.abort,
  );
  const ready = JSON.parse(child.ready?.[1] ?? '{}') as { faultsUrl?: unknown; baseUrl?: unknown; actions?: unknown };
  if (typeof ready.faultsUrl !== 'string') {
    await child.stop();
    throw new Error('the failure lab said it was ready without a fault controller URL');
  }
  const url = typeof ready.baseUrl === 'string' ? ready.baseUrl : '';
  return {
    url,
    port: url === '' ? 0 : Number(new URL(url).port),
    pid: child.pid,
    faultsUrl: ready.faultsUrl,
    bundled: url !== '',
    actions: ready.actions as LabHandle['actions'],
    close: () => child.stop(),
  };
}
