/**
 * Starts the bundled reference platform in a process of its own (`scripts/target.mjs`), so the load
 * generator and the system under test do not share one event loop (or one core), and the platform's
 * `/metrics` (RSS, heap, event-loop lag) measure the platform alone — the soak leak verdict depends on it.
 * It is a child of the run (children.ts): its own process group, stopped when the run ends however it ends.
 */
import { join } from 'node:path';
import type { StartedTarget } from './adapters.ts';
import { ChildGroup, SYSTEM_ENV } from './children.ts';

export interface TargetProcessOptions {
  /** Toolkit root: where `scripts/target.mjs` is. */
  readonly root: string;
  /** The platform's own variables (see `bundledTargetEnv`): nothing else from the shell reaches it. */
  readonly env: Readonly<Record<string, string>>;
  /** Each line the platform writes to stderr (its errors), for the caller to show. */
  readonly onStderr?: (line: string) => void;
  readonly startTimeoutMs?: number;
  /** The run's children (default: a group of its own). */
  readonly group?: ChildGroup;
  /** Aborted (Ctrl+C) while starting: the platform is stopped and the start rejects. */
  readonly abort?: AbortSignal;
}

const LISTENING = /listening on (http:\/\/\S+)/;

export async function startTargetProcess(o: TargetProcessOptions): Promise<StartedTarget> {
  const env: Record<string, string> = {};
  for (const name of SYSTEM_ENV) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, o.env, {
    HOST: '127.0.0.1',
    PORT: '0',
    // scripts/target.mjs loads .env for people who start it by hand; the bundled platform must not pick
    // up the user's .env (a DATABASE_URL there is meant for their own system).
    DOTENV_CONFIG_PATH: '/dev/null',
  });
  const group = o.group ?? new ChildGroup();
  const child = await group.start(
    {
      name: 'the bundled platform',
      node: true,
      command: join(o.root, 'scripts', 'target.mjs'),
      args: [],
      cwd: o.root,
      env,
      ready: LISTENING,
      startTimeoutMs: o.startTimeoutMs ?? 30_000,
      ...(o.onStderr === undefined ? {} : { onStderr: o.onStderr }),
    },
    o.abort,
  );
  const url = child.ready?.[1] ?? '';
  return { url, port: Number(new URL(url).port), pid: child.pid, close: () => child.stop() };
}
