/**
 * `k6 inspect`: runs the script's init code once (VU 0) and prints its `options` as JSON; with
 * `--execution-requirements` the options consolidated with the flags and K6_* variables (shortcuts turned
 * into scenarios) plus `totalDuration` (longest run incl. graceful stops) and `maxVUs`, as k6 adds them.
 * Unlike k6, options the script leaves unset are omitted rather than printed as null.
 */
import { isAbsolute, resolve } from 'node:path';
import { formatDuration } from '../options/index.ts';
import { HostPolicy } from '../net/host-policy.ts';
import { EngineError, EXIT_CODES, toError } from '../runtime/errors.ts';
import { parseRunFlags } from '../runtime/flags.ts';
import { loadScript } from '../runtime/loader.ts';
import { Logger } from '../runtime/logger.ts';
import { planTest } from '../runtime/test-plan.ts';
import { realClock } from '../runtime/clock.ts';
import { createInstance } from './instance.ts';
import { settingsFromFlags } from './settings.ts';

export interface InspectOptions {
  readonly script: string;
  /** `--execution-requirements` and `k6 run`'s option flags (-e, --vus, --duration, ...). */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where init code may connect besides loopback (as runEngine's allowedHosts; undefined: no check). */
  readonly allowedHosts?: readonly string[] | undefined;
}

export const EXECUTION_REQUIREMENTS_FLAG = '--execution-requirements';

/** Prints the JSON and returns k6's exit code (104 for bad options, 107 for an init error). */
export async function inspectScript(o: InspectOptions): Promise<number> {
  const logger = new Logger(o.stderr);
  const requirements = o.args.includes(EXECUTION_REQUIREMENTS_FLAG);
  const flags = parseRunFlags(o.args.filter((a) => a !== EXECUTION_REQUIREMENTS_FLAG));
  const settings = settingsFromFlags(flags, o.env, o.cwd);
  if (settings.issues.length > 0) {
    for (const i of settings.issues) logger.log('error', i.message);
    return EXIT_CODES.invalidConfig;
  }
  try {
    const script = await loadScript(isAbsolute(o.script) ? o.script : resolve(o.cwd, o.script));
    const inst = await createInstance({
      script,
      clock: realClock,
      env: settings.env,
      logger,
      hostPolicy: o.allowedHosts === undefined ? undefined : new HostPolicy(o.allowedHosts),
      discardResponseBodies: () => false,
      onAbort: () => undefined,
    });
    try {
      const exports = inst.lifecycleVu.exports;
      const scriptOptions = (exports.options ?? {}) as Record<string, unknown>;
      if (!requirements) {
        o.stdout.write(`${JSON.stringify(scriptOptions, null, 2)}\n`);
        return EXIT_CODES.ok;
      }
      const plan = planTest(scriptOptions, flags, settings.env, exports);
      if (plan.issues.length > 0) {
        for (const i of plan.issues) logger.log('error', i.message);
        return EXIT_CODES.invalidConfig;
      }
      const out = { ...plan.options, totalDuration: formatDuration(plan.maxDurationMs), maxVUs: plan.maxVUs };
      o.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_CODES.ok;
    } finally {
      await inst.pool.close();
      await inst.lifecycleVu.close();
      await inst.closeLifecycle();
    }
  } catch (e) {
    if (e instanceof EngineError) {
      logger.log('error', e.message, e.code === 'init-exception' ? { hint: 'script exception' } : {});
      return e.exitCode;
    }
    logger.log('error', `engine error: ${toError(e).message}`);
    return EXIT_CODES.genericEngine;
  }
}
