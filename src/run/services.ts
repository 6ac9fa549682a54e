/**
 * Services a scenario needs beside the bundled platform, started by the run command for the length of the run
 * when the user gave none: a redis-server for `cache` (the platform's agent-state cache) unless
 * TARGET_REDIS_URL is set. Each is a child of the run (children.ts): stopped with the run however the run
 * ends, in a process group of its own (a terminal's Ctrl+C does not reach it).
 */
import type { ChildGroup } from './children.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';

/** Scenarios whose bundled platform needs Redis. */
export const REDIS_SCENARIOS: readonly string[] = ['cache'];

export interface StartedServices {
  /** Variables for the bundled platform (e.g. `REDIS_URL`). */
  readonly targetEnv: Record<string, string>;
  /** Variables for the script (e.g. `REDIS_URL`, so it can time Redis directly), unless the user set them. */
  readonly scriptEnv: Record<string, string>;
  /** One line per service started, for the run's log. */
  readonly notes: readonly string[];
  stop(): Promise<void>;
}

export async function startScenarioServices(
  scenario: string,
  env: Readonly<Record<string, string | undefined>>,
  o: { readonly group?: ChildGroup; readonly abort?: AbortSignal } = {},
): Promise<StartedServices> {
  const targetEnv: Record<string, string> = {};
  const scriptEnv: Record<string, string> = {};
  const notes: string[] = [];
  let redis: RedisServer | undefined;
  if (REDIS_SCENARIOS.includes(scenario)) {
    const given = env.TARGET_REDIS_URL ?? '';
    if (given === '') {
      redis = await startRedisServer({
        env,
        ...(o.group === undefined ? {} : { group: o.group }),
        ...(o.abort === undefined ? {} : { abort: o.abort }),
      });
      targetEnv.REDIS_URL = redis.url;
      notes.push(`redis-server for the bundled platform at ${redis.url} (set TARGET_REDIS_URL to use your own)`);
    }
    if ((env.REDIS_URL ?? '') === '') scriptEnv.REDIS_URL = given !== '' ? given : (redis?.url ?? '');
  }
  return {
    targetEnv,
    scriptEnv,
    notes,
    stop: async () => {
      await redis?.stop();
    },
  };
}
