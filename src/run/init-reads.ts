/**
 * The variables a toolkit bundle's init code read through `lib/config.ts`, for the unused-variable warning
 * (unused-env.ts) of a run that has no `env-read.json` because its handleSummary never ran here: the options
 * check failed, the init code threw, a k6 binary stopped before its summary, `--no-summary`, `--cloud` (the
 * summary runs in Grafana Cloud) and `agentload k8s` (it runs in the cluster's pods).
 *
 * The bundle exports a function giving the names read so far (src/bundle/entry.ts); the embedded engine hands
 * over the script's exports once VU 0's init code has run, or threw (runEngine's `onInit`). Running that init
 * code again here is what k6 itself does before a cloud run (it reads the options locally): nothing is sent,
 * the engine stops after its options check. Only init-code reads are seen, which is where the scenarios read
 * their configuration (docs/scenarios.md#unused-variables).
 */
import { Writable } from 'node:stream';
import { ENV_READ_EXPORT } from '../bundle/entry.ts';
import { loadEngine, type EngineModule } from './adapters.ts';
import { ALLOWED_HOSTS_VAR, parseAllowedHosts } from './allowlist.ts';

/** The names read so far, from a toolkit bundle's exports; undefined for a script without the export (not bundled here) or without lib/config. */
export function variablesReadFrom(exports: Readonly<Record<string, unknown>>): string[] | undefined {
  try {
    const read: unknown = exports[ENV_READ_EXPORT];
    if (typeof read !== 'function') return undefined;
    const names: unknown = (read as () => unknown)();
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : undefined;
  } catch {
    return undefined;
  }
}

/** What a bundle's init code read; `finished` false when it threw, so names it would have read after that are missing. */
export interface InitReads {
  readonly names: readonly string[];
  readonly finished: boolean;
}

/** Output dropped: the engine's own lines about a check that only looks at the names belong to no run. */
const discard = (): Writable =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

/**
 * Runs `script`'s init code once on the embedded engine (the run's own when it has one, else loaded; validate
 * only: no VU starts, nothing is sent; init code may connect only to the hosts `values` allow and loopback) and
 * returns the names it read, also when it threw (then not finished: only the reads before the throw are known);
 * undefined when the engine could not get that far (a module it lacks, a flag it refuses) or the script is not a
 * toolkit bundle. `values` are the run's variables as the script sees them (env.ts `envView`), over `env`.
 */
export async function variablesReadAtInit(input: {
  readonly engine?: EngineModule | undefined;
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, string>>;
  readonly cwd: string;
}): Promise<InitReads | undefined> {
  const engine = input.engine ?? (await loadEngine().catch(() => undefined));
  if (engine === undefined) return undefined;
  const allowedHosts = parseAllowedHosts(input.values[ALLOWED_HOSTS_VAR]);
  let read: InitReads | undefined;
  try {
    await engine.runEngine({
      script: input.script,
      args: [],
      env: { ...input.env, ...input.values },
      cwd: input.cwd,
      stdout: discard(),
      stderr: discard(),
      handleSignals: false,
      validateOnly: true,
      onInit: (exports, finished) => {
        const names = variablesReadFrom(exports);
        read = names === undefined ? undefined : { names, finished };
      },
      allowedHosts,
    });
  } catch {
    // The engine failed before init (e.g. a module it lacks): no names, so no warning.
  }
  return read;
}
