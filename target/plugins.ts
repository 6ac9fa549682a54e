/**
 * The platform's features that live in their own folders (agent-state cache, scheduler, jobs): their
 * configuration is read before anything starts (a bad variable stops the platform at once), and each
 * registers its routes, metrics and close hook on the Fastify app.
 */
import { readCacheConfig, registerAgentState, type CacheConfig } from './cache/agent-state.ts';
import type { Env } from './config.ts';
import type { FeatureDeps } from './features.ts';
import { registerJobs } from './jobs/jobs.ts';
import { registerUploads } from './jobs/uploads.ts';
import { registerScheduler } from './scheduler/scheduler.ts';

export interface FeatureConfig {
  readonly cache: CacheConfig;
}

export function readFeatureConfig(env: Env): FeatureConfig {
  return { cache: readCacheConfig(env) };
}

export async function registerFeatures(d: FeatureDeps, cfg: FeatureConfig): Promise<void> {
  await registerAgentState(d, cfg.cache);
  registerScheduler(d);
  registerJobs(d);
  registerUploads(d);
}
