/**
 * The platform as several processes: `startCluster()` starts the supervisor's API instances and consumer
 * workers and the balancer in front of them, and resolves with the balancer's URL (what clients use).
 * `npm run target` starts it when `TARGET_INSTANCES` > 1 or `TARGET_WORKERS` > 0 (docs/target.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nonEmpty } from '../config.ts';
import { Balancer } from './balancer.ts';
import type { ClusterConfig } from './config.ts';
import { Supervisor } from './supervisor.ts';

export { readClusterConfig, type ClusterConfig } from './config.ts';

export interface RunningCluster {
  /** The balancer: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly supervisor: Supervisor;
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly cfg: ClusterConfig;
  /** The platform's variables, given to every process. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly host?: string;
  readonly port?: number;
  readonly onLine?: (id: string, line: string) => void;
}

export async function startCluster(o: ClusterOptions): Promise<RunningCluster> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v;
  // Several processes need one database: a temporary SQLite file unless one is given.
  let scratch: string | undefined;
  if (nonEmpty(env.DATABASE_URL) === undefined && nonEmpty(env.SQLITE_PATH) === undefined) {
    scratch = mkdtempSync(join(tmpdir(), 'agentload-cluster-'));
    env.SQLITE_PATH = join(scratch, 'platform.sqlite');
  }
  const supervisor = new Supervisor({
    cfg: o.cfg,
    env,
    onLine:
      o.onLine ??
      ((id, line) => {
        process.stderr.write(`[${id}] ${line}\n`);
      }),
  });
  const balancer = new Balancer(supervisor);
  const cleanup = async (): Promise<void> => {
    await balancer.close();
    await supervisor.close();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  };
  try {
    await supervisor.start();
    const host = o.host ?? '127.0.0.1';
    const port = await balancer.listen(o.port ?? 0, host);
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    let closing: Promise<void> | undefined;
    return { url: `http://${urlHost}:${port}`, port, supervisor, close: () => (closing ??= cleanup()) };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
