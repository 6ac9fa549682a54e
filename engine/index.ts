/**
 * The embedded k6-compatible engine: `runEngine` runs a bundled k6 script like `k6 run` and
 * resolves to k6's exit code (0, 99, 100/101 setup/teardown timeout, 104, 105, 107, 108; 110 after exec.test.fail()).
 */
export { ENGINE_NAME, ENGINE_VERSION } from './runtime/version.ts';
export { runEngine } from './test-run/run.ts';
export type { RunEngineOptions } from './test-run/settings.ts';
export { SUPPORTED_RUN_FLAGS, parseRunFlags, runHelp, type FlagSpec, type FlagKind, type ParsedRunFlags } from './runtime/flags.ts';
export { engineCliMain, type EngineCliIO, type EngineCliOptions } from './cli-main.ts';
export { inspectScript, type InspectOptions } from './test-run/inspect.ts';
export { EXIT_CODES, EngineError, LifecycleTimeoutError, type ExitCode, type EngineErrorCode } from './runtime/errors.ts';
export {
  ALLOWED_HOSTS_VAR,
  HostPolicy,
  HOST_NOT_ALLOWED_ERROR_CODE,
  canonicalHost,
  hostAllowed,
  isLoopbackHost,
  parseAllowedHosts,
} from './net/host-policy.ts';

import { MODULES } from './modules/index.ts';
/** The `k6/*` modules the engine provides (what a script may import). */
export const ENGINE_MODULE_NAMES: readonly string[] = Object.keys(MODULES);
