/**
 * Child processes that die with the run, however it ends: the bundled platform, the Slack reply sink,
 * the k6 binary, and whatever else a run starts (brokers, more platform processes, a fault controller).
 *
 *   const children = new ChildGroup();
 *   const platform = await children.start({ name: 'the bundled platform', node: true, command: 'scripts/target.mjs',
 *     args: [], cwd, env, ready: /listening on (\S+)/ }, abortSignal);
 *   ... platform.ready?.[1] ...
 *   await children.stopAll();                 // newest first: SIGTERM, then SIGKILL after stopTimeoutMs
 *
 * How each rule is held:
 * - Its own process group (`detached`): a Ctrl+C on the terminal reaches the run only, which stops the
 *   engine first and its children after (so teardown still reaches a live platform); `stop()` signals the
 *   child, then kills what is left of its group, so the child's own children are reaped too.
 * - A parent-death check in the child: Node children get child-preload.ts (`--require`), other commands run
 *   under child-guard.ts; both watch the IPC channel to this process and its pid (parent-watch.ts) and stop
 *   the child when the run is gone, SIGKILL included.
 * - No TypeScript compiled at a child's start: child-preload.ts, child-guard.ts and a `.ts` command run from
 *   their cached bundles (engine/runtime/prebuilt.ts), a `.mjs` command as it is; tsx only as the fallback
 *   (AGENTLOAD_PREBUILT=0, or a bundle that cannot be built: each child then preloads tsx).
 * - This process's normal exit (`process.exit` too) kills every child's group at once.
 * - `start()` takes an AbortSignal: a Ctrl+C while a child is starting stops it and rejects.
 * docs/safety.md lists these rules and the tests that hold them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prebuilt } from '../../engine/runtime/prebuilt.ts';
import { PARENT_PID_VAR } from './parent-watch.ts';

// Resolved from import.meta.url only (not import.meta.resolve), so this module also loads pre-built
// (engine/runtime/prebuilt.ts); tsx's package exports one file, which require finds too.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const PRELOAD = fileURLToPath(new URL('./child-preload.ts', import.meta.url));
const GUARD = fileURLToPath(new URL('./child-guard.ts', import.meta.url));
/** The toolkit's own knobs a Node child reads itself (scripts/prebuilt.mjs): passed on when this process has them. */
const TOOLKIT_ENV = ['AGENTLOAD_PREBUILT', 'AGENTLOAD_CACHE_DIR'] as const;

/**
 * The Node arguments that run `spec`: the watchdog preloaded and a `.ts` command from their bundles, or
 * everything through tsx when a bundle is not to be had (`AGENTLOAD_PREBUILT=0`, a failed build).
 */
export async function childArgv(spec: Pick<ChildSpec, 'command' | 'args' | 'node'>): Promise<string[]> {
  const ts = spec.node === true && /\.[cm]?ts$/.test(spec.command);
  const [watch, command] = await Promise.all([
    prebuilt(spec.node === true ? PRELOAD : GUARD),
    ts ? prebuilt(spec.command) : Promise.resolve(undefined),
  ]);
  if (watch.kind === 'bundle' && (command === undefined || command.kind === 'bundle')) {
    const script = command?.file ?? spec.command;
    return spec.node === true ? ['--require', watch.file, script, ...spec.args] : [watch.file, spec.command, ...spec.args];
  }
  return spec.node === true
    ? ['--import', TSX, '--import', pathToFileURL(PRELOAD).href, spec.command, ...spec.args]
    : ['--import', TSX, GUARD, spec.command, ...spec.args];
}

/** Process plumbing a child needs besides the variables its spec gives it. */
export const SYSTEM_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ'] as const;

/** One output stream of a child: read line by line (`pipe`) or the child writes to this process's own (`inherit`). */
export type StreamMode = 'pipe' | 'inherit';

export interface ChildSpec {
  /** What it is, for messages: `the bundled platform`. */
  readonly name: string;
  /** A Node script (with `node: true`; a `.ts` one runs from its cached bundle, or through tsx) or an executable. */
  readonly command: string;
  readonly args: readonly string[];
  /** `command` is a Node script run by this Node (the watchdog is preloaded); else it runs under the guard. */
  readonly node?: boolean;
  readonly cwd: string;
  /** The child's whole environment (nothing else from this process reaches it). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * `pipe` (default): stdout/stderr are read line by line; `inherit`: the child writes to this terminal; or one
   * choice per stream (a terminal on stdout, stderr redirected to a file: `{ stdout: 'inherit', stderr: 'pipe' }`).
   */
  readonly stdio?: StreamMode | { readonly stdout: StreamMode; readonly stderr: StreamMode };
  /** Start resolves once a stdout line matches (its match is `Child.ready`); without it, once spawned. */
  readonly ready?: RegExp;
  readonly startTimeoutMs?: number;
  /** Each line the child writes to stderr / stdout (pipe mode). */
  readonly onStderr?: (line: string) => void;
  readonly onStdout?: (line: string) => void;
  /** How long `stop()` waits after SIGTERM before SIGKILL (default 10 s). */
  readonly stopTimeoutMs?: number;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** The `ready` pattern's match on the child's stdout. */
  readonly ready: RegExpExecArray | undefined;
  /** Settles when the child has exited. */
  readonly exited: Promise<ChildExit>;
  /** Settles once its output streams are read to the end too (at most 2 s after it exited). */
  readonly drained: Promise<void>;
  /** Sends `signal` to the child itself (under the guard: passed on to the command once). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL to its whole group after `stopTimeoutMs`; resolves once it is gone. */
  stop(): Promise<void>;
}

