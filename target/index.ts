/**
 * The reference agent platform (system under test). `startTarget()` starts it on loopback, port 0 by
 * default, and resolves once it accepts connections. See docs/target.md for routes and knobs.
 */
import { buildPlatform } from './server.ts';

export interface TargetOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** Knobs and configuration; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Fastify/pino request log on stdout; default false. */
  logger?: boolean;
}

export interface RunningTarget {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startTarget(o: TargetOptions = {}): Promise<RunningTarget> {
  const host = o.host ?? '127.0.0.1';
  const platform = await buildPlatform({ env: o.env ?? process.env, logger: o.logger ?? false });
  try {
    await platform.app.listen({ host, port: o.port ?? 0 });
  } catch (e) {
    await platform.close();
    throw e;
  }
  const addr = platform.app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { url: `http://${urlHost}:${port}`, port, close: () => platform.close() };
}

export { TargetError } from './errors.ts';
/** The one `toError` (shared/errors.ts), for scripts/target.mjs: it loads this entry pre-built and nothing else. */
export { toError } from '../shared/errors.ts';
export { readClusterConfig, startCluster, type ClusterConfig, type RunningCluster } from './cluster/index.ts';
export { slackSignature, verifySlackRequest } from './slack.ts';
export { TOPICS, type Topic, type BusMessage, type BusAdapter, type TopicStats } from './bus.ts';
export { DEFAULT_KNOBS, type Knobs } from './config.ts';