/** Splits a stream into lines for `onLine`, the unterminated rest at its end included. */
function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  });
  // A last line without a newline (a handleSummary's stdout text often has none) is a line too.
  stream.on('end', () => {
    if (buf !== '') onLine(buf);
    buf = '';
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** A set of children started together and stopped together (newest first). */
export class ChildGroup {
  readonly #live = new Set<{ child: ChildProcess; stop: () => Promise<void> }>();
  readonly #onExit = (): void => {
    for (const { child } of this.#live) if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  };

  /** Children still running. */
  get size(): number {
    return this.#live.size;
  }

  async start(spec: ChildSpec, abort?: AbortSignal): Promise<Child> {
    const notAborted = (): void => {
      if (abort?.aborted === true) throw new Error(`not started: ${String(abort.reason)}`);
    };
    notAborted();
    const argv = await childArgv(spec);
    notAborted(); // a Ctrl+C while the bundles were looked up

    const toolkit: Record<string, string> = {};
    for (const name of TOOLKIT_ENV) {
      const v = process.env[name];
      if (spec.node === true && v !== undefined && spec.env[name] === undefined) toolkit[name] = v;
    }
    return this.#spawn(spec, argv, { ...toolkit, ...spec.env }, abort);
  }

  #spawn(spec: ChildSpec, argv: readonly string[], env: Readonly<Record<string, string>>, abort?: AbortSignal): Promise<Child> {
    const mode = spec.stdio ?? 'pipe';
    const out = typeof mode === 'string' ? mode : mode.stdout;
    const err = typeof mode === 'string' ? mode : mode.stderr;
    const child = spawn(process.execPath, argv, {
      cwd: spec.cwd,
      env: { ...env, [PARENT_PID_VAR]: String(process.pid) },
      // stdin is the terminal's only for a child that writes to it.
      stdio: [out === 'inherit' ? 'inherit' : 'ignore', out, err, 'ipc'],
      detached: true,
    });
    child.channel?.unref(); // the channel only tells the child when this process is gone; it keeps nothing alive here
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
    });
    // 'close' comes after the last output was read; a grandchild holding the pipe open cannot hold it past 2 s.
    const drained = new Promise<void>((resolve) => {
      child.once('close', () => {
        resolve();
      });
      void exited.then(() => setTimeout(resolve, 2000).unref());
    });
    let stopping: Promise<void> | undefined;
    const entry = {
      child,
      stop: (): Promise<void> => {
        stopping ??= (async () => {
          const pid = child.pid;
          if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            let timer: NodeJS.Timeout | undefined;
            const late = await Promise.race([
              exited.then(() => false),
              new Promise<boolean>((r) => {
                timer = setTimeout(() => {
                  r(true);
                }, spec.stopTimeoutMs ?? 10_000);
              }),
            ]);
            clearTimeout(timer);
            if (late) killGroup(pid, 'SIGKILL');
            await exited;
          }
          if (pid !== undefined) killGroup(pid, 'SIGKILL'); // whatever it left behind in its group
          this.#live.delete(entry);
          if (this.#live.size === 0) process.off('exit', this.#onExit);
        })();
        return stopping;
      },
    };
    if (this.#live.size === 0) process.on('exit', this.#onExit);
    this.#live.add(entry);
    void exited.then(() => {
      if (stopping === undefined && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      if (stopping === undefined) this.#live.delete(entry);
      if (this.#live.size === 0) process.off('exit', this.#onExit);
    });

    const tail: string[] = [];
    if (err === 'pipe') {
      lines(child.stderr, (line) => {
        tail.push(line);
        if (tail.length > 5) tail.shift();
        spec.onStderr?.(line);
      });
    }
    return new Promise<Child>((resolve, reject) => {
      let settled = false;
      let ready: RegExpExecArray | undefined;
      let timer: NodeJS.Timeout | undefined;
      const made = (): Child => ({
        name: spec.name,
        pid: child.pid ?? -1,
        ready,
        exited,
        drained,
        signal: (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
        stop: entry.stop,
      });
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        void entry.stop();
        const detail = tail.filter((l) => l.trim() !== '').join(' | ');
        reject(new Error(detail === '' ? why : `${why}: ${detail}`));
      };
      const succeed = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        resolve(made());
      };
      const onAbort = (): void => {
        fail(`stopped while starting (${String(abort?.reason instanceof Error ? abort.reason.message : abort?.reason)})`);
      };
      abort?.addEventListener('abort', onAbort, { once: true });
      child.once('error', (e) => {
        fail(e.message);
      });
      child.once('exit', (code, signal) => {
        fail(`it exited (${signal ?? `code ${String(code)}`}) before it was ready`);
      });
      if (out === 'pipe') {
        lines(child.stdout, (line) => {
          spec.onStdout?.(line);
          if (settled || spec.ready === undefined) return;
          const m = spec.ready.exec(line);
          if (m === null) return;
          ready = m;
          succeed();
        });
      }
      if (spec.ready === undefined) child.once('spawn', succeed);
      else
        timer = setTimeout(() => {
          fail(`not ready within ${String((spec.startTimeoutMs ?? 30_000) / 1000)} s`);
        }, spec.startTimeoutMs ?? 30_000);
    });
  }

  /** Stops every child still running, newest first. */
  async stopAll(): Promise<void> {
    for (const entry of [...this.#live].reverse()) await entry.stop();
  }
}
